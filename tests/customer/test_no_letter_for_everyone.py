"""'I did not get a letter' without a policy number (issue 13 item 4)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.models import OutboxMessage
from portal.people import verification
from tests.support import csrf_token
from tests.support.dates import dob_fields

HOTLINE = "+1 800 555 0123"



@pytest.fixture
def incident(make_incident):
    return make_incident(contact_hotline=HOTLINE, contact_hours="Monday to Friday, 9:00 to 17:00")


@pytest.fixture
def ask(client):
    """Send the no-letter form; returns the page's <main> (the part that could differ)."""

    def send(plain: dict, **changes):
        values = {"first_name": plain["first_name"], "last_name": plain["last_name"],
                  "postcode": plain["postcode"], "policy_number": plain["policy_number"] or ""}
        values.update(dob_fields(plain["date_of_birth"]), **changes)
        token = csrf_token(client, "/no-letter")
        response = client.post("/no-letter", data={**values, "csrf_token": token})
        assert response.status_code == 200, response.text
        return re.search(r"<main.*</main>", response.text, re.S)[0]

    return send


def sent(db) -> int:
    return len(db.session.execute(select(OutboxMessage)).scalars().all())


def test_a_person_imported_without_a_policy_number_gets_their_code(db, incident, make_person,
                                                                   ask):
    _record, plain = make_person(incident, policy_number=None)
    ask(plain)
    assert sent(db) == 1
    # Typing a policy number the record does not hold does not shut them out either.
    ask(plain, policy_number="POL-99999")
    assert sent(db) == 2


def test_the_policy_number_is_used_when_given(db, incident, make_person, ask):
    _record, plain = make_person(incident)
    pages = [ask(plain, policy_number="")]
    assert sent(db) == 1
    pages.append(ask(plain))
    assert sent(db) == 2
    pages.append(ask(plain, policy_number="POL00000000"))  # someone else's number: nothing
    assert sent(db) == 2
    pages.append(ask(plain, postcode="00000", policy_number=""))  # wrong postcode: nothing
    pages.append(ask(plain, last_name="Nobody", policy_number=""))
    assert sent(db) == 2
    assert len(set(pages)) == 1


def test_the_confirmation_gives_the_helpline_whoever_asked(db, incident, make_person, ask):
    _record, plain = make_person(incident)
    matched, unmatched = ask(plain), ask(plain, last_name="Nobody")
    assert matched == unmatched
    assert f'<a href="tel:{HOTLINE.replace(" ", "")}">{HOTLINE}</a>' in matched
    assert "Opening hours: Monday to Friday, 9:00 to 17:00." in matched


class TestConfiguredHelpline:
    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings.update(CUSTOMER_RESEND_MIN_SECONDS=0, CUSTOMER_LOCK_HOTLINE="+44 800 000 0000",
                            CUSTOMER_LOCK_HOTLINE_HOURS="24/7")
        return app_settings

    def test_the_setting_wins_over_the_incident(self, incident, make_person, ask):
        _record, plain = make_person(incident)
        page = ask(plain)
        assert "+44 800 000 0000" in page and "Opening hours: 24/7." in page
        assert HOTLINE not in page


def test_the_lookup_does_the_same_comparisons_with_or_without_a_policy_number(
        app, db, incident, make_person, monkeypatch):
    """The same digests compared whatever was typed, matched or not (no timing difference)."""
    _record, plain = make_person(incident)
    calls = []
    real = verification.digests_equal

    def counting(left, right):
        calls.append(1)
        return real(left, right)

    monkeypatch.setattr(verification, "digests_equal", counting)
    born = date.fromisoformat(plain["date_of_birth"])
    counts = []
    for policy in (plain["policy_number"], "", None, "POL00000000"):
        for surname in (plain["last_name"], "Nobody"):
            calls.clear()
            verification.find_for_resend(surname, born, plain["postcode"], policy)
            counts.append(len(calls))
    assert set(counts) == {2}
    assert verification.find_for_resend(plain["last_name"], born, plain["postcode"], None)
