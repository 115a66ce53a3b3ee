"""Failure counts and locks for notice codes that match nobody.

A real code locks after five failures; if an unknown code never did, the lock
page would tell a guesser which codes exist. So failures on unknown codes are
counted per code index (the keyed blind index, never the code) and lock in the
same way: ``CUSTOMER_LOCKOUT_ATTEMPTS`` failures within ``CUSTOMER_LOCKOUT_MINUTES``
lock that index for ``CUSTOMER_LOCKOUT_MINUTES``.

The counts live in Redis (``portal.core.jobs.redis_connection()``) when it is
configured, so every process sees them; otherwise in this process's memory with
expiry. Nothing here is personal data, and losing it only resets counts.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from flask import current_app

from portal.core import jobs

_memory: dict[str, tuple[int, float, float | None]] = {}  # index -> (count, expires, locked_until)
_memory_lock = threading.Lock()
_MEMORY_MAX = 100_000


def _now() -> float:
    return time.time()


def _max_failures() -> int:
    return int(current_app.config["CUSTOMER_LOCKOUT_ATTEMPTS"])


def _window_seconds() -> int:
    return int(current_app.config["CUSTOMER_LOCKOUT_MINUTES"]) * 60


def _key(index_value: str, kind: str) -> str:
    prefix = current_app.config["PORTAL_RQ_QUEUE"]
    return f"{prefix}:unknown-code:{kind}:{index_value}"


def _as_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def locked_until(index_value: str) -> datetime | None:
    """When the lock on this unknown code index ends, or ``None`` when it is not locked."""
    redis = jobs.redis_connection()
    now = _now()
    if redis is not None:
        value = redis.get(_key(index_value, "lock"))
        until = float(value) if value else None
    else:
        with _memory_lock:
            _count, _expires, until = _memory.get(index_value, (0, 0.0, None))
    return _as_datetime(until) if until is not None and until > now else None


def count_failure(index_value: str) -> datetime | None:
    """Count one failure; returns the end of the lock when this failure locked the index.

    Returns the current lock's end too when parallel failures went past the maximum.
    """
    redis = jobs.redis_connection()
    now = _now()
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
    with _memory_lock:
        if len(_memory) > _MEMORY_MAX:
            for key in [k for k, (_c, expires, lock) in _memory.items()
                        if expires <= now and (lock is None or lock <= now)]:
                del _memory[key]
        count, expires, until = _memory.get(index_value, (0, 0.0, None))
        if until is not None and until > now:
            return _as_datetime(until)
        if expires <= now:
            count = 0
            expires = now + window
        count += 1
        if count >= _max_failures():
            until = now + window
            _memory[index_value] = (0, now, until)
            return _as_datetime(until)
        _memory[index_value] = (count, expires, None)
        return None


def reset_memory() -> None:
    """Forget every in-process count (tests)."""
    with _memory_lock:
        _memory.clear()
