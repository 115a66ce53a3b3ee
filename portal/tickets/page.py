"""What the ticket page shows about the person: incident, categories, notices sent,
verification history, and the names behind the thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from portal.extensions import db
from portal.models.campaign import Notification
from portal.models.incident import Incident
from portal.models.person import Person
from portal.models.staff import StaffUser
from portal.models.ticket import Ticket, TicketMessage

# Built once (the statements of every ticket page): building a statement and its cache key
# cost more Python than executing a cached one.
_FOR_PAGE = (select(Ticket, Person, Incident)
             .outerjoin(Person, Person.id == Ticket.person_id)
             .outerjoin(Incident, Incident.id == Ticket.incident_id)
             .where(Ticket.id == bindparam("ticket_id")))
_NOTIFICATIONS = (select(Notification).where(Notification.person_id == bindparam("person_id"))
                  .order_by(Notification.created_at.desc()).limit(20))


@dataclass
class PersonContext:
    person: Person | None
    incident: Incident | None
    categories: list[str] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


def load_for_page(ticket_id: int) -> tuple[Ticket, Person | None, Incident | None] | None:
    """The ticket, its person and its incident, in one statement.

    For the ticket page, which shows all three: while the caller holds the result,
    ``person_context`` finds the person and the incident in the session instead of
    reading each with a statement of its own (a statement costs about half a millisecond
    of Python, whatever it reads). The session keeps only weak references: drop the
    tuple and they are read again.
    """
    row = db.session.execute(_FOR_PAGE, {"ticket_id": ticket_id}).first()
    return tuple(row) if row else None


def person_context(ticket: Ticket) -> PersonContext:
    """The ticket's person and incident, the exposed categories and notices sent."""
    person = db.session.get(Person, ticket.person_id) if ticket.person_id else None
    incident = db.session.get(Incident, ticket.incident_id) if ticket.incident_id else None
    notifications = []
    if person is not None:
        notifications = list(db.session.execute(
            _NOTIFICATIONS, {"person_id": person.id}).scalars())
    categories = list((person.categories if person else None) or [])
    return PersonContext(person, incident, categories, notifications)


def staff_names(messages: list[TicketMessage], *more: int | None,
                known: dict[int, str] | None = None) -> dict[int, str]:
    """Names of the staff who wrote ``messages`` (and of the ids in ``more``).

    ``known`` are names the caller has already read (the page's list of active staff):
    only the others are read.
    """
    ids = {m.author_id for m in messages if m.author_type == "staff" and m.author_id}
    ids |= {staff_id for staff_id in more if staff_id}
    known = known or {}
    names = {staff_id: known[staff_id] for staff_id in ids if staff_id in known}
    missing = ids - names.keys()
    if missing:
        names.update(db.session.execute(
            select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(missing))).all())
    return names
