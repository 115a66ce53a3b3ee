"""Opening, replying to and closing tickets, with their SLA due times and daily caps.

Each function changes the rows and records the interaction in the caller's
transaction; the caller commits. Lookups for a customer are scoped to the person:
another person's ticket is simply not found.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from portal.audit import log as audit
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.person import Person
from portal.models.ticket import Ticket, TicketMessage


class DailyLimitReached(Exception):
    """The person has written as much as allowed in 24 hours (the refusal is logged).

    ``scope`` names the cap: ``tickets`` (new tickets), ``replies`` (replies across
    all the person's tickets) or ``ticket_replies`` (replies to this one ticket).
    """

    def __init__(self, limit: int, scope: str = "tickets"):
        super().__init__(f"at most {limit} {scope} in 24 hours")
        self.limit = limit
        self.scope = scope


def tickets_per_day() -> int:
    """How many web tickets one person may open in 24 hours."""
    return int(current_app.config["CUSTOMER_TICKETS_PER_DAY"])


def replies_per_day() -> tuple[int, int]:
    """How many portal replies one person may send in 24 hours: (to one ticket, in all)."""
    return (int(current_app.config["CUSTOMER_REPLIES_PER_TICKET"]),
            int(current_app.config["CUSTOMER_REPLIES_PER_DAY"]))


def sla_due(hours_setting: str, start: datetime | None = None) -> datetime | None:
    """When a clock set by the ``hours_setting`` setting runs out (``None``: no clock)."""
    hours = current_app.config[hours_setting]
    return (start or utcnow()) + timedelta(hours=int(hours)) if hours else None


def person_tickets(person_id: int) -> list[Ticket]:
    """The person's tickets, newest first."""
    return list(db.session.execute(
        select(Ticket).where(Ticket.person_id == person_id).order_by(Ticket.created_at.desc())
    ).scalars())


def own_ticket(person_id: int, ticket_id: int) -> Ticket | None:
    """The ticket with this id when it is the person's, else ``None``."""
    return db.session.execute(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.person_id == person_id)
    ).scalar_one_or_none()


def visible_messages(ticket_id: int) -> list[TicketMessage]:
    """The thread as the customer sees it: every message except internal notes, oldest first."""
    return list(db.session.execute(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket_id, TicketMessage.internal.is_(False))
        .order_by(TicketMessage.id)
    ).scalars())


def opened_last_day(person_id: int) -> int:
    """Web tickets this person opened in the last 24 hours."""
    return db.session.execute(
        select(func.count(Ticket.id)).where(
            Ticket.person_id == person_id,
            Ticket.channel == "web",
            Ticket.created_at >= utcnow() - timedelta(hours=24),
        )
    ).scalar_one()


def replied_last_day(person_id: int, ticket_id: int | None = None) -> int:
    """The person's portal replies in the last 24 hours (to one ticket, or to any).

    A reply is a customer web message that is not the first message of its ticket
    (opening messages count against ``CUSTOMER_TICKETS_PER_DAY`` instead).
    """
    earlier = aliased(TicketMessage)
    query = select(func.count(TicketMessage.id)).join(
        Ticket, Ticket.id == TicketMessage.ticket_id
    ).where(
        Ticket.person_id == person_id,
        TicketMessage.author_type == "customer",
        TicketMessage.channel == "web",
        TicketMessage.created_at >= utcnow() - timedelta(hours=24),
        exists().where(earlier.ticket_id == TicketMessage.ticket_id,
                       earlier.id < TicketMessage.id),
    )
    if ticket_id is not None:
        query = query.where(TicketMessage.ticket_id == ticket_id)
    return db.session.execute(query).scalar_one()


def open_web_ticket(person: Person, topic: str, body: str) -> Ticket:
    """Open a ticket from the portal with its first message, its SLA clocks started.

    Raises ``DailyLimitReached`` (after logging ``ticket.create_refused``) when the
    person already opened ``CUSTOMER_TICKETS_PER_DAY`` tickets in 24 hours.
    """
    limit = tickets_per_day()
    if opened_last_day(person.id) >= limit:
        audit.record("ticket.create_refused", incident_id=person.incident_id,
                     person_id=person.id, details={"reason": "daily_limit", "limit": limit})
        raise DailyLimitReached(limit)
    now = utcnow()
    ticket = Ticket(
        incident_id=person.incident_id,
        person_id=person.id,
        channel="web",
        status="new",
        topic=topic,
        language=person.language or "en",
        last_customer_message_at=now,
        first_response_due=sla_due("TICKET_FIRST_RESPONSE_HOURS", now),
        resolution_due=sla_due("TICKET_RESOLUTION_HOURS", now),
    )
    db.session.add(ticket)
    db.session.flush()
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                 author_id=person.id, channel="web", body=body.strip(),
                                 internal=False))
    audit.record("ticket.created", incident_id=person.incident_id, person_id=person.id,
                 ticket_id=ticket.id, details={"topic": ticket.topic, "channel": "web"})
    return ticket


def add_customer_reply(ticket: Ticket, person: Person, body: str) -> None:
    """Add the customer's reply from the portal; a waiting or answered ticket reopens.

    A paused SLA clock resumes (the pause is added to ``paused_seconds``). The
    caller refuses replies to a closed ticket. Raises ``DailyLimitReached`` (after
    logging ``ticket.reply_refused``) when the person already sent
    ``CUSTOMER_REPLIES_PER_TICKET`` replies to this ticket, or
    ``CUSTOMER_REPLIES_PER_DAY`` replies in all, in the last 24 hours.
    """
    per_ticket, per_day = replies_per_day()
    for limit, scope, count in (
        (per_ticket, "ticket_replies", lambda: replied_last_day(person.id, ticket.id)),
        (per_day, "replies", lambda: replied_last_day(person.id)),
    ):
        if count() >= limit:
            audit.record("ticket.reply_refused", incident_id=person.incident_id,
                         person_id=person.id, ticket_id=ticket.id,
                         details={"reason": "daily_limit", "scope": scope, "limit": limit})
            raise DailyLimitReached(limit, scope)
    now = utcnow()
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                 author_id=person.id, channel="web", body=body.strip(),
                                 internal=False))
    if ticket.paused_at is not None:
        ticket.paused_seconds = (ticket.paused_seconds or 0) + int(
            (now - ticket.paused_at).total_seconds())
        ticket.paused_at = None
    if ticket.status in ("pending_customer", "resolved"):
        ticket.status = "open"
        ticket.resolved_at = None
    ticket.last_customer_message_at = now
    audit.record("ticket.customer_replied", incident_id=person.incident_id,
                 person_id=person.id, ticket_id=ticket.id, details={"channel": "web"})


def close_by_customer(ticket: Ticket, person: Person) -> bool:
    """Close a ticket the customer no longer needs; False when it was already closed."""
    if ticket.status == "closed":
        return False
    before = ticket.status
    ticket.status = "closed"
    ticket.closed_at = utcnow()
    audit.record("ticket.closed", incident_id=person.incident_id, person_id=person.id,
                 ticket_id=ticket.id, details={"from": before, "by": "customer"})
    return True
