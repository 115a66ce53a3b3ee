"""The dashboards as last computed: read in one row, recomputed when stale or by a periodic job.

At ten million log rows and a million tickets the funnel alone reads every person
and notification of the incident, which takes seconds; a page must not. So
``dashboards_of`` returns the incident's snapshot for the window, and has a stale one
(older than ``REPORTS_SNAPSHOT_SECONDS``) recomputed by a job; the periodic job
``reports.refresh`` (every ``REPORTS_REFRESH_SECONDS`` under rq) keeps the snapshots
of active incidents fresh, so a manager's read never waits for the queries at scale.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.core import jobs
from portal.extensions import db
from portal.models import Incident, ReportSnapshot
from portal.models.base import utcnow
from portal.reports import dashboards
from portal.reports.dashboards import AgentRow, DaySeries, FunnelRow, ResponseTimes


@dataclass
class Dashboards:
    days: int
    funnel: list[FunnelRow]
    tickets: DaySeries
    times: ResponseTimes
    agents: list[AgentRow]
    verification: DaySeries
    computed_at: datetime
    compute_ms: int


def compute(incident_id: int, days: int, sla_hours: int) -> dict:
    """Every dashboard of the incident over ``days`` days, as JSON-ready data."""
    window = dashboards.window(days)
    return {
        "funnel": [asdict(row) for row in dashboards.funnel(incident_id)],
        "tickets": asdict(dashboards.tickets_per_day(incident_id, window)),
        "times": asdict(dashboards.response_times(
            incident_id, dashboards.start_of(window), sla_hours)),
        "agents": [asdict(row) for row in dashboards.answers_by_agent(incident_id, window)],
        "verification": asdict(dashboards.verification_per_day(incident_id, window)),
    }


def _load(row: ReportSnapshot) -> Dashboards:
    data = row.data
    return Dashboards(
        days=row.days,
        funnel=[FunnelRow(**item) for item in data["funnel"]],
        tickets=DaySeries(**data["tickets"]),
        times=ResponseTimes(**data["times"]),
        agents=[AgentRow(**item) for item in data["agents"]],
        verification=DaySeries(**data["verification"]),
        computed_at=row.computed_at,
        compute_ms=row.compute_ms,
    )


def _find(incident_id: int, days: int) -> ReportSnapshot | None:
    return db.session.execute(
        select(ReportSnapshot).where(ReportSnapshot.incident_id == incident_id,
                                     ReportSnapshot.days == days)
    ).scalar_one_or_none()


def refresh(incident_id: int, days: int) -> ReportSnapshot:
    """Compute the incident's dashboards now and store them (committed)."""
    started = time.perf_counter()
    data = compute(incident_id, days, int(current_app.config["TICKET_FIRST_RESPONSE_HOURS"]))
    elapsed = int((time.perf_counter() - started) * 1000)
    row = _find(incident_id, days)
    if row is None:
        row = ReportSnapshot(incident_id=incident_id, days=days)
        db.session.add(row)
    row.data, row.computed_at, row.compute_ms = data, utcnow(), elapsed
    try:
        db.session.commit()
    except IntegrityError:  # another process stored the same snapshot first: use ours anyway
        db.session.rollback()
        row = _find(incident_id, days)
        row.data, row.computed_at, row.compute_ms = data, utcnow(), elapsed
        db.session.commit()
    return row


def refresh_job(incident_id: int, days: int) -> int:
    """Job: recompute one snapshot; returns the milliseconds the queries took."""
    return refresh(incident_id, days).compute_ms


def dashboards_of(incident_id: int, days: int) -> Dashboards | None:
    """The incident's dashboards over ``days`` days, from the snapshot.

    No snapshot yet: under rq a job computes it and this returns None (the page says
    the figures are being computed); on the embedded default it is computed now. A
    stale one (older than ``REPORTS_SNAPSHOT_SECONDS``, or from before today): under rq
    it is shown while a job recomputes it (the page says how old its figures are); on
    the embedded default it is recomputed now.
    """
    row = _find(incident_id, days)
    if row is None:
        jobs.enqueue(refresh_job, incident_id, days,
                     job_id=f"reports-refresh-{incident_id}-{days}")
        db.session.expire_all()
        row = _find(incident_id, days)
        return _load(row) if row is not None else None
    max_age = timedelta(seconds=int(current_app.config["REPORTS_SNAPSHOT_SECONDS"]))
    stale = (utcnow() - row.computed_at > max_age
             or row.data["tickets"]["days"][-1] != dashboards.window(1)[0])
    if stale:
        jobs.enqueue(refresh_job, incident_id, days,
                     job_id=f"reports-refresh-{incident_id}-{days}")
        db.session.expire_all()
        row = _find(incident_id, days)
    return _load(row)


def refresh_all() -> int:
    """The periodic job: recompute every stored snapshot of active incidents, and the default
    window of each active incident that has none. Returns how many were computed."""
    default_days = int(current_app.config["REPORTS_DAYS"])
    active = db.session.execute(
        select(Incident.id).where(Incident.status == "active")).scalars().all()
    pairs = {(incident_id, default_days) for incident_id in active}
    pairs |= {tuple(pair) for pair in db.session.execute(
        select(ReportSnapshot.incident_id, ReportSnapshot.days)
        .join(Incident, Incident.id == ReportSnapshot.incident_id)
        .where(Incident.status == "active")).all()}
    for incident_id, days in sorted(pairs):
        refresh(incident_id, days)
    return len(pairs)


def init_app(app) -> None:
    """Register the periodic refresh (``REPORTS_REFRESH_SECONDS``; 0 turns it off)."""
    from portal.core import periodic

    periodic.every("reports.refresh", refresh_all, int(app.config["REPORTS_REFRESH_SECONDS"]),
                   app=app)
