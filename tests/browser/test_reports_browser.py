"""The reports pages in headless Chromium: axe-clean, reflowing, charts drawn; screenshots."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import axe_violations, fits_width, shoot
from tests.support import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, user):
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/helpdesk/")


def test_dashboards_and_substitute_notice(page, live_server, axe_source, artifacts_dir,
                                          make_staff, reports_incident, db):
    from portal.models import SubstituteNotice
    from portal.models.base import utcnow

    incident = reports_incident["incident"]
    _sign_in(page, live_server, make_staff("manager"))
    page.goto(f"{live_server}/helpdesk/reports/")
    assert axe_violations(page, axe_source) == []
    page.goto(f"{live_server}/helpdesk/reports/{incident.reference}")
    assert page.locator("svg.chart").count() == 5
    expect(page.get_by_role("img", name="Notification funnel per channel")).to_be_visible()
    assert axe_violations(page, axe_source) == []
    expect(page.locator(".scroll-hint").first).to_be_hidden()  # the chart fits: no hint
    page.set_viewport_size({"width": 360, "height": 800})
    assert fits_width(page)
    # On a phone a chart by day scrolls in its box, opens on the newest days and says
    # that the earlier ones are to the left.
    page.reload()
    box = page.locator(".chart-by-day").first
    assert box.evaluate("b => b.scrollWidth > b.clientWidth && b.scrollLeft > 0")
    expect(page.locator(".scroll-hint").first).to_have_text(
        "Earlier days are to the left: scroll the chart sideways.")
    expect(page.locator(".scroll-hint").first).to_be_visible()
    shoot(page, artifacts_dir, "reports-dashboards")

    page.goto(f"{live_server}/helpdesk/incidents/{incident.reference}/substitute-notice")
    assert axe_violations(page, axe_source) == []
    shoot(page, artifacts_dir, "reports-substitute-edit")
    db.session.add(SubstituteNotice(incident_id=incident.id, summaries={
        "en": "We found that someone reached our policy server.\nCall us to learn more."},
        hotline="+1 800 555 0199", stay_up_until=date.today() + timedelta(days=95),
        published_at=utcnow(), first_published_at=utcnow()))
    db.session.commit()
    page.goto(f"{live_server}/incidents/{incident.reference}?lang=de")
    expect(page.get_by_text("+1 800 555 0199").first).to_be_visible()
    assert axe_violations(page, axe_source) == []
    shoot(page, artifacts_dir, "reports-public-notice")
    assert page.console_errors == []
