"""Staff accounts for admins and managers: invite, role, deactivate, reset."""

from flask import Blueprint

bp = Blueprint("staff_admin", __name__, template_folder="../templates")

from helpdesk.staff import views  # noqa: E402,F401  (routes register on import)
