"""Incidents, their notice versions, filings and incident-specific advice."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import approval
from portal.extensions import db
from portal.models.base import UTCDateTime, one_of, utcnow

INCIDENT_STATUSES = ("draft", "active", "closed")
NOTICE_STATES = ("draft", "approved", "superseded")
VERIFICATION_METHODS = ("postcode", "policy_last4")
NOTICE_TEXT_FIELDS = ("what_happened", "what_we_are_doing", "likely_consequences",
                      "other_information", "what_changed")


class Incident(db.Model):
    __tablename__ = "incident"
    __table_args__ = (
        one_of("status", INCIDENT_STATUSES),
        one_of("verification_method", VERIFICATION_METHODS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # Who is writing to the customer: shown on every verified customer page, the PDF
    # and every message (portal.incidents.brand). The logo is optional, PNG or JPEG,
    # served at a URL named by its digest; its bytes are loaded only when asked for.
    insurer_name: Mapped[str | None] = mapped_column(String(200))
    insurer_logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    insurer_logo_type: Mapped[str | None] = mapped_column(String(16))
    insurer_logo_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    summary: Mapped[str | None] = mapped_column(Text)
    occurred_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    occurred_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    determined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    jurisdictions: Mapped[list] = mapped_column(JSON, default=list)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    default_language: Mapped[str] = mapped_column(String(8), default="en")
    verification_method: Mapped[str] = mapped_column(String(16), default="postcode")
    contact_hotline: Mapped[str | None] = mapped_column(String(40))
    contact_hours: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_postal_address: Mapped[str | None] = mapped_column(Text)
    dpo_contact: Mapped[str | None] = mapped_column(Text)
    monitoring_provider: Mapped[str | None] = mapped_column(String(200))
    monitoring_enroll_url: Mapped[str | None] = mapped_column(String(500))
    monitoring_enroll_by: Mapped[date | None] = mapped_column(Date)
    # Times shown to customers of this incident (IANA name; portal.incidents.time_zones).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    monitoring_description: Mapped[str | None] = mapped_column(Text)
    # {"es": {"contact_hours": ...}, ...}: the contact block in other languages; the
    # columns above are the English text and the fallback (portal.incidents.contacts).
    contact_translations: Mapped[dict] = mapped_column(JSON, default=dict,
                                                       server_default=text("'{}'"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    filings: Mapped[list[RegulatorFiling]] = relationship(
        back_populates="incident", order_by="RegulatorFiling.filed_at"
    )
    notice_versions: Mapped[list[NoticeVersion]] = relationship(back_populates="incident")

    def __repr__(self) -> str:
        return f"<Incident {self.reference}>"


class RegulatorFiling(db.Model):
    __tablename__ = "regulator_filing"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(60))
    authority: Mapped[str] = mapped_column(String(200))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reference: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="filings")


class NoticeVersion(db.Model):
    """One language's text of the notice; approved versions are never edited."""

    __tablename__ = "notice_version"
    __table_args__ = (
        UniqueConstraint("incident_id", "language", "version"),
        one_of("state", NOTICE_STATES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    what_happened: Mapped[str] = mapped_column(Text, default="")
    what_we_are_doing: Mapped[str] = mapped_column(Text, default="")
    likely_consequences: Mapped[str] = mapped_column(Text, default="")
    other_information: Mapped[str] = mapped_column(Text, default="")
    what_changed: Mapped[str | None] = mapped_column(Text)
    checklist_overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="notice_versions")


# draft -> approved -> superseded; portal.notices.workflow adds the checklist.
NOTICE_WORKFLOW = approval.Workflow(
    model=NoticeVersion,
    kind="notice",
    states=NOTICE_STATES,
    transitions={"draft": ("approved",), "approved": ("superseded",)},
    group=("incident_id", "language"),
    frozen=(*NOTICE_TEXT_FIELDS, "checklist_overrides", "language", "version", "incident_id",
            "author_id"),
    review="draft",
    replaced="superseded",
)
approval.guard(NOTICE_WORKFLOW)


class IncidentAdvice(db.Model):
    """Advice a manager adds for one category of one incident, per language."""

    __tablename__ = "incident_advice"
    __table_args__ = (UniqueConstraint("incident_id", "category", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
