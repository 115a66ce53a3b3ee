"""Agents' person look-up: by reference, notice code, phone, email or policy number.

A search never decrypts a row to compare: the typed value is turned into every
blind index it could be (code, email, phone in E.164, policy number) and the
external reference, and one statement of the same shape looks them all up,
whatever was typed and whether or not anything matches; so a value that matches
nobody costs what one that matches costs (as ``verification.find_for_resend``
does for customers), and only the found rows are decrypted, to show them masked.

From a person an agent may lift a verification lock and send the notice code
again to the contact details on file; each is logged, and limited to
``HELPDESK_UNLOCKS_PER_PERSON_PER_DAY`` / ``HELPDESK_RESENDS_PER_PERSON_PER_DAY``
per person in 24 hours, counted on the interaction log (``ix_interaction_person``)
under a lock on the person's row so two agents at once cannot both pass the
limit. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from portal.audit import log as audit
from portal.core import jobs
from portal.core.errors import FieldError
from portal.dispatch.reminders import send_code_reminder
from portal.extensions import db
from portal.imports.rows import normalise_phone
from portal.models import Incident, Interaction, Person, Ticket
from portal.models.base import utcnow
from portal.people import verification
from portal.people.queries import reference_spellings
from portal.security.crypto import code_index, email_index, phone_index, policy_index

MAX_QUERY = 100
MAX_RESULTS = 20
NO_PHONE = "+0"  # an E.164 no number has: the phone lookup runs even for a non-number


class LookupRefused(FieldError):
    """A person action that is not allowed now (a daily limit reached, nothing to unlock)."""


@dataclass(frozen=True)
class Masked:
    """What an agent sees of a person before revealing anything: first name and hints."""

    id: int
    incident_id: int
    incident_reference: str
    external_ref: str
    first_name: str
    last_name: str
    email: str
    phone: str
    policy_number: str
    date_of_birth: str
    language: str
    categories: tuple[str, ...]
    locked: bool


def _mask_tail(value: str | None, keep: int = 2) -> str:
    if not value:
        return ""
    return "•" * max(len(value) - keep, 4) + value[-keep:]


def mask_email(value: str | None) -> str:
    """``j•••@e•••`` (first letters of the address and its domain only)."""
    if not value or "@" not in value:
        return ""
    local, domain = value.split("@", 1)
    return f"{local[:1]}•••@{domain[:1]}•••"


def masked(person: Person, incident_reference: str, locked: bool) -> Masked:
    """The person as the ticket page shows them before any reveal."""
    return Masked(
        id=person.id, incident_id=person.incident_id, incident_reference=incident_reference,
        external_ref=person.external_ref, first_name=person.first_name or "",
        last_name=(person.last_name or "")[:1] + "." if person.last_name else "",
        email=mask_email(person.email), phone=_mask_tail(person.phone),
        policy_number=_mask_tail(person.policy_number),
        date_of_birth="••••-••-••" if person.date_of_birth else "",
        language=person.language, categories=tuple(person.categories or ()), locked=locked)


def _indexes(query: str) -> dict:
    """Every blind index the typed value could be, computed whatever it looks like."""
    region = current_app.config["PORTAL_DEFAULT_REGION"]
    return {
        "reference": query,
        "code": code_index(query),
        "email": email_index(query),
        "phone": phone_index(normalise_phone(query, region) or NO_PHONE),
        "policy": policy_index(query),
    }


def search(query: str, staff_id: int, incident_ids: list[int] | None = None) -> list[Person]:
    """People whose reference, code, email, phone or policy number is ``query``; logged.

    ``incident_ids`` bounds the search to the incidents the staff member may work
    (None: every incident). The look-up is logged with the people it found, never
    with what was typed.
    """
    query = " ".join((query or "").split())[:MAX_QUERY]
    if not query:
        return []
    found = _indexes(query)
    incidents = list(db.session.execute(select(Incident.id)).scalars())
    if incident_ids is not None:
        incidents = [incident for incident in incidents if incident in set(incident_ids)]
    people = list(db.session.execute(
        select(Person).where(
            Person.incident_id.in_(incidents), Person.anonymised_at.is_(None),
            or_(Person.external_ref.in_(reference_spellings(found["reference"])),
                Person.code_index == found["code"],
                Person.email_index == found["email"], Person.phone_index == found["phone"],
                Person.policy_index == found["policy"]))
        .order_by(Person.incident_id.desc(), Person.id).limit(MAX_RESULTS)
    ).scalars())
    # Who was shown to whom (the list shows references and first names), never what
    # was typed; a single match also lands on that person's timeline.
    only = people[0] if len(people) == 1 else None
    details = {"matches": len(people)}
    if people:
        details["person_ids"] = [person.id for person in people]
    audit.record("person.searched", actor_type="staff", actor_id=staff_id,
                 person_id=only.id if only else None,
                 incident_id=only.incident_id if only else None, details=details)
    return people


def masked_people(people: list[Person]) -> list[Masked]:
    """The found people masked, with their incident and lock state (one query for incidents)."""
    references = dict(db.session.execute(
        select(Incident.id, Incident.reference)
        .where(Incident.id.in_({person.incident_id for person in people}))).all())
    return [masked(person, references.get(person.incident_id, ""), is_locked(person))
            for person in people]


def get_person(person_id: int) -> Person | None:
    person = db.session.get(Person, person_id)
    if person is None or person.anonymised_at is not None:
        return None
    return person


def is_locked(person: Person) -> bool:
    return verification.failures(person).locked_until is not None


def viewed(person: Person, staff_id: int) -> None:
    """Log an agent opening a person's (masked) page."""
    audit.record("person.viewed", actor_type="staff", actor_id=staff_id,
                 incident_id=person.incident_id, person_id=person.id)


