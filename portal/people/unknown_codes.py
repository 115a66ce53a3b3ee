"""Attempt counts and locks for notice codes, real or not, by code index.

Every attempt on a code is counted here, whether or not the code belongs to
anyone, so a wrong answer costs the same statements on the same table (or the
same Redis commands) for a real code as for an unknown one, and nothing tells a
guesser which codes exist. Attempts are counted per code index (the keyed blind
index, never the code): reserved before the answers are compared,
``CUSTOMER_LOCKOUT_ATTEMPTS`` within ``CUSTOMER_LOCKOUT_MINUTES`` (the window
starts at the first failure), then a lock of ``CUSTOMER_LOCKOUT_MINUTES``.

A right answer writes only the person's row (``last_verified_at``); the caller
passes that time back as ``fresh_after``, and a window that began by then is
over, its count and its lock with it. So the counter is never written on success.

The counts live in Redis (``portal.core.jobs.redis_connection()``) when it is
configured, so every process sees them without a database write; otherwise in the
database (``attempt_counter``, through ``portal.security.attempts``), so they
survive restarts either way. The Redis keys keep their ``unknown-code`` prefix
from when only unknown codes were counted here. Nothing here is personal data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import bindparam, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.core import autocommit, jobs
from portal.extensions import db
from portal.models.attempt import AttemptCounter
from portal.models.base import UTCDateTime
from portal.security import attempts

CODE_COUNTER = attempts.Lock(
    AttemptCounter, key="key", count="failures", until="locked_until",
    since="failures_since", setting_prefix="CUSTOMER", fresh_after=True,
)
_STATE = select(AttemptCounter.failures, AttemptCounter.failures_since,
                AttemptCounter.locked_until).where(AttemptCounter.key == bindparam("key"))


@dataclass(frozen=True)
class State:
    """A code's failures in the current window and the lock that stands, if any."""

    failures: int = 0
    locked_until: datetime | None = None


def clock() -> float:
    """The clock the counts and locks use (tests move it)."""
    return time.time()


def now() -> datetime:
    """``clock()`` as an aware UTC time."""
    return _as_datetime(clock())


def _max_failures() -> int:
    return current_app.config["CUSTOMER_LOCKOUT_ATTEMPTS"]


def _window_seconds() -> int:
    return current_app.config["CUSTOMER_LOCKOUT_MINUTES"] * 60


def _redis_key(index_value: str, kind: str) -> str:
    return f"{current_app.config['PORTAL_RQ_QUEUE']}:unknown-code:{kind}:{index_value}"


def row_key(index_value: str) -> str:
    """The code's key in ``attempt_counter``."""
    return f"code:{index_value}"


def _as_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _ended(since: datetime | None, fresh_after: datetime | None) -> bool:
    return since is not None and fresh_after is not None and since <= fresh_after


def state(index_value: str, fresh_after: datetime | None = None) -> State:
    """The failures counted on this code index and its lock (``fresh_after`` as for reserve)."""
    current = now()
    redis = jobs.redis_connection()
    if redis is not None:
        count, lock, since = redis.mget(*(_redis_key(index_value, kind)
                                          for kind in ("count", "lock", "since")))
        failures = int(count or 0)
        until = _as_datetime(float(lock)) if lock else None
        since = _as_datetime(float(since)) if since else None
    else:
        row = autocommit.read_row(_STATE, {"key": row_key(index_value)})
        failures, since, until = row if row is not None else (0, None, None)
    if _ended(since, fresh_after):
        return State()
    if until is not None and until <= current:
        return State()
    if since is not None and (current - since).total_seconds() >= _window_seconds():
        failures = 0
    return State(failures, until)


def locked_until(index_value: str, fresh_after: datetime | None = None) -> datetime | None:
    """When the lock on this code index ends, or ``None`` when it is not locked."""
    return state(index_value, fresh_after).locked_until


