"""Staff accounts as administrators manage them: create, role, (de)activate, unlock, reset.

An administrator never types a password for someone else: creating an account (or
asking for a new link) issues a **one-time set-up link**. Only the SHA-256 of its
token is stored; the token is shown to the administrator once and e-mailed to the new
member. A link works once, until ``STAFF_SETUP_LINK_HOURS`` have passed, and asking for
a new one retires the old. Redeeming it sets the password and ends any session of the
account; the member then signs in (and sets up two-factor sign-in where the role
requires it).

Two rules guard the administrators: the last active administrator can neither be
demoted nor deactivated, and nobody removes their own administrator role or
deactivates themselves. The active administrators' rows are locked (``FOR UPDATE``
on PostgreSQL; SQLite serialises writers) before they are counted, so two admins
demoting each other at once cannot both succeed.

Every change is written to the interaction log. Nothing here reads the request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from portal.audit import log as audit
from portal.dispatch.channels import ChannelError, email
from portal.extensions import db
from portal.models.attempt import AttemptCounter
from portal.models.base import utcnow
from portal.models.incident import Incident
from portal.models.staff import ROLES, StaffIncident, StaffSetupLink, StaffUser
from portal.security.passwords import hash_password, password_problem

TOKEN_BYTES = 32


class StaffError(Exception):
    """A change an administrator may not make, or bad input; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class IssuedLink:
    """A set-up link just issued: the token is in clear only here, never stored."""

    staff: StaffUser
    token: str
    emailed: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def listing() -> list[StaffUser]:
    """Every staff account, administrators first, then by e-mail address."""
    order = {role: number for number, role in enumerate(reversed(ROLES))}
    accounts = db.session.execute(select(StaffUser)).scalars().all()
    return sorted(accounts, key=lambda user: (order.get(user.role, 9), user.email))


def get(staff_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, staff_id)


def pending_links(staff_ids: list[int] | None = None) -> dict[int, StaffSetupLink]:
    """The newest unused, unexpired set-up link per account."""
    query = select(StaffSetupLink).where(StaffSetupLink.used_at.is_(None),
                                         StaffSetupLink.expires_at > utcnow())
    if staff_ids is not None:
        query = query.where(StaffSetupLink.staff_id.in_(staff_ids))
    found: dict[int, StaffSetupLink] = {}
    for link in db.session.execute(query.order_by(StaffSetupLink.id)).scalars():
        found[link.staff_id] = link
    return found


