"""Tell a customer that an agent replied to their ticket, by their preferred channel.

``notify_reply`` is a job function (takes ids). The message says only that there
is a reply and where to read it; the reply itself stays on the portal.
"""

from __future__ import annotations

from portal.dispatch import messages
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
    return messages.deliver(person, messages.reply_notice,
                            "ticket.reply_notified|ticket.reply_notify_failed",
                            ticket_id=ticket.id)
