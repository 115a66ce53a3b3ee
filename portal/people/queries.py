"""Finding an affected person for the staff pages."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Person


def person_by_reference(incident_id: int, external_ref: str) -> Person | None:
    """The incident's affected person with this (insurer's) reference, or ``None``."""
    return db.session.execute(select(Person).where(
        Person.incident_id == incident_id, Person.external_ref == external_ref.strip(),
    )).scalar_one_or_none()
