"""The one attempt-and-lock mechanism: staff sign-in and customer verification.

A ``Lock`` names the row's counter columns and the two settings that bound
them (``<PREFIX>_LOCKOUT_ATTEMPTS`` attempts, then a lock of
``<PREFIX>_LOCKOUT_MINUTES``). Every attempt goes through the same steps:

1. ``reserve`` counts the attempt *before* the secret is compared, in one guarded
   ``UPDATE ... RETURNING`` committed at once (in autocommit mode on PostgreSQL,
   one round trip). Parallel attempts cannot read the same count, so at most
   ``ATTEMPTS`` secrets are compared per window. The attempt that reaches the limit
   sets the lock itself; a locked row reserves nothing (``None``).
2. The caller compares the secret.
3. On a right answer, ``grant`` resets the count and clears the lock in one
   guarded ``UPDATE``, together with the caller's own columns (the session nonce,
   the sign-in time). On a wrong one nothing more is written: the reservation was
   the failure.

The one semantics, for both: a right answer signs in only if no lock stands in
its way when it is granted, except the lock its own reservation set (it was the
last attempt allowed, and no attempt can have been counted after it). A right
answer reserved before a *parallel* attempt locked the row does not sign in; nor
does one whose lock has been replaced since (checked by the lock's end time).
Reserved attempts beyond the limit are never compared at all.

A new window starts when a lock has expired, when the count is full but the lock
was lifted by hand, and (for locks with a ``since`` column) when the first
counted failure is older than ``MINUTES``, and (for locks with ``fresh_after``) when
the window began by the time the caller passes as ``fresh_after``: a right
answer recorded on another row (a code's last verification) ends the window without
writing to the counter. A keyed lock (``key`` other than
``id``, e.g. ``attempt_counter``) creates its row with its first attempt, in the
same single statement (``INSERT ... ON CONFLICT DO UPDATE ... WHERE unlocked``).
Nothing here reads the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, case, delete, func, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.core import autocommit
from portal.extensions import db
from portal.models.attempt import AttemptCounter
from portal.models.base import UTCDateTime, utcnow

_NOW = bindparam("now", type_=UTCDateTime())
_MAX = bindparam("max_attempts", type_=Integer())
_FRESH_AFTER = bindparam("fresh_after", type_=UTCDateTime())
# ``fresh_after`` when there is none: never NULL, so no comparison with it is unknown.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Attempt:
    """One reserved attempt: its number in the window and the lock it set, if any."""

    number: int
    locks_until: datetime | None = None

    @property
    def reached_limit(self) -> bool:
        """Whether this attempt was the last one allowed (its reservation set the lock)."""
        return self.locks_until is not None


@dataclass(frozen=True)
class Lock:
    """Which columns of which table count attempts, and the settings that bound them.

    ``on_grant`` maps further columns to set on a right answer to the names of the
    parameters ``grant`` is given for them (``now`` is always given); ``returning``
    names the columns ``grant`` returns. The statements are built once, here.
    """

    model: type
    count: str
    until: str
    setting_prefix: str
    since: str | None = None
    key: str = "id"
    on_grant: dict[str, str] = field(default_factory=dict)
    returning: tuple[str, ...] = ()
    fresh_after: bool = False
    _statements: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.fresh_after and self.since is None:
            raise ValueError("fresh_after needs a since column (the window's start)")
        self._statements["reserve"] = self._reserve_statement()
        if self.key != "id":  # a keyed counter: its row is created by its first attempt
            for dialect in ("postgresql", "sqlite"):
                self._statements[dialect] = self._upsert_statement(dialect)
        for last in (False, True):
            self._statements[last] = self._grant_statement(last)

    def column(self, name: str):
        return getattr(self.model, name)

    def max_attempts(self) -> int:
        return current_app.config[f"{self.setting_prefix}_LOCKOUT_ATTEMPTS"]

    def minutes(self) -> int:
        return current_app.config[f"{self.setting_prefix}_LOCKOUT_MINUTES"]

    def unlocked(self):
        until = self.column(self.until)
        return or_(until.is_(None), until <= _NOW, *self._ended())

    def _ended(self) -> list:
        """The window began at or before ``fresh_after`` (a definite true or false)."""
        if not self.fresh_after:
            return []
        since = self.column(self.since)
        return [and_(since.is_not(None), since <= _FRESH_AFTER)]

    def lock_stands(self, last: bool):
        """Whether a lock on the keyed row stands in the way of a right answer (a clause).

        For a right answer recorded on another row (``grant`` resets this row's own
        count instead): the same rule, with the same parameters as ``grant``.
        """
        blocked = ~self.unlocked()
        if last:
            blocked = and_(blocked, ~self._own_lock())
        return (select(self.column(self.key))
                .where(self.column(self.key) == bindparam("row_id"), blocked).exists())

    def _own_lock(self):
        return and_(self.column(self.count) == bindparam("attempt"),
                    self.column(self.until) == bindparam("locks_until", type_=UTCDateTime()))

    def _counting_values(self) -> dict:
        """The reservation's new count, lock (and window start), from the row's current ones."""
        count, until = self.column(self.count), self.column(self.until)
        # Past the WHERE guard a lock that is still set has expired, and a full count
        # without a lock was lifted by hand: either way a new window starts.
        restart = [until.is_not(None), count >= _MAX, *self._ended()]
        if self.since is not None:
            restart.append(self.column(self.since) <= bindparam("window_start",
                                                                type_=UTCDateTime()))
        restarting = or_(*restart)
        previous = case((restarting, 0), else_=func.coalesce(count, 0))
        values = {
            self.count: previous + 1,
            self.until: case((previous + 1 >= _MAX, bindparam("until", type_=UTCDateTime())),
                             else_=null()),
        }
        if self.since is not None:
            since = self.column(self.since)
            values[self.since] = case((or_(restarting, since.is_(None)), _NOW), else_=since)
        return values

    def _reserve_statement(self):
        return (
            update(self.model)
            .where(self.column(self.key) == bindparam("row_id"), self.unlocked())
            .values(self._counting_values())
            .returning(self.column(self.count))
            .execution_options(synchronize_session=False)
        )

    def _upsert_statement(self, dialect: str):
        """INSERT the first attempt, or count one more unless locked: one statement."""
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        first = {
            self.key: bindparam("row_id"),
            self.count: 1,
            self.until: case((_MAX <= 1, bindparam("until", type_=UTCDateTime())),
                             else_=null()),
        }
        if self.since is not None:
            first[self.since] = _NOW
        statement = insert(self.model).values(first)
        return statement.on_conflict_do_update(
            index_elements=[self.column(self.key)],
            set_=self._counting_values(),
            where=self.unlocked(),
        ).returning(self.column(self.count))

    def _grant_statement(self, last: bool):
        allowed = self.unlocked()
        if last:
            # The lock this very attempt set: nothing has been counted since.
            allowed = or_(allowed, self._own_lock())
        values = {self.count: 0, self.until: None}
        if self.since is not None:
            values[self.since] = None
        for name, parameter in self.on_grant.items():
            values[name] = _NOW if parameter == "now" else bindparam(parameter)
        statement = (
            update(self.model)
            .where(self.column(self.key) == bindparam("row_id"), allowed)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        returning = self.returning or (self.count,)
        return statement.returning(*(self.column(name) for name in returning))


def reserve(lock: Lock, row_id: int | str, now: datetime | None = None,
            fresh_after: datetime | None = None) -> Attempt | None:
    """Count one attempt before anything is compared; ``None`` when the row is locked.

    Committed at once: on PostgreSQL in autocommit mode, elsewhere in the request's
    session without expiring what it has loaded (the caller still needs the
    digests or the password hash it read).
    """
    now = now or utcnow()
    minutes = timedelta(minutes=lock.minutes())
    limit = lock.max_attempts()
    until = now + minutes
    params = {"row_id": row_id, "now": now, "max_attempts": limit, "until": until}
    if lock.since is not None:
        params["window_start"] = now - minutes
    if lock.fresh_after:
        params["fresh_after"] = fresh_after or NEVER
    statement = lock._statements["reserve"]
    if lock.key != "id":
        statement = lock._statements[db.engine.dialect.name]
    number = autocommit.scalar_now(statement, params)
    if not autocommit.available():
        _commit_keeping_loaded(db.session())
    if number is None:
        return None
    return Attempt(number, until if number >= limit else None)


def _commit_keeping_loaded(session: Session) -> None:
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def grant(lock: Lock, row_id: int | str, attempt: Attempt | None, now: datetime | None = None,
          **params) -> tuple | None:
    """Reset the count after a right answer; ``None`` when a lock stands in the way.

    ``attempt`` is the reservation the answer was compared under (``None`` when the
    request reserved nothing, e.g. a second step: then any lock refuses). Runs in
    the request's session; the caller commits (or rolls back on ``None``). Returns
    the ``returning`` columns of the updated row.
    """
    last = attempt is not None and attempt.reached_limit
    values = {"row_id": row_id, "now": now or utcnow(), **params}
    if lock.fresh_after:
        values["fresh_after"] = values.get("fresh_after") or NEVER
    if last:
        values.update(attempt=attempt.number, locks_until=attempt.locks_until)
    row = db.session.execute(lock._statements[last], values).one_or_none()
    return tuple(row) if row is not None else None


# Every lockout length a keyed counter can carry (staff by address and by account, codes).
LOCKOUT_SETTINGS = ("STAFF_LOCKOUT_MINUTES", "STAFF_ACCOUNT_LOCKOUT_MINUTES",
                    "CUSTOMER_LOCKOUT_MINUTES")


def stale_after() -> timedelta:
    """How long a keyed counter row outlives its last failure and lock:
    ``ATTEMPT_COUNTER_KEEP_HOURS``, and never less than twice the longest lockout or the
    window in which a code's locks are counted (``CUSTOMER_LOCKOUT_ESCALATION_HOURS``)."""
    config = current_app.config
    longest = max(int(config[name]) for name in LOCKOUT_SETTINGS)
    return max(timedelta(hours=float(config["ATTEMPT_COUNTER_KEEP_HOURS"])),
               timedelta(minutes=2 * longest),
               timedelta(hours=float(config["CUSTOMER_LOCKOUT_ESCALATION_HOURS"])))


def purge_stale_counters(now: datetime | None = None) -> int:
    """Delete keyed counter rows (``attempt_counter``) that count nothing any more.

    A row whose window began and whose lock ended longer ago than ``stale_after()``
    would start a new window at its next attempt anyway (see the module's
    docstring), so deleting it changes no decision; without this, every code a
    guesser tried and every address a sign-in came from kept a row for ever.
    Commits; returns the rows deleted. The periodic job ``security.counters``.
    """
    cutoff = (now or utcnow()) - stale_after()
    removed = db.session.execute(
        delete(AttemptCounter).where(
            or_(AttemptCounter.failures_since.is_(None),
                AttemptCounter.failures_since < cutoff),
            or_(AttemptCounter.locked_until.is_(None), AttemptCounter.locked_until < cutoff))
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return removed


def init_app(app) -> None:
    """Purge stale keyed counters hourly (``ATTEMPT_COUNTER_PURGE_SECONDS``)."""
    from portal.core import periodic

    periodic.every("security.counters", purge_stale_counters,
                   int(app.config["ATTEMPT_COUNTER_PURGE_SECONDS"]), app=app)
