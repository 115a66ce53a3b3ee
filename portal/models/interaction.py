"""The append-only interaction log, chained by keyed hashes (HMAC-SHA256).

Rows are written only by ``portal.audit.log.record``. A row is *sealed* once: its
place in the chain (``seq``), the previous row's hash and its own hash are set, by
``record`` itself on SQLite and by the sealer shortly after commit on PostgreSQL
(``portal.audit.log.seal``). Apart from sealing, rows are never updated, except that
GDPR erasure may replace ``details`` with a redaction marker: the chain covers
``details_digest``, not ``details``, so a redacted row still verifies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, one_of, utcnow

ACTOR_TYPES = ("staff", "customer", "system")


class Interaction(db.Model):
    __tablename__ = "interaction"
    __table_args__ = (
        Index("ix_interaction_person", "person_id", "id"),
        Index("ix_interaction_action", "action", "id"),
        Index("ix_interaction_at", "at"),
        # The log review's actor filter: staff members' rows only (migration 0026).
        Index("ix_interaction_staff_actor", "actor_id", "id",
              postgresql_where=text("actor_type = 'staff'"),
              sqlite_where=text("actor_type = 'staff'")),
        # The sealer's queue: rows not yet chained, in id order.
        Index("ix_interaction_unsealed", "id", postgresql_where=text("seq IS NULL"),
              sqlite_where=text("seq IS NULL")),
        one_of("actor_type", ACTOR_TYPES),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    details_digest: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Place in the chain, previous row's hash and this row's HMAC; NULL until sealed.
    seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                            unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
