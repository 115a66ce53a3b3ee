"""Text messages people send to our number: opt-out and opt-in words, HELP, and questions.

The sender is found through the phone blind index (every person with that number,
in any incident). The whole message, in any case and with surrounding spaces
ignored, decides: an opt-out word records an SMS opt-out for each of them (every
later campaign honours it), an opt-in word clears it, a help word gets a short
translated reply with the hotline. Any other text becomes a ticket (channel
``sms``) of the newest such person, or joins their open SMS ticket; an unknown
number gets a generic reply with the hotline and no ticket. The log never holds
the number or the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit import log as audit
from portal.dispatch.chunks import record_sms_opt_out
from portal.extensions import db
from portal.models import Incident, Person, Ticket, TicketMessage
from portal.models.base import utcnow
from portal.people.verification import lock_contact
from portal.security.crypto import phone_index
from portal.tickets import sla

# Twilio's default keyword lists (Advanced Opt-Out).
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
OPEN_TICKET = ("new", "open", "pending_customer")
MAX_BODY = 1600  # Twilio's own limit for one inbound message


@dataclass
class Handled:
    kind: str  # opt_out, opt_in, help, ticket, unknown, empty
    reply: str | None = None
    ticket_id: int | None = None


def _people(sender: str) -> list[Person]:
    if not sender:
        return []
    return list(db.session.execute(
        select(Person).where(Person.phone_index == phone_index(sender),
                             Person.anonymised_at.is_(None))
        .order_by(Person.created_at.desc(), Person.id.desc())
    ).scalars())


def _hotline(person: Person | None, language: str) -> str | None:
    if person is not None:
        incident = db.session.get(Incident, person.incident_id)
        if incident is not None and incident.contact_hotline:
            return incident.contact_hotline
    return lock_contact(language)[0]


def _help_reply(language: str, hotline: str | None) -> str:
    with force_locale(language):
        if hotline:
            return _("For help with your notice, call %(hotline)s. Reply STOP to stop "
                     "text messages.", hotline=hotline)
        return _("For help with your notice, call the number in your letter. Reply STOP "
                 "to stop text messages.")


def handle(sender: str, body: str) -> Handled:
    """Act on one inbound SMS; commits. ``reply`` is the text to answer, if any."""
    word = (body or "").strip().upper()
    people = _people(sender)
    newest = people[0] if people else None
    language = (newest.language if newest else None) or "en"
    if word in OPT_OUT_WORDS or word in OPT_IN_WORDS:
        opting_out = word in OPT_OUT_WORDS
        changed = record_sms_opt_out([person.id for person in people], source="inbound",
                                     opted_out=opting_out)
        if not people:
            audit.record("sms.inbound_unknown", actor_type="system",
                         details={"kind": "opt_out" if opting_out else "opt_in"})
        elif not changed:
            audit.record("sms.opted_out" if opting_out else "sms.opted_in",
                         actor_type="customer", actor_id=newest.id,
                         incident_id=newest.incident_id, person_id=newest.id,
                         details={"source": "inbound", "unchanged": True})
        db.session.commit()
        # Twilio answers these words itself (its opt-out confirmation): no reply of ours.
        return Handled("opt_out" if opting_out else "opt_in")
    if word in HELP_WORDS:
        audit.record("sms.help_requested", actor_type="customer" if newest else "system",
                     actor_id=newest.id if newest else None,
                     incident_id=newest.incident_id if newest else None,
                     person_id=newest.id if newest else None, details={})
        db.session.commit()
        return Handled("help", _help_reply(language, _hotline(newest, language)))
    if newest is None:
        audit.record("sms.inbound_unknown", actor_type="system", details={"kind": "text"})
        db.session.commit()
        hotline = lock_contact("en")[0]
        with force_locale("en"):
            reply = (_("We could not match this number to a notice. Please call %(hotline)s.",
                       hotline=hotline) if hotline else
                     _("We could not match this number to a notice. Please call the number "
                       "in your letter."))
        return Handled("unknown", reply)
    text = (body or "").strip()[:MAX_BODY]
    if not text:
        db.session.rollback()
        return Handled("empty")
    ticket = _ticket_for(newest, text)
    db.session.commit()
    return Handled("ticket", ticket_id=ticket.id)


def _ticket_for(person: Person, text: str) -> Ticket:
    """Join the person's open SMS ticket, or open one; the caller commits."""
    now = utcnow()
    ticket = db.session.execute(
        select(Ticket).where(Ticket.person_id == person.id, Ticket.channel == "sms",
                             Ticket.status.in_(OPEN_TICKET))
        .order_by(Ticket.id.desc()).limit(1).with_for_update()
    ).scalar_one_or_none()
    if ticket is None:
        ticket = Ticket(incident_id=person.incident_id, person_id=person.id, channel="sms",
                        status="new", topic="other", language=person.language or "en",
                        last_customer_message_at=now)
        sla.start_clocks(ticket, now)
        db.session.add(ticket)
        db.session.flush()
        action = "ticket.created"
    else:
        if ticket.status == "pending_customer":
            ticket.status = "open"
        sla.resume_clock(ticket, now)
        ticket.last_customer_message_at = now
        action = "ticket.customer_replied"
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                 author_id=person.id, channel="sms", body=text,
                                 internal=False))
    audit.record(action, actor_type="customer", actor_id=person.id,
                 incident_id=person.incident_id, person_id=person.id, ticket_id=ticket.id,
                 details={"channel": "sms"})
    return ticket
