"""Reads for the incident pages and the staff landing page: incidents with their
people counted, and an incident's own advice.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Incident, IncidentAdvice, Person


def incidents_with_people() -> list[tuple[Incident, int]]:
    """Every incident with its number of affected people, newest first."""
    return [tuple(row) for row in db.session.execute(
        select(Incident, func.count(Person.id))
        .outerjoin(Person, Person.incident_id == Incident.id)
        .group_by(Incident.id)
        .order_by(Incident.created_at.desc())
    ).all()]


def recent_incidents(limit: int = 20, incident_ids: list[int] | None = None) -> list:
    """The newest incidents as rows of (reference, title, status, people); with
    ``incident_ids``, only those (an agent limited to some incidents)."""
    query = select(Incident.reference, Incident.title, Incident.status, func.count(Person.id))
    if incident_ids is not None:
        query = query.where(Incident.id.in_(incident_ids))
    return list(db.session.execute(
        query.outerjoin(Person, Person.incident_id == Incident.id)
        .group_by(Incident.id)
        .order_by(Incident.created_at.desc())
        .limit(limit)
    ).all())


def people_count(incident_id: int) -> int:
    """How many affected people the incident has."""
    return db.session.scalar(
        select(func.count(Person.id)).where(Person.incident_id == incident_id)) or 0


def advice_of(incident_id: int) -> list[IncidentAdvice]:
    """The incident's own advice, by category then language."""
    return list(db.session.execute(
        select(IncidentAdvice).where(IncidentAdvice.incident_id == incident_id)
        .order_by(IncidentAdvice.category, IncidentAdvice.language)
    ).scalars())


def find_advice(incident_id: int, category: str, language: str) -> IncidentAdvice | None:
    """The incident's own advice for one category and language, if written."""
    return db.session.execute(
        select(IncidentAdvice).where(
            IncidentAdvice.incident_id == incident_id,
            IncidentAdvice.category == category,
            IncidentAdvice.language == language,
        )
    ).scalar_one_or_none()
