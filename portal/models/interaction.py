"""The append-only interaction log, chained by hashes.

Rows are written only by ``portal.audit.log.record`` and never updated, except that
GDPR erasure may replace ``details`` with a redaction marker: the chain covers
``details_digest``, not ``details``, so a redacted row still verifies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, JSON, BigInteger, ForeignKey, Index, Integer, String, event
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
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# PostgreSQL: append a row in one call: take the log's lock, read the newest hash,
# compute this row's hash and insert it (portal.audit.log.record explains ``tail``).
# Migration 0006 creates the same function in migrated databases.
APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION interaction_append(
    lock_key bigint, genesis text, tail text,
    p_at timestamptz, p_actor_type varchar, p_actor_id integer, p_action varchar,
    p_incident_id integer, p_person_id integer, p_ticket_id integer, p_campaign_id integer,
    p_details json, p_details_digest varchar, p_ip varchar,
    OUT new_id bigint, OUT new_prev text, OUT new_hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT hash INTO new_prev FROM interaction ORDER BY id DESC LIMIT 1;
    new_prev := coalesce(new_prev, genesis);
    new_hash := encode(sha256(convert_to('["' || new_prev || '",' || tail, 'UTF8')), 'hex');
    INSERT INTO interaction (at, actor_type, actor_id, action, incident_id, person_id,
                             ticket_id, campaign_id, details, details_digest, ip,
                             prev_hash, hash)
    VALUES (p_at, p_actor_type, p_actor_id, p_action, p_incident_id, p_person_id,
            p_ticket_id, p_campaign_id, p_details, p_details_digest, p_ip,
            new_prev, new_hash)
    RETURNING id INTO new_id;
END
$$
"""
event.listen(Interaction.__table__, "after_create",
             DDL(APPEND_FUNCTION).execute_if(dialect="postgresql"))
