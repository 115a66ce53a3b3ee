"""The helpdesk's ticket flow in headless Chromium, with axe-core on the queue and
the ticket page: a customer asks, an agent finds the ticket by phone, reveals the
phone with a reason, answers with an approved answer (placeholders filled), the
customer reads the reply, and a second agent on the ticket sees the first one's name.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.browser_support import axe_violations, fits_width, shoot
from tests.browser.test_customer_browser import fill_date_of_birth
from tests.support import STAFF_PASSWORD
from tests.support.customer import FULL_CONTACT, approve_notice

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.goto(f"{base}/staff/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/helpdesk/")


def check(page, axe_source, artifacts_dir, name):
    violations = axe_violations(page, axe_source)
    assert violations == [], f"{name}: {violations}"
    page.set_viewport_size({"width": 360, "height": 800})
    assert fits_width(page), f"{name} scrolls sideways at 360px"
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, artifacts_dir, name, widths=(1280, 360))


def test_agent_answers_a_customer_ticket(chromium, page, live_server, axe_source, artifacts_dir,
                                         db, make_incident, make_person, make_staff,
                                         make_answers):
    from playwright.sync_api import expect

    incident = make_incident(**FULL_CONTACT)
    approve_notice(db, incident, language="en")
    make_answers()
    person, plain = make_person(incident, first_name="Jamie", phone="+14155550123")
    first = make_staff("agent", name="Alex Agent")
    second = make_staff("agent", name="Bea Backup")

    # The customer asks a question on the portal.
    page.goto(f"{live_server}/n/{plain['notice_code']}")
    fill_date_of_birth(page, plain["date_of_birth"])
    page.get_by_label("Postcode or ZIP code").fill(plain["postcode"])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/notice")
    page.get_by_role("link", name="Your messages", exact=True).click()
    page.get_by_role("link", name="Ask a question", exact=True).click()
    page.get_by_label("Topic").select_option("data")
    page.get_by_label("Your message").fill("Which of my details were taken?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{live_server}/tickets/*")
    customer_ticket_url = page.url

    # An agent finds it by the phone number the customer gave on the phone.
    agent_context = chromium.new_context(viewport={"width": 1280, "height": 900})
    agent = agent_context.new_page()
    sign_in(agent, live_server, first)
    agent.get_by_role("link", name="Tickets", exact=True).click()
    agent.get_by_label("Search").fill("(415) 555-0123")
    agent.get_by_role("button", name="Show tickets").click()
    agent.wait_for_load_state("load")
    # The search was posted: no phone number in the address (the server's port may hold 555).
    assert "555" not in agent.url.removeprefix(live_server)
    check(agent, axe_source, artifacts_dir, "helpdesk-queue")
    links = agent.locator(".queue-table a[href^='/helpdesk/tickets/']")
    assert links.count() == 1
    agent.set_viewport_size({"width": 360, "height": 800})
    box = links.first.bounding_box()  # a ticket card's way in is big enough to tap
    assert box["width"] >= 44 and box["height"] >= 44, box
    for menu_link in agent.locator(".staff-nav ul a").all():  # so is the staff menu
        assert menu_link.bounding_box()["height"] >= 32, menu_link.inner_text()
    agent.set_viewport_size({"width": 1280, "height": 900})
    links.first.click()
    agent.wait_for_url(re.compile(r".*/helpdesk/tickets/\d+$"))
    assert agent.get_by_role("heading", level=1).inner_text().startswith("Ticket #")
    assert "+14155550123" not in agent.content()
    check(agent, axe_source, artifacts_dir, "helpdesk-ticket")

    # Reveal the phone with a reason.
    agent.get_by_label("Field").select_option("phone")
    agent.get_by_label("Reason").select_option("verify_identity")
    agent.get_by_role("button", name="Reveal").click()
    expect(agent.get_by_text("+14155550123")).to_be_visible()

    # A search of the answers keeps what was typed in the reply box (they post together).
    box = agent.get_by_label("Reply to the customer")
    box.fill("Still checking, one moment")
    agent.get_by_label("Find an approved answer in English").fill("happened")
    agent.get_by_role("button", name="Search", exact=True).click()
    agent.wait_for_url("**/compose#reply-heading")
    assert box.input_value() == "Still checking, one moment"
    # Answer with an approved answer: "Use" fills the box server-side.
    agent.get_by_label("Approved answer", exact=True).select_option(
        label="What happened (what-happened)")
    agent.get_by_role("button", name="Use").click()
    agent.wait_for_load_state()
    expect(box).to_have_value(re.compile(r"^Hello Jamie,"))
    assert box.input_value().startswith("Hello Jamie,")
    assert "{{" not in box.input_value() and incident.title in box.input_value()
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.get_by_text("Reply sent.")).to_be_visible()

    # A second agent opens the same ticket and sees the first one's name.
    backup_context = chromium.new_context(viewport={"width": 1280, "height": 900})
    backup = backup_context.new_page()
    sign_in(backup, live_server, second)
    backup.goto(agent.url)
    expect(backup.get_by_role("status").get_by_text("Alex Agent")).to_be_visible()
    check(backup, axe_source, artifacts_dir, "helpdesk-ticket-collision")
    backup.goto(f"{agent.url}?lang=de")
    shoot(backup, artifacts_dir, "helpdesk-ticket-de", widths=(1280, 360))

    # The customer reads the reply on the portal.
    page.goto(customer_ticket_url)
    expect(page.get_by_text("Hello Jamie,")).to_be_visible()
    assert page.console_errors == []
    agent_context.close()
    backup_context.close()
