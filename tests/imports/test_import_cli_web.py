"""``flask persons import`` and the helpdesk upload of affected persons."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from portal.models import ImportRun, Interaction, Person
from tests.support import csrf_token
from tests.support.imports import csv_text, good_row, write_csv


def _count(db, incident) -> int:
    return db.session.scalar(select(func.count(Person.id)).where(Person.incident_id == incident.id))


# --- the command ---------------------------------------------------------------------


def test_cli_imports_and_prints_the_summary(db, runner, make_incident, tmp_path):
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [good_row(1), good_row(2), good_row(3, email="x")])
    errors = tmp_path / "errors.csv"
    result = runner.invoke(args=["persons", "import", str(path), "--incident",
                                 incident.reference, "--errors", str(errors)])
    assert result.exit_code == 0, result.output
    assert "imported 2, updated 0, unchanged 0, rejected 1" in result.stdout
    assert "line 4, email: is not a valid email address" in result.output
    assert list(csv.reader(io.StringIO(errors.read_text()))) == [
        ["line", "column", "reason"], ["4", "email", "is not a valid email address"]]
    again = runner.invoke(args=["persons", "import", str(path), "--incident",
                                incident.reference])
    assert again.exit_code == 0
    assert "imported 0, updated 0, unchanged 2, rejected 1" in again.stdout
    assert _count(db, incident) == 2


def test_cli_dry_run_writes_nothing(db, runner, make_incident, tmp_path):
    incident = make_incident()
    path = write_csv(tmp_path / "p.csv", [good_row(1)])
    result = runner.invoke(args=["persons", "import", str(path), "--incident",
                                 incident.reference, "--dry-run"])
    assert result.exit_code == 0
    assert "dry run: imported 1, updated 0, unchanged 0, rejected 0" in result.stdout
    assert _count(db, incident) == 0
    assert db.session.scalar(select(func.count(Interaction.id))) == 0


def test_cli_fails_clearly_when_the_file_cannot_be_processed(db, runner, make_incident,
                                                             tmp_path):
    incident = make_incident()
    missing = runner.invoke(args=["persons", "import", str(tmp_path / "nope.csv"),
                                  "--incident", incident.reference])
    assert missing.exit_code != 0 and "no such file" in missing.output
    path = write_csv(tmp_path / "p.csv", [good_row(1)])
    unknown = runner.invoke(args=["persons", "import", str(path), "--incident", "NOPE"])
    assert unknown.exit_code != 0 and "no incident with reference 'NOPE'" in unknown.output
    bad_header = write_csv(tmp_path / "h.csv", [good_row(1)], header=("external_ref", "name"))
    header = runner.invoke(args=["persons", "import", str(bad_header), "--incident",
                                 incident.reference])
    assert header.exit_code != 0 and "wrong header" in header.output
    latin = tmp_path / "latin.csv"
    latin.write_bytes(path.read_bytes().replace(b"Ana", "Ané".encode("latin-1")))
    undecodable = runner.invoke(args=["persons", "import", str(latin), "--incident",
                                      incident.reference])
    assert undecodable.exit_code != 0 and "line 2: the file is not UTF-8" in undecodable.output
    assert _count(db, incident) == 0


# --- the web upload --------------------------------------------------------------------


def _upload(client, incident, text: str, filename="people.csv", dry_run=False,
            content_type="text/csv"):
    url = f"/helpdesk/incidents/{incident.reference}/imports/"
    data = {"csrf_token": csrf_token(client, url),
            "file": (io.BytesIO(text.encode()), filename, content_type)}
    if dry_run:
        data["dry_run"] = "y"
    return client.post(url, data=data, content_type="multipart/form-data")


def test_manager_uploads_and_sees_the_results(db, client, login, make_staff, make_incident):
    incident = make_incident()
    manager = make_staff("manager")
    login(manager)
    text = csv_text([good_row(1), good_row(2), good_row(3, date_of_birth="1990-13-01")])
    response = _upload(client, incident, text)
    assert response.status_code == 302
    run_url = response.location
    page = client.get(run_url)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Finished" in page.text
    assert re.search(r'id="count-imported">2<', page.text)
    assert re.search(r'id="count-rejected">1<', page.text)
    assert "is not a date in the form YYYY-MM-DD" in page.text
    run = db.session.execute(select(ImportRun)).scalar_one()
    assert run.status == "finished" and run.upload is None  # the upload is erased
    assert run.created_by_id == manager.id
    progress = client.get(f"{run_url}/progress").get_json()
    assert progress["done"] and progress["percent"] == 100 and progress["imported"] == 2
    errors = client.get(f"{run_url}/errors.csv")
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    assert "4,date_of_birth,is not a date in the form YYYY-MM-DD" in errors.text
    assert _count(db, incident) == 2
    actions = db.session.execute(
        select(Interaction.action, Interaction.actor_type, Interaction.actor_id)
        .where(Interaction.action.like("persons.%")).order_by(Interaction.id)).all()
    assert [a for a, *_ in actions] == ["persons.import_queued", "persons.imported"]
    assert all(kind == "staff" and who == manager.id for _a, kind, who in actions)
    listing = client.get(f"/helpdesk/incidents/{incident.reference}/imports/")
    assert "people.csv" in listing.text and manager.name in listing.text


def test_upload_reports_an_unreadable_file(db, client, login, make_staff, make_incident):
    incident = make_incident()
    login(make_staff("manager"))
    response = _upload(client, incident, "external_ref,age\nx,1\n")
    page = client.get(response.location)
    assert "The file could not be imported" in page.text and "wrong header" in page.text
    headless = _upload(client, incident, "x,1\n")
    assert "no header found" in client.get(headless.location).text
    runs = db.session.execute(select(ImportRun)).scalars().all()
    assert [run.status for run in runs] == ["failed", "failed"]
    # In the reader's language, the column names as they are in the file.
    german = client.get(response.location + "?lang=de").text
    assert "Zeile 1: falsche Kopfzeile (fehlende Spalten: first_name" in german
    assert "unbekannte Spalten: &#39;age&#39;" in german and "Erwartet: external_ref," in german
    french = client.get(headless.location + "?lang=fr").text
    assert "ligne 1 : aucun en-tête trouvé ; la première ligne doit nommer les colonnes" in french
    assert runs[0].error_message.startswith("line 1: wrong header (missing columns: ")


def test_upload_dry_run_changes_nothing(db, client, login, make_staff, make_incident):
    incident = make_incident()
    login(make_staff("manager"))
    response = _upload(client, incident, csv_text([good_row(1)]), dry_run=True)
    page = client.get(response.location)
    assert "Dry run" in page.text and re.search(r'id="count-imported">1<', page.text)
    assert _count(db, incident) == 0


def test_upload_type_checks(db, client, login, make_staff, make_incident):
    incident = make_incident()
    login(make_staff("manager"))
    wrong_name = _upload(client, incident, csv_text([good_row(1)]), filename="people.xlsx")
    assert wrong_name.status_code == 400 and "must be a .csv file" in wrong_name.text
    binary = _upload(client, incident, "PK\x00\x03 zip", content_type="application/zip")
    assert binary.status_code == 400 and "CSV text file" in binary.text
    assert db.session.scalar(select(func.count(ImportRun.id))) == 0


def test_upload_size_limit(app, db, client, login, make_staff, make_incident):
    incident = make_incident()
    login(make_staff("manager"))
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = _upload(client, incident, csv_text([good_row(n) for n in range(50)]))
    assert response.status_code == 413


def test_agents_cannot_import(db, client, login, make_staff, make_incident):
    incident = make_incident()
    login(make_staff("agent"))
    url = f"/helpdesk/incidents/{incident.reference}/imports/"
    assert client.get(url).status_code == 403
    assert client.post(url, data={}).status_code in (400, 403)


def test_runs_of_another_incident_are_not_found(db, client, login, make_staff, make_incident):
    first, second = make_incident(), make_incident()
    login(make_staff("manager"))
    response = _upload(client, first, csv_text([good_row(1)]))
    run_id = response.location.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/helpdesk/incidents/{second.reference}/imports/{run_id}"
                      ).status_code == 404


def test_the_uploaded_errors_csv_lists_problems_in_line_order():
    from portal.imports.csv_file import in_line_order

    text = "line,column,problem\r\n12,email,bad\r\n3,date_of_birth,bad\r\n7,,bad\r\n"
    lines = in_line_order(text).splitlines()
    assert lines[0] == "line,column,problem"
    assert [row.split(",")[0] for row in lines[1:]] == ["3", "7", "12"]
    assert in_line_order("line,column,problem\r\n") == "line,column,problem\r\n"
