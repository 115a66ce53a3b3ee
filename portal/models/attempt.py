"""Attempt counters that belong to no row of their own: unknown notice codes, staff sign-in
per account and source address.

One row per key, counted and locked by ``portal.security.attempts`` exactly as the
counters on ``person`` and ``staff_user`` are. Nothing here is personal data: keys
hold a code's keyed blind index or a staff id with an address digest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime


class AttemptCounter(db.Model):
    __tablename__ = "attempt_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failures_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
