"""Attempts left after a failed verification (issue 13 item 6): the same for every code."""

from __future__ import annotations

import re

import pytest

from portal.security.crypto import generate_code
from tests.support import csrf_token
from tests.support.dates import dob_fields


@pytest.fixture
def real_code(make_incident, make_person):
    _record, plain = make_person(make_incident())
    return plain


def unknown_like(code: str) -> str:
    """A code that matches nobody and ends like ``code`` (the page shows the last four)."""
    other = generate_code()
    return other[:10] + code[-4:]


@pytest.fixture
def fail(app):
    """A fresh browser that enters ``code`` and answers wrongly; returns each page's <main>."""

    def attempts(code: str, postcode: str, times: int) -> list[tuple[int, str]]:
        client = app.test_client()
        token = csrf_token(client, "/")
        client.post("/", data={"code": code, "csrf_token": token})
        pages = []
        for _ in range(times):
            response = client.post("/verify", data={
                "date_of_birth-day": "3", "date_of_birth-month": "2",
                "date_of_birth-year": "1901", "postcode": postcode, "csrf_token": token})
            main = re.search(r"<main.*</main>", response.text, re.S)[0]
            main = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", main)
            pages.append((response.status_code, re.sub(r"\d{1,2}:\d\d", "TIME", main)))
        return pages

    return attempts


def check_counts(fail, plain):
    known = fail(plain["notice_code"], plain["postcode"], 5)
    unknown = fail(unknown_like(plain["notice_code"]), plain["postcode"], 5)
    assert known == unknown  # the same pages, count and lock, real code or not
    assert [status for status, _page in known] == [401, 401, 401, 401, 429]
    for (_status, page), left in zip(known[:3], (4, 3, 2), strict=True):
        assert f"You have {left} attempts left before this code is locked." in page
    assert "You have 1 attempt left before this code is locked." in known[3][1]
    assert "attempt left" not in known[4][1] and "attempts left" not in known[4][1]


def test_the_count_is_the_same_for_real_and_unknown_codes(fail, real_code):
    check_counts(fail, real_code)


def test_a_right_answer_resets_the_count(app, fail, real_code):
    plain = real_code
    fail(plain["notice_code"], plain["postcode"], 2)
    client = app.test_client()
    token = csrf_token(client, "/")
    client.post("/", data={"code": plain["notice_code"], "csrf_token": token})
    response = client.post("/verify", data={
        **dob_fields(plain["date_of_birth"]),
        "postcode": plain["postcode"], "csrf_token": token})
    assert response.status_code == 302
    [(status, page)] = fail(plain["notice_code"], plain["postcode"], 1)
    assert status == 401 and "You have 4 attempts left" in page


def test_a_form_error_counts_nothing_and_says_nothing(app, real_code):
    client = app.test_client()
    token = csrf_token(client, "/")
    client.post("/", data={"code": real_code["notice_code"], "csrf_token": token})
    response = client.post("/verify", data={"postcode": "1", "csrf_token": token})
    assert response.status_code == 400 and "attempts left" not in response.text


@pytest.mark.usefixtures("with_redis")
class TestWithRedis:
    """Unknown codes are counted in Redis when it is configured: the same count."""

    def test_the_count_is_the_same_for_real_and_unknown_codes(self, fail, real_code):
        check_counts(fail, real_code)
