"""Helpdesk tickets, their messages and who is looking at them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, one_of, utcnow
from portal.security.crypto import EncryptedString

TICKET_CHANNELS = ("web", "sms", "email", "phone")
TICKET_STATUSES = ("new", "open", "pending_customer", "resolved", "closed")
MESSAGE_AUTHOR_TYPES = ("customer", "staff", "system")
CALL_DIRECTIONS = ("inbound", "outbound")
# ``Ticket.next_due_at`` is never NULL so the queue sorts and pages on one index:
# a paused clock (waiting for the customer) sorts after every running one, a
# stopped clock (resolved, closed, no SLA) after those.
PAUSED_DUE = datetime(9000, 1, 1, tzinfo=UTC)
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)
# The statuses of the working queue (portal.tickets.queries.QUEUE_STATUSES), as the
# predicate of the queue's partial indexes; a query must name them the same way.
WORKING_QUEUE = text("status IN ('new', 'open', 'pending_customer')")
CALL_OUTCOMES = ("answered", "callback_promised", "escalated", "no_answer", "voicemail")


class Ticket(db.Model):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_status_due", "status", "first_response_due"),
        Index("ix_ticket_person", "person_id", "created_at"),
        # The queue: sorted by the next due time, keyset-paged on (next_due_at, id).
        Index("ix_ticket_queue", "next_due_at", "id"),
        Index("ix_ticket_queue_status", "status", "next_due_at", "id"),
        Index("ix_ticket_queue_assignee", "assignee_id", "next_due_at", "id"),
        Index("ix_ticket_queue_incident", "incident_id", "next_due_at", "id"),
        # The working queue by language or channel (migration 0022): without them a
        # language few working tickets have walks ix_ticket_queue through every ticket.
        Index("ix_ticket_queue_language", "language", "next_due_at", "id",
              postgresql_where=WORKING_QUEUE, sqlite_where=WORKING_QUEUE),
        Index("ix_ticket_queue_channel", "channel", "next_due_at", "id",
              postgresql_where=WORKING_QUEUE, sqlite_where=WORKING_QUEUE),
        # "My tickets" and one incident's working queue (migration 0028): the full indexes
        # above walk every resolved and closed ticket of the agent or incident first.
        Index("ix_ticket_working_assignee", "assignee_id", "next_due_at", "id",
              postgresql_where=WORKING_QUEUE, sqlite_where=WORKING_QUEUE),
        Index("ix_ticket_working_incident", "incident_id", "next_due_at", "id",
              postgresql_where=WORKING_QUEUE, sqlite_where=WORKING_QUEUE),
        one_of("status", TICKET_STATUSES),
        one_of("channel", TICKET_CHANNELS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    channel: Mapped[str] = mapped_column(String(8), default="web")
    status: Mapped[str] = mapped_column(String(20), default="new")
    topic: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(8), default="en")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    last_customer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The due time the queue sorts by (portal.tickets.sla.refresh_due keeps it).
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=NO_DUE)

    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id"
    )


class TicketMessage(db.Model):
    __tablename__ = "ticket_message"
    __table_args__ = (
        one_of("author_type", MESSAGE_AUTHOR_TYPES),
        one_of("channel", TICKET_CHANNELS),
        one_of("call_direction", CALL_DIRECTIONS),
        one_of("call_outcome", CALL_OUTCOMES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    author_type: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8), default="web")
    body: Mapped[str] = mapped_column(EncryptedString)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_version_id: Mapped[int | None] = mapped_column(ForeignKey("answer_version.id"))
    deviated: Mapped[bool] = mapped_column(Boolean, default=False)
    # For managers: how the sent text differs from the filled answer (unified diff).
    deviation_diff: Mapped[str | None] = mapped_column(EncryptedString)
    call_direction: Mapped[str | None] = mapped_column(String(8))
    call_seconds: Mapped[int | None] = mapped_column(Integer)
    call_outcome: Mapped[str | None] = mapped_column(String(20))  # phone calls (issue 10)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class TicketViewer(db.Model):
    """Who has a ticket open, for collision warnings."""

    __tablename__ = "ticket_viewer"
    __table_args__ = (UniqueConstraint("ticket_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketSla(db.Model):
    """An incident's SLA targets; without a row the settings' defaults apply.

    ``business_days`` lists ISO weekdays (1 = Monday) as "1,2,3,4,5"; when set the
    clocks count only the hours from ``day_start`` to ``day_end`` ("HH:MM") of those
    days in the incident's time zone, otherwise calendar hours.
    """

    __tablename__ = "ticket_sla"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), unique=True)
    first_response_hours: Mapped[int | None] = mapped_column(Integer)
    resolution_hours: Mapped[int | None] = mapped_column(Integer)
    business_days: Mapped[str | None] = mapped_column(String(20))
    day_start: Mapped[str | None] = mapped_column(String(5))
    day_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
