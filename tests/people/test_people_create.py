"""``people.new_person``: the demo, the fixtures and the import compute the same columns."""

from __future__ import annotations

from portal.imports.rows import COLUMNS, digest_of, plain_columns
from portal.people.create import new_person
from portal.people.identity import PLAIN_FIELDS
from portal.security.crypto import generate_code

VALUES = {
    "external_ref": "R-1", "first_name": "Ana", "last_name": "García",
    "date_of_birth": "1980-02-03", "postcode": "28013", "policy_number": "POL-1234",
    "email": "ana@example.com", "phone": "+34915550123", "address_line1": "Calle 1",
    "address_line2": None, "city": "Madrid", "region": "Madrid", "country": "ES",
    "language": "es", "categories": ["health", "national_id"],
}


def test_new_person_has_the_columns_the_import_computes(app):
    values = {**VALUES, "notice_code": generate_code()}
    assert set(values) == set(COLUMNS)
    person = new_person(7, values)
    digest = digest_of(values)
    imported = plain_columns(values, digest)
    for name, value in imported.items():
        assert getattr(person, name) == value, name
    assert (person.incident_id, person.external_ref, person.language, person.categories) == (
        7, "R-1", "es", ["health", "national_id"])


def test_new_person_defaults_language_and_categories(app):
    values = {name: VALUES[name] for name in ("external_ref", *PLAIN_FIELDS)}
    person = new_person(1, {**values, "notice_code": generate_code()})
    assert person.language == "en" and person.categories == []
