"""Presence on a ticket: the database on the embedded default, Redis when configured;
both expire within the window.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.models.base import utcnow
from tests.support import REDIS_URL, csrf_token


def _check_presence(db, ticket_id, make_staff):
    from portal.tickets import presence

    first, second = make_staff("agent", name="Ann"), make_staff("agent", name="Ben")
    now = utcnow()
    assert presence.touch(ticket_id, first.id, now) is True
    assert presence.touch(ticket_id, first.id, now) is False  # a reload is not an arrival
    assert presence.others(ticket_id, second.id, now) == ["Ann"]
    assert presence.others(ticket_id, first.id, now) == []
    # Both at once, as the ticket page asks.
    assert presence.visit(ticket_id, second.id, now) == (True, ["Ann"])
    assert presence.visit(ticket_id, first.id, now) == (False, ["Ben"])
    presence.leave(ticket_id, second.id)
    later = now + timedelta(seconds=presence.window() + 1)
    assert presence.others(ticket_id, second.id, later) == []  # expired
    assert presence.touch(ticket_id, first.id, later) is True
    presence.leave(ticket_id, first.id)
    assert presence.others(ticket_id, second.id, later) == []


def test_presence_in_the_database(app, db, make_ticket, make_staff):
    _check_presence(db, make_ticket().id, make_staff)


@pytest.fixture
def redis_app(make_app, redis):
    return make_app(REDIS_URL=REDIS_URL)


def test_presence_in_redis_expires_on_its_own(redis_app, redis, make_staff, make_ticket):
    from portal.extensions import db
    from portal.models import TicketViewer

    with redis_app.app_context():
        ticket = make_ticket()
        _check_presence(db, ticket.id, make_staff)
        from portal.tickets import presence

        presence.touch(ticket.id, 1)
        key = f"{redis_app.config['PORTAL_RQ_QUEUE']}:presence:ticket:{ticket.id}"
        assert 0 < redis.ttl(key) <= presence.window() + 5
        assert db.session.query(TicketViewer).count() == 0  # Redis only
        # A visit (the ticket page's arrival and its list of the others) is one command,
        # a script (loaded once); the names come from the kept list of active staff.
        from redis.client import Redis

        trips = []
        original = Redis.execute_command

        def command(self, *args, **options):
            trips.append(args[0])
            return original(self, *args, **options)

        Redis.execute_command = command
        try:
            presence.visit(ticket.id, 1)  # the script loaded, if it was not
            trips.clear()
            arrived, others = presence.visit(ticket.id, make_staff("agent", name="Eve").id)
        finally:
            Redis.execute_command = original
        assert trips == ["EVALSHA"] and arrived is True and others == ["Ann"]  # staff 1
        # Redis restarted (its scripts gone): the script is loaded again, nothing is lost.
        redis.script_flush()
        assert presence.visit(ticket.id, 1, names=True)[0] is False
        redis.delete(key)


def test_the_page_pings_and_names_the_others(app, client, make_staff, login, make_ticket):
    ticket = make_ticket()
    login(make_staff("agent", name="Cat"))
    token = csrf_token(client, f"/helpdesk/tickets/{ticket.id}")
    from portal.tickets import presence

    presence.touch(ticket.id, make_staff("agent", name="Dan").id)
    from portal.extensions import db

    db.session.commit()
    response = client.post(f"/helpdesk/tickets/{ticket.id}/presence",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json["others"] == ["Dan"] and response.headers["Cache-Control"] == "no-store"
    assert client.post(f"/helpdesk/tickets/{ticket.id}/presence").status_code == 400  # no CSRF
