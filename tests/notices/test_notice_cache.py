"""The notice cache answers exactly what build_for_person would, and is never stale for long."""

from __future__ import annotations

import time

from sqlalchemy import text

from portal.models import IncidentAdvice
from portal.notices import cache as notice_cache
from portal.notices.build import build_for_person
from tests.support.customer import approve_notice, interactions, sign_in


def test_same_notice_as_a_fresh_build_and_reused(app, db, make_incident, make_person):
    incident = make_incident(monitoring_provider="Watchful Ltd")
    approve_notice(db, incident)
    approve_notice(db, incident, language="es")
    person, _plain = make_person(incident, categories=["national_id", "health"])
    store = notice_cache.cache()
    for language in ("en", "es", "fr"):  # fr has no approved version: English
        cached = notice_cache.notice_for(person, language)
        assert cached == build_for_person(person, language)
    misses = store.misses
    again = notice_cache.notice_for(person, "es")
    assert store.misses == misses and again is notice_cache.notice_for(person, "es")
    other, _plain = make_person(incident, categories=["payment_card"])
    assert notice_cache.notice_for(other, "en") == build_for_person(other, "en")
    assert store.misses == misses + 1


def test_new_version_incident_edit_and_advice_change_the_key(app, db, make_incident,
                                                           make_person):
    incident = make_incident()
    approve_notice(db, incident)
    person, _plain = make_person(incident, categories=["policy_details"])
    assert notice_cache.notice_for(person).version == 1
    approve_notice(db, incident, version=2, what_changed="Dates added.")
    assert notice_cache.notice_for(person).version == 2

    incident.contact_hotline = "+1 800 555 0111"
    db.session.commit()
    assert notice_cache.notice_for(person).contact.hotline == "+1 800 555 0111"

    db.session.add(IncidentAdvice(incident_id=incident.id, category="policy_details",
                                  language="en", text="Your new policy number arrives by post."))
    db.session.commit()
    advice = notice_cache.notice_for(person).categories[0].advice
    assert "Your new policy number arrives by post." in advice
    assert notice_cache.notice_for(person) == build_for_person(person)


def test_nothing_approved_gives_none(app, db, make_incident, make_person):
    person, _plain = make_person(make_incident())
    assert notice_cache.notice_for(person) is None


def test_banner_is_applied_to_a_copy(app, db, make_incident, make_person):
    incident = make_incident()
    approve_notice(db, incident)
    approve_notice(db, incident, version=2, what_changed="Dates added.")
    person, _plain = make_person(incident)
    plain_notice = notice_cache.notice_for(person)
    with_banner = notice_cache.notice_for(person, seen_version=1)
    assert with_banner == build_for_person(person, seen_version=1)
    assert (with_banner.newer_version, with_banner.what_changed) == (2, "Dates added.")
    assert plain_notice.newer_version is None and notice_cache.notice_for(person) is plain_notice


def test_a_view_is_logged_once_per_session_and_version(client, db, make_incident, make_person):
    incident = make_incident()
    approve_notice(db, incident)
    _person, plain = make_person(incident)
    sign_in(client, plain)
    for _ in range(3):
        assert client.get("/notice").status_code == 200
    assert [row.details["version"] for row in interactions(db, "notice.viewed")] == [1]
    approve_notice(db, incident, version=2, what_changed="Dates added.")
    assert "has been updated since you last read it" in client.get("/notice").text
    assert "has been updated" not in client.get("/notice").text
    assert [row.details["version"] for row in interactions(db, "notice.viewed")] == [1, 2]

    client.post("/sign-out", data={"csrf_token": _token(client)})
    sign_in(client, plain)  # a new session reads the log: version 2 was seen, no banner
    assert "has been updated" not in client.get("/notice").text
    assert [row.details["version"] for row in interactions(db, "notice.viewed")] == [1, 2, 2]


def _token(client) -> str:
    from tests.support import csrf_token

    return csrf_token(client, "/notice")


def test_a_change_from_another_process_shows_once_the_stamp_expires(app, db, make_incident,
                                                                   make_person):
    incident = make_incident()
    approve_notice(db, incident)
    person, _plain = make_person(incident, categories=["policy_details"])
    app.config["NOTICE_STAMP_SECONDS"] = 60
    assert notice_cache.notice_for(person).contact.hotline != "+1 800 555 0123"
    # Another server process edits the incident: nothing in this process hears of it.
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE incident SET contact_hotline = '+1 800 555 0123', "
                                "updated_at = CURRENT_TIMESTAMP WHERE id = :id"),
                           {"id": incident.id})
    assert notice_cache.notice_for(person).contact.hotline != "+1 800 555 0123"
    db.session.expire_all()  # this test's own session must not answer from memory
    app.config["NOTICE_STAMP_SECONDS"] = 0.05
    time.sleep(0.1)  # the stamp read above is now older than the setting allows
    assert notice_cache.notice_for(person).contact.hotline == "+1 800 555 0123"


def test_create_app_registers_the_invalidation_listeners(app):
    """Registered by the factory (``init_app``), not as a side effect of an import."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    listeners = {"after_flush": notice_cache._note_notice_changes,
                 "after_commit": notice_cache._forget_stamps,
                 "after_rollback": notice_cache._drop_dirty_mark}
    for name, listener in listeners.items():
        assert event.contains(Session, name, listener)
