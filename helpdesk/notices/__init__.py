"""Managers' notice pages: the editor per language, checklist, overrides,
approval and previews.
"""

from flask import Blueprint

bp = Blueprint("notices", __name__, template_folder="../templates")

from helpdesk.notices import views  # noqa: E402,F401  (routes register on import)
