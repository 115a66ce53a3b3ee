"""Managers' incident pages: incidents, filings, advice and the deadline board."""

from flask import Blueprint

bp = Blueprint("incidents", __name__, template_folder="../templates")

from helpdesk.incidents import views  # noqa: E402,F401  (routes register on import)
