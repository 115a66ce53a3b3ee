"""Public pages anyone may read without signing in: the substitute notice of an incident."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from portal.public import views  # noqa: E402,F401  (routes register on import)

__all__ = ["bp"]
