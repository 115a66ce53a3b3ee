"""Managers' review of the interaction log: filters, timelines, reveals, CSV export."""

from flask import Blueprint

bp = Blueprint("audit_log", __name__, template_folder="../templates")

from helpdesk.log import views  # noqa: E402,F401  (routes register on import)
