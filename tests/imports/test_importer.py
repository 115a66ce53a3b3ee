"""The CSV import of affected persons: validation, idempotence, logging, dry runs."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from portal.imports.run import ErrorWriter, ImportFileError, RowError, import_persons, safe_cell
from portal.models import Interaction, Person
from portal.security.crypto import code_index, format_code, generate_code
from tests.support.imports import csv_text, good_row, write_csv


def _people(db, incident):
    return db.session.execute(
        select(Person).where(Person.incident_id == incident.id).order_by(Person.external_ref)
    ).scalars().all()


def _actions(db):
    return db.session.execute(select(Interaction.action).order_by(Interaction.id)).scalars().all()


def _problems(summary):
    return sorted((e.line, e.column, e.code) for e in summary.errors)


def test_good_rows_are_imported_with_normalised_values(db, make_incident, tmp_path):
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [
        good_row(1, email="Ana.One@Example.COM", phone="(415) 555-0101"),
        good_row(2, country="FR", phone="01 42 68 53 00", language="FR",
                 categories=" health ; contact_details ;"),
        good_row(3, language="xx", email="", phone="", address_line1="1 Rue", city="Lyon"),
    ])
    summary = import_persons(incident.id, path)
    assert summary.line() == "imported 3, updated 0, unchanged 0, rejected 0"
    one, two, three = _people(db, incident)
    assert one.email == "Ana.One@example.com"
    assert one.phone == "+14155550101"
    assert two.phone == "+33142685300"  # the country column sets the phone's region
    assert two.language == "fr"
    assert two.categories == ["contact_details", "health"]
    assert three.language == incident.default_language  # unsupported language: the default
    assert three.email is None and three.phone is None
    for person in (one, two, three):
        assert person.notice_code and person.code_index == code_index(person.notice_code)
        assert person.row_digest
    assert _actions(db) == ["persons.imported"]
    details = db.session.execute(select(Interaction.details)).scalar_one()
    assert details["imported"] == 3 and details["rejected"] == 0


def test_bad_rows_are_reported_by_line_column_and_reason(db, make_incident, tmp_path):
    incident = make_incident()
    rows = [
        good_row(1),                                            # line 2
        good_row(2, date_of_birth="1980-02-30"),                # 3
        good_row(3, first_name=""),                             # 4
        good_row(4, phone="12"),                                # 5
        good_row(5, email="not an email"),                      # 6
        good_row(6, categories="health;teleportation"),         # 7
        good_row(7, email="", phone="", address_line1=""),      # 8
        good_row(8, notice_code="ABC"),                         # 9
        good_row(9, date_of_birth="2999-01-01"),                # 10
        good_row(10, date_of_birth="03/04/1980"),               # 11
        good_row(11, categories=""),                            # 12
        good_row(1, first_name="Again"),                        # 13: repeated external_ref
        good_row(12),                                           # 14
    ]
    path = write_csv(tmp_path / "p.csv", rows)
    with path.open("a") as handle:
        handle.write("EXT-X,too,few\n")                         # 15
    out = io.StringIO()
    summary = import_persons(incident.id, path, errors_out=out)
    assert summary.imported == 2 and summary.rejected == 12
    assert _problems(summary) == [
        (3, "date_of_birth", "dob_format"),
        (4, "first_name", "required"),
        (5, "phone", "phone_invalid"),
        (6, "email", "email_invalid"),
        (7, "categories", "categories_unknown"),
        (8, "email|phone|address_line1", "no_contact"),
        (9, "notice_code", "code_invalid"),
        (10, "date_of_birth", "dob_future"),
        (11, "date_of_birth", "dob_format"),
        (12, "categories", "categories_missing"),
        (13, "external_ref", "duplicate_ref"),
        (15, "", "field_count"),
    ]
    assert [p.external_ref for p in _people(db, incident)] == ["EXT-000001", "EXT-000012"]
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0] == ["line", "column", "reason"]
    assert ["7", "categories", "contains unknown categories: teleportation"] in lines
    assert ["13", "external_ref", "repeats the external_ref of line 2"] in lines
    assert ["15", "", "has 3 fields; the header has 16"] in lines
    # reasons name the problem, never the value
    assert "not an email" not in out.getvalue() and "03/04/1980" not in out.getvalue()


def test_bom_and_reordered_columns_are_read(db, make_incident, tmp_path):
    incident = make_incident()
    from portal.imports.rows import COLUMNS

    header = tuple(reversed(COLUMNS))
    path = write_csv(tmp_path / "p.csv", [good_row(1), good_row(2)], bom=True, header=header)
    summary = import_persons(incident.id, path)
    assert summary.imported == 2 and summary.rejected == 0
    assert [p.first_name for p in _people(db, incident)] == ["Ana", "Ana"]


def test_quoted_fields_with_newlines_keep_their_first_line_number(db, make_incident, tmp_path):
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [
        good_row(1, address_line1="Line one\nline two"),  # lines 2-3
        good_row(2, email="bad"),                         # line 4
    ])
    summary = import_persons(incident.id, path)
    assert summary.imported == 1
    assert _problems(summary) == [(4, "email", "email_invalid")]
    assert _people(db, incident)[0].address_line1 == "Line one\nline two"


def test_undecodable_bytes_are_a_clear_error_and_write_nothing(db, make_incident, tmp_path):
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [good_row(1), good_row(2), good_row(3)])
    data = path.read_bytes().replace(b"Tester3", b"Tester\xff3")
    path.write_bytes(data)
    with pytest.raises(ImportFileError, match=r"line 4: the file is not UTF-8"):
        import_persons(incident.id, path)
    assert _people(db, incident) == []
    assert _actions(db) == []


def test_utf8_check_reads_in_chunks_without_splitting_characters(tmp_path):
    """The first pass decodes 1 MiB chunks: a character across a chunk boundary is fine,
    a sequence cut short at the very end of the file is reported with its line."""
    from portal.imports.csv_file import check_file

    header = csv_text([]).encode()
    filler = b"x" * ((1 << 20) - len(header) - 1)  # "\xc3" is the last byte of chunk one
    path = tmp_path / "p.csv"
    path.write_bytes(header + filler + "é\n".encode())
    assert check_file(path)[1] == 16
    path.write_bytes(header + b"a\nb\xc3")
    with pytest.raises(ImportFileError, match=r"line 3: the file is not UTF-8 \(undecodable "
                                              r"byte at position 2 of the line\)"):
        check_file(path)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (("external_ref", "first_name"), "missing columns: last_name"),
        (("external_ref", "first_name", "last_name", "date_of_birth", "postcode",
          "policy_number", "email", "phone", "address_line1", "address_line2", "city",
          "region", "country", "language", "categories", "notice_code", "shoe_size"),
         "unknown columns: 'shoe_size'"),
    ],
)
def test_wrong_header_is_refused(db, make_incident, tmp_path, header, message):
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [good_row(1)], header=header)
    with pytest.raises(ImportFileError, match=message):
        import_persons(incident.id, path)
    assert _people(db, incident) == []


def test_empty_and_missing_files_are_refused(db, make_incident, tmp_path):
    incident = make_incident()
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ImportFileError, match="empty"):
        import_persons(incident.id, tmp_path / "empty.csv")
    with pytest.raises(ImportFileError, match="no such file"):
        import_persons(incident.id, tmp_path / "missing.csv")


def test_reimporting_the_same_file_changes_nothing(db, make_incident, tmp_path):
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [good_row(n) for n in range(1, 6)] + [
        good_row(6, email="bad")])
    first = import_persons(incident.id, path)
    before = {(p.external_ref, p.notice_code, p.updated_at) for p in _people(db, incident)}
    second = import_persons(incident.id, path)
    assert first.line() == "imported 5, updated 0, unchanged 0, rejected 1"
    assert second.line() == "imported 0, updated 0, unchanged 5, rejected 1"
    db.session.expire_all()
    after = {(p.external_ref, p.notice_code, p.updated_at) for p in _people(db, incident)}
    assert before == after
    assert _actions(db) == ["persons.imported", "persons.imported"]


def test_a_changed_row_updates_the_person_and_logs_field_names_only(db, make_incident,
                                                                    tmp_path):
    incident = make_incident()
    import_persons(incident.id, write_csv(tmp_path / "a.csv", [good_row(1), good_row(2)]))
    person = _people(db, incident)[0]
    code = person.notice_code
    changed = good_row(1, email="new.address@example.org", categories="health")
    summary = import_persons(incident.id, write_csv(tmp_path / "b.csv", [changed, good_row(2)]))
    assert summary.line() == "imported 0, updated 1, unchanged 1, rejected 0"
    db.session.expire_all()
    person = _people(db, incident)[0]
    assert person.email == "new.address@example.org"
    assert person.categories == ["health"]
    assert person.notice_code == code  # a generated code survives updates
    log = db.session.execute(
        select(Interaction).where(Interaction.action == "person.updated")
    ).scalar_one()
    assert log.person_id == person.id
    assert log.details == {"fields": ["categories", "email"], "via": "import"}
    assert "new.address" not in str(log.details)


def test_dry_run_validates_and_writes_nothing(db, make_incident, tmp_path):
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [good_row(1), good_row(2, email="bad")])
    summary = import_persons(incident.id, path, dry_run=True)
    assert summary.dry_run
    assert summary.line() == "imported 1, updated 0, unchanged 0, rejected 1"
    assert _people(db, incident) == []
    assert _actions(db) == []


def test_supplied_notice_codes_are_kept_and_must_be_unique(db, make_incident, make_person,
                                                           tmp_path):
    incident = make_incident()
    taken = generate_code()
    make_person(incident=incident, notice_code=taken)
    mine = generate_code()
    rows = [
        good_row(1, notice_code=mine.replace("-", "").lower()),
        good_row(2, notice_code=mine),
        good_row(3, notice_code=taken),
    ]
    summary = import_persons(incident.id, write_csv(tmp_path / "p.csv", rows))
    assert summary.imported == 1
    assert _problems(summary) == [(3, "notice_code", "code_duplicate_file"),
                                  (4, "notice_code", "code_taken")]
    person = db.session.execute(
        select(Person).where(Person.external_ref == "EXT-000001")).scalar_one()
    assert person.notice_code == format_code(mine)
    assert person.code_index == code_index(mine)


def test_a_generated_code_already_taken_is_drawn_again(db, make_incident, make_person,
                                                      tmp_path, monkeypatch):
    import portal.imports.rows

    incident = make_incident()
    _person, plain = make_person(incident=make_incident())
    draws = iter([plain["notice_code"]])  # the first draw collides with another incident's
    monkeypatch.setattr(portal.imports.rows, "generate_code",
                        lambda: next(draws, None) or generate_code())
    summary = import_persons(incident.id, write_csv(tmp_path / "p.csv", [good_row(1)]))
    assert summary.line() == "imported 1, updated 0, unchanged 0, rejected 0"
    person = _people(db, incident)[0]
    assert person.notice_code != plain["notice_code"]
    assert person.code_index == code_index(person.notice_code)
    assert person.email == "ana1@example.com" and person.categories == good_row(1)[
        "categories"].split(";")


def test_statistics_refresh_runs_as_the_table_grows(db, make_incident, tmp_path, monkeypatch):
    """The per-column ANALYZE (PostgreSQL only; nothing on SQLite) runs without error."""
    import portal.imports.run

    calls = []
    analyse = portal.imports.run._Run._analyse
    monkeypatch.setattr(portal.imports.run, "ANALYZE_AFTER", 1)
    monkeypatch.setattr(portal.imports.run._Run, "_analyse",
                        lambda run: calls.append(run.inserted) or analyse(run))
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [good_row(n) for n in range(1, 4)])
    summary = import_persons(incident.id, path, batch_size=1)
    assert summary.line() == "imported 3, updated 0, unchanged 0, rejected 0"
    assert calls == [1, 2]  # then at 4 rows
    assert len(_people(db, incident)) == 3


def test_long_and_control_character_values_are_rejected(db, make_incident, tmp_path):
    incident = make_incident()
    rows = [good_row(1, external_ref="X" * 101), good_row(2, city="Bad\x07city")]
    summary = import_persons(incident.id, write_csv(tmp_path / "p.csv", rows))
    assert _problems(summary) == [(2, "external_ref", "too_long"), (3, "city", "control_chars")]


def test_worker_processes_give_the_same_result(db, make_incident, tmp_path):
    incident = make_incident()
    rows = [good_row(n) for n in range(1, 301)] + [good_row(301, phone="1")]
    path = write_csv(tmp_path / "p.csv", rows)
    summary = import_persons(incident.id, path, workers=2, batch_size=50)
    assert summary.line() == "imported 300, updated 0, unchanged 0, rejected 1"
    assert _problems(summary) == [(302, "phone", "phone_invalid")]
    again = import_persons(incident.id, path, workers=2, batch_size=50)
    assert again.line() == "imported 0, updated 0, unchanged 300, rejected 1"
    count = db.session.scalar(select(func.count(Person.id)))
    assert count == 300
    person = _people(db, incident)[299]
    assert person.email == "ana300@example.com" and person.phone == "+14155550300"


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"])
def test_error_cells_cannot_become_formulas(value):
    assert safe_cell(value) == "'" + value
    assert safe_cell("plain") == "plain"
    out = io.StringIO()
    writer = ErrorWriter(out)
    writer.write(RowError(3, value, "required"))
    row = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert row[1].startswith("'")


def test_seen_refs_remembers_first_lines_through_growth():
    from portal.imports.csv_file import SeenRefs

    seen = SeenRefs(capacity=4)
    for n in range(5000):
        assert seen.add(f"REF-{n}", n + 2) is None
    assert len(seen) == 5000
    assert seen.add("REF-0", 9999) == 2
    assert seen.add("REF-4999", 9999) == 5001
    assert seen.add("new", 9999) is None


def test_a_file_without_header_is_refused_without_echoing_its_first_row(db, make_incident,
                                                                       tmp_path):
    from tests.support.imports import csv_text

    incident = make_incident()
    text = csv_text([good_row(1), good_row(2)]).split("\n", 1)[1]  # drop the header
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(ImportFileError, match="no header found") as info:
        import_persons(incident.id, path)
    assert "Tester1" not in str(info.value) and "EXT-000001" not in str(info.value)
    mixed = tmp_path / "m.csv"
    mixed.write_text("external_ref,first_name,Smith@example.com\nx,y,z\n")
    with pytest.raises(ImportFileError, match="unknown columns: 1 not shown") as info:
        import_persons(incident.id, mixed)
    assert "example" not in str(info.value)
