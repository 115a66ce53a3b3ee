"""Staff sign-in's data: finding an account, and its two attempt locks.

Both are the one attempt-and-lock mechanism (``portal.security.attempts``):

- per account *and source address* (``attempt_counter``): ``STAFF_LOCKOUT_ATTEMPTS``
  (5) failures within ``STAFF_LOCKOUT_MINUTES`` (15) lock that pair only, so a
  stranger guessing an agent's password cannot keep the agent out;
- per account, from every address together (``staff_user``):
  ``STAFF_ACCOUNT_LOCKOUT_ATTEMPTS`` (50) within ``STAFF_ACCOUNT_LOCKOUT_MINUTES``
  (60) lock the account for everyone - a guess spread over many addresses - and
  every active administrator is told by e-mail.

An attempt reserves on both before the password or code is compared; a right
answer signs in only if both grants pass. Nothing here reads the request: the
caller passes the address.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import defer

from portal.dispatch.channels import email
from portal.extensions import db
from portal.models.attempt import AttemptCounter
from portal.models.staff import StaffUser
from portal.security import attempts

ACCOUNT_LOCK = attempts.Lock(StaffUser, count="failed_logins", until="locked_until",
                             since="failures_since", setting_prefix="STAFF_ACCOUNT",
                             on_grant={"last_login_at": "now"})
ADDRESS_LOCK = attempts.Lock(AttemptCounter, key="key", count="failures",
                             until="locked_until", since="failures_since",
                             setting_prefix="STAFF")
_PAIR_LOCK_END = select(AttemptCounter.locked_until).where(
    AttemptCounter.key == bindparam("key"))


@dataclass(frozen=True)
class SignInAttempt:
    """One reserved sign-in attempt: on the account-and-address pair and on the account."""

    address: attempts.Attempt
    account: attempts.Attempt

    @property
    def number(self) -> int:
        return self.address.number


# Built once: every staff request loads its staff member with it (``Session.get`` built
# its statement and the statement's cache key on each call). Without the secrets: the
# password hash and the two-factor secret (decrypted when read) are read only by the
# pages that use them (sign-in, two-factor, the account page), not on every page.
_STAFF_BY_ID = (select(StaffUser).where(StaffUser.id == bindparam("id"))
                .options(defer(StaffUser.password_hash), defer(StaffUser.totp_secret)))


def staff_by_id(staff_id: int) -> StaffUser | None:
    """The staff member with this id (active or not), for the session's user load; its
    password hash and two-factor secret are read when first used."""
    return db.session.execute(_STAFF_BY_ID, {"id": staff_id}).scalar()


def find_staff(email_address: str) -> StaffUser | None:
    """The staff account with this e-mail address (case-insensitive), if any."""
    return db.session.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email_address.strip().lower())
    ).scalar_one_or_none()


def _pair_key(staff_id: int, address: str | None) -> str:
    return f"staff:{staff_id}:{address or '-'}"[:200]


def reserve(user: StaffUser, address: str | None) -> SignInAttempt | None:
    """Count one attempt on the pair, then on the account; ``None`` when either is locked."""
    pair = attempts.reserve(ADDRESS_LOCK, _pair_key(user.id, address))
    if pair is None:
        return None
    account = attempts.reserve(ACCOUNT_LOCK, user.id)
    if account is None:
        return None
    return SignInAttempt(pair, account)


def grant(user: StaffUser, attempt: SignInAttempt | None, address: str | None) -> bool:
    """Clear both counts after a right answer; ``False`` when a lock stands in the way.

    ``attempt`` is the reservation of the step just passed (``None`` for a step that
    reserves nothing: then any lock refuses). The caller commits, or rolls back on
    ``False``.
    """
    key = _pair_key(user.id, address)
    if attempts.grant(ADDRESS_LOCK, key, attempt.address if attempt else None) is None:
        # No row for this pair (a step from a new address) is no lock.
        row = db.session.execute(_PAIR_LOCK_END, {"key": key}).first()
        if row is not None:
            return False
    return attempts.grant(ACCOUNT_LOCK, user.id,
                          attempt.account if attempt else None) is not None


def tell_admins_of_lock(staff_id: int) -> int:
    """E-mail every active administrator that an account was locked for everyone (a job)."""
    locked = db.session.get(StaffUser, staff_id)
    if locked is None:
        return 0
    admins = db.session.execute(
        select(StaffUser).where(StaffUser.role == "admin", StaffUser.active.is_(True))
    ).scalars().all()
    for admin in admins:
        with force_locale(admin.locale or "en"):
            subject = _("Staff account locked after many failed sign-ins")
            body = _("The account %(email)s was locked for everyone after many failed "
                     "sign-ins from several addresses. Check the interaction log; "
                     "`flask users unlock` lifts the lock.", email=locked.email)
        email.send(admin.email, body, subject=subject)
    db.session.commit()  # the outbox keeps its messages in the database
    return len(admins)
