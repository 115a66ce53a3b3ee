"""Development-only pages (the outbox); registered only when ``DEV_PAGES`` is on."""

from flask import Blueprint

bp = Blueprint("dev", __name__)

from portal.dev import views  # noqa: E402,F401  (routes)
