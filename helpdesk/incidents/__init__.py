"""Managers' incident pages: incidents, filings, advice, notice versions, deadline board."""

from flask import Blueprint

bp = Blueprint("incidents", __name__, template_folder="../templates")

from helpdesk.incidents import notice_views, views  # noqa: E402,F401  (routes register on import)
