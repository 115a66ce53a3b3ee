"""Managers' dashboards and the regulator report per incident."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="../templates")

from helpdesk.reports import views  # noqa: E402,F401  (routes register on import)
