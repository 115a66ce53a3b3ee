"""The customer journey in headless Chromium, with axe-core on every key page.

code → verify → notice → activation code → ticket → agent's reply → Spanish;
five wrong dates of birth → locked. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.dispatch.replies import notify_reply
from portal.models import Answer, AnswerVersion, Ticket, TicketMessage
from portal.models.base import utcnow
from portal.people import verification
from tests.browser.browser_support import axe_violations, fits_width, screenshot, shoot
from tests.support.customer import FULL_CONTACT, add_activation_codes, approve_notice, outbox

pytestmark = pytest.mark.browser


def fill_date_of_birth(page, iso: str) -> None:
    """Type an ISO date into the day, month and year fields, as a person would."""
    year, month, day = iso.split("-")
    group = page.get_by_role("group", name="Date of birth")
    group.get_by_label("Day").fill(str(int(day)))
    group.get_by_label("Month").fill(str(int(month)))
    group.get_by_label("Year").fill(year)


@pytest.fixture
def journey(db, make_incident, make_person):
    incident = make_incident(**FULL_CONTACT)
    approve_notice(db, incident, language="en")
    approve_notice(db, incident, language="es")
    codes = add_activation_codes(db, incident, 3)
    answer = Answer(key="faq.freeze", category="protection", public=True)
    db.session.add(answer)
    db.session.flush()
    for language, title in (("en", "Should I freeze my credit?"),
                            ("es", "¿Debo congelar mi crédito?")):
        db.session.add(AnswerVersion(answer_id=answer.id, language=language, version=1,
                                     title=title, body="Call {{ hotline }}.",
                                     state="approved", approved_at=utcnow()))
    db.session.commit()
    person, plain = make_person(
        incident, categories=["national_id", "contact_details", "date_of_birth"])
    person.preferred_channel = "email"
    db.session.commit()
    return {"incident": incident, "person": person, "plain": plain, "codes": codes}


def check_page(page, axe_source, artifacts_dir, name):
    violations = axe_violations(page, axe_source)
    assert violations == [], f"{name}: {violations}"
    assert page.locator("h1").count() == 1, name
    page.set_viewport_size({"width": 320, "height": 800})
    assert fits_width(page), f"{name} scrolls sideways at 320px"
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, artifacts_dir, name)


def test_customer_journey(page, live_server, axe_source, artifacts_dir, db, journey):
    plain = journey["plain"]

    # The link from an SMS: the code leaves the address bar at once.
    page.goto(f"{live_server}/n/{plain['notice_code']}")
    assert page.url == f"{live_server}/verify"
    expect(page.get_by_role("group", name="Date of birth")).to_be_visible()
    check_page(page, axe_source, artifacts_dir, "customer-verify")

    fill_date_of_birth(page, plain["date_of_birth"])
    page.get_by_label("Postcode or ZIP code").fill(plain["postcode"])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/notice")
    assert page.get_by_role("heading", level=1).inner_text() == "Notice of Data Breach"
    for heading in ("What Happened", "What Information Was Involved", "What We Are Doing",
                    "What You Can Do", "For More Information"):
        expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
    expect(page.get_by_text("Equifax").first).to_be_visible()
    check_page(page, axe_source, artifacts_dir, "customer-notice")

    page.get_by_role("button", name="Show my activation code").click()
    code = page.locator("#activation-code").inner_text()
    assert code in journey["codes"]
    expect(page.get_by_text("March 1, 2027").first).to_be_visible()
    page.locator("#activation").scroll_into_view_if_needed()
    screenshot(page, artifacts_dir / "customer-activation-code.png")

    page.get_by_role("link", name="Questions and answers", exact=True).click()
    expect(page.get_by_role("heading", name="Should I freeze my credit?")).to_be_visible()
    page.get_by_label("Search the questions and answers").fill("freeze")
    page.get_by_role("button", name="Search").click()
    check_page(page, axe_source, artifacts_dir, "customer-faq")

    page.get_by_role("link", name="Your messages", exact=True).click()
    page.get_by_role("link", name="Ask a question", exact=True).click()
    page.get_by_role("button", name="Send").click()  # empty: errors tied to fields
    expect(page.locator("#topic-error")).to_be_visible()
    assert page.get_by_label("Topic").get_attribute("aria-invalid") == "true"
    check_page(page, axe_source, artifacts_dir, "customer-ticket-errors")
    page.get_by_label("Topic").select_option("monitoring")
    page.get_by_label("Your message").fill("How long does the credit monitoring last?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{live_server}/tickets/*")

    ticket = db.session.execute(select(Ticket)).scalar_one()
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="staff", channel="web",
                                 body="It lasts 24 months from the day you enrol."))
    db.session.commit()
    notify_reply(ticket.id)
    [mail] = outbox(db, "email")
    assert "24 months" not in mail.body

    page.reload()
    expect(page.get_by_text("It lasts 24 months from the day you enrol.")).to_be_visible()
    check_page(page, axe_source, artifacts_dir, "customer-ticket")

    page.get_by_role("link", name="Español").click()
    page.wait_for_url("**/tickets/*?lang=es")
    assert page.locator("html").get_attribute("lang") == "es"
    page.goto(f"{live_server}/notice")
    assert page.locator("html").get_attribute("lang") == "es"
    expect(page.get_by_text("Alguien accedió sin permiso")).to_be_visible()
    db.session.refresh(journey["person"])
    assert journey["person"].language == "es"
    check_page(page, axe_source, artifacts_dir, "customer-notice-es")

    # 200% zoom on a 1280px screen is a 640 CSS pixel viewport.
    page.set_viewport_size({"width": 640, "height": 450})
    assert fits_width(page)
    screenshot(page, artifacts_dir / "customer-notice-zoom200.png", full_page=False)
    assert page.console_errors == []


def test_five_wrong_dates_of_birth_lock_the_code(page, live_server, axe_source, artifacts_dir,
                                                 db, journey):
    plain = journey["plain"]
    page.goto(f"{live_server}/")
    page.get_by_label("Notice code").fill(plain["notice_code"])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/verify")
    for attempt in range(5):
        fill_date_of_birth(page, f"1950-01-{attempt + 10:02d}")
        page.get_by_label("Postcode or ZIP code").fill(plain["postcode"])
        page.get_by_role("button", name="Continue").click()
        if attempt < 4:
            expect(page.get_by_text("We could not confirm your details")).to_be_visible()
            expect(page.get_by_text(f"You have {4 - attempt} attempt")).to_be_visible()
            if attempt == 0:
                check_page(page, axe_source, artifacts_dir, "customer-verify-failed")
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_text("+1 800 555 0199")).to_be_visible()
    expect(page.get_by_text("You can try again in 30 minutes (after")).to_be_visible()
    check_page(page, axe_source, artifacts_dir, "customer-locked")
    db.session.refresh(journey["person"])
    assert verification.failures(journey["person"]).locked_until is not None


def test_anonymous_pages_and_preferences(page, live_server, axe_source, artifacts_dir, db,
                                         journey, chromium, make_staff):
    plain = journey["plain"]
    page.goto(f"{live_server}/")
    page.get_by_role("button", name="Continue").click()  # empty code: error tied to field
    from playwright.sync_api import expect

    # expect() waits: the focus script runs at the end of the body, after the
    # field's error is already in the DOM (CI once read activeElement in between).
    expect(page.locator("#code-error")).to_be_visible()
    expect(page.locator("#error-summary")).to_be_focused()
    check_page(page, axe_source, artifacts_dir, "customer-index-error")

    page.locator("#main").get_by_role("link", name="I did not get a letter").click()
    check_page(page, axe_source, artifacts_dir, "customer-no-letter")
    page.get_by_label("First name").fill("Jamie")
    page.get_by_label("Last name").fill(plain["last_name"])
    fill_date_of_birth(page, plain["date_of_birth"])
    page.get_by_label("Postcode or ZIP code").fill(plain["postcode"])
    page.get_by_label("Policy number").fill(plain["policy_number"])
    page.get_by_role("button", name="Send my code").click()
    expect(page.get_by_role("heading", name="Request received")).to_be_visible()
    check_page(page, axe_source, artifacts_dir, "customer-no-letter-sent")

    # The outbox is for managers and admins, codes masked until revealed: a staff browser.
    from portal.security.passwords import hash_password

    manager = make_staff("manager", password_hash=hash_password("outbox reader pass"))
    staff = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        desk = staff.new_page()
        desk.goto(f"{live_server}/staff/login?next=/dev/outbox")
        desk.get_by_label("Email address").fill(manager.email)
        desk.get_by_label("Password").fill("outbox reader pass")
        desk.get_by_role("button", name="Sign in").click()
        assert plain["notice_code"] not in desk.locator("pre").first.inner_text()
        desk.get_by_role("button", name="Show this message in full").first.click()
        link = desk.locator("pre").first.inner_text()
        assert f"/n/{plain['notice_code']}" in link
        shoot(desk, artifacts_dir, "dev-outbox")
    finally:
        staff.close()

    page.goto(f"{live_server}/n/{plain['notice_code']}")
    fill_date_of_birth(page, plain["date_of_birth"])
    page.get_by_label("Postcode or ZIP code").fill(plain["postcode"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Preferences", exact=True).click()
    page.get_by_label("How should we contact you?").select_option("sms")
    page.get_by_label("Do not send me text messages").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("#preferred_channel-error")).to_be_visible()
    check_page(page, axe_source, artifacts_dir, "customer-preferences-error")
    page.get_by_label("Preferred language").select_option("fr")
    page.get_by_label("How should we contact you?").select_option("email")
    page.get_by_role("button", name="Save preferences").click()
    assert page.locator("html").get_attribute("lang") == "fr"
    db.session.refresh(journey["person"])
    assert (journey["person"].language, journey["person"].sms_opt_out) == ("fr", True)
    page.get_by_role("button", name=re.compile("Sign out|Se déconnecter")).click()
    assert "/signed-out" in page.url
    assert page.console_errors == []
