"""Staff sign-in, two-factor authentication and sign-out."""

from flask import Blueprint

bp = Blueprint("staff_auth", __name__, template_folder="../templates")

from helpdesk.auth import views  # noqa: E402,F401  (routes register on import)
