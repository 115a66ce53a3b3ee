"""Under rq, a stale snapshot is shown at once while a job recomputes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import ReportSnapshot, Ticket
from portal.models.base import utcnow
from tests.support import REDIS_URL, make_settings

pytestmark = pytest.mark.redis


@pytest.fixture
def app_settings(database_url, data_keys, redis):
    return make_settings(database_url, data_keys, REDIS_URL=REDIS_URL)


@pytest.fixture
def queue(app, redis):
    from portal.core import jobs

    yield jobs.queue()
    name = jobs.queue().name
    jobs.queue().delete(delete_jobs=True)
    for key in redis.scan_iter(f"rq:*{name}*"):
        redis.delete(key)


def test_stale_snapshot_is_served_and_refreshed_by_a_job(app, db, queue, reports_incident):
    from rq import SimpleWorker

    from portal.core import jobs
    from portal.reports import snapshots

    incident = reports_incident["incident"]
    snapshots.refresh(incident.id, 7)
    assert snapshots.dashboards_of(incident.id, 7).tickets.total["opened"] == 3
    db.session.add(Ticket(incident_id=incident.id, topic="general", status="new"))
    row = db.session.execute(select(ReportSnapshot)).scalar_one()
    row.computed_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    served = snapshots.dashboards_of(incident.id, 7)
    assert served.tickets.total["opened"] == 3  # the stale figures, at once
    assert queue.job_ids == [jobs.scoped_id(queue.name, f"reports-refresh-{incident.id}-7")]
    snapshots.dashboards_of(incident.id, 7)
    assert len(queue.job_ids) == 1  # one refresh at a time
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.expire_all()
    assert snapshots.dashboards_of(incident.id, 7).tickets.total["opened"] == 4


def test_first_read_under_rq_queues_the_computation(app, db, client, login, make_staff, queue,
                                                     reports_incident):
    from rq import SimpleWorker

    reference = reports_incident["incident"].reference
    login(make_staff("manager"))
    page = client.get(f"/helpdesk/reports/{reference}?days=7")
    assert page.status_code == 200 and "being computed" in page.text and "<svg" not in page.text
    assert len(queue.job_ids) == 1
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    page = client.get(f"/helpdesk/reports/{reference}?days=7")
    assert page.text.count("<svg") == 5
