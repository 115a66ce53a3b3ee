"""One printed letter: a letter notification's place in a print batch, and its post.

The letter's id is its notification's id: the print house's manifest, the
returned-letters upload and the evidence export all use that one number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class Letter(db.Model):
    __tablename__ = "letter"
    __table_args__ = (Index("ix_letter_batch_position", "batch_id", "position"),)

    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), primary_key=True,
                                                 autoincrement=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("letter_batch.id"))
    position: Mapped[int] = mapped_column(Integer)  # print order within the batch, from 1
    first_page: Mapped[int] = mapped_column(Integer)
    last_page: Mapped[int] = mapped_column(Integer)
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