def reserve(index_value: str, fresh_after: datetime | None = None) -> attempts.Attempt | None:
    """Count one attempt before anything is compared; ``None`` when the index is locked.

    ``fresh_after``: the code's last right answer (``None`` for a code never
    verified, or unknown); a window that began by then counts for nothing.
    """
    redis = jobs.redis_connection()
    if redis is None:
        return attempts.reserve(CODE_COUNTER, row_key(index_value), now=now(),
                                fresh_after=fresh_after)
    current = clock()
    window = _window_seconds()
    count_key, lock_key, since_key = (_redis_key(index_value, kind)
                                      for kind in ("count", "lock", "since"))
    lock, since = redis.mget(lock_key, since_key)
    if since is not None and _ended(_as_datetime(float(since)), fresh_after):
        redis.delete(count_key, lock_key, since_key)
        lock = None
    if lock is not None and float(lock) > current:
        return None
    with redis.pipeline() as pipe:
        pipe.set(count_key, 0, ex=window, nx=True)  # the window starts at the first failure
        pipe.set(since_key, repr(current), ex=window, nx=True)
        pipe.incr(count_key)
        count = pipe.execute()[2]
    limit = _max_failures()
    if count < limit:
        return attempts.Attempt(count)
    if count > limit:  # parallel attempts past the limit: the lock is being set
        return None
    until = current + window
    if not redis.set(lock_key, repr(until), ex=window, nx=True):
        return None
    redis.delete(count_key)
    return attempts.Attempt(count, _as_datetime(until))


def lock_stands_clause(last: bool):
    """In the database: the SQL test that a lock stands in a right answer's way (``None``
    with Redis, where ``lock_stands`` answers before the statement)."""
    if jobs.redis_connection() is not None:
        return None
    return CODE_COUNTER.lock_stands(last)


def clause_params(index_value: str, attempt: attempts.Attempt | None, at: datetime,
                  fresh_after: datetime | None) -> dict:
    """The parameters of ``lock_stands_clause``."""
    params = {"row_id": row_key(index_value), "now": at,
              "fresh_after": fresh_after or attempts.NEVER}
    if attempt is not None and attempt.reached_limit:
        params.update(attempt=attempt.number, locks_until=attempt.locks_until)
    return params


def lock_stands(index_value: str, attempt: attempts.Attempt | None,
                fresh_after: datetime | None) -> bool:
    """With Redis: whether a lock other than the one ``attempt`` set stands now."""
    until = locked_until(index_value, fresh_after)
    if until is None:
        return False
    own = attempt is not None and attempt.reached_limit
    return not (own and abs((attempt.locks_until - until).total_seconds()) < 1e-3)


def lift_lock(index_value: str) -> None:
    """Lift the lock on a code by hand; its next attempt starts a new window (the failures
    counted are cleared, so the person page says so too), and its next lock is counted as
    the first (``escalate``)."""
    redis = jobs.redis_connection()
    if redis is not None:
        redis.delete(*(_redis_key(index_value, kind) for kind in (
            "lock", "count", "since", "lockouts", "lockouts-since")))
        return
    db.session.execute(update(AttemptCounter).where(AttemptCounter.key == row_key(index_value))
                       .values(locked_until=None, failures=0, failures_since=None))
    db.session.execute(delete(AttemptCounter).where(
        AttemptCounter.key == _lockouts_row_key(index_value)))
    db.session.commit()


# --- escalation: each lock of a code within a day lasts twice the one before ---------------


def _lockouts_row_key(index_value: str) -> str:
    """The row in ``attempt_counter`` that counts a code's locks (``failures``: locks in a
    run, ``failures_since``: when the latest of them ends)."""
    return f"codelocks:{index_value}"


