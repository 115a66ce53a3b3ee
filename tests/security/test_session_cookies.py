"""Session cookies: re-sent only when the session changed; staff sessions stay in one browser."""

from __future__ import annotations

from tests.support.customer import approve_notice, sign_in


def test_reading_the_notice_again_sets_no_cookie(client, db, make_incident, make_person):
    incident = make_incident()
    approve_notice(db, incident)
    _person, plain = make_person(incident)
    sign_in(client, plain)
    client.get("/notice")  # the first view records what was read in the session
    for _ in range(3):
        response = client.get("/notice")
        assert response.status_code == 200
        assert response.headers.getlist("Set-Cookie") == []


def test_a_staff_session_from_another_browser_is_dropped(client, make_staff, login):
    user = make_staff("agent")
    assert login(user).status_code == 302
    assert client.get("/helpdesk/").status_code == 200
    moved = client.get("/helpdesk/", headers={"User-Agent": "Another browser/1.0"})
    assert moved.status_code == 302 and "/staff/login" in moved.location


def test_a_staff_page_within_a_minute_sets_no_cookie_and_idling_still_ends(
        client, db, make_staff, login, monkeypatch):
    """The idle clock is stamped at most once a minute (``SEEN_PRECISION_SECONDS``), so an
    agent's next pages do not re-sign the session cookie; the idle limit still ends it."""
    import time

    from sqlalchemy import select

    from helpdesk.auth.session import SEEN_PRECISION_SECONDS
    from portal.models import Interaction

    start = time.time()
    now = [start]
    monkeypatch.setattr(time, "time", lambda: now[0])
    login(make_staff("agent"))
    client.get("/helpdesk/")  # the first page may still store what it needs (a form token)
    for step in (1, SEEN_PRECISION_SECONDS // 2, SEEN_PRECISION_SECONDS - 1):
        now[0] = start + step
        for url in ("/helpdesk/", "/helpdesk/tickets/"):
            response = client.get(url)
            assert response.status_code == 200
            assert response.headers.getlist("Set-Cookie") == [], (step, url)
    # A minute on, the page stamps the idle clock again: one new cookie.
    now[0] = start + SEEN_PRECISION_SECONDS
    response = client.get("/helpdesk/")
    assert response.status_code == 200 and response.headers.getlist("Set-Cookie")
    with client.session_transaction() as session:
        assert session["staff_seen_at"] == start + SEEN_PRECISION_SECONDS
    # Half a minute on (no stamp), then idle: the limit counts from the last stamp, so the
    # session ends at most a minute before the limit counted from the last page would.
    stamped = now[0]
    now[0] = stamped + SEEN_PRECISION_SECONDS // 2
    assert client.get("/helpdesk/").headers.getlist("Set-Cookie") == []
    now[0] = stamped + 60 * client.application.config["STAFF_IDLE_MINUTES"] + 1
    response = client.get("/helpdesk/")
    assert response.status_code == 302 and "/staff/login" in response.location
    db.session.expire_all()
    assert db.session.execute(select(Interaction.details).where(
        Interaction.action == "staff.session_expired")).scalars().all() == [{"reason": "idle"}]


def test_viewing_tickets_sets_no_cookie(client, make_staff, login, make_ticket):
    """The ticket page writes nothing to the session: its person is reached by the
    page's links, which name the ticket (``helpdesk.people.views``), not by a grant
    stored on every view, which re-signed and re-sent the cookie for each new ticket."""
    first, second = make_ticket(), make_ticket()
    login(make_staff("agent"))
    client.get(f"/helpdesk/tickets/{first.id}")  # may store the form token, once
    for ticket in (second, first, second):
        response = client.get(f"/helpdesk/tickets/{ticket.id}")
        assert response.status_code == 200 and response.headers.getlist("Set-Cookie") == []
    with client.session_transaction() as session:
        assert "person_grants" not in session
    assert client.get(f"/helpdesk/people/{first.person_id}").status_code == 404
    assert client.get(f"/helpdesk/people/{first.person_id}?ticket_id={first.id}"
                      ).status_code == 200
