"""Managers' upload of affected persons under an incident, run as a job with progress."""

from flask import Blueprint

bp = Blueprint("imports", __name__, template_folder="../templates")

from helpdesk.imports import views  # noqa: E402,F401  (routes register on import)
