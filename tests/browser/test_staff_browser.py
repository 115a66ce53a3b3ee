"""A staff member signs in and out in headless Chromium (for the foundation issue)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import axe_violations, shoot
from tests.support import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def test_staff_signs_in_and_out(page, live_server, axe_source, artifacts_dir, make_staff, db):
    from sqlalchemy import select

    from portal.models import Interaction

    agent = make_staff("agent", name="Alex Agent")
    page.goto(f"{live_server}/staff/login")
    assert axe_violations(page, axe_source) == []
    shoot(page, artifacts_dir, "staff-login")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/helpdesk/")
    expect(page.get_by_text("Alex Agent").first).to_be_visible()
    assert axe_violations(page, axe_source) == []
    shoot(page, artifacts_dir, "staff-home")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/staff/login*")
    page.goto(f"{live_server}/helpdesk/")
    assert "/staff/login" in page.url
    actions = list(db.session.execute(select(Interaction.action)).scalars())
    assert actions == ["staff.login", "staff.logout"]
    assert page.console_errors == []
