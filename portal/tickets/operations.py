"""Opening, replying to and closing tickets, with their SLA due times and daily caps.

Each function changes the rows and records the interaction in the caller's
transaction; the caller commits. Lookups for a customer are scoped to the person:
another person's ticket is simply not found.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import aliased

from portal.audit import log as audit
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.person import Person
from portal.models.ticket import TICKET_STATUSES, Ticket, TicketMessage
from portal.tickets import sla


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
    )
    sla.start_clocks(ticket, now)
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
    if ticket.status in ("pending_customer", "resolved"):
        ticket.status = "open"
        ticket.resolved_at = None
    sla.resume_clock(ticket, now)
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
    sla.refresh_due(ticket)
    audit.record("ticket.closed", incident_id=person.incident_id, person_id=person.id,
                 ticket_id=ticket.id, details={"from": before, "by": "customer"})
    return True


# ---- The agents' side: the thread, assignment, replies, notes and status ----------

STAFF_REPLY_STATUSES = ("pending_customer", "open", "resolved", "closed")


class StaleReply(Exception):
    """The customer wrote after the agent loaded the page: the reply was not sent."""

    def __init__(self, messages: list[TicketMessage]):
        super().__init__(f"{len(messages)} new customer message(s)")
        self.messages = messages


class AnswerNotUsable(ValueError):
    """The chosen answer version is not an approved one."""


def find_ticket(ticket_id: int) -> Ticket | None:
    """A ticket by id (the caller has checked the staff member may work tickets)."""
    return db.session.get(Ticket, ticket_id)


# Built once: the ticket page reads every thread through it (see portal.tickets.page).
_THREAD = (select(TicketMessage).where(TicketMessage.ticket_id == bindparam("ticket_id"))
           .order_by(TicketMessage.id))


def thread(ticket_id: int) -> list[TicketMessage]:
    """Every message of a ticket, internal notes included, oldest first."""
    return list(db.session.execute(_THREAD, {"ticket_id": ticket_id}).scalars())


def last_customer_message_id(messages: list[TicketMessage]) -> int:
    """The id of the newest customer message of a thread (``thread``; 0 if none)."""
    return max((m.id for m in messages if m.author_type == "customer"), default=0)


def customer_messages_after(ticket_id: int, message_id: int) -> list[TicketMessage]:
    """Customer messages newer than ``message_id``."""
    return list(db.session.execute(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id,
                                    TicketMessage.author_type == "customer",
                                    TicketMessage.id > message_id)
        .order_by(TicketMessage.id)).scalars())


def _log(action: str, ticket: Ticket, **details) -> None:
    audit.record(action, incident_id=ticket.incident_id, person_id=ticket.person_id,
                 ticket_id=ticket.id, details=details)


def assign(ticket: Ticket, staff_id: int | None) -> bool:
    """Give the ticket to a staff member (``None``: to nobody); False if nothing changed.

    A new ticket becomes ``open`` once someone holds it.
    """
    if ticket.assignee_id == staff_id:
        return False
    before = ticket.assignee_id
    ticket.assignee_id = staff_id
    if staff_id is not None and ticket.status == "new":
        ticket.status = "open"
    _log("ticket.assigned", ticket, **{"from": before, "to": staff_id})
    return True


def set_status(ticket: Ticket, status: str, now: datetime | None = None) -> bool:
    """Move a ticket to ``status`` and run its clocks accordingly; False if unchanged."""
    if status not in TICKET_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if ticket.status == status:
        return False
    now = now or utcnow()
    before = ticket.status
    ticket.status = status
    if status in ("pending_customer", "resolved"):
        sla.stop_clock(ticket, now)
    else:
        sla.resume_clock(ticket, now)
    ticket.resolved_at = now if status == "resolved" else None
    if status == "closed":
        ticket.closed_at = now
    sla.refresh_due(ticket)
    _log("ticket.status_changed", ticket, **{"from": before, "to": status})
    return True


def add_note(ticket: Ticket, staff_id: int, body: str) -> TicketMessage:
    """Add an internal note (never shown to the customer)."""
    note = TicketMessage(ticket_id=ticket.id, author_type="staff", author_id=staff_id,
                         channel=ticket.channel, body=body.strip(), internal=True)
    db.session.add(note)
    db.session.flush()
    _log("ticket.note_added", ticket, message_id=note.id)
    return note


def reply(ticket: Ticket, staff_id: int, body: str, *, seen_message_id: int,
          answer_version_id: int | None = None, status: str = "pending_customer",
          confirmed: bool = False) -> TicketMessage:
    """Send a reply to the customer, from an approved answer or as free text.

    Raises ``StaleReply`` (nothing written) when the customer wrote after
    ``seen_message_id`` and the agent has not ``confirmed``. With an answer, the
    answer is filled for this ticket again and the sent text compared with it: a
    difference marks the reply as a deviation and keeps the diff for managers.
    The caller commits, then tells the customer (``portal.dispatch.replies``).
    """
    from portal.answers import render

    newer = customer_messages_after(ticket.id, seen_message_id)
    if newer and not confirmed:
        raise StaleReply(newer)
    if status not in STAFF_REPLY_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    body = render.normalise_text(body)
    version = None
    diff = None
    if answer_version_id is not None:
        version = render.approved_version(answer_version_id, ticket)
        if version is None:
            raise AnswerNotUsable(answer_version_id)
        diff = render.deviation(render.fill_for_ticket(version, ticket), body)
    now = utcnow()
    message = TicketMessage(
        ticket_id=ticket.id, author_type="staff", author_id=staff_id, channel="web",
        body=body, internal=False, answer_version_id=version.id if version else None,
        deviated=diff is not None, deviation_diff=diff, created_at=now)
    db.session.add(message)
    db.session.flush()
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    if ticket.assignee_id is None:
        ticket.assignee_id = staff_id
    before = ticket.status
    if status != before:
        ticket.status = status
        if status in ("pending_customer", "resolved"):
            sla.stop_clock(ticket, now)
        else:
            sla.resume_clock(ticket, now)
        ticket.resolved_at = now if status == "resolved" else None
        if status == "closed":
            ticket.closed_at = now
    sla.refresh_due(ticket)
    _log("ticket.replied", ticket, message_id=message.id,
         answer_id=version.answer_id if version else None,
         answer_version_id=version.id if version else None,
         answer_version=version.version if version else None,
         free_text=version is None, deviated=diff is not None,
         status_from=before, status_to=ticket.status, confirmed_stale=bool(newer))
    return message
