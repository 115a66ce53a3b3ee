"""The approved-answer library: drafts, review, approval, retirement, the public FAQ flag."""

from flask import Blueprint

bp = Blueprint("answers", __name__, template_folder="../templates")

from helpdesk.answers import views  # noqa: E402,F401  (routes register on import)
