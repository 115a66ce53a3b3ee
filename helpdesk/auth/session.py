"""Flask-Login wiring for staff sessions."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.extensions import db, login_manager
from portal.models.staff import StaffUser


def load_user(user_id: str) -> StaffUser | None:
    """Load a staff member from ``id:session_version``; stale versions sign out."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        staff_id, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = db.session.get(StaffUser, staff_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def init_login_manager(app: Flask) -> None:
    """Configure Flask-Login for the staff side."""
    login_manager.user_loader(load_user)
    login_manager.login_view = "staff_auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.session_protection = "strong"
