"""Staff sign-in lockout, counted atomically in the database.

Each attempt reserves a slot *before* the password or code is checked, with one
guarded UPDATE: parallel attempts cannot all read the same counter, and once the
fifth attempt is reserved the account is locked for every request still in
flight. A successful sign-in releases the reservation.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import case, or_, update

from portal.extensions import db
from portal.models.base import utcnow
from portal.models.staff import StaffUser


def reserve_attempt(staff_id: int) -> int | None:
    """Count one attempt; return the count, or ``None`` when the account is locked.

    The attempt that reaches the limit locks the account; a lock that has
    expired starts the count again.
    """
    now = utcnow()
    limit = current_app.config["STAFF_LOCKOUT_ATTEMPTS"]
    until = now + timedelta(minutes=current_app.config["STAFF_LOCKOUT_MINUTES"])
    new_count = case((StaffUser.locked_until.is_not(None), 1), else_=StaffUser.failed_logins + 1)
    count = db.session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == staff_id,
            or_(StaffUser.locked_until.is_(None), StaffUser.locked_until <= now),
        )
        .values(
            failed_logins=new_count,
            locked_until=case((new_count >= limit, until), else_=None),
        )
        .returning(StaffUser.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.session.commit()
    return count


def release(staff_id: int) -> bool:
    """Clear the count after a successful attempt; ``False`` if a lock won the race."""
    now = utcnow()
    cleared = db.session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == staff_id,
            or_(
                StaffUser.locked_until.is_(None),
                StaffUser.locked_until <= now,
                # The successful attempt may itself have been the one that locked.
                StaffUser.failed_logins >= current_app.config["STAFF_LOCKOUT_ATTEMPTS"],
            ),
        )
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .returning(StaffUser.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return cleared is not None


def reached_limit(count: int) -> bool:
    """Tell whether the attempt that got ``count`` locked the account."""
    return count >= current_app.config["STAFF_LOCKOUT_ATTEMPTS"]
