"""Flask-Login wiring for staff sessions."""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from portal.audit import log as audit
from portal.core.i18n import SESSION_KEY as LANG_KEY
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


def enforce_idle_timeout() -> None:
    """End a staff session that has been idle longer than ``STAFF_IDLE_MINUTES``."""
    if "_user_id" not in session:
        return
    from helpdesk.auth.views import SEEN_KEY

    now = time.time()
    seen = session.get(SEEN_KEY)
    limit = current_app.config["STAFF_IDLE_MINUTES"] * 60
    if not isinstance(seen, int | float) or now - seen > limit:
        staff_id = current_user.id if current_user.is_authenticated else None
        logout_user()
        lang = session.get(LANG_KEY)
        session.clear()
        if lang:
            session[LANG_KEY] = lang
        if staff_id is not None:
            audit.record("staff.session_expired", actor_type="staff", actor_id=staff_id,
                         details={"reason": "idle"})
            db.session.commit()
            flash(_l("Your session ended after a period of inactivity. Please sign in again."),
                  "info")
        return
    session[SEEN_KEY] = now


def init_login_manager(app: Flask) -> None:
    """Configure Flask-Login for the staff side."""
    login_manager.user_loader(load_user)
    login_manager.login_view = "staff_auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.session_protection = "strong"
    app.before_request(enforce_idle_timeout)
