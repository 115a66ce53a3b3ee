"""Finding an affected person for the staff pages."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Person


def reference_spellings(typed: str) -> list[str]:
    """The spellings a typed reference (a person's or an incident's) is looked up as: as
    typed, in capitals and in small letters. References are mostly written in capitals and
    typed on the phone in small ones; an index on the column serves all three. Always three
    values, so a match and no match run the same statement."""
    typed = typed.strip()
    return [typed, typed.upper(), typed.lower()]


def person_by_reference(incident_id: int, external_ref: str) -> Person | None:
    """The incident's affected person with this (insurer's) reference, or ``None``."""
    return db.session.execute(select(Person).where(
        Person.incident_id == incident_id, Person.external_ref == external_ref.strip(),
    )).scalar_one_or_none()