def _normalised_email(address: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise StaffError(_("Enter a valid email address."), "email") from exc


def create(address: str, name: str, role: str, *, by: StaffUser, setup_url) -> IssuedLink:
    """Create an account with no usable password and issue its set-up link.

    ``setup_url(token)`` builds the link's address (the caller knows the route).
    """
    address = _normalised_email(address)
    if role not in ROLES:
        raise StaffError(_("Choose a role."), "role")
    if not name.strip():
        raise StaffError(_("Enter the person's name."), "name")
    exists = db.session.execute(select(StaffUser.id).where(
        func.lower(StaffUser.email) == address)).first()
    if exists is not None:
        raise StaffError(_("A staff account with this email address exists."), "email")
    user = StaffUser(email=address, name=name.strip(), role=role,
                     # Nobody knows this password: the member sets one through the link.
                     password_hash=hash_password(secrets.token_urlsafe(TOKEN_BYTES)))
    db.session.add(user)
    db.session.flush()
    audit.record("staff.invited", details={"staff_id": user.id, "role": role})
    return _issue(user, by, setup_url, renewed=False)


def renew_link(user: StaffUser, *, by: StaffUser, setup_url) -> IssuedLink:
    """Retire the account's unused links and issue a new one."""
    if not user.active:
        raise StaffError(_("Reactivate the account before sending it a set-up link."))
    return _issue(user, by, setup_url, renewed=True)


def _issue(user: StaffUser, by: StaffUser, setup_url, *, renewed: bool) -> IssuedLink:
    now = utcnow()
    db.session.execute(update(StaffSetupLink).where(
        StaffSetupLink.staff_id == user.id, StaffSetupLink.used_at.is_(None)
    ).values(expires_at=now))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    hours = int(current_app.config["STAFF_SETUP_LINK_HOURS"])
    db.session.add(StaffSetupLink(staff_id=user.id, token_digest=_digest(token),
                                  created_by_id=by.id, created_at=now,
                                  expires_at=now + timedelta(hours=hours)))
    emailed = _send_link(user, setup_url(token), hours)
    if renewed:
        audit.record("staff.setup_link_renewed", details={"staff_id": user.id,
                                                           "emailed": emailed})
    return IssuedLink(user, token, emailed)


def _send_link(user: StaffUser, url: str, hours: int) -> bool:
    """E-mail the link in the member's language; ``False`` when the mail was refused."""
    with force_locale(user.locale or "en"):
        subject = _("Set up your staff account")
        body = _("Hello %(name)s,\n\nan administrator created a staff account for you on the "
                 "breach notification portal. Choose your password here (the link works "
                 "once, for %(hours)d hours):\n\n%(url)s\n\nIf you did not expect this "
                 "message, ignore it and tell your security team.",
                 name=user.name, hours=hours, url=url)
    try:
        email.send(user.email, body, subject=subject)
    except ChannelError:
        current_app.logger.warning("the set-up link for staff account %s could not be e-mailed",
                                   user.id)
        return False
    return True


def link_for(token: str) -> StaffSetupLink | None:
    """The usable link with this token (unused, unexpired, account active), else ``None``.

    Unknown, used and expired tokens look the same to the caller.
    """
    if not token or len(token) > 200:
        return None
    link = db.session.execute(select(StaffSetupLink).where(
        StaffSetupLink.token_digest == _digest(token))).scalar_one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    user = db.session.get(StaffUser, link.staff_id)
    if user is None or not user.active:
        return None
    return link


def redeem(token: str, password: str) -> StaffUser | None:
    """Set the password through a link, once; ``None`` when the link is not usable."""
    problem = password_problem(password)
    if problem:
        raise StaffError(problem, "password")
    link = link_for(token)
    if link is None:
        return None
    # Used once: of two submissions racing, only the one that marks it used goes on.
    claimed = db.session.execute(update(StaffSetupLink).where(
        StaffSetupLink.id == link.id, StaffSetupLink.used_at.is_(None)
    ).values(used_at=utcnow())).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    user = db.session.get(StaffUser, link.staff_id)
    user.password_hash = hash_password(password)
    user.session_version += 1
    audit.record("staff.setup_completed", actor_type="staff", actor_id=user.id,
                 details={"staff_id": user.id})
    return user


def _active_admin_ids() -> list[int]:
    """Lock and list the active administrators' rows."""
    return list(db.session.execute(
        select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True))
        .order_by(StaffUser.id).with_for_update()
    ).scalars())


def _keep_an_admin(user: StaffUser, by: StaffUser) -> None:
    """Refuse to take away ``user``'s admin powers if they are the last or one's own."""
    if user.role != "admin" or not user.active:
        return
    if user.id == by.id:
        raise StaffError(_("You cannot remove your own administrator role or deactivate "
                           "yourself: ask another administrator."))
    if [staff_id for staff_id in _active_admin_ids() if staff_id != user.id] == []:
        raise StaffError(_("This is the last active administrator: make someone else an "
                           "administrator first."))


def _check_an_admin_is_left() -> None:
    """After the change, in the same transaction: an active administrator remains."""
    db.session.flush()
    if not _active_admin_ids():
        raise StaffError(_("This is the last active administrator: make someone else an "
                           "administrator first."))


def change_role(user: StaffUser, role: str, *, by: StaffUser) -> bool:
    """Give ``user`` another role; ``False`` when it is the role they have."""
    if role not in ROLES:
        raise StaffError(_("Choose a role."), "role")
    if role == user.role:
        return False
    if role != "admin":
        _keep_an_admin(user, by)
    previous = user.role
    user.role = role
    user.session_version += 1  # pages open under the old role end with their session
    _check_an_admin_is_left()
    audit.record("staff.role_changed", details={"staff_id": user.id, "from": previous,
                                                "to": role})
    return True


