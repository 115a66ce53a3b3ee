"""Attempt counts and locks for notice codes that match nobody.

A real code locks after five failures; if an unknown code never did, the lock
page would tell a guesser which codes exist. So attempts on unknown codes are
counted per code index (the keyed blind index, never the code) exactly as on a
real one: reserved before the answers are compared, ``CUSTOMER_LOCKOUT_ATTEMPTS``
within ``CUSTOMER_LOCKOUT_MINUTES`` (the window starts at the first failure), then
a lock of ``CUSTOMER_LOCKOUT_MINUTES``.

The counts live in Redis (``portal.core.jobs.redis_connection()``) when it is
configured, so every process sees them without a database write; otherwise in the
database (``attempt_counter``, through ``portal.security.attempts``), so they
survive restarts either way. Nothing here is personal data.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import bindparam, select

from portal.core import autocommit, jobs
from portal.models.attempt import AttemptCounter
from portal.security import attempts

UNKNOWN_CODE_LOCK = attempts.Lock(
    AttemptCounter, key="key", count="failures", until="locked_until",
    since="failures_since", setting_prefix="CUSTOMER",
)
_LOCK_END = select(AttemptCounter.locked_until).where(AttemptCounter.key == bindparam("key"))


def clock() -> float:
    """The clock the counts and locks use (tests move it)."""
    return time.time()


def _max_failures() -> int:
    return current_app.config["CUSTOMER_LOCKOUT_ATTEMPTS"]


def _window_seconds() -> int:
    return current_app.config["CUSTOMER_LOCKOUT_MINUTES"] * 60


def _redis_key(index_value: str, kind: str) -> str:
    return f"{current_app.config['PORTAL_RQ_QUEUE']}:unknown-code:{kind}:{index_value}"


def _row_key(index_value: str) -> str:
    return f"code:{index_value}"


def _as_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def locked_until(index_value: str) -> datetime | None:
    """When the lock on this unknown code index ends, or ``None`` when it is not locked."""
    redis = jobs.redis_connection()
    if redis is not None:
        value = redis.get(_redis_key(index_value, "lock"))
        until = _as_datetime(float(value)) if value else None
    else:
        row = autocommit.read_row(_LOCK_END, {"key": _row_key(index_value)})
        until = row[0] if row is not None else None
    return until if until is not None and until > _as_datetime(clock()) else None


def reserve(index_value: str) -> attempts.Attempt | None:
    """Count one attempt before anything is compared; ``None`` when the index is locked."""
    redis = jobs.redis_connection()
    if redis is None:
        return attempts.reserve(UNKNOWN_CODE_LOCK, _row_key(index_value),
                                now=_as_datetime(clock()))
    now = clock()
    window = _window_seconds()
    count_key, lock_key = _redis_key(index_value, "count"), _redis_key(index_value, "lock")
    current = redis.get(lock_key)
    if current is not None and float(current) > now:
        return None
    with redis.pipeline() as pipe:
        pipe.set(count_key, 0, ex=window, nx=True)  # the window starts at the first failure
        pipe.incr(count_key)
        count = pipe.execute()[1]
    limit = _max_failures()
    if count < limit:
        return attempts.Attempt(count)
    if count > limit:  # parallel attempts past the limit: the lock is being set
        return None
    until = now + window
    if not redis.set(lock_key, repr(until), ex=window, nx=True):
        return None
    redis.delete(count_key)
    return attempts.Attempt(count, _as_datetime(until))
