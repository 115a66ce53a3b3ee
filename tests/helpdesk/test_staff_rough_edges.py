"""Issue 13 items 7 and 8: the demo's links follow its port; staff-side rough edges."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pyotp
import pytest

from portal.config import Config
from portal.imports.rows import COLUMNS

PASSWORD = "correct horse battery staple"  # the make_staff fixture's password


def token_of(client, url: str) -> str:
    page = client.get(url)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def row(n: int, **changes) -> dict:
    values = {
        "external_ref": f"EXT-{n:06d}", "first_name": "Ana", "last_name": f"Tester{n}",
        "date_of_birth": "1980-02-29", "postcode": "94105", "policy_number": f"POL-{n:08d}",
        "email": f"ana{n}@example.com", "phone": f"(415) 555-{n:04d}",
        "address_line1": f"{n} Main Street", "city": "San Francisco", "region": "CA",
        "country": "US", "language": "en", "categories": "contact_details;date_of_birth",
    }
    values.update(changes)
    return values


def csv_text(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for values in rows:
        writer.writerow([values.get(name, "") for name in COLUMNS])
    return out.getvalue()


@pytest.fixture
def manager(make_staff, login):
    user = make_staff("manager")
    assert login(user).status_code == 302
    return user


def upload(client, incident, text: str, dry_run=False):
    url = f"/helpdesk/incidents/{incident.reference}/imports/"
    data = {"csrf_token": token_of(client, url),
            "file": (io.BytesIO(text.encode()), "people.csv", "text/csv")}
    if dry_run:
        data["dry_run"] = "y"
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    return client.get(response.location)


# --- 7. the demo's links follow its port ------------------------------------------------------


def test_demo_links_follow_its_port_when_no_base_url_is_set(app, db, runner, monkeypatch):
    import flask_migrate

    from portal.demo.base import sample_person
    from portal.dispatch.messages import portal_link
    from portal.incidents.operations import find_incident

    monkeypatch.setattr(flask_migrate, "upgrade", lambda: None)  # the fixture built the schema
    app.config["PORTAL_BASE_URL"] = Config.PORTAL_BASE_URL  # as when PORTAL_BASE_URL is unset
    result = runner.invoke(args=["demo", "--no-serve", "--port", "5101"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5101/n/" in result.output
    assert app.config["PORTAL_BASE_URL"] == "http://127.0.0.1:5101"
    person = sample_person(find_incident("DEMO"))
    assert portal_link(person).startswith("http://127.0.0.1:5101/n/")


def test_demo_keeps_a_base_url_that_is_set(app, db, runner, monkeypatch):
    import flask_migrate

    monkeypatch.setattr(flask_migrate, "upgrade", lambda: None)
    app.config["PORTAL_BASE_URL"] = "https://portal.example"
    result = runner.invoke(args=["demo", "--no-serve", "--port", "5101"])
    assert result.exit_code == 0, result.output
    assert app.config["PORTAL_BASE_URL"] == "https://portal.example"


# --- 8. the incident page ---------------------------------------------------------------------


def test_filings_show_rule_names_in_a_keyboard_reachable_stacked_table(db, client, manager,
                                                                        make_incident):
    from portal.incidents.operations import add_filing
    from portal.rules import get_rule

    incident = make_incident(insurer_name="Example Mutual")
    add_filing(incident, authority="Data protection authority",
               filed_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC), rule_id="gdpr_art33")
    db.session.commit()
    page = client.get(f"/helpdesk/incidents/{incident.reference}")
    section = re.search(r'<section aria-labelledby="filings-h".*?</section>', page.text, re.S)
    html = section.group(0)
    assert str(get_rule("gdpr_art33").name) in html
    assert ">gdpr_art33<" not in html
    box = re.search(r'<div class="table-scroll"[^>]*>', html).group(0)
    assert 'tabindex="0"' in box and 'role="region"' in box
    assert 'aria-label="Regulator filings"' in box
    assert 'class="stack-on-narrow"' in html and 'data-label="Rule"' in html


def test_every_data_table_scroll_box_is_a_named_focusable_region(app):
    with app.test_request_context():
        from flask import render_template_string

        html = render_template_string(
            '{% from "macros.html" import data_table %}'
            '{% call data_table("Things", ["A"]) %}<tr><td>1</td></tr>{% endcall %}'
            '{% call data_table("Other", ["B"], region="h") %}<tr><td>2</td></tr>{% endcall %}')
    boxes = re.findall(r'<div class="table-scroll"[^>]*>', html)
    assert all('role="region"' in box and 'tabindex="0"' in box for box in boxes)
    assert 'aria-label="Things"' in boxes[0] and 'aria-labelledby="h"' in boxes[1]


# --- 8. imports -------------------------------------------------------------------------------


def test_import_problems_are_listed_in_line_order(db, client, manager, make_incident):
    incident = make_incident()
    # Line 4 repeats line 2's reference: that problem is found before line 3's bad date.
    text = csv_text([row(1), row(2, date_of_birth="1990-13-01"), row(1)])
    page = upload(client, incident, text)
    lines = [int(n) for n in re.findall(r'data-label="Line" class="num">(\d+)<', page.text)]
    assert lines == [3, 4]
    assert "2 problems" in page.text and "First 2 problems" not in page.text
    assert "2 rows were not imported" in page.text


def test_one_problem_reads_in_the_singular(db, client, manager, make_incident):
    incident = make_incident()
    page = upload(client, incident, csv_text([row(1), row(2, date_of_birth="1990-13-01")]))
    assert ">1 problem<" in page.text and "1 problems" not in page.text
    assert "1 row was not imported" in page.text


def test_the_summary_lists_problems_in_line_order(db, app, make_incident, tmp_path):
    from portal.imports.run import import_persons

    incident = make_incident()
    path = tmp_path / "people.csv"
    path.write_text(csv_text([row(1), row(2, date_of_birth="x"), row(1)]))
    summary = import_persons(incident.id, path, dry_run=True)
    assert [error.line for error in summary.errors] == [3, 4]


def test_a_dry_run_says_would_import(db, client, manager, make_incident):
    incident = make_incident()
    page = upload(client, incident, csv_text([row(1), row(2)]), dry_run=True)
    assert "Would import" in page.text and ">Imported<" not in page.text
    assert re.search(r'id="count-imported">2<', page.text)


# --- 8. counts, approval, two-factor ----------------------------------------------------------


def test_one_open_ticket_reads_in_the_singular(app, client, manager, monkeypatch):
    import helpdesk.dashboard.views as dashboard

    monkeypatch.setattr(dashboard, "open_ticket_count", lambda incident_ids=None: 1)
    page = client.get("/helpdesk/")
    assert "open ticket waiting in the queue" in page.text
    assert "open tickets" not in page.text


def test_the_author_is_told_a_manager_or_an_admin_must_approve(app, db, make_incident,
                                                               make_staff):
    from portal.models import NoticeVersion
    from portal.notices.workflow import approval_problems

    author = make_staff("admin")
    incident = make_incident()
    version = NoticeVersion(incident_id=incident.id, version=1, language="en", state="draft",
                            what_happened="x", author_id=author.id)
    db.session.add(version)
    db.session.commit()
    problems = approval_problems(version, author.id)
    assert any("another manager or an admin must approve it" in p for p in problems)


def test_a_reused_two_factor_code_is_called_already_used(client, make_staff):
    secret = pyotp.random_base32()
    user = make_staff("manager", totp_secret=secret)

    def password_step():
        client.post("/staff/login", data={"email": user.email, "password": PASSWORD,
                                          "csrf_token": token_of(client, "/staff/login")})

    password_step()
    code = pyotp.TOTP(secret).now()
    token = token_of(client, "/staff/login/code")
    assert client.post("/staff/login/code",
                       data={"code": code, "csrf_token": token}).status_code == 302
    client.post("/staff/logout", data={"csrf_token": token_of(client, "/helpdesk/")})
    password_step()
    token = token_of(client, "/staff/login/code")
    replay = client.post("/staff/login/code", data={"code": code, "csrf_token": token})
    assert replay.status_code == 401
    assert "already used" in replay.text and "time on your phone" not in replay.text
    wrong = client.post("/staff/login/code", data={"code": "000000" if code != "000000"
                                                   else "111111", "csrf_token": token})
    assert "time on your phone" in wrong.text
