"""A manager launches a campaign from the incident page and follows it, in headless Chromium;
every campaign page is axe-clean in English, Spanish, French and German."""

from __future__ import annotations

import pytest

from tests.browser.browser_support import axe_violations, fits_width
from tests.support import STAFF_PASSWORD, make_settings
from tests.support.dispatch import incident_with_people

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings(database_url, data_keys, tmp_path):
    return make_settings(database_url, data_keys, DISPATCH_LETTER_DIR=str(tmp_path / "letters"))


def _sign_in(page, base, manager):
    page.goto(f"{base}/staff/login")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/helpdesk/")


def test_a_manager_launches_a_campaign_and_follows_it(page, live_server, axe_source, db,
                                                      make_staff, make_incident, make_person):
    incident, _people = incident_with_people(db, make_incident, make_person, 4,
                                             languages=("en", "de"))
    manager = make_staff("manager")
    _sign_in(page, live_server, manager)
    page.goto(f"{live_server}/helpdesk/incidents/{incident.reference}")
    page.locator("#campaigns").get_by_role("link", name="Launch a campaign").click()
    assert axe_violations(page, axe_source) == []
    page.get_by_label("SMS").check()
    page.get_by_label("Printed letter").check()
    page.get_by_role("button", name="See how many people this reaches").click()
    assert page.locator("#reach-sms").inner_text() == "4"
    assert page.locator("#skip-sms").inner_text() == "0"
    assert axe_violations(page, axe_source) == []
    page.get_by_role("button", name="Launch the campaign").click()
    page.wait_for_url("**/campaigns/*")
    assert page.locator("#c-sms-sent").inner_text() == "4"
    assert page.locator("#c-letter-pending").inner_text() == "4"
    assert axe_violations(page, axe_source) == []
    show_url = page.url
    # The page polls its progress: a letter printed meanwhile shows without a reload.
    from portal.dispatch import letters

    campaign_id = int(show_url.rsplit("/", 1)[1])
    letters.print_run(campaign_id)
    # Checked every 100 ms rather than on every animation frame (Playwright's default),
    # which kept Chromium drawing frames for the up to 3 s until the page's next poll.
    page.wait_for_function(
        "() => document.getElementById('c-letter-sent').textContent === '4'",
        polling=100, timeout=10000)
    page.goto(f"{show_url}/letters")
    assert page.get_by_role("link", name="PDF").count() == 1
    assert axe_violations(page, axe_source) == []
    every_page = (show_url, f"{show_url}/letters",
                  f"{live_server}/helpdesk/incidents/{incident.reference}/campaigns/",
                  f"{live_server}/helpdesk/incidents/{incident.reference}/campaigns/new")
    for language, urls in (("es", every_page[:1]), ("fr", every_page[:1]), ("de", every_page)):
        for url in urls:
            page.goto(f"{url}?lang={language}")
            assert page.locator("html").get_attribute("lang") == language
            assert axe_violations(page, axe_source) == [], (language, url)
    page.set_viewport_size({"width": 360, "height": 800})
    for url in (show_url, f"{show_url}/letters"):
        page.goto(f"{url}?lang=en")
        assert fits_width(page), url
    assert page.console_errors == []
