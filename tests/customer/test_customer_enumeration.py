"""The verify step does not tell whether a notice code exists (finding L1).

A code that matches nobody gets the same form, the same failures and the same
lock after five failures as a real one, with the in-process store and with Redis.
"""

from __future__ import annotations

import re

import pytest

from portal.people import unknown_codes
from portal.security.crypto import generate_code
from tests.support import REDIS_URL, make_settings
from tests.support.customer import answer, approve_notice, enter_code, interactions

HOTLINE = "+1 800 555 0199"


@pytest.fixture(autouse=True)
def _fresh_memory_store():
    unknown_codes.reset_memory()
    yield
    unknown_codes.reset_memory()


def _unknown_like(code: str) -> str:
    """A well-formed code that matches nobody and ends like ``code`` (same hint on the page)."""
    while True:
        other = generate_code()
        if other[:9] != code[:9]:
            return other[:10] + code[-4:]


def _normalised(text: str) -> str:
    """The page without per-request tokens, and without the lock's clock time."""
    text = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", text)
    text = re.sub(r'nonce="[^"]+"', "", text)
    return re.sub(r"after [^<]*\(UTC\)", "after TIME (UTC)", text)


def _verify_page(app, code: str):
    client = app.test_client()
    enter_code(client, code)
    return client, client.get("/verify")


@pytest.fixture
def real(db, make_incident, make_person):
    def factory(method: str = "postcode"):
        incident = make_incident(verification_method=method, contact_hotline=HOTLINE,
                                 contact_hours="Mon-Fri 9-17")
        approve_notice(db, incident)
        return make_person(incident)

    return factory


def test_verify_form_is_identical_for_real_and_unknown_codes(app, real):
    _record, plain = real()
    _client, known = _verify_page(app, plain["notice_code"])
    _client, unknown = _verify_page(app, _unknown_like(plain["notice_code"]))
    assert known.status_code == unknown.status_code == 200
    assert 'name="postcode"' in known.text
    assert _normalised(known.text) == _normalised(unknown.text)


class TestPolicyDefault:
    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["CUSTOMER_DEFAULT_VERIFICATION_METHOD"] = "policy_last4"
        return app_settings

    def test_unknown_codes_ask_the_default_question(self, app, real):
        _record, plain = real("policy_last4")
        _client, known = _verify_page(app, plain["notice_code"])
        _client, unknown = _verify_page(app, _unknown_like(plain["notice_code"]))
        assert 'name="policy_last4"' in known.text and 'name="postcode"' not in known.text
        assert _normalised(known.text) == _normalised(unknown.text)


def _five_failures_then_more(app, code: str, plain: dict):
    client = app.test_client()
    enter_code(client, code)
    responses = [answer(client, "1901-02-03", postcode=plain["postcode"]) for _ in range(5)]
    responses.append(answer(client, plain["date_of_birth"], postcode=plain["postcode"]))
    responses.append(client.get("/verify"))
    return responses


def _check_identical_lock(app, db, plain):
    known = _five_failures_then_more(app, plain["notice_code"], plain)
    unknown = _five_failures_then_more(app, _unknown_like(plain["notice_code"]), plain)
    assert [r.status_code for r in known] == [401, 401, 401, 401, 429, 429, 429]
    assert [r.status_code for r in unknown] == [r.status_code for r in known]
    for mine, theirs in zip(known, unknown, strict=True):
        assert _normalised(mine.text) == _normalised(theirs.text)
    assert "Too many attempts" in unknown[4].text and HOTLINE in unknown[4].text
    locked = interactions(db, "verify.locked")
    assert [row.details.get("reason") for row in locked] == [None, "unknown_code"]


def test_unknown_codes_lock_like_real_ones(app, db, real):
    _record, plain = real()
    _check_identical_lock(app, db, plain)


def test_the_unknown_code_lock_is_per_code_and_ends(app, db, real, monkeypatch):
    _record, plain = real()
    code = _unknown_like(plain["notice_code"])
    _five_failures_then_more(app, code, plain)
    client = app.test_client()
    enter_code(client, _unknown_like(plain["notice_code"]))
    assert answer(client, "1901-02-03", postcode="1").status_code == 401  # another code
    later = unknown_codes._now() + 31 * 60
    monkeypatch.setattr(unknown_codes, "_now", lambda: later)
    client = app.test_client()
    enter_code(client, code)
    assert client.get("/verify").status_code == 200
    assert answer(client, "1901-02-03", postcode="1").status_code == 401


def test_a_configured_hotline_is_shown_for_every_code(make_app, db, real):
    _record, plain = real()
    app = make_app(CUSTOMER_LOCK_HOTLINE="+44 800 000 0000", CUSTOMER_LOCK_HOTLINE_HOURS="24/7")
    with app.app_context():
        known = _five_failures_then_more(app, plain["notice_code"], plain)[4]
        unknown = _five_failures_then_more(app, _unknown_like(plain["notice_code"]), plain)[4]
    for page in (known, unknown):
        assert "+44 800 000 0000" in page.text and "24/7" in page.text
        assert HOTLINE not in page.text
    assert _normalised(known.text) == _normalised(unknown.text)


@pytest.mark.redis
class TestWithRedis:
    @pytest.fixture
    def app_settings(self, database_url, data_keys, redis):
        return make_settings(database_url, data_keys, REDIS_URL=REDIS_URL)

    @pytest.fixture(autouse=True)
    def _clean_keys(self, app, redis):
        yield
        prefix = app.config["PORTAL_RQ_QUEUE"]
        for key in redis.scan_iter(f"{prefix}:unknown-code:*"):
            redis.delete(key)

    def test_unknown_codes_lock_like_real_ones(self, app, db, real, redis):
        _record, plain = real()
        _check_identical_lock(app, db, plain)
        prefix = app.config["PORTAL_RQ_QUEUE"]
        assert list(redis.scan_iter(f"{prefix}:unknown-code:lock:*"))
        assert unknown_codes._memory == {}
