"""The one attempt-and-lock mechanism (portal.security.attempts), for every lock that uses it.

Each test runs against staff sign-in's two locks (account; account and address)
and the keyed counter of notice codes (every code, real or unknown, is counted
there; a right answer is recorded on the person's row, see test_customer_verify):
one semantics, one set of tests. The race runs on
whichever database the suite uses (SQLite by default, PostgreSQL with
``PORTAL_TEST_DB=postgresql``).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from portal.models.base import utcnow
from portal.people.unknown_codes import CODE_COUNTER
from portal.security import attempts
from portal.security.sign_in import ACCOUNT_LOCK, ADDRESS_LOCK


class Row:
    """The counted row: its id (or key) only."""

    def __init__(self, row_id):
        self.id = row_id


@pytest.fixture
def app_settings(app_settings):
    app_settings["STAFF_ACCOUNT_LOCKOUT_ATTEMPTS"] = 5  # the race uses 12 threads
    return app_settings


@pytest.fixture(params=["staff_account", "staff_address", "code"])
def locked_row(request, db, make_staff):
    """``(lock, row)``: a staff account, a staff account and address pair, or a notice
    code's counter."""
    if request.param == "staff_account":
        return ACCOUNT_LOCK, Row(make_staff("agent").id)
    if request.param == "staff_address":
        return ADDRESS_LOCK, Row(f"staff:{make_staff('agent').id}:192.0.2.7")
    return CODE_COUNTER, Row("code:" + "ab" * 32)


def _state(db, lock, row) -> tuple[int, object]:
    db.session.expire_all()
    fresh = db.session.get(lock.model, row.id)
    return getattr(fresh, lock.count), getattr(fresh, lock.until)


def _in_parallel(app, count: int, work) -> list:
    """Run ``work()`` in ``count`` threads released together, each in its own app context."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        with app.app_context():
            barrier.wait()
            results[index] = work()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_parallel_reservations_let_exactly_the_allowed_number_through(app, db, locked_row):
    lock, row = locked_row
    row_id = row.id
    limit = lock.max_attempts()
    reserved = _in_parallel(app, 12, lambda: attempts.reserve(lock, row_id))
    granted = [attempt for attempt in reserved if attempt is not None]
    assert len(granted) == limit
    assert sorted(attempt.number for attempt in granted) == list(range(1, limit + 1))
    assert [attempt.number for attempt in granted if attempt.reached_limit] == [limit]
    count, until = _state(db, lock, row)
    assert count == limit and until is not None and until > utcnow()
    # A right answer under any earlier reservation is refused: the lock came after it.
    for attempt in granted:
        if not attempt.reached_limit:
            assert attempts.grant(lock, row_id, attempt, nonce="x" * 32) is None
            db.session.rollback()
    # A right answer after the lock reserves nothing, and without a reservation nothing passes.
    assert attempts.reserve(lock, row_id) is None
    assert attempts.grant(lock, row_id, None, nonce="x" * 32) is None
    db.session.rollback()
    assert _state(db, lock, row) == (count, until)


def test_the_attempt_that_reached_the_limit_may_still_be_right(app, db, locked_row):
    lock, row = locked_row
    limit = lock.max_attempts()
    reserved = [attempts.reserve(lock, row.id) for _ in range(limit)]
    last = reserved[-1]
    assert last.reached_limit and not any(a.reached_limit for a in reserved[:-1])
    assert attempts.grant(lock, row.id, last, nonce="x" * 32) is not None
    db.session.commit()
    assert _state(db, lock, row) == (0, None)


def test_a_right_answer_counted_before_a_parallel_lock_does_not_sign_in(app, db, locked_row):
    lock, row = locked_row
    limit = lock.max_attempts()
    early = attempts.reserve(lock, row.id)  # its answer is being compared...
    others = [attempts.reserve(lock, row.id) for _ in range(limit - 1)]  # ...others lock
    assert others[-1].reached_limit
    assert attempts.grant(lock, row.id, early, nonce="x" * 32) is None
    db.session.rollback()
    assert _state(db, lock, row)[1] is not None


def test_a_replaced_lock_is_not_the_attempt_s_own(app, db, locked_row):
    """The last attempt's own lock, once expired and set again by a new window, no longer counts."""
    lock, row = locked_row
    limit = lock.max_attempts()
    last = [attempts.reserve(lock, row.id) for _ in range(limit)][-1]
    later = utcnow() + timedelta(minutes=lock.minutes() + 1)
    newer = [attempts.reserve(lock, row.id, now=later) for _ in range(limit)][-1]
    assert newer.reached_limit and newer.locks_until != last.locks_until
    assert attempts.grant(lock, row.id, last, now=later, nonce="x" * 32) is None
    db.session.rollback()


