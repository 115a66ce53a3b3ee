"""The staff landing page."""

from flask import Blueprint

bp = Blueprint("helpdesk_home", __name__, template_folder="../templates")

from helpdesk.home import views  # noqa: E402,F401  (routes register on import)
