"""Tell a customer that an agent replied to their ticket, by their preferred channel.

``notify_reply`` is a job function (takes ids). The message says only that there
is a reply and where to read it; the reply itself stays on the portal.
"""

from __future__ import annotations

from portal import audit
from portal.customer import messages
from portal.extensions import db
from portal.models.person import Person
from portal.models.ticket import Ticket


def notify_reply(ticket_id: int) -> str | None:
    """Send the reply notification for a ticket; return the provider id or ``None``.

    Never raises for a channel failure (it may run inline inside an agent's
    request): the failure is logged as ``ticket.reply_notify_failed``.
    """
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.person_id is None:
        return None
    person = db.session.get(Person, ticket.person_id)
    if person is None or person.anonymised_at is not None:
        return None
    channel = messages.channel_for(person)
    if channel is None:
        audit.record("ticket.reply_notify_failed", actor_type="system",
                     incident_id=ticket.incident_id, person_id=person.id, ticket_id=ticket.id,
                     details={"reason": "no_channel"})
        db.session.commit()
        return None
    subject, sms_body, email_body = messages.reply_notice(person)
    try:
        provider_id = messages.send(person, channel, subject, sms_body, email_body)
    except messages.ChannelError as exc:
        db.session.rollback()
        audit.record("ticket.reply_notify_failed", actor_type="system",
                     incident_id=ticket.incident_id, person_id=person.id, ticket_id=ticket.id,
                     details={"channel": channel, "reason": exc.code or "error",
                              "permanent": exc.permanent})
        db.session.commit()
        return None
    audit.record("ticket.reply_notified", actor_type="system", incident_id=ticket.incident_id,
                 person_id=person.id, ticket_id=ticket.id,
                 details={"channel": channel, "provider_id": provider_id})
    db.session.commit()
    return provider_id
