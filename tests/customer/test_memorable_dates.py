"""Dates people can type (issue 13 item 5): day, month and year, in the page language's order."""

from __future__ import annotations

import re
from datetime import date

import pytest

from portal.customer.dates import part_order
from tests.support import csrf_token


@pytest.fixture
def post_form(client):
    """POST a customer form with the CSRF token of its page (in ``lang`` when given)."""

    def post(url: str, values: dict, lang: str | None = None):
        token = csrf_token(client, url + (f"?lang={lang}" if lang else ""))
        return client.post(url, data={**values, "csrf_token": token})

    return post


def dob(day="", month="", year=""):
    return {"date_of_birth-day": day, "date_of_birth-month": month, "date_of_birth-year": year}


def inputs(html: str) -> list[str]:
    return re.findall(r'<input type="text" id="(date_of_birth-\w+)"', html)


def invalid_parts(html: str) -> list[str]:
    return re.findall(r'id="date_of_birth-(\w+)"[^>]*aria-invalid="true"', html)


@pytest.mark.parametrize(("locale", "order"), [
    ("en", ("month", "day", "year")), ("en_US", ("month", "day", "year")),
    ("es", ("day", "month", "year")), ("fr", ("day", "month", "year")),
    ("de", ("day", "month", "year")),
])
def test_parts_follow_babels_date_pattern(locale, order):
    assert part_order(locale) == order


@pytest.mark.parametrize(("lang", "first", "hint"), [("en", "month", "For example, 3 27 1980."),
                                                     ("de", "day", "27 3 1980")])
def test_three_labelled_numeric_fields_in_the_language_order(client, lang, first, hint):
    html = client.get(f"/no-letter?lang={lang}").text
    assert inputs(html)[0] == f"date_of_birth-{first}"
    assert sorted(inputs(html)) == ["date_of_birth-day", "date_of_birth-month",
                                    "date_of_birth-year"]
    for part in ("day", "month", "year"):
        tag = re.search(rf'<input type="text" id="date_of_birth-{part}"[^>]*>', html)[0]
        assert 'inputmode="numeric"' in tag and f'autocomplete="bday-{part}"' in tag
        assert f'name="date_of_birth-{part}"' in tag
        assert re.search(rf'<label for="date_of_birth-{part}">', html)
    assert re.search(r'<fieldset class="date-input" role="group" id="date_of_birth"', html)
    assert "<legend" in html and hint in html
    assert 'type="date"' not in html


def test_the_verify_page_uses_the_same_field(client, db, make_incident, make_person):
    _record, plain = make_person(make_incident())
    token = csrf_token(client, "/")
    client.post("/", data={"code": plain["notice_code"], "csrf_token": token})
    html = client.get("/verify").text
    assert inputs(html) == ["date_of_birth-month", "date_of_birth-day", "date_of_birth-year"]
    assert 'autocomplete="bday-month"' in html


NO_LETTER = {"first_name": "Jamie", "last_name": "Tester", "postcode": "90001"}


@pytest.mark.parametrize(("typed", "message", "wrong"), [
    (dob(), "Enter your date of birth.", ["month", "day", "year"]),
    (dob(day="27", year="1980"), "Date of birth must include a month.", ["month"]),
    (dob(month="3"), "Date of birth must include a day and a year.", ["day", "year"]),
    (dob("32", "3", "1980"), "Enter a day between 1 and 31.", ["day"]),
    (dob("x", "3", "1980"), "Enter a day between 1 and 31.", ["day"]),
    (dob("27", "13", "1980"), "Enter a month between 1 and 12.", ["month"]),
    (dob("27", "3", "80"), "Enter the year as 4 digits, for example 1980.", ["year"]),
    (dob("27", "3", "1850"), f"Enter a year between 1900 and {date.today().year}.", ["year"]),
    (dob("30", "2", "1980"), "Enter a day between 1 and 29 for that month.", ["day"]),
    (dob("29", "2", "1981"), "Enter a day between 1 and 28 for that month.", ["day"]),
    (dob("1", "1", "2999"), "Date of birth must be in the past.", ["month", "day", "year"]),
])
def test_errors_say_which_part_is_wrong(post_form, typed, message, wrong):
    response = post_form("/no-letter", {**NO_LETTER, **typed})
    assert response.status_code == 400
    assert message in response.text
    assert invalid_parts(response.text) == wrong
    # The error summary links to the first wrong field on the page; what was typed stays.
    assert f'<a href="#date_of_birth-{wrong[0]}">{message}</a>' in response.text
    for part, value in typed.items():
        assert f'name="{part}" value="{value}"' in response.text


def test_two_wrong_parts_name_the_first_on_the_page(post_form):
    response = post_form("/no-letter", {**NO_LETTER, **dob("40", "13", "1980")}, lang="de")
    assert invalid_parts(response.text) == ["day", "month"]
    # day comes first in German (and the page speaks German)
    assert "Geben Sie einen Tag zwischen 1 und 31 ein." in response.text
    response = post_form("/no-letter", {**NO_LETTER, **dob("40", "13", "1980")}, lang="en")
    assert invalid_parts(response.text) == ["month", "day"]
    assert "Enter a month between 1 and 12." in response.text


def test_a_real_date_with_leading_zeros_and_spaces_is_accepted(post_form):
    response = post_form("/no-letter", {**NO_LETTER, **dob(" 07 ", "03", "1980")})
    assert response.status_code == 200
    assert "Request received" in response.text