def test_an_expired_lock_starts_a_new_window(app, db, locked_row):
    lock, row = locked_row
    for _ in range(lock.max_attempts()):
        attempts.reserve(lock, row.id)
    later = utcnow() + timedelta(minutes=lock.minutes(), seconds=1)
    attempt = attempts.reserve(lock, row.id, now=later)
    assert attempt.number == 1 and not attempt.reached_limit
    assert _state(db, lock, row) == (1, None)


def test_a_lock_lifted_by_hand_starts_a_new_window(app, db, locked_row):
    lock, row = locked_row
    for _ in range(lock.max_attempts()):
        attempts.reserve(lock, row.id)
    db.session.expire_all()
    fresh = db.session.get(lock.model, row.id)
    setattr(fresh, lock.until, None)  # the count stays full
    db.session.commit()
    assert attempts.reserve(lock, row.id).number == 1


def test_a_grant_resets_the_count_and_sets_the_caller_s_columns(app, db, locked_row):
    lock, row = locked_row
    attempts.reserve(lock, row.id)
    second = attempts.reserve(lock, row.id)
    assert second.number == 2
    assert attempts.grant(lock, row.id, second, nonce="n" * 32) is not None
    db.session.commit()
    assert _state(db, lock, row) == (0, None)
    fresh = db.session.get(lock.model, row.id)
    for column, parameter in lock.on_grant.items():
        value = getattr(fresh, column)
        assert value is not None
        if parameter == "nonce":
            assert value == "n" * 32


def test_failures_within_the_window_add_up(app, db, locked_row):
    lock, row = locked_row
    start = utcnow()
    for _ in range(lock.max_attempts() - 1):
        attempts.reserve(lock, row.id, now=start)
    inside = start + timedelta(minutes=lock.minutes()) - timedelta(seconds=1)
    assert attempts.reserve(lock, row.id, now=inside).reached_limit  # still the same window


def test_failures_older_than_the_window_expire(app, db, locked_row):
    lock, row = locked_row
    start = utcnow()
    for _ in range(lock.max_attempts() - 1):
        attempts.reserve(lock, row.id, now=start)
    later = start + timedelta(minutes=lock.minutes(), seconds=1)
    attempt = attempts.reserve(lock, row.id, now=later)
    assert attempt.number == 1 and not attempt.reached_limit
    assert _state(db, lock, row) == (1, None)


def test_stale_keyed_counters_are_purged_and_live_ones_kept(app, db):
    """``attempt_counter`` rows that count nothing any more (window and lock both older
    than ``stale_after()``) are deleted by the hourly job; the rest stay as they were."""
    from portal.core import periodic
    from portal.models.attempt import AttemptCounter

    now = utcnow()
    stale = attempts.stale_after()
    assert stale >= timedelta(hours=24)
    old, recent = now - stale - timedelta(minutes=1), now - timedelta(minutes=5)
    rows = {
        "code:stale": (3, old, None),
        "code:stale-lock": (5, old, old),
        "code:counting": (2, recent, None),
        "code:locked": (5, old, now + timedelta(minutes=10)),  # an old window, a lock that stands
        "staff:1:stale": (1, old, now - stale - timedelta(seconds=1)),
        "staff:1:fresh": (1, recent, None),
    }
    for key, (failures, since, until) in rows.items():
        db.session.add(AttemptCounter(key=key, failures=failures, failures_since=since,
                                      locked_until=until))
    db.session.commit()

    assert "security.counters" in [job.name for job in periodic.registered(app)]
    assert attempts.purge_stale_counters(now) == 3
    left = {row.key: row.failures for row in db.session.query(AttemptCounter)}
    assert left == {"code:counting": 2, "code:locked": 5, "staff:1:fresh": 1}
    assert attempts.purge_stale_counters(now) == 0


def test_the_purge_horizon_outlasts_every_lockout(app):
    app.config["STAFF_ACCOUNT_LOCKOUT_MINUTES"] = 48 * 60  # a lockout longer than the keep
    assert attempts.stale_after() == timedelta(hours=96)
