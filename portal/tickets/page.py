"""What the ticket page shows about the person: incident, categories, notices sent,
verification history, and the names behind the thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from portal.extensions import db
from portal.models.campaign import Notification
from portal.models.incident import Incident
from portal.models.person import Person
from portal.models.staff import StaffUser
from portal.models.ticket import Ticket, TicketMessage


@dataclass
class PersonContext:
    person: Person | None
    incident: Incident | None
    categories: list[str] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


def person_context(ticket: Ticket) -> PersonContext:
    """The ticket's person and incident, the exposed categories and notices sent."""
    person = db.session.get(Person, ticket.person_id) if ticket.person_id else None
    incident = db.session.get(Incident, ticket.incident_id) if ticket.incident_id else None
    notifications = []
    if person is not None:
        notifications = list(db.session.execute(
            select(Notification).where(Notification.person_id == person.id)
            .order_by(Notification.created_at.desc()).limit(20)).scalars())
    categories = list((person.categories if person else None) or [])
    return PersonContext(person, incident, categories, notifications)


def staff_names(messages: list[TicketMessage], *more: int | None) -> dict[int, str]:
    """Names of the staff who wrote ``messages`` (and of the ids in ``more``)."""
    ids = {m.author_id for m in messages if m.author_type == "staff" and m.author_id}
    ids |= {staff_id for staff_id in more if staff_id}
    if not ids:
        return {}
    return dict(db.session.execute(
        select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(ids))).all())
