"""Reads for the import pages: an incident's runs and who started them."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import ImportRun, StaffUser


def run_of(incident_id: int, run_id: int) -> ImportRun | None:
    """The import run with this id when it belongs to the incident, else ``None``."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.incident_id != incident_id:
        return None
    return run


def recent_runs(incident_id: int, limit: int) -> list:
    """The incident's newest runs as rows of (run, name of the staff member who started it)."""
    return list(db.session.execute(
        select(ImportRun, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == ImportRun.created_by_id)
        .where(ImportRun.incident_id == incident_id)
        .order_by(ImportRun.id.desc())
        .limit(limit)
    ).all())
