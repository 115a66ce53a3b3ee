"""Property: every data row of a file is either imported or reported, never both or neither.

Runs on whichever database the session uses (SQLite by default, PostgreSQL with
``PORTAL_TEST_DB=postgresql``), so both are covered.
"""

from __future__ import annotations

import csv
import io
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.imports.rows import COLUMNS
from portal.imports.run import import_persons
from portal.models import Person
from tests.support.imports import good_row

_counter = itertools.count(1)
noise = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
BREAKERS = (
    "good", "good", "good", "dob", "email", "phone", "required", "category", "code",
    "contact", "short", "duplicate", "noise", "nul",
)


@st.composite
def row_specs(draw):
    kind = draw(st.sampled_from(BREAKERS))
    column = draw(st.sampled_from(COLUMNS))
    return kind, column, draw(noise)


def _build(specs):
    """The file text, and per data row: its first line and its stripped external_ref."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows, line = [], 2
    for index, (kind, column, text) in enumerate(specs):
        row = good_row(index + 1)
        if kind == "dob":
            row["date_of_birth"] = "19x0-01-01"
        elif kind == "email":
            row["email"] = "no-at-sign.example.com"
        elif kind == "phone":
            row["phone"] = "12"
        elif kind == "required":
            row[column if column in ("first_name", "last_name", "postcode") else "postcode"] = ""
        elif kind == "category":
            row["categories"] = "contact_details;moon_rocks"
        elif kind == "code":
            row["notice_code"] = "NOT-A-CODE"
        elif kind == "contact":
            row.update(email="", phone="", address_line1="")
        elif kind == "duplicate" and rows:
            row["external_ref"] = good_row(1)["external_ref"]
        elif kind == "noise":
            row[column] = text
        values = [row[name] for name in COLUMNS]
        if kind == "short":
            values = values[:-1]
        start = out.tell()
        writer.writerow(values)
        written = out.getvalue()[start:]
        if kind == "nul":
            text_line = written.replace("Ana", "A\x00na", 1)
            out.seek(start)
            out.truncate()
            out.write(text_line)
            written = text_line
        rows.append((line, row["external_ref"].strip()))
        line += written.count("\n")
    return out.getvalue(), rows


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(row_specs(), min_size=1, max_size=25))
def test_every_row_is_imported_or_reported_exactly_once(db, make_incident, tmp_path, specs):
    incident = make_incident()
    text, rows = _build(specs)
    path = tmp_path / f"prop-{next(_counter)}.csv"
    path.write_text(text, encoding="utf-8")
    summary = import_persons(incident.id, path)
    reported = {error.line for error in summary.errors}
    stored = set(db.session.execute(
        select(Person.external_ref).where(Person.incident_id == incident.id)).scalars())
    seen = set()
    for line, ref in rows:
        imported = ref in stored and ref not in seen
        seen.add(ref)
        assert imported != (line in reported), (line, ref, imported, sorted(reported))
    assert summary.imported == len(stored)
    assert summary.imported + summary.rejected == len(rows)
    assert summary.rejected == len(reported)
