"""Each lock of a notice code within a day lasts twice the one before (``escalate``).

The same for real and unknown codes, counted in the database or in Redis; a right
answer and a lock lifted by an agent start the count again.
"""

from __future__ import annotations

from datetime import date

import pytest

from portal.core import jobs
from portal.people import unknown_codes, verification
from portal.security.crypto import code_index, generate_code

WRONG = date(1901, 2, 3)


@pytest.fixture
def real(make_incident, make_person):
    _record, plain = make_person(make_incident())
    return plain


@pytest.fixture
def clock(monkeypatch):
    """The codes' clock, moved by hand."""
    now = [unknown_codes.clock()]
    monkeypatch.setattr(unknown_codes, "clock", lambda: now[0])
    return now


def _attempt(code: str, postcode: str, born: date = WRONG) -> verification.Outcome:
    index = code_index(code)
    pending = verification.pending(index)
    answers = verification.Answers(born, postcode=postcode, asked=pending.questions)
    return verification.attempt(pending.person, index, answers, pending.method, "n" * 32,
                                on_verified=lambda _person: None)


def lock_minutes(code: str, postcode: str, clock) -> float:
    """Fail until the code locks; the lock's length in minutes. Then wait it out."""
    for _ in range(5):
        outcome = _attempt(code, postcode)
    assert outcome.locked_until is not None
    assert verification.locked_until(None, code_index(code)) == outcome.locked_until
    minutes = (outcome.locked_until.timestamp() - clock[0]) / 60
    clock[0] = outcome.locked_until.timestamp() + 1
    redis = jobs.redis_connection()
    if redis is not None:  # its keys expire in real time: as the lock's would have by now
        redis.delete(unknown_codes._redis_key(code_index(code), "lock"))
    return round(minutes)


def check_escalation(real, clock):
    unknown = generate_code()
    expected = [30, 60, 120, 240, 480, 960, 1440, 1440]
    assert [lock_minutes(real["notice_code"], real["postcode"], clock)
            for _ in expected] == expected
    clock[0] += 23 * 3600  # within a day of the last lock's end: the run goes on
    assert lock_minutes(real["notice_code"], real["postcode"], clock) == 1440
    clock[0] += 24 * 3600 + 60  # a day after the last lock ended: the next is the first again
    assert lock_minutes(real["notice_code"], real["postcode"], clock) == 30
    # An unknown code: the same lengths, so a lock tells nothing about the code.
    assert [lock_minutes(unknown, real["postcode"], clock) for _ in expected[:3]] == [30, 60, 120]


def check_reset_by_right_answer_and_by_hand(real, clock, db):
    code, postcode = real["notice_code"], real["postcode"]
    assert [lock_minutes(code, postcode, clock) for _ in range(2)] == [30, 60]
    right = date.fromisoformat(real["date_of_birth"])
    assert _attempt(code, postcode, right).verified
    db.session.commit()
    clock[0] += 1
    assert lock_minutes(code, postcode, clock) == 30  # counted from the right answer
    assert lock_minutes(code, postcode, clock) == 60
    for _ in range(5):
        _attempt(code, postcode)
    unknown_codes.lift_lock(code_index(code))  # an agent lifts it after a call
    assert verification.locked_until(None, code_index(code)) is None
    assert lock_minutes(code, postcode, clock) == 30


def test_each_lock_within_a_day_lasts_twice_the_one_before(app, real, clock):
    check_escalation(real, clock)


def test_a_right_answer_or_an_agent_s_unlock_starts_again(app, db, real, clock):
    check_reset_by_right_answer_and_by_hand(real, clock, db)


def test_the_lock_page_and_the_log_say_how_long(app, db, real, clock):
    from tests.support.customer import actions

    for _ in range(2):
        lock_minutes(real["notice_code"], real["postcode"], clock)
    assert actions(db, "verify.locked").count("verify.locked") == 2
    from portal.models import Interaction

    locked = [row.details for row in db.session.query(Interaction)
              .filter(Interaction.action == "verify.locked").order_by(Interaction.id)]
    assert [details["minutes"] for details in locked] == [30, 60]


@pytest.mark.usefixtures("with_redis")
class TestWithRedis:
    """Counted in Redis when it is configured: the same lengths."""

    def test_each_lock_within_a_day_lasts_twice_the_one_before(self, app, real, clock):
        check_escalation(real, clock)

    def test_a_right_answer_or_an_agent_s_unlock_starts_again(self, app, db, real, clock):
        check_reset_by_right_answer_and_by_hand(real, clock, db)


def test_the_longest_lock_is_a_setting(app, real, clock):
    app.config["CUSTOMER_LOCKOUT_MAX_HOURS"] = 1
    assert [lock_minutes(real["notice_code"], real["postcode"], clock)
            for _ in range(3)] == [30, 60, 60]
