"""The reports area's tables: the substitute notice and the dashboards' snapshots.

The substitute notice is a public page about an incident, for people who cannot be reached.

HIPAA's substitute notice (45 CFR 164.404(d)(2)) asks for a conspicuous web posting
kept up for at least 90 days with a toll-free number; the manager writes a plain
summary per language and the date until which the page stays up.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class SubstituteNotice(db.Model):
    __tablename__ = "substitute_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), unique=True)
    # {"en": "...", "es": "...", ...}: the plain-language summary per language.
    summaries: Mapped[dict] = mapped_column(JSON, default=dict)
    hotline: Mapped[str] = mapped_column(String(40))
    stay_up_until: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: not public
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpublished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReportSnapshot(db.Model):
    """One incident's dashboards as last computed for a window of ``days`` (JSON).

    The dashboards' aggregates over millions of rows take seconds; the page reads the
    snapshot, which a periodic job (and a stale read) recomputes.
    """

    __tablename__ = "report_snapshot"
    __table_args__ = (UniqueConstraint("incident_id", "days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    days: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    compute_ms: Mapped[int] = mapped_column(Integer, default=0)
