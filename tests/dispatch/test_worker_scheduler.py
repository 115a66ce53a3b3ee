"""A worker killed with SIGKILL takes its scheduler with it.

rq forks the scheduler (delayed retries) from the worker; nothing in rq stops it when
the worker dies without cleaning up, so it ran on, orphaned, holding the queue's
scheduler lock with the old release's code. ``flask worker``'s scheduler notices its
worker is gone at its next heartbeat and stops, releasing the lock
(``portal/cli/worker_cmd.py``). A real worker process, real Redis, a real SIGKILL.
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
from rq.scheduler import RQScheduler

from tests.support import TestConfig, make_settings
from tests.support.dispatch import dispatch_redis_url

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_settings(database_url, data_keys, redis):
    return make_settings(database_url, data_keys, REDIS_URL=dispatch_redis_url())


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in text.split()]


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped by init."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} within {seconds} s")


def test_the_scheduler_stops_when_its_worker_is_killed(app, database_url, data_keys):
    from portal.core import jobs

    queue = jobs.queue()
    lock = RQScheduler.get_locking_key(queue.name)
    queue.connection.delete(lock)
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=dispatch_redis_url(),
               PORTAL_RQ_QUEUE=app.config["PORTAL_RQ_QUEUE"],
               PORTAL_DATA_KEYS=",".join(data_keys),
               PORTAL_INDEX_KEY=TestConfig.PORTAL_INDEX_KEY, SECRET_KEY=TestConfig.SECRET_KEY)
    # A session of its own, so whatever is left can be killed with the group at the end.
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: queue.connection.exists(lock), 30, "the worker's scheduler took no lock")
        scheduler_pid, = _wait_for(lambda: _children(worker.pid), 10, "no scheduler process")
        assert _alive(scheduler_pid)

        worker.send_signal(signal.SIGKILL)  # the worker only: no chance to stop its scheduler
        worker.wait(timeout=10)

        _wait_for(lambda: not _alive(scheduler_pid), 10, "the orphaned scheduler still runs")
        assert not queue.connection.exists(lock), "the scheduler lock was not released"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=10)
        queue.connection.delete(lock)
