"""Affected people of an incident, and the monitoring activation-code pool.

Every personal value is an encrypted column. Lookups use blind indexes; the
verification answers (postcode, date of birth, last four of the policy number)
are kept as keyed digests so they can be checked without decrypting anything.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, one_of, utcnow
from portal.security.crypto import BlindIndex, EncryptedString

CHANNELS = ("sms", "email", "letter")
TOAST_TUPLE_TARGET = 8160  # the largest PostgreSQL allows: never toast a person row


class Person(db.Model):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("incident_id", "external_ref"),
        Index("ix_person_incident_email", "incident_id", "email_index"),
        Index("ix_person_incident_phone", "incident_id", "phone_index"),
        Index("ix_person_incident_policy", "incident_id", "policy_index"),
        one_of("preferred_channel", CHANNELS),
        # Rows are ~2 kB of Fernet tokens, just over PostgreSQL's 2 kB TOAST threshold: by
        # default a third of them would get a futile compression attempt (random base64
        # does not compress) and a value moved out of line. Keep whole rows in the page.
        {"postgresql_with": {"toast_tuple_target": TOAST_TUPLE_TARGET}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    external_ref: Mapped[str] = mapped_column(String(100))

    first_name: Mapped[str | None] = mapped_column(EncryptedString)
    last_name: Mapped[str | None] = mapped_column(EncryptedString)
    date_of_birth: Mapped[str | None] = mapped_column(EncryptedString)  # ISO date
    postcode: Mapped[str | None] = mapped_column(EncryptedString)
    policy_number: Mapped[str | None] = mapped_column(EncryptedString)
    email: Mapped[str | None] = mapped_column(EncryptedString)
    phone: Mapped[str | None] = mapped_column(EncryptedString)  # E.164
    address_line1: Mapped[str | None] = mapped_column(EncryptedString)
    address_line2: Mapped[str | None] = mapped_column(EncryptedString)
    city: Mapped[str | None] = mapped_column(EncryptedString)
    region: Mapped[str | None] = mapped_column(EncryptedString)
    country: Mapped[str | None] = mapped_column(EncryptedString)
    notice_code: Mapped[str | None] = mapped_column(EncryptedString)  # kept for reprints

    email_index: Mapped[str | None] = mapped_column(BlindIndex)
    phone_index: Mapped[str | None] = mapped_column(BlindIndex)
    policy_index: Mapped[str | None] = mapped_column(BlindIndex)
    code_index: Mapped[str] = mapped_column(BlindIndex, unique=True)
    name_dob_index: Mapped[str | None] = mapped_column(BlindIndex, index=True)
    postcode_digest: Mapped[str | None] = mapped_column(BlindIndex)
    dob_digest: Mapped[str | None] = mapped_column(BlindIndex)
    policy_last4_digest: Mapped[str | None] = mapped_column(BlindIndex)
    row_digest: Mapped[str | None] = mapped_column(BlindIndex)

    language: Mapped[str] = mapped_column(String(8), default="en")
    # "US-CA", "DE": the state or country breach laws count residents by (people/residence.py)
    residence: Mapped[str | None] = mapped_column(String(8))
    categories: Mapped[list] = mapped_column(JSON, default=list)
    preferred_channel: Mapped[str | None] = mapped_column(String(8))
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    email_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)

    failed_verifications: Mapped[int] = mapped_column(Integer, default=0)
    verification_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first failure of the current window (failures older than the window expire).
    verification_failures_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Random value of the current verified session; cleared by sign-out (ends it server-side).
    session_nonce: Mapped[str | None] = mapped_column(String(32))
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:  # never print personal data
        return f"<Person {self.id}>"


class ActivationCode(db.Model):
    """A credit-monitoring activation code from the vendor's pool."""

    __tablename__ = "activation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    code: Mapped[str] = mapped_column(EncryptedString)
    code_index: Mapped[str] = mapped_column(BlindIndex, unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), unique=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