def person_tickets(person_id: int) -> list[Ticket]:
    """The person's tickets, newest first."""
    return list(db.session.execute(
        select(Ticket).where(Ticket.person_id == person_id).order_by(Ticket.id.desc())
    ).scalars())


def _done_last_day(person_id: int, action: str) -> int:
    return db.session.execute(select(func.count(Interaction.id)).where(
        Interaction.person_id == person_id, Interaction.action == action,
        Interaction.at >= utcnow() - timedelta(hours=24))).scalar_one()


def _lock_row(person: Person) -> None:
    """Serialise limited actions on one person (a row lock on PostgreSQL)."""
    db.session.execute(select(Person.id).where(Person.id == person.id).with_for_update())


def _check_limit(person: Person, action: str, setting: str, staff_id: int) -> None:
    _lock_row(person)
    limit = int(current_app.config[setting])
    if _done_last_day(person.id, action) >= limit:
        audit.record(f"{action}_refused", actor_type="staff", actor_id=staff_id,
                     incident_id=person.incident_id, person_id=person.id,
                     details={"reason": "daily_limit", "limit": limit})
        raise LookupRefused(_("This has been done %(num)d times for this person in the last "
                              "24 hours, the most allowed. Ask a manager.", num=limit))


def unlock(person: Person, staff_id: int) -> None:
    """Lift the person's verification lock (limited per day); log it.

    The lock lives in the attempt counter, which commits on its own: the log entry
    is written and committed first, so no lift goes unrecorded.
    """
    if not is_locked(person):
        raise LookupRefused(_("The notice code is not locked."))
    _check_limit(person, "person.unlocked", "HELPDESK_UNLOCKS_PER_PERSON_PER_DAY", staff_id)
    audit.record("person.unlocked", actor_type="staff", actor_id=staff_id,
                 incident_id=person.incident_id, person_id=person.id)
    db.session.commit()
    verification.lift_lock(person)


def resend_code(person: Person, staff_id: int) -> None:
    """Send the notice code again to the contact details on file (limited per day); log it.

    The sending job also applies the customers' own daily cap and logs what it sent.
    """
    _check_limit(person, "person.code_resend", "HELPDESK_RESENDS_PER_PERSON_PER_DAY", staff_id)
    audit.record("person.code_resend", actor_type="staff", actor_id=staff_id,
                 incident_id=person.incident_id, person_id=person.id)
    db.session.commit()
    jobs.enqueue(send_code_reminder, person.id)
