"""Notification campaigns and one row per person, channel and campaign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, one_of, utcnow
from portal.models.person import CHANNELS
from portal.security.crypto import EncryptedString

CAMPAIGN_STATUSES = ("draft", "running", "paused", "completed", "cancelled")
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "delivered", "undelivered", "failed",
                         "cancelled", "skipped")
# Status callbacks only move a notification forward along this order; the outcomes
# share the last rank, so a late callback never turns one outcome into another.
STATUS_RANK = {"pending": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3,
               "failed": 3, "cancelled": 3, "skipped": 3}


ACTIVE = text("status IN ('running', 'paused')")


class Campaign(db.Model):
    __tablename__ = "campaign"
    __table_args__ = (
        one_of("status", CAMPAIGN_STATUSES),
        # One running or paused campaign per incident, even for two launches at once.
        Index("uq_campaign_one_active", "incident_id", unique=True,
              postgresql_where=ACTIVE, sqlite_where=ACTIVE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    notice_version: Mapped[int] = mapped_column(Integer)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    fallback: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sent to people who already had this notice version on a channel (``--again``).
    again: Mapped[bool] = mapped_column(default=False, server_default=false())
    # People left out per channel because they already had this notice version.
    skipped: Mapped[dict | None] = mapped_column(JSON)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# A launch writes a million rows at a time, and every index entry is work in that
# INSERT (docs/benchmarks.md, "Row creation"): the indexes below are the ones the
# queries need, and the two partial ones hold no entry for a row just created.
LEASED = text("status = 'sending'")
HAS_PROVIDER_ID = text("provider_id IS NOT NULL")


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (
        # Person first: one row per (person, campaign, channel), and it also serves
        # every look-up by person (the ticket page's history, "already notified").
        UniqueConstraint("person_id", "campaign_id", "channel"),
        # The chunk jobs' claim (campaign, channel, pending, in id order) and the counts.
        Index("ix_notification_claim", "campaign_id", "channel", "status", "id"),
        # Lease recovery (``status = 'sending' AND lease_until < now``): leased rows only.
        Index("ix_notification_lease", "lease_until", postgresql_where=LEASED,
              sqlite_where=LEASED),
        # Status callbacks find their row by the provider's id (``provider_id = :id``),
        # which a row only has once sent.
        Index("ix_notification_provider_id", "provider_id", postgresql_where=HAS_PROVIDER_ID,
              sqlite_where=HAS_PROVIDER_ID),
        one_of("status", NOTIFICATION_STATUSES),
        one_of("channel", CHANNELS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys on this table's references (campaign, person, notice version,
    # fallback_of): PostgreSQL checks each one per inserted row, and those checks were
    # two thirds of a launch's time (docs/benchmarks.md, "Row creation"). The ids come
    # from the referenced rows themselves (the launch's and fallback's INSERT … SELECT),
    # and nothing deletes a campaign, person (anonymised in place) or notice version.
    campaign_id: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    resend_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(32))
    notice_version_id: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[str | None] = mapped_column(EncryptedString)
    content_digest: Mapped[str | None] = mapped_column(String(64))
    fallback_of_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LetterBatch(db.Model):
    """A print-house batch: one PDF of letters and its manifest CSV."""

    __tablename__ = "letter_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    letters: Mapped[int] = mapped_column(Integer, default=0)
    pdf_path: Mapped[str | None] = mapped_column(String(500))
    manifest_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Letters (issue 9, campaign-ui): the batch's number within its campaign, its pages,
    # who printed it, and when the print house mailed it.
    number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    pages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class OutboxMessage(db.Model):
    """A message the development outbox kept instead of sending it."""

    __tablename__ = "outbox_message"
    __table_args__ = (one_of("channel", CHANNELS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(EncryptedString)
    subject: Mapped[str | None] = mapped_column(EncryptedString)
    body: Mapped[str] = mapped_column(EncryptedString)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
