"""Notification campaigns of an incident: launch, progress, letters, evidence."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__, template_folder="../templates")

from helpdesk.campaigns import views  # noqa: E402,F401  (routes register on import)
