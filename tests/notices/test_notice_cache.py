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


def test_create_app_registers_the_stamps_as_a_kept_list(app):
    """The stamps are one of the application's kept lists (``portal.core.lists``), given
    by the factory, whose listeners are registered by ``init_app``, not by an import."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from portal.core import lists

    assert app.extensions["portal.lists_sources"]["notice_stamps"] == {
        "incident", "notice_version", "incident_advice"}
    assert event.contains(Session, "after_flush", lists._note_written)
    assert event.contains(Session, "after_transaction_end", lists._forget_touched)


def test_a_transaction_that_writes_an_incident_empties_the_stamps_even_rolled_back(
        app, db, make_incident, make_person):
    """A stamp read inside a transaction that edited the incident holds its uncommitted
    ``updated_at``: rolled back or committed, the transaction's end empties the stamps."""
    from portal.core import lists

    incident = make_incident()
    approve_notice(db, incident)
    person, _plain = make_person(incident, categories=["policy_details"])
    app.config["NOTICE_STAMP_SECONDS"] = 60
    store_key = lists.store_key(notice_cache.STAMPS)
    notice_cache.notice_for(person)
    assert len(app.extensions[store_key]) == 1
    incident.contact_hotline = "+1 800 555 0199"
    db.session.flush()
    assert len(app.extensions[store_key]) == 1  # not yet: the transaction is open
    db.session.rollback()
    assert len(app.extensions[store_key]) == 0
    assert notice_cache.notice_for(person).contact.hotline != "+1 800 555 0199"
