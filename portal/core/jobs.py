"""Background jobs: rq when ``REDIS_URL`` is set, inline otherwise.

Job functions are plain module-level functions that take ids, never ORM
objects. Under rq they run in ``flask worker``, which provides the app context;
inline they run in the caller's app context, before ``enqueue`` returns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)
EXTENSION_KEY = "rq"


@dataclass
class InlineJob:
    """What ``enqueue`` returns when no Redis is configured."""

    id: str
    result: Any = None
    status: str = "finished"

    def get_status(self) -> str:
        return self.status


def init_app(app: Flask) -> None:
    """Prepare the rq connection and queue; nothing connects until first use."""
    url = app.config["REDIS_URL"]
    if not url:
        app.extensions[EXTENSION_KEY] = None
        return
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(url)
    app.extensions[EXTENSION_KEY] = {
        "connection": connection,
        "queue": Queue(app.config["PORTAL_RQ_QUEUE"], connection=connection),
    }


def redis_connection():
    """The application's Redis connection, or ``None`` on the embedded default."""
    state = current_app.extensions.get(EXTENSION_KEY)
    return state["connection"] if state else None


def queue():
    """The application's rq queue, or ``None`` when jobs run inline."""
    state = current_app.extensions.get(EXTENSION_KEY)
    return state["queue"] if state else None


def scoped_id(queue_name: str, job_id: str) -> str:
    """``<queue>-<job_id>``: rq's job keys are global to a Redis database, so two
    deployments (or test runs) sharing one must not share ids: "import-run-5" of one
    would otherwise stand in for another's, which then never runs."""
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', queue_name)}-{job_id}"


def enqueue(func: Callable, *args, job_id: str | None = None, **kwargs):
    """Run ``func(*args, **kwargs)`` in the background (or now, inline).

    A ``job_id`` makes the call idempotent under rq: a job with that id (scoped to
    this application's queue, ``scoped_id``) that is still queued or running is
    returned instead of a second one.
    """
    q = queue()
    if q is None:
        result = func(*args, **kwargs)
        return InlineJob(id=job_id or f"inline-{func.__name__}", result=result)
    if job_id is not None:
        job_id = scoped_id(q.name, job_id)
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        try:
            existing = Job.fetch(job_id, connection=q.connection)
        except NoSuchJobError:
            existing = None
        if existing is not None and existing.get_status() in {
            JobStatus.QUEUED,
            JobStatus.STARTED,
            JobStatus.DEFERRED,
            JobStatus.SCHEDULED,
        }:
            return existing
    return q.enqueue(func, *args, job_id=job_id, **kwargs)


def ping_job(value: str) -> str:
    """A trivial job used by health checks and tests."""
    log.info("ping job ran")
    return f"pong:{value}"
