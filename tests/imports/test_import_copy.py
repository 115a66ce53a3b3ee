"""New persons reach PostgreSQL as binary COPY tuples: what is stored is what the ORM reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from portal import create_app
from portal.imports.pgcopy import SIGNATURE, TRAILER, CopyRows, replace_fields
from portal.imports.rows import INSERT_COLUMNS
from portal.people.identity import identity_columns
from portal.security.crypto import code_index, keyring
from tests.support import make_settings
from tests.support.imports import good_row, write_csv

AWKWARD = {  # characters text COPY would have to escape, and non-ASCII ones
    "first_name": "Zoë\\Anne",
    "address_line1": "1 Rue \"Haute\"\nBâtiment B",
    "address_line2": "tab\there, back\\slash, \\N",
    "city": "Łódź",
    "region": "\\.",
    "categories": "health;contact_details",
}


def _check_person(person, row: dict, started: datetime) -> None:
    assert person.first_name == row["first_name"]
    assert person.last_name == row["last_name"]
    assert person.address_line1 == row["address_line1"]
    assert person.address_line2 == (row["address_line2"] or None)
    assert person.city == row["city"] and person.region == row["region"]
    assert person.email == row["email"] and person.phone == "+1" + "".join(
        ch for ch in row["phone"] if ch.isdigit())
    assert person.categories == sorted(row["categories"].split(";"))
    assert person.language == "en"
    assert (person.consent_sms, person.consent_email) == (True, True)
    assert (person.sms_opt_out, person.email_opt_out) == (False, False)
    assert person.failed_verifications == 0
    assert started <= person.created_at == person.updated_at <= datetime.now(UTC)
    assert person.code_index == code_index(person.notice_code)
    plain = {name: getattr(person, name) for name in (
        "first_name", "last_name", "date_of_birth", "postcode", "policy_number", "email",
        "phone", "address_line1", "address_line2", "city", "region", "country", "notice_code")}
    expected = identity_columns(plain)
    for name in ("email_index", "phone_index", "policy_index", "name_dob_index",
                 "postcode_digest", "dob_digest", "policy_last4_digest"):
        assert getattr(person, name) == expected[name]


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [0, 2])
def test_binary_copy_stores_values_that_decrypt_and_match(postgres_server, data_keys, tmp_path,
                                                          workers):
    from portal.extensions import db
    from portal.imports.run import import_persons
    from portal.models import Incident, Person

    url = postgres_server.create("portal_copy")
    app = create_app(make_settings(url, data_keys))
    try:
        with app.app_context():
            upgrade()
            incident = Incident(reference="COPY", title="Binary COPY")
            db.session.add(incident)
            db.session.commit()
            rows = [good_row(1, **AWKWARD), good_row(2), good_row(3, address_line2="Apt 4")]
            path = write_csv(tmp_path / "p.csv", rows)
            started = datetime.now(UTC)
            summary = import_persons(incident.id, path, workers=workers, batch_size=2)
            assert summary.line() == "imported 3, updated 0, unchanged 0, rejected 0"
            people = db.session.execute(
                select(Person).order_by(Person.external_ref)).scalars().all()
            for person, row in zip(people, rows, strict=True):
                _check_person(person, row, started)
            raw = db.session.execute(text(
                "SELECT first_name, categories::text FROM person "
                "WHERE external_ref = 'EXT-000001'")).one()
            assert keyring().decrypt(raw[0], "person.first_name") == "Zoë\\Anne"  # AES-GCM token
            assert raw[1] == '["contact_details", "health"]'
            again = import_persons(incident.id, path, workers=workers, batch_size=2)
            assert again.line() == "imported 0, updated 0, unchanged 3, rejected 0"
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
        postgres_server.drop(url)


def test_replace_fields_changes_only_the_named_columns():
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    columns = {name: f"value of {name}" for name in INSERT_COLUMNS}
    columns.update(categories=["health"], address_line2=None)
    row = CopyRows(INSERT_COLUMNS, 7, now).row(columns)
    changed = replace_fields(row, INSERT_COLUMNS, {"notice_code": "new code", "code_index": "ix"})
    columns.update(notice_code="new code", code_index="ix")
    assert changed == CopyRows(INSERT_COLUMNS, 7, now).row(columns)
    assert SIGNATURE.startswith(b"PGCOPY\n\xff\r\n\x00") and TRAILER == b"\xff\xff"
