"""Dates typed in three fields, in a browser (issue 13 item 5): order, keyboard, errors, axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import axe_violations, fits_width, shoot

pytestmark = pytest.mark.browser



def test_no_letter_date_in_german_order_with_part_errors(page, live_server, axe_source,
                                                         artifacts_dir, make_incident):
    make_incident(contact_hotline="+49 800 000 0000", contact_hours="Mo-Fr 8-20 Uhr")
    page.goto(f"{live_server}/no-letter?lang=de")
    group = page.get_by_role("group", name="Geburtsdatum")
    ids = group.locator("input").evaluate_all("nodes => nodes.map(n => n.id)")
    assert ids == ["date_of_birth-day", "date_of_birth-month", "date_of_birth-year"]
    for part in ("day", "month", "year"):
        field = page.locator(f"#date_of_birth-{part}")
        assert field.get_attribute("inputmode") == "numeric"
        assert field.get_attribute("autocomplete") == f"bday-{part}"

    page.locator("#first_name").fill("Jamie")
    page.locator("#last_name").fill("Tester")
    page.locator("#date_of_birth-day").fill("31")
    page.locator("#date_of_birth-month").fill("2")
    page.locator("#date_of_birth-year").fill("1980")
    page.locator("#postcode").fill("10115")
    page.locator("form button[type=submit]").click()
    error = page.locator("#date_of_birth-error")
    assert "29" in error.inner_text()
    assert page.locator("#date_of_birth-day").get_attribute("aria-invalid") == "true"
    assert page.locator("#date_of_birth-month").get_attribute("aria-invalid") is None
    assert axe_violations(page, axe_source) == []
    page.set_viewport_size({"width": 320, "height": 800})
    assert fits_width(page)
    shoot(page, artifacts_dir, "customer-no-letter-date-error-de", widths=(1280, 360))
    # The error summary takes keyboard users straight to the wrong part.
    page.locator("#error-summary a[href='#date_of_birth-day']").click()

    expect(page.locator("#date_of_birth-day")).to_be_focused()

    page.locator("#date_of_birth-day").fill("29")
    page.locator("form button[type=submit]").click()
    assert page.get_by_role("heading", level=1).inner_text() != ""
    expect(page.get_by_role("link", name="+49 800 000 0000")).to_be_visible()
    assert axe_violations(page, axe_source) == []
    shoot(page, artifacts_dir, "customer-no-letter-sent-de", widths=(1280, 360))
