"""Flask-Login wiring for staff sessions."""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, session
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, logout_user

from portal.audit import log as audit
from portal.core.i18n import SESSION_KEY as LANG_KEY
from portal.extensions import db, login_manager
from portal.models.staff import StaffUser
from portal.security.sign_in import staff_by_id

# The idle clock is stamped at most this often. Stamping it changes the session, and a changed
# session is a new signed cookie on the response: stamped on every request, every page of a
# busy agent paid for the signature and sent a new cookie. A minute is 1/60 of the idle limit
# (STAFF_IDLE_MINUTES, 60): idle time counts from the last stamp, so a session ends at most a
# minute before the limit counted from the very last page would end it, never later. The
# customer side refreshes its idle clock at the same step (portal.customer.session).
SEEN_PRECISION_SECONDS = 60


def load_user(user_id: str) -> StaffUser | None:
    """Load a staff member from ``id:session_version``; stale versions sign out."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        staff_id, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = staff_by_id(staff_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def _end_session(reason: str, message: str) -> None:
    """Sign the staff member out, keep only the language, log ``reason`` and say why."""
    staff_id = current_user.id if current_user.is_authenticated else None
    logout_user()
    lang = session.get(LANG_KEY)
    session.clear()
    if lang:
        session[LANG_KEY] = lang
    if staff_id is not None:
        audit.record("staff.session_expired", actor_type="staff", actor_id=staff_id,
                     details={"reason": reason})
        db.session.commit()
        flash(message, "info")


def enforce_idle_timeout() -> None:
    """End a staff session idle longer than ``STAFF_IDLE_MINUTES``, or older than
    ``STAFF_SESSION_MAX_HOURS`` since sign-in whatever the activity; stamp the idle
    clock at most every ``SEEN_PRECISION_SECONDS``."""
    if "_user_id" not in session:
        return
    from helpdesk.auth.views import SEEN_KEY, SIGNED_IN_KEY

    now = time.time()
    config = current_app.config
    signed_in = session.get(SIGNED_IN_KEY)
    max_hours = config["STAFF_SESSION_MAX_HOURS"]
    # A session without a sign-in time predates this check: it ends like an old one.
    if not isinstance(signed_in, int | float) or now - signed_in > max_hours * 3600:
        _end_session("max_age", ngettext(
            "For your security, a staff session ends %(num)d hour after sign-in. "
            "Please sign in again.",
            "For your security, a staff session ends %(num)d hours after sign-in. "
            "Please sign in again.",
            max_hours,
        ))
        return
    seen = session.get(SEEN_KEY)
    if not isinstance(seen, int | float) or now - seen > config["STAFF_IDLE_MINUTES"] * 60:
        _end_session("idle", _l("Your session ended after a period of inactivity. "
                                "Please sign in again."))
        return
    if now - seen >= SEEN_PRECISION_SECONDS:
        session[SEEN_KEY] = now


def init_login_manager(app: Flask) -> None:
    """Configure Flask-Login for the staff side."""
    login_manager.user_loader(load_user)
    login_manager.login_view = "staff_auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.session_protection = "strong"
    app.before_request(enforce_idle_timeout)
