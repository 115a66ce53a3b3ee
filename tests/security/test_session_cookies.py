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
