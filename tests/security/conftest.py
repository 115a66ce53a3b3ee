"""Fixtures for the security checks: form tokens, verified customers, signed-in staff.

Plain fixtures on top of the shared ones (``app``, ``db``, ``make_person``,
``make_staff``, ...), so the tests here import nothing from ``tests``.
"""

from __future__ import annotations

import re

import pytest

from tests.support.dates import dob_fields

STAFF_PASSWORD = "correct horse battery staple"  # noqa: S105 - the shared make_staff fixture's


def _token_of(page_text: str) -> str | None:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page_text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page_text)
    return match.group(1) if match else None


@pytest.fixture
def form_token():
    """``form_token(client, url)``: the CSRF token of the first form on a page."""

    def fetch(client, url: str) -> str:
        page = client.get(url)
        token = _token_of(page.text)
        assert token, f"no CSRF token on {url} (status {page.status_code})"
        return token

    return fetch


@pytest.fixture
def approved_incident(db, make_incident):
    """An active incident with an approved English notice."""
    from portal.models import NoticeVersion
    from portal.models.base import utcnow

    def factory(**fields):
        incident = make_incident(**fields)
        db.session.add(NoticeVersion(
            incident_id=incident.id, version=1, language="en", state="approved",
            what_happened="Someone accessed our policy system without permission.",
            what_we_are_doing="We closed the access and called in specialists.",
            likely_consequences="Criminals may try to trick you with convincing messages.",
            other_information="", approved_at=utcnow()))
        db.session.commit()
        return incident

    return factory


@pytest.fixture
def verify_as(app, form_token):
    """``verify_as(plain, client=None)``: a client verified as the person, through the forms."""

    def sign_in(plain: dict, client=None):
        client = client or app.test_client()
        token = form_token(client, "/")
        entered = client.post("/", data={"code": plain["notice_code"], "csrf_token": token})
        assert entered.status_code == 302, entered.text
        answered = client.post("/verify", data={**dob_fields(plain["date_of_birth"]),
                                                "postcode": plain["postcode"],
                                                "csrf_token": token})
        assert answered.status_code == 302 and answered.location.endswith("/notice"), (
            answered.status_code, answered.location)
        return client

    return sign_in


@pytest.fixture
def staff_client(app, form_token):
    """``staff_client(user, client=None)``: a client signed in as a staff member (no TOTP)."""

    def sign_in(user, client=None):
        client = client or app.test_client()
        token = form_token(client, "/staff/login")
        response = client.post("/staff/login", data={"email": user.email,
                                                      "password": STAFF_PASSWORD,
                                                      "csrf_token": token})
        assert response.status_code == 302, response.status_code
        return client

    return sign_in


@pytest.fixture
def open_ticket(form_token):
    """``open_ticket(client, message)``: open a web ticket; returns its id."""

    def post(client, message: str = "When did this happen exactly?", topic: str = "notice"):
        token = form_token(client, "/tickets/new")
        response = client.post("/tickets/new", data={"topic": topic, "message": message,
                                                     "csrf_token": token})
        assert response.status_code == 302, response.text
        return int(response.location.rsplit("/", 1)[1])

    return post
