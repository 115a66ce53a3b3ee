"""The agents' ticket queue and ticket page: replies, notes, calls, reveals."""

from flask import Blueprint

bp = Blueprint("tickets", __name__, template_folder="../templates")

from helpdesk.tickets import views  # noqa: E402,F401  (routes register on import)
