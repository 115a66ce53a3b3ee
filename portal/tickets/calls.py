"""Phone calls logged by agents, and tickets agents open for a person.

A call is a ticket message on channel ``phone`` with its direction, duration and
outcome; the agent's summary is its (encrypted, internal) body. Logging a call on
a ticket extends that ticket; logging one on a person opens a new ``phone``
ticket, assigned to the agent, with its SLA clocks started. Callers check that
the agent may act for the person (``helpdesk.people.grants``) and commit. The
log entries carry the call's facts, never the summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from portal.audit import log as audit
from portal.core.errors import FieldError
from portal.extensions import db
from portal.models import Person, Ticket, TicketMessage
from portal.models.base import utcnow
from portal.models.ticket import CALL_DIRECTIONS, CALL_OUTCOMES
from portal.tickets import sla
from portal.tickets.operations import set_status

SUMMARY_MIN = 5
SUMMARY_MAX = 4000
MAX_MINUTES = 600
OPENING_CHANNELS = ("phone", "email")
# A call reopens a ticket that waited for the customer or was answered.
REOPENS = ("pending_customer", "resolved")


class CallError(FieldError):
    """Bad input for a call or a new ticket; ``field`` names the input at fault."""


@dataclass(frozen=True)
class Call:
    direction: str
    minutes: int
    outcome: str
    summary: str


def clean_call(direction: str, minutes: int | None, outcome: str, summary: str) -> Call:
    """Check a call's fields; CallError names the first one at fault."""
    if direction not in CALL_DIRECTIONS:
        raise CallError(_("Choose whether the customer called us or we called them."),
                        "direction")
    if minutes is None or not 0 <= minutes <= MAX_MINUTES:
        raise CallError(_("Enter the call's length in minutes, from 0 to %(max)d.",
                          max=MAX_MINUTES), "minutes")
    if outcome not in CALL_OUTCOMES:
        raise CallError(_("Choose the call's outcome."), "outcome")
    summary = (summary or "").replace("\r\n", "\n").strip()
    if len(summary) < SUMMARY_MIN:
        raise CallError(_("Summarise the call in a few words."), "summary")
    if len(summary) > SUMMARY_MAX:
        raise CallError(_("The summary is longer than %(limit)d characters.",
                          limit=SUMMARY_MAX), "summary")
    return Call(direction, minutes, outcome, summary)


def person_ticket(person: Person, ticket_id: int) -> Ticket | None:
    """The person's ticket with this id (another person's is simply not found)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.person_id != person.id:
        return None
    return ticket


def _new_ticket(person: Person, channel: str, topic: str, staff_id: int) -> Ticket:
    ticket = Ticket(
        incident_id=person.incident_id, person_id=person.id, channel=channel, status="open",
        topic=topic, language=person.language or "en", assignee_id=staff_id)
    sla.start_clocks(ticket, utcnow())
    db.session.add(ticket)
    db.session.flush()
    audit.record("ticket.created", actor_type="staff", actor_id=staff_id,
                 incident_id=person.incident_id, person_id=person.id, ticket_id=ticket.id,
                 details={"topic": topic, "channel": channel, "by": "agent"})
    return ticket


def log_call(person: Person, call: Call, staff_id: int, ticket: Ticket | None = None,
             topic: str = "other") -> Ticket:
    """Record a call on ``ticket`` (the person's) or on a new phone ticket; log it."""
    if ticket is not None and ticket.person_id != person.id:
        raise CallError(_("This ticket belongs to someone else."))
    if ticket is not None and ticket.status == "closed":
        raise CallError(_("This ticket is closed: log the call on the person instead."))
    created = ticket is None
    if created:
        ticket = _new_ticket(person, "phone", topic, staff_id)
    now = utcnow()
    db.session.add(TicketMessage(
        ticket_id=ticket.id, author_type="staff", author_id=staff_id, channel="phone",
        body=call.summary, internal=True, call_direction=call.direction,
        call_seconds=call.minutes * 60, call_outcome=call.outcome))
    if call.outcome not in ("no_answer", "voicemail"):
        if ticket.first_response_at is None:
            ticket.first_response_at = now  # the customer heard from us
        if call.direction == "inbound" and ticket.status in REOPENS:
            set_status(ticket, "open", now)  # the clocks resume; logged
    if ticket.status == "new":
        set_status(ticket, "open", now)
    sla.refresh_due(ticket)
    ticket.updated_at = now
    db.session.flush()
    audit.record("call.logged", actor_type="staff", actor_id=staff_id,
                 incident_id=person.incident_id, person_id=person.id, ticket_id=ticket.id,
                 details={"direction": call.direction, "minutes": call.minutes,
                          "outcome": call.outcome, "new_ticket": created})
    return ticket


def open_ticket(person: Person, channel: str, topic: str, note: str, staff_id: int) -> Ticket:
    """Open a ticket for the person with the agent's internal note; log it."""
    if channel not in OPENING_CHANNELS:
        raise CallError(_("Choose how the customer reached us."), "channel")
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) < SUMMARY_MIN:
        raise CallError(_("Say in a few words what the customer needs."), "note")
    if len(note) > SUMMARY_MAX:
        raise CallError(_("The note is longer than %(limit)d characters.", limit=SUMMARY_MAX),
                        "note")
    ticket = _new_ticket(person, channel, topic, staff_id)
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="staff", author_id=staff_id,
                                 channel=channel, body=note, internal=True))
    db.session.flush()
    return ticket