def _lockout_statement(dialect: str):
    """Count one more lock, or start again at 1 when the code's previous lock ended more
    than the escalation window before this one began, or before its last right answer."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = AttemptCounter.__table__
    again = or_(table.c.failures_since.is_(None),
                table.c.failures_since < bindparam("window_start", type_=UTCDateTime()),
                table.c.failures_since <= bindparam("fresh_after", type_=UTCDateTime()))
    start = bindparam("start", type_=UTCDateTime())
    statement = insert(AttemptCounter).values(key=bindparam("key"), failures=1,
                                              failures_since=start)
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"failures": case((again, 1), else_=table.c.failures + 1), "failures_since": start},
    ).returning(table.c.failures)


def _escalation_window() -> int:
    """``CUSTOMER_LOCKOUT_ESCALATION_HOURS`` in seconds."""
    return int(float(current_app.config["CUSTOMER_LOCKOUT_ESCALATION_HOURS"]) * 3600)


def _count_lockout(index_value: str, start: float, fresh_after: datetime | None) -> int:
    """Count the lock that began at ``start`` (a timestamp); return its number in this
    code's run of locks, each begun within ``CUSTOMER_LOCKOUT_ESCALATION_HOURS`` of the end
    of the one before (kept by ``_remember_end``) and after the code's last right answer."""
    window = _escalation_window()
    redis = jobs.redis_connection()
    if redis is not None:
        count_key, since_key = (_redis_key(index_value, kind)
                                for kind in ("lockouts", "lockouts-since"))
        since = redis.get(since_key)
        if since is not None and (float(since) < start - window
                                  or _ended(_as_datetime(float(since)), fresh_after)):
            redis.delete(count_key)
        with redis.pipeline() as pipe:
            pipe.incr(count_key)
            pipe.expire(count_key, window)
            return int(pipe.execute()[0])
    dialect = db.session.get_bind().dialect.name
    return int(db.session.execute(_lockout_statement(dialect), {
        "key": _lockouts_row_key(index_value), "start": _as_datetime(start),
        "window_start": _as_datetime(start - window),
        "fresh_after": fresh_after or attempts.NEVER}).scalar_one())


def escalate(index_value: str, attempt: attempts.Attempt,
             fresh_after: datetime | None = None) -> datetime:
    """Lengthen the lock ``attempt`` set, now that its answers proved wrong; return its end.

    The n-th lock in a run of locks of a code, each begun within
    ``CUSTOMER_LOCKOUT_ESCALATION_HOURS`` of the end of the one before (and after the
    code's last right answer), lasts ``CUSTOMER_LOCKOUT_MINUTES`` × 2^(n − 1), at most
    ``CUSTOMER_LOCKOUT_MAX_HOURS``: with the defaults 30 minutes, 1 h, 2 h, 4 h, 8 h, 16 h,
    then a day each, so a guesser gets 30 tries at a code's date of birth in the first day
    and a half, then 5 a day, instead of 240 a day. Real and unknown codes take the same
    steps. A lock lifted or replaced meanwhile is left as it is. In the database the
    caller commits.
    """
    config = current_app.config
    base = int(config["CUSTOMER_LOCKOUT_MINUTES"]) * 60
    longest = max(base, int(float(config["CUSTOMER_LOCKOUT_MAX_HOURS"]) * 3600))
    own = attempt.locks_until.timestamp()
    start = own - base
    number = _count_lockout(index_value, start, fresh_after)
    until = start + min(longest, base * 2 ** min(number - 1, 20))
    end = _lengthen(index_value, attempt, until) if until > own else own
    _remember_end(index_value, end)
    return _as_datetime(end)


def _lengthen(index_value: str, attempt: attempts.Attempt, until: float) -> float:
    """Move the end of the lock ``attempt`` set to ``until``, if it still stands as set."""
    own = attempt.locks_until.timestamp()
    redis = jobs.redis_connection()
    if redis is not None:
        lock_key = _redis_key(index_value, "lock")
        current = redis.get(lock_key)
        if current is None or abs(float(current) - own) > 1e-3:
            return own
        redis.set(lock_key, repr(until), ex=max(1, int(until - clock()) + 1))
        return until
    changed = db.session.execute(
        update(AttemptCounter).where(AttemptCounter.key == row_key(index_value),
                                     AttemptCounter.locked_until == attempt.locks_until)
        .values(locked_until=_as_datetime(until))
        .execution_options(synchronize_session=False)).rowcount
    return until if changed else own


def _remember_end(index_value: str, end: float) -> None:
    """Keep when the code's latest lock ends: the next lock continues the run if it begins
    within the escalation window after it."""
    window = _escalation_window()
    redis = jobs.redis_connection()
    if redis is not None:
        redis.set(_redis_key(index_value, "lockouts-since"), repr(end),
                  ex=max(1, int(end - clock()) + window))
        redis.expire(_redis_key(index_value, "lockouts"), max(1, int(end - clock()) + window))
        return
    db.session.execute(update(AttemptCounter)
                       .where(AttemptCounter.key == _lockouts_row_key(index_value))
                       .values(failures_since=_as_datetime(end))
                       .execution_options(synchronize_session=False))
