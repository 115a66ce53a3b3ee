"""Staff accounts: agents, managers and administrators."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, one_of, utcnow
from portal.security.crypto import EncryptedString

ROLES = ("agent", "manager", "admin")


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_user"
    __table_args__ = (one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    time_zone: Mapped[str | None] = mapped_column(String(64))  # None: the incident's, else UTC
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Set by an administrator's reset: two-factor set-up at the next sign-in, any role.
    totp_required: Mapped[bool] = mapped_column(Boolean, default=False,
                                                server_default=false())
    # An administrator limited this agent to the incidents in ``staff_incident``.
    incidents_limited: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first failure of the current window (failures older than the window expire).
    failures_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.active)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    @property
    def must_set_up_totp(self) -> bool:
        """Two-factor set-up is due before a session starts (admins, or after a reset)."""
        return not self.totp_enabled and (self.role == "admin" or bool(self.totp_required))

    def get_id(self) -> str:
        # The version invalidates every session when it is bumped (sign-out
        # everywhere, deactivation, password change).
        return f"{self.id}:{self.session_version}"

    def is_locked(self, now: datetime | None = None) -> bool:
        """Tell whether failed sign-ins have locked the account."""
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def __repr__(self) -> str:
        return f"<StaffUser {self.id} {self.role}>"


class StaffSetupLink(db.Model):
    """A one-time link to set a password: only the token's SHA-256 is stored."""

    __tablename__ = "staff_setup_link"
    __table_args__ = (Index("ix_staff_setup_link_staff", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffIncident(db.Model):
    """An agent assigned to an incident: an agent with none works every incident."""

    __tablename__ = "staff_incident"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), primary_key=True)
