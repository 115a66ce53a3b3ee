"""Staff sessions end ``STAFF_SESSION_MAX_HOURS`` (12) after sign-in, however active."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from portal.models import Interaction

MINUTE, HOUR = 60, 3600


@pytest.fixture
def clock(monkeypatch):
    """A movable clock: ``clock.move_to(seconds)`` after the moment the test started."""

    class Clock:
        start = time.time()
        offset = 0.0

        def now(self) -> float:
            return self.start + self.offset

        def move_to(self, seconds: float) -> None:
            self.offset = seconds

    moved = Clock()
    monkeypatch.setattr(time, "time", moved.now)
    return moved


def _expiries(db) -> list[dict]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Interaction).where(Interaction.action == "staff.session_expired")
    ).scalars()
    return [row.details for row in rows]


def _stay_active(client, clock, until: float, step: float = 50 * MINUTE) -> None:
    """Open a page every ``step`` seconds (inside the idle limit) up to ``until``."""
    at = 0.0
    while at < until:
        clock.move_to(at)
        assert client.get("/helpdesk/").status_code == 200, f"signed out at {at / HOUR:.2f} h"
        at += step


def test_an_active_session_lasts_until_just_before_12_hours(client, db, make_staff, login, clock):
    login(make_staff("agent"))
    _stay_active(client, clock, until=11 * HOUR + 59 * MINUTE)
    clock.move_to(11 * HOUR + 59 * MINUTE)
    assert client.get("/helpdesk/").status_code == 200
    assert _expiries(db) == []


def test_an_active_session_ends_at_12_hours_and_one_second(client, db, make_staff, login, clock):
    agent = make_staff("agent")
    login(agent)
    _stay_active(client, clock, until=12 * HOUR)
    clock.move_to(12 * HOUR + 1)
    response = client.get("/helpdesk/")
    assert response.status_code == 302
    assert "/staff/login" in response.location
    assert _expiries(db) == [{"reason": "max_age"}]
    page = client.get(response.location)
    assert "12 hours after sign-in" in page.text
    # The session is really gone: the next page asks for a sign-in again.
    assert client.get("/helpdesk/").status_code == 302


def test_the_limit_is_a_setting(app, client, db, make_staff, login, clock):
    app.config["STAFF_SESSION_MAX_HOURS"] = 1
    login(make_staff("agent"))
    clock.move_to(HOUR + 1)
    assert client.get("/helpdesk/").status_code == 302
    assert _expiries(db) == [{"reason": "max_age"}]


def test_a_session_without_a_sign_in_time_ends(client, db, make_staff, login):
    login(make_staff("agent"))
    with client.session_transaction() as session:
        del session["staff_signed_in_at"]
    assert client.get("/helpdesk/").status_code == 302
    assert _expiries(db) == [{"reason": "max_age"}]


def test_signing_in_again_starts_a_new_12_hours(client, db, make_staff, login, clock):
    agent = make_staff("agent")
    login(agent)
    _stay_active(client, clock, until=12 * HOUR)
    clock.move_to(12 * HOUR + 1)
    assert client.get("/helpdesk/").status_code == 302
    login(agent)
    clock.move_to(12 * HOUR + 50 * MINUTE)  # 50 minutes into the new session
    assert client.get("/helpdesk/").status_code == 200