def deactivate(user: StaffUser, *, by: StaffUser) -> bool:
    """Stop the account signing in and end its sessions; ``False`` if already inactive."""
    if not user.active:
        return False
    _keep_an_admin(user, by)
    user.active = False
    user.session_version += 1
    _check_an_admin_is_left()
    db.session.execute(update(StaffSetupLink).where(
        StaffSetupLink.staff_id == user.id, StaffSetupLink.used_at.is_(None)
    ).values(expires_at=utcnow()))
    audit.record("staff.deactivated", details={"staff_id": user.id, "via": "web"})
    return True


def reactivate(user: StaffUser, *, by: StaffUser) -> bool:
    if user.active:
        return False
    user.active = True
    audit.record("staff.reactivated", details={"staff_id": user.id})
    return True


def unlock(user: StaffUser, *, via: str = "web") -> None:
    """Lift every sign-in lock of the account: its own and each address's."""
    user.locked_until = None
    user.failed_logins = 0
    user.failures_since = None
    removed = db.session.execute(delete(AttemptCounter).where(
        AttemptCounter.key.like(f"staff:{user.id}:%"))).rowcount
    audit.record("staff.unlocked", details={"staff_id": user.id, "via": via,
                                            "address_locks": removed})


def reset_two_factor(user: StaffUser) -> bool:
    """Forget the authenticator: the member sets it up again at the next sign-in."""
    if user.totp_secret is None:
        return False
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_required = True  # whatever the role: set up again at the next sign-in
    user.session_version += 1
    audit.record("staff.totp_reset", details={"staff_id": user.id})
    return True


def is_locked(user: StaffUser) -> bool:
    """Locked for everyone, or from at least one address, now."""
    if user.is_locked():
        return True
    return db.session.execute(select(AttemptCounter.key).where(
        AttemptCounter.key.like(f"staff:{user.id}:%"),
        AttemptCounter.locked_until > utcnow()).limit(1)).first() is not None


# --- agents assigned to incidents ------------------------------------------------------


def incidents() -> list[Incident]:
    """Every incident an agent may be assigned to, newest first."""
    return list(db.session.execute(select(Incident).order_by(Incident.id.desc())).scalars())


def assigned_incident_ids(user: StaffUser) -> list[int]:
    """The incidents ``user`` is assigned to (none: every incident)."""
    return sorted(db.session.execute(select(StaffIncident.incident_id).where(
        StaffIncident.staff_id == user.id)).scalars())


def set_incidents(user: StaffUser, incident_ids: list[int]) -> bool:
    """Limit an agent to ``incident_ids`` (empty: every incident); ``False`` if unchanged.

    The restriction applies to agents; managers and administrators see every incident.
    """
    if user.role != "agent":
        raise StaffError(_("Only agents are limited to incidents: managers and "
                           "administrators see every incident."), "incidents")
    wanted = set(incident_ids)
    known = dict(db.session.execute(select(Incident.id, Incident.reference).where(
        Incident.id.in_(wanted))).all()) if wanted else {}
    if set(known) != wanted:
        raise StaffError(_("Choose incidents from the list."), "incidents")
    before = set(assigned_incident_ids(user))
    if before == wanted:
        return False
    references = dict(db.session.execute(select(Incident.id, Incident.reference).where(
        Incident.id.in_(before | wanted))).all())
    db.session.execute(delete(StaffIncident).where(StaffIncident.staff_id == user.id))
    db.session.add_all(StaffIncident(staff_id=user.id, incident_id=incident_id)
                       for incident_id in sorted(wanted))
    user.incidents_limited = bool(wanted)
    audit.record("staff.incidents_changed", details={
        "staff_id": user.id,
        "from": sorted(references[i] for i in before),
        "to": sorted(references[i] for i in wanted),
    })
    return True
