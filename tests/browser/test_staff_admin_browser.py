"""Staff administration in headless Chromium, with axe-core: an administrator (two-factor)
adds an agent, the agent opens the one-time link in their own browser, chooses a password
and signs in; the admin then sees them on the list and deactivates them; German at 360 px.
"""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.browser.test_helpdesk_tickets_browser import check
from tests.support import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def test_admin_adds_a_member_who_sets_their_password(chromium, page, live_server, axe_source,
                                                     artifacts_dir, db, make_staff):
    from playwright.sync_api import expect

    admin = make_staff("admin", name="Ada Admin", totp_secret=pyotp.random_base32())
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(admin.totp_secret).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/helpdesk/")

    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("heading", name="Staff accounts", level=1)).to_be_visible()
    # An empty form names each missing field.
    page.get_by_role("button", name="Create the account").click()
    expect(page.locator("#error-summary")).to_be_focused()
    check(page, axe_source, artifacts_dir, "staff-list-errors")
    page.get_by_label("Full name").fill("Noor Newcomer")
    page.get_by_label("Email address").fill("noor@staff.example")
    page.get_by_label("Role").select_option("agent")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", name="Account created for Noor Newcomer")).to_be_visible()
    link = page.get_by_test_id("setup-link").input_value()
    assert re.fullmatch(rf"{re.escape(live_server)}/staff/setup/[A-Za-z0-9_-]{{40,}}", link)
    check(page, axe_source, artifacts_dir, "staff-link")

    # The newcomer, in a browser of their own, in German.
    newcomer_context = chromium.new_context(viewport={"width": 360, "height": 800},
                                            locale="de-DE")
    try:
        newcomer = newcomer_context.new_page()
        newcomer.goto(link)
        expect(newcomer.get_by_role("heading", name="Konto einrichten")).to_be_visible()
        newcomer.get_by_label("Neues Passwort").fill("correct horse battery")
        newcomer.get_by_label("Dasselbe Passwort noch einmal").fill("correct horse battery")
        newcomer.get_by_role("button", name="Passwort festlegen").click()
        newcomer.wait_for_url(f"{live_server}/staff/login")
        newcomer.get_by_label("E-Mail-Adresse").fill("noor@staff.example")
        newcomer.get_by_label("Passwort").fill("correct horse battery")
        newcomer.get_by_role("button", name="Anmelden").click()
        newcomer.wait_for_url(f"{live_server}/helpdesk/")
        # The link worked once.
        newcomer.goto(link)
        invalid = newcomer.get_by_role("heading", name="Dieser Link funktioniert nicht")
        expect(invalid).to_be_visible()
    finally:
        newcomer_context.close()

    page.get_by_role("link", name="Staff accounts").first.click()
    page.get_by_role("link", name="Noor Newcomer").click()
    check(page, axe_source, artifacts_dir, "staff-member")
    # Deactivating asks first, on a page of its own.
    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_role("heading", name="Deactivate Noor Newcomer?")).to_be_visible()
    check(page, axe_source, artifacts_dir, "staff-confirm-deactivate")
    page.get_by_role("button", name="Yes, deactivate the account").click()
    expect(page.get_by_text("Noor Newcomer can no longer sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()

    # The list in German at phone width.
    page.goto(f"{live_server}/helpdesk/staff/?lang=de")
    expect(page.get_by_role("heading", name="Mitarbeiterkonten", level=1)).to_be_visible()
    check(page, axe_source, artifacts_dir, "staff-list-de")
