"""Staff sign-in's data: finding an account and its attempt lock.

The lock is the one attempt-and-lock mechanism (``portal.security.attempts``)
on the staff account's columns, bounded by the ``STAFF_LOCKOUT_*`` settings.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models.staff import StaffUser
from portal.security import attempts

ACCOUNT_LOCK = attempts.Lock(StaffUser, count="failed_logins", until="locked_until",
                             since="failures_since", setting_prefix="STAFF",
                             on_grant={"last_login_at": "now"})


def find_staff(email: str) -> StaffUser | None:
    """The staff account with this e-mail address (case-insensitive), if any."""
    return db.session.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).scalar_one_or_none()
