"""The staff landing page: what each role can do next, with the open work counted."""

from flask import Blueprint

bp = Blueprint("helpdesk_home", __name__, template_folder="../templates")

from helpdesk.dashboard import views  # noqa: E402,F401  (routes register on import)
