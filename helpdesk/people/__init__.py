"""Person look-up for agents: search by blind index, unlock, resend, open a ticket."""

from flask import Blueprint

bp = Blueprint("people", __name__, template_folder="../templates")

from helpdesk.people import views  # noqa: E402,F401  (routes register on import)
