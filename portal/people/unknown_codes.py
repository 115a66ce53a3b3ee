"""Failure counts and locks for notice codes that match nobody.

A real code locks after five failures; if an unknown code never did, the lock
page would tell a guesser which codes exist. So failures on unknown codes are
counted per code index (the keyed blind index, never the code) and lock in the
same way: ``CUSTOMER_LOCKOUT_ATTEMPTS`` failures within ``CUSTOMER_LOCKOUT_MINUTES``
lock that index for ``CUSTOMER_LOCKOUT_MINUTES``.

The counts live in Redis (``portal.core.jobs.redis_connection()``) when it is
configured, so every process sees them; otherwise in the application's memory
(``app.extensions``) with expiry. Nothing here is personal data, and losing it
only resets counts.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from flask import current_app

from portal.core import jobs

EXTENSION_KEY = "portal.unknown_codes"
_MEMORY_MAX = 100_000


class MemoryStore:
    """One application's counts: index -> (count, window end, lock end)."""

    def __init__(self) -> None:
        self.counts: dict[str, tuple[int, float, float | None]] = {}
        self.lock = threading.Lock()


def memory_store() -> MemoryStore:
    """This application's in-memory store (used when Redis is not configured)."""
    store = current_app.extensions.get(EXTENSION_KEY)
    if store is None:
        store = current_app.extensions.setdefault(EXTENSION_KEY, MemoryStore())
    return store


def clock() -> float:
    """The clock the counts and locks use (tests move it)."""
    return time.time()


def _max_failures() -> int:
    return current_app.config["CUSTOMER_LOCKOUT_ATTEMPTS"]


def _window_seconds() -> int:
    return current_app.config["CUSTOMER_LOCKOUT_MINUTES"] * 60


def _key(index_value: str, kind: str) -> str:
    prefix = current_app.config["PORTAL_RQ_QUEUE"]
    return f"{prefix}:unknown-code:{kind}:{index_value}"


def _as_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def locked_until(index_value: str) -> datetime | None:
    """When the lock on this unknown code index ends, or ``None`` when it is not locked."""
    redis = jobs.redis_connection()
    now = clock()
    if redis is not None:
        value = redis.get(_key(index_value, "lock"))
        until = float(value) if value else None
    else:
        store = memory_store()
        with store.lock:
            _count, _expires, until = store.counts.get(index_value, (0, 0.0, None))
    return _as_datetime(until) if until is not None and until > now else None


def count_failure(index_value: str) -> datetime | None:
    """Count one failure; returns the end of the lock when this failure locked the index.

    Returns the current lock's end too when parallel failures went past the maximum.
    """
    redis = jobs.redis_connection()
    now = clock()
    window = _window_seconds()
    if redis is not None:
        count_key, lock_key = _key(index_value, "count"), _key(index_value, "lock")
        with redis.pipeline() as pipe:
            pipe.set(count_key, 0, ex=window, nx=True)  # the window starts at the first failure
            pipe.incr(count_key)
            count = pipe.execute()[1]
        if count < _max_failures():
            return None
        until = now + window
        if redis.set(lock_key, repr(until), ex=window, nx=True):
            redis.delete(count_key)
            return _as_datetime(until)
        current = redis.get(lock_key)
        return _as_datetime(float(current)) if current else _as_datetime(until)
    store = memory_store()
    with store.lock:
        memory = store.counts
        if len(memory) > _MEMORY_MAX:
            for key in [k for k, (_c, expires, lock) in memory.items()
                        if expires <= now and (lock is None or lock <= now)]:
                del memory[key]
        count, expires, until = memory.get(index_value, (0, 0.0, None))
        if until is not None and until > now:
            return _as_datetime(until)
        if expires <= now:
            count = 0
            expires = now + window
        count += 1
        if count >= _max_failures():
            until = now + window
            memory[index_value] = (0, now, until)
            return _as_datetime(until)
        memory[index_value] = (count, expires, None)
        return None

