"""Dashboards come from a snapshot: reused while fresh, recomputed when stale or periodically."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import ReportSnapshot, Ticket
from portal.models.base import utcnow
from portal.reports import snapshots


def _opened(incident_id: int) -> int:
    return snapshots.dashboards_of(incident_id, 7).tickets.total["opened"]


def test_fresh_snapshot_is_reused_and_stale_one_recomputed(app, db, reports_incident):
    incident = reports_incident["incident"]
    assert _opened(incident.id) == 3
    db.session.add(Ticket(incident_id=incident.id, topic="general", status="new"))
    db.session.commit()
    assert _opened(incident.id) == 3  # still the snapshot
    row = db.session.execute(select(ReportSnapshot)).scalar_one()
    row.computed_at = utcnow() - timedelta(seconds=app.config["REPORTS_SNAPSHOT_SECONDS"] + 1)
    db.session.commit()
    assert _opened(incident.id) == 4
    loaded = snapshots.dashboards_of(incident.id, 7)
    assert loaded.funnel[0].channel == "all" and loaded.times.sla_hours == 24
    assert loaded.agents[0].name == "Agent Alpha"


def test_periodic_refresh_covers_active_incidents(app, db, reports_incident, make_incident):
    from portal.core import periodic

    assert "reports.refresh" in [job.name for job in periodic.registered(app)]
    closed = make_incident(status="closed")
    incident = reports_incident["incident"]
    snapshots.dashboards_of(incident.id, 7)
    assert snapshots.refresh_all() == 2  # the default window and the 7 days someone read
    stored = {(row.incident_id, row.days) for row in
              db.session.execute(select(ReportSnapshot)).scalars()}
    assert stored == {(incident.id, 7), (incident.id, app.config["REPORTS_DAYS"])}
    assert closed.id not in {incident_id for incident_id, _ in stored}
