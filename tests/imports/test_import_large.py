"""The issue's acceptance check: 10,000 rows with 50 broken ones."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from portal.imports.run import import_persons
from portal.models import Interaction, Person
from tests.support.imports import good_row, write_csv

BREAKS = (
    ("date_of_birth", "1980-02-30", "dob_format"),
    ("email", "someone@", "email_invalid"),
    ("phone", "555", "phone_invalid"),
    ("categories", "health;unknown_thing", "categories_unknown"),
    ("last_name", "", "required"),
)


def test_ten_thousand_rows_with_fifty_broken(db, make_incident, tmp_path):
    incident = make_incident()
    rng = random.Random(50)
    broken_at = set(rng.sample(range(10_000), 50))
    rows, expected = [], []
    for index in range(10_000):
        if index in broken_at:
            column, value, code = BREAKS[index % len(BREAKS)]
            rows.append(good_row(index, **{column: value}))
            expected.append((index + 2, column, code))
        else:
            rows.append(good_row(index))
    path = write_csv(tmp_path / "big.csv", rows)

    first = import_persons(incident.id, path)
    assert first.line() == "imported 9950, updated 0, unchanged 0, rejected 50"
    assert sorted((e.line, e.column, e.code) for e in first.errors) == sorted(expected)
    assert db.session.scalar(
        select(func.count(Person.id)).where(Person.incident_id == incident.id)) == 9950

    second = import_persons(incident.id, path)
    assert second.line() == "imported 0, updated 0, unchanged 9950, rejected 50"
    assert db.session.scalar(select(func.count(Person.id))) == 9950
    assert db.session.scalar(
        select(func.count(Interaction.id)).where(Interaction.action == "person.updated")) == 0
