"""The incident page's retention block in headless Chromium: axe, reflow at 360 px, German."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import axe_violations, fits_width, screenshot
from tests.support import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def test_retention_block_reads_well(page, live_server, axe_source, artifacts_dir, make_staff,
                                    make_incident, make_person, db):
    incident = make_incident()
    make_person(incident)
    manager = make_staff("manager", name="Morgan Manager")
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/helpdesk/")
    for language, width, scale in (("en", 1280, 2), ("en", 360, 1), ("de", 1280, 1)):
        context_page = page
        context_page.set_viewport_size({"width": width // scale, "height": 900})
        context_page.goto(f"{live_server}/helpdesk/incidents/{incident.reference}"
                          f"?lang={language}#retention")
        section = context_page.locator("#retention")
        expect(section).to_be_visible()
        assert f"data purge --incident {incident.reference}" in section.inner_text()
        assert fits_width(context_page)
        screenshot(section, artifacts_dir / f"retention-{language}-{width}.png")
    assert axe_violations(page, axe_source) == []
    assert page.console_errors == []
