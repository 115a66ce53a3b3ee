"""The interaction log in headless Chromium, with axe-core: a manager filters by action prefix,
follows a person's and a ticket's timeline, reveals a masked value with a reason (and finds
the reveal in the log), downloads the CSV export (formula injection neutralised), and reads
the log and the dashboards in German at phone width.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser.test_helpdesk_tickets_browser import check, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def logged(db, make_incident, make_person, make_staff):
    from portal.audit import log as audit
    from portal.models import Ticket

    incident = make_incident(reference="INC-LOG")
    person, _plain = make_person(incident, external_ref="P-TIME")
    ticket = Ticket(incident_id=incident.id, person_id=person.id, channel="web",
                    topic="notice", status="open")
    db.session.add(ticket)
    db.session.flush()
    formula, _ = make_person(incident, external_ref="=1+2")
    manager = make_staff("manager", name="Mia Manager", email="mia@staff.example")
    audit.record("verify.failed", actor_type="customer", incident_id=incident.id,
                 person_id=formula.id, details={"reason": "unknown_code"})
    audit.record("verify.failed", actor_type="customer", incident_id=incident.id,
                 person_id=person.id, details={"reason": "mismatch", "failures": 1})
    audit.record("verify.succeeded", actor_type="customer", incident_id=incident.id,
                 person_id=person.id, details={"method": "postcode"})
    audit.record("ticket.created", actor_type="customer", incident_id=incident.id,
                 person_id=person.id, ticket_id=ticket.id, details={"topic": "notice"})
    audit.record("incident.updated", actor_type="staff", actor_id=manager.id,
                 incident_id=incident.id,
                 details={"changes": {"title": '=HYPERLINK("http://evil.example")'}})
    db.session.commit()
    return {"incident": incident, "person": person, "ticket": ticket, "manager": manager}


def test_manager_reviews_reveals_and_exports_the_log(page, live_server, axe_source,
                                                     artifacts_dir, logged):
    from playwright.sync_api import expect

    sign_in(page, live_server, logged["manager"])
    page.get_by_role("link", name="Log", exact=True).click()
    expect(page.get_by_role("heading", name="Interaction log", level=1)).to_be_visible()
    check(page, axe_source, artifacts_dir, "log-index")

    # Filter by an action prefix.
    page.get_by_label("Action", exact=True).fill("verify.")
    page.get_by_role("button", name="Show", exact=True).click()
    rows = page.locator(".log-table tbody tr")
    expect(rows).to_have_count(3)
    assert "ticket.created" not in page.locator(".log-table").inner_text()

    # A person's timeline, from the row's subject.
    page.get_by_role("link", name="P-TIME").first.click()
    expect(page.get_by_role("heading", name="Timeline of person P-TIME")).to_be_visible()
    expect(rows).to_have_count(3)
    check(page, axe_source, artifacts_dir, "log-person-timeline")

    # A ticket's timeline.
    page.get_by_role("link", name=f"#{logged['ticket'].id}").first.click()
    expect(page.get_by_role("heading",
                            name=f"Timeline of ticket #{logged['ticket'].id}")).to_be_visible()
    expect(rows).to_have_count(1)

    # Reveal a masked value: a reason is required, and the reveal is itself logged.
    page.goto(f"{live_server}/helpdesk/log/?action=incident.updated")
    assert "HYPERLINK" not in page.locator(".log-table").inner_text()
    page.get_by_role("link", name="Reveal").first.click()
    page.get_by_role("button", name="Reveal personal values").click()
    expect(page.locator("#error-summary")).to_be_focused()
    check(page, axe_source, artifacts_dir, "log-reveal-error")
    page.get_by_label("Reason for revealing").fill("Regulator question 7")
    page.get_by_role("button", name="Reveal personal values").click()
    expect(page.get_by_role("heading", name="Details in clear")).to_be_visible()
    assert "HYPERLINK" in page.locator("main").inner_text()
    page.goto(f"{live_server}/helpdesk/log/?action=log.revealed")
    expect(rows).to_have_count(1)
    assert "mia@staff.example" in page.locator(".log-table").inner_text()

    # The export: same filters, a spreadsheet formula never starts a cell.
    page.goto(f"{live_server}/helpdesk/log/?incident=INC-LOG")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export as CSV").click()
    exported = download_info.value.path().read_text(encoding="utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    assert any("=1+2" in cell for cell in cells)  # the reference that looks like a formula
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells if cell)

    # German, at phone width: the log and the dashboards.
    page.goto(f"{live_server}/helpdesk/log/?lang=de")
    expect(page.get_by_role("heading", name="Interaktionsprotokoll", level=1)).to_be_visible()
    check(page, axe_source, artifacts_dir, "log-index-de")
    page.goto(f"{live_server}/helpdesk/reports/")
    check(page, axe_source, artifacts_dir, "reports-de")
