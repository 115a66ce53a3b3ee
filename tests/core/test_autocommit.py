"""portal.core.autocommit: single statements outside the request's transaction (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import defer

from portal.core import autocommit
from portal.models import Person


def test_a_row_read_outside_joins_the_session_and_loads_deferred_fields(db, make_incident,
                                                                     make_person):
    person, plain = make_person(make_incident())
    person_id = person.id
    db.session.commit()
    db.session.expunge_all()
    statement = (select(Person, Person.incident_id).options(defer(Person.postcode))
                 .where(Person.id == bindparam("id")))
    loaded, incident_id = autocommit.read_row(statement, {"id": person_id})
    assert loaded in db.session and incident_id == loaded.incident_id
    assert loaded.postcode == plain["postcode"]  # deferred: decrypted on first use
    loaded.language = "de"
    db.session.commit()
    assert db.session.execute(select(Person.language).where(Person.id == person_id)).scalar() \
        == "de"
    assert autocommit.read_row(statement, {"id": -1}) is None


def test_a_statement_run_now_is_committed_before_the_session_is(db, make_incident,
                                                               make_person):
    if not autocommit.available():
        pytest.skip("autocommit statements are PostgreSQL only; SQLite runs them in the session")
    person, _plain = make_person(make_incident())
    db.session.commit()
    statement = (update(Person).where(Person.id == bindparam("person_id"))
                 .values(failed_verifications=3).returning(Person.failed_verifications))
    assert autocommit.scalar_now(statement, {"person_id": person.id}) == 3
    # Another connection sees it at once: nothing waits for the request's commit.
    with db.engine.connect() as other:
        assert other.execute(text("SELECT failed_verifications FROM person WHERE id = :id"),
                             {"id": person.id}).scalar() == 3
