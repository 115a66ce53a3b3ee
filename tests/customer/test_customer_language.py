"""A language chosen before verifying is kept after it, and saved for the person."""

from __future__ import annotations

from portal.models import Person
from tests.support.customer import actions, approve_notice, sign_in


def test_language_picked_before_verifying_is_kept_and_saved(client, db, make_incident,
                                                            make_person):
    incident = make_incident()
    approve_notice(db, incident, "en")
    approve_notice(db, incident, "es")
    person, plain = make_person(incident, language="en")
    client.get("/?lang=es")
    sign_in(client, plain)
    page = client.get("/notice")
    assert '<html lang="es">' in page.text
    db.session.expire_all()
    assert db.session.get(Person, person.id).language == "es"
    assert "preferences.changed" in actions(db)


def test_without_a_choice_the_saved_language_wins(client, db, make_incident, make_person):
    incident = make_incident()
    approve_notice(db, incident, "en")
    approve_notice(db, incident, "es")
    person, plain = make_person(incident, language="es")
    sign_in(client, plain)
    page = client.get("/notice", headers={"Accept-Language": "de"})
    assert '<html lang="es">' in page.text
    assert "preferences.changed" not in actions(db)
