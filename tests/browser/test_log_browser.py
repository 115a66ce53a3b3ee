"""The log review pages in headless Chromium: filters, timelines, a reveal, the CSV export
and the reports in German; axe-clean and reflowing to 360 px; screenshots."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.browser_support import axe_violations, fits_width, shoot
from tests.support import STAFF_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def log_rows(db, reports_incident):
    """A ticket-linked row with a personal value, and a row whose action begins with '='."""
    from portal.audit import log as audit
    from portal.models import Ticket

    incident, people = reports_incident["incident"], reports_incident["people"]
    ticket = db.session.execute(select(Ticket).where(
        Ticket.incident_id == incident.id).order_by(Ticket.id)).scalars().first()
    audit.record("ticket.replied", actor_type="staff", actor_id=reports_incident["agent"].id,
                 incident_id=incident.id, person_id=people[0].id, ticket_id=ticket.id,
                 details={"topic": "general", "email": "zebulon@example.org"})
    audit.record("=HYPERLINK(\"http://evil.example\")", actor_type="system",
                 details={"count": 1})
    db.session.commit()
    return {"incident": incident, "person": people[0], "ticket": ticket}


def _check(page, axe_source, artifacts_dir, name):
    assert axe_violations(page, axe_source) == [], name
    page.set_viewport_size({"width": 360, "height": 800})
    assert fits_width(page), f"{name} scrolls sideways at 360 px"
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, artifacts_dir, name, widths=(1280, 360))


def test_manager_reviews_the_log(page, live_server, axe_source, artifacts_dir, make_staff,
                                 log_rows, db):
    from portal.models import Interaction

    manager = make_staff("manager", email="morgan@staff.example")
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/helpdesk/")

    page.goto(f"{live_server}/helpdesk/log/")
    assert page.get_by_role("heading", name="Integrity of the log").is_visible()
    _check(page, axe_source, artifacts_dir, "log-index")

    # Filter by an action prefix and a person through the form
    person_ref = log_rows["person"].external_ref
    page.get_by_label("Action", exact=True).fill("verify.")
    page.get_by_label("Incident", exact=True).fill(log_rows["incident"].reference)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/helpdesk/log/?**action=verify.**")
    table = page.locator("table.log-table")
    actions = table.locator("code").all_inner_texts()
    assert actions and all(name.startswith("verify.") for name in actions)
    page.get_by_label("Action", exact=True).fill("notice.")
    page.get_by_label("Person", exact=True).fill(person_ref)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**person={person_ref}**")
    assert set(table.locator("code").all_inner_texts()) == {"notice.viewed"}
    assert table.locator("tbody tr").count() == 2
    _check(page, axe_source, artifacts_dir, "log-filtered")

    # A person's timeline, followed from a row
    page.goto(f"{live_server}/helpdesk/log/?action=ticket.replied")
    page.get_by_role("link", name=person_ref).first.click()
    page.wait_for_url(f"**/helpdesk/log/?person={person_ref}**")
    assert page.get_by_role("heading", name=f"Timeline of person {person_ref}").is_visible()
    assert set(table.locator("code").all_inner_texts()) >= {"ticket.replied", "notice.viewed"}

    # A ticket's timeline, followed from the same row
    number = log_rows["ticket"].id
    page.get_by_role("link", name=f"#{number}").first.click()
    page.wait_for_url(f"**/helpdesk/log/?ticket={number}")
    assert page.get_by_role("heading", name=f"Timeline of ticket #{number}").is_visible()
    assert table.locator("code").all_inner_texts() == ["ticket.replied"]
    assert "zebulon@example.org" not in page.content()
    _check(page, axe_source, artifacts_dir, "log-ticket-timeline")

    # Reveal the masked value with a reason; the reveal is itself logged
    page.get_by_role("link", name="Reveal").first.click()
    assert page.get_by_role("heading", name="Details", exact=True).is_visible()
    page.get_by_role("button", name="Reveal personal values").click()
    expect_error = page.locator(".error-summary")
    expect_error.wait_for()
    assert "zebulon@example.org" not in page.content()
    _check(page, axe_source, artifacts_dir, "log-reveal-error")
    page.get_by_label("Reason").fill("Customer complaint 42")
    page.get_by_role("button", name="Reveal personal values").click()
    page.get_by_role("heading", name="Details in clear").wait_for()
    assert page.get_by_text("zebulon@example.org").is_visible()
    _check(page, axe_source, artifacts_dir, "log-revealed")
    page.goto(f"{live_server}/helpdesk/log/?action=log.revealed")
    assert table.locator("code").all_inner_texts() == ["log.revealed"]
    assert "Customer complaint 42" in table.inner_text()  # the reason is not personal

    # The CSV export: the filtered rows, formula cells neutralised, logged
    page.goto(f"{live_server}/helpdesk/log/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export as CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("interaction-log-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    evil = [row for row in rows if "HYPERLINK" in row["action"]]
    assert len(evil) == 1 and evil[0]["action"].startswith("'=")
    assert all(not value.startswith(("=", "+", "-", "@"))
               for row in rows for value in row.values() if value)
    assert not any("zebulon@example.org" in value for row in rows for value in row.values())
    db.session.expire_all()
    last = db.session.execute(select(Interaction).order_by(Interaction.id.desc())).scalars()
    assert next(iter(last)).action == "log.exported"

    # The reports, in German
    incident = log_rows["incident"]
    page.goto(f"{live_server}/helpdesk/reports/?lang=de")
    assert page.locator("html").get_attribute("lang") == "de"
    _check(page, axe_source, artifacts_dir, "reports-index-de")
    page.goto(f"{live_server}/helpdesk/reports/{incident.reference}?lang=de")
    assert page.locator("svg.chart").count() == 5
    _check(page, axe_source, artifacts_dir, "reports-incident-de")
    page.goto(f"{live_server}/helpdesk/log/?lang=de")
    _check(page, axe_source, artifacts_dir, "log-index-de")
    assert page.console_errors == []
