"""Periodic jobs: a registry per application, enqueued once per period whatever the workers."""

from __future__ import annotations

import pytest

from portal.core import periodic
from tests.support import REDIS_URL, make_settings

CALLS: list[str] = []


def note_call() -> str:
    CALLS.append("ran")
    return "ran"


def test_every_registers_per_application(app, make_app):
    periodic.every("test.note", note_call, 30)
    assert "test.note" in [item.name for item in periodic.registered()]
    assert "dispatch.recover" in [item.name for item in periodic.registered()]
    other = make_app()
    assert "test.note" not in [item.name for item in periodic.registered(other)]
    CALLS.clear()
    assert periodic.run_all()["test.note"] == "ran" and CALLS == ["ran"]
    assert periodic.tick() == []  # no Redis: nothing is queued
    periodic.every("test.note", note_call, 0)
    assert "test.note" not in [item.name for item in periodic.registered()]
    with pytest.raises(ValueError, match="module-level"):
        periodic.every("test.lambda", lambda: None, 5)


@pytest.mark.redis
def test_tick_queues_each_job_once_per_period(database_url, data_keys, redis, make_app):
    application = make_app(**{key: value for key, value in make_settings(
        database_url, data_keys, REDIS_URL=REDIS_URL).items() if key == "REDIS_URL"})
    with application.app_context():
        from portal.core import jobs

        queue = jobs.queue()
        try:
            periodic.every("test.note", note_call, 60)
            first = periodic.tick()
            assert "test.note" in first and "dispatch.recover" in first
            assert periodic.tick() == []  # the period has not passed: no second job
            assert jobs.scoped_id(queue.name, periodic.job_id("test.note")) in queue.get_job_ids()
        finally:
            queue.delete(delete_jobs=True)
            for key in redis.scan_iter(f"{queue.name}*"):
                redis.delete(key)


@pytest.mark.redis
def test_a_job_id_is_scoped_to_its_applications_queue(database_url, data_keys, redis, make_app):
    """Two deployments sharing one Redis database (staging beside production, say) both
    queue "import-run-5": each gets a job of its own, not the other's."""
    from portal.core import jobs

    queued = []
    for name in ("portal-a-scoped", "portal-b-scoped"):
        application = make_app(REDIS_URL=REDIS_URL, PORTAL_RQ_QUEUE=name)
        with application.app_context():
            queue = jobs.queue()
            try:
                job = jobs.enqueue(note_call, job_id="import-run-5")
                assert job.id == jobs.scoped_id(name, "import-run-5")
                assert queue.job_ids == [job.id]
                queued.append(job.id)
            finally:
                queue.delete(delete_jobs=True)
    assert queued[0] != queued[1]
