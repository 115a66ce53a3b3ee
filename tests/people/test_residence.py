"""A person's residence code: the state or country regulators count residents by."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Person
from portal.people.residence import residence_code, residence_name


@pytest.mark.parametrize(("country", "region", "code"), [
    ("US", "CA", "US-CA"),
    ("usa", "california", "US-CA"),
    ("United States", "New York", "US-NY"),
    ("Estados Unidos", "Texas", "US-TX"),
    ("U.S.A.", "Washington D.C.", "US-DC"),
    ("US", "Puerto Rico", "US-PR"),
    ("US", "Atlantis", "US"),          # a US address whose state is not recognised
    ("US", None, "US"),
    ("Deutschland", "Bayern", "DE"),
    ("de", "", "DE"),
    ("Allemagne", None, "DE"),
    ("España", "Madrid", "ES"),
    ("espana", "Madrid", "ES"),        # accents and case do not matter
    ("  France ", "Île-de-France", "FR"),
    ("Royaume-Uni", None, "GB"),
    ("UK", "Wales", "GB"),
    ("Canada", "ON", "CA"),            # outside the US: the country only
    (None, "CA", None),                # the region alone is ambiguous (California or Canada)
    ("", "Texas", None),
    ("Narnia", "Lantern Waste", None),
    ("ZZ", None, None),
])
def test_residence_code(country, region, code):
    assert residence_code(country, region) == code


def test_residence_name():
    assert residence_name("US-CA") == "California (United States)"
    assert residence_name("DE", "de") == "Deutschland"
    assert residence_name("FR", "es") == "Francia"


def test_import_stores_the_residence_and_a_changed_row_updates_it(db, make_incident, tmp_path):
    from portal.imports.run import import_persons
    from tests.support.imports import good_row, write_csv

    incident = make_incident()
    rows = [good_row(1), good_row(2), good_row(3)]
    rows[1].update(country="Deutschland", region="Berlin")
    rows[2].update(country="", region="")
    summary = import_persons(incident.id, write_csv(tmp_path / "a.csv", rows))
    assert summary.imported == 3
    stored = dict(db.session.execute(select(Person.external_ref, Person.residence)).all())
    assert stored == {rows[0]["external_ref"]: "US-CA", rows[1]["external_ref"]: "DE",
                      rows[2]["external_ref"]: None}

    rows[0].update(country="United States", region="Oregon")
    summary = import_persons(incident.id, write_csv(tmp_path / "b.csv", rows))
    assert summary.updated == 1
    db.session.expire_all()
    person = db.session.execute(
        select(Person).where(Person.external_ref == rows[0]["external_ref"])).scalar_one()
    assert person.residence == "US-OR"


def _backfill(url: str, data_keys) -> None:
    """People stored before migration 0024 get their residence from their encrypted address."""
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.models import Incident
    from portal.people.create import new_person
    from portal.security.crypto import generate_code
    from tests.support import make_settings

    app = create_app(make_settings(url, data_keys))
    with app.app_context():
        upgrade()
        incident = Incident(reference="OLD-1", title="Before residence", status="active",
                            discovered_at=datetime.now(UTC), jurisdictions=[], categories=[])
        db.session.add(incident)
        db.session.flush()
        places = [("US", "NY"), ("Francia", None), (None, None), ("Narnia", "North")]
        for n, (country, region) in enumerate(places):
            db.session.add(new_person(incident.id, {
                "external_ref": f"OLD-{n}", "first_name": "Ann", "last_name": "Old",
                "date_of_birth": "1970-01-01", "postcode": "10001", "email": f"o{n}@x.example",
                "country": country, "region": region, "notice_code": generate_code()}))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0023")  # as if they had been imported before 0024
        upgrade()
        stored = dict(db.session.execute(select(Person.external_ref, Person.residence)).all())
        assert stored == {"OLD-0": "US-NY", "OLD-1": "FR", "OLD-2": None, "OLD-3": None}
        db.session.remove()
        db.engine.dispose()


def test_migration_fills_the_residence_of_people_imported_before_on_sqlite(tmp_path, data_keys):
    _backfill(f"sqlite:///{tmp_path / 'residence.sqlite3'}", data_keys)


@pytest.mark.postgres
def test_migration_fills_the_residence_of_people_imported_before_on_postgresql(
        postgres_server, data_keys):
    url = postgres_server.create("portal_residence")
    try:
        _backfill(url, data_keys)
    finally:
        postgres_server.drop(url)
