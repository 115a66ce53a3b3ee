"""A worker process killed with SIGKILL in the middle of a chunk loses nobody.

A real ``flask worker`` process sends a campaign through the Twilio stub; one number
makes the stub stall, and the worker is killed while it waits, after the provider
took the first messages of the chunk. ``campaigns recover`` releases the chunk's
leased rows (counted as possible resends, logged), and a new worker sends them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.dispatch import campaigns
from portal.models import Notification
from tests.support import TestConfig, make_settings
from tests.support.customer import actions
from tests.support.dispatch import dispatch_redis_url, incident_with_people, rows

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]
SID = "AC" + "5" * 32
CHUNK = 4
STALL = "+15005550005"


@pytest.fixture
def app_settings(database_url, data_keys, redis, twilio_stub):
    base, _received = twilio_stub
    return make_settings(
        database_url, data_keys, REDIS_URL=dispatch_redis_url(), OUTBOX_ENABLED=False,
        TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="stub-token", TWILIO_FROM="+15005550006",
        TWILIO_API_BASE=base, DISPATCH_CHUNK_SIZE=CHUNK, DISPATCH_SMS_PER_SECOND=0)


@pytest.fixture
def queue(app, redis):
    from portal.core import jobs

    name = jobs.queue().name
    queue_connection = jobs.queue().connection
    yield jobs.queue()
    jobs.queue().delete(delete_jobs=True)
    for key in queue_connection.scan_iter(f"*{name}*"):
        queue_connection.delete(key)


def _worker_process(app, database_url: str, data_keys: list[str]) -> subprocess.Popen:
    config = app.config
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=dispatch_redis_url(),
               PORTAL_RQ_QUEUE=config["PORTAL_RQ_QUEUE"], PORTAL_DATA_KEYS=",".join(data_keys),
               PORTAL_INDEX_KEY=TestConfig.PORTAL_INDEX_KEY, SECRET_KEY=TestConfig.SECRET_KEY,
               PORTAL_OUTBOX="0", PORTAL_BASE_URL=config["PORTAL_BASE_URL"],
               TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="stub-token",
               TWILIO_FROM="+15005550006", TWILIO_API_BASE=config["TWILIO_API_BASE"],
               DISPATCH_CHUNK_SIZE=str(CHUNK), DISPATCH_SMS_PER_SECOND="0",
               DISPATCH_RECOVER_EVERY_SECONDS="0")
    env.pop("TWILIO_EDGE", None)
    env.pop("TWILIO_REGION", None)
    # A session of its own: rq forks a scheduler process, which stops within a second of
    # its worker's SIGKILL (test_worker_scheduler.py); the group is killed below anyway.
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _kill_group(worker: subprocess.Popen) -> None:
    """Kill what the worker left behind (its scheduler process), then reap the worker."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def test_sigkill_mid_chunk_then_recover_notifies_everyone_once_or_counted(
        app, db, runner, queue, database_url, data_keys, twilio_stub, make_incident,
        make_person):
    _base, received = twilio_stub
    incident, people = incident_with_people(db, make_incident, make_person, 2 * CHUNK + 1)
    people_ids = sorted(person.id for person, _plain in people)
    # The third person of the first chunk stalls the provider: the worker dies there.
    third = db.session.get(type(people[0][0]), people_ids[2])
    third.phone = STALL
    db.session.commit()
    campaign, summary = campaigns.launch(incident.id, ["sms"])
    campaign_id = campaign.id
    total = summary.created["sms"]
    worker = _worker_process(app, database_url, data_keys)
    try:
        deadline = time.monotonic() + 30
        while not any(form.get("To") == [STALL] for _path, form in received):
            assert worker.poll() is None, "the worker exited early"
            assert time.monotonic() < deadline, "the worker never reached the stall"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        _kill_group(worker)
    db.session.expire_all()
    leased = [row.id for row in rows(db, campaign_id) if row.status == "sending"]
    assert 0 < len(leased) <= CHUNK
    accepted_before = len(received)
    # Their lease runs out (DISPATCH_LEASE_SECONDS); rather than wait, age it.
    from sqlalchemy import update

    from portal.models.base import utcnow

    db.session.execute(update(Notification).where(Notification.status == "sending")
                       .values(lease_until=utcnow()))
    db.session.commit()
    result = runner.invoke(args=["campaigns", "recover"])
    assert result.exit_code == 0, result.output
    assert f"Released {len(leased)} expired leases" in result.output
    assert runner.invoke(args=["worker", "--burst"]).exit_code == 0
    final = rows(db, campaign_id)
    assert {row.person_id for row in final} >= set(people_ids)
    assert all(row.status == "sent" for row in final), [row.status for row in final]
    sent_to = [form["To"][0] for _path, form in received]
    assert len(sent_to) - total <= CHUNK  # resends bounded by the chunk in flight
    assert len(sent_to) >= total and len(set(sent_to)) == total
    resent = [row for row in final if row.resend_count]
    assert sorted(row.id for row in resent) == sorted(leased)
    assert accepted_before < len(sent_to)
    assert actions(db, "campaign.leases_recovered") == ["campaign.leases_recovered"]
    assert campaigns.get(campaign_id).status == "completed"
    assert db.session.execute(select(Notification.id).where(
        Notification.status != "sent")).first() is None
