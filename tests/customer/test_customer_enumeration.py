"""The verify step does not tell whether a notice code exists (finding L1).

A code that matches nobody gets the same form, the same failures and the same
lock after five failures as a real one, counted in the database or in Redis.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import AttemptCounter
from portal.people import unknown_codes
from portal.security.crypto import generate_code
from tests.support import REDIS_URL, csrf_token, make_settings
from tests.support.customer import answer, approve_notice, enter_code, interactions
from tests.support.dates import dob_fields

HOTLINE = "+1 800 555 0199"


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
    later = unknown_codes.clock() + 31 * 60
    monkeypatch.setattr(unknown_codes, "clock", lambda: later)
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
        assert db.session.execute(select(AttemptCounter)).first() is None  # not the fallback


def test_with_two_active_incidents_the_lock_page_is_the_same(app, db, make_incident,
                                                               make_person):
    older = make_incident(contact_hotline="+1 800 555 0001", contact_hours="Mon-Fri 9-17")
    approve_notice(db, older)
    _record, plain = make_person(older)
    newer = make_incident(contact_hotline=HOTLINE, contact_hours="Mon-Fri 9-17")
    approve_notice(db, newer)
    known = _five_failures_then_more(app, plain["notice_code"], plain)
    unknown = _five_failures_then_more(app, _unknown_like(plain["notice_code"]), plain)
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    for mine, theirs in zip(known, unknown, strict=True):
        assert _normalised(mine.text) == _normalised(theirs.text)


def test_an_unknown_code_lock_survives_a_restart(make_app, db, real):
    _record, plain = real()
    code = _unknown_like(plain["notice_code"])
    first = make_app()
    with first.app_context():
        assert _five_failures_then_more(first, code, plain)[4].status_code == 429
    restarted = make_app()
    with restarted.app_context():
        client = restarted.test_client()
        enter_code(client, code)
        assert client.get("/verify").status_code == 429


def test_incidents_with_different_questions_ask_both_for_every_code(app, real):
    _record, plain = real("policy_last4")
    _other, other_plain = real("postcode")
    pages = [_verify_page(app, code)[1] for code in (
        plain["notice_code"], other_plain["notice_code"], _unknown_like(plain["notice_code"]))]
    for page in pages:
        assert 'name="policy_last4"' in page.text and 'name="postcode"' in page.text
    assert len({_normalised(page.text).replace(code[-4:], "XXXX") for page, code in zip(
        pages, (plain["notice_code"], other_plain["notice_code"], plain["notice_code"]),
        strict=True)}) == 1
    # Each person is checked on their own incident's question; the other answer is asked only.
    for person, own in ((plain, {"policy_last4": plain["policy_number"][-4:], "postcode": "X1"}),
                        (other_plain, {"postcode": other_plain["postcode"],
                                       "policy_last4": "ZZZZ"})):
        client = app.test_client()
        enter_code(client, person["notice_code"])
        assert answer(client, person["date_of_birth"], **own).status_code == 302


class TestSameWork:
    """A wrong answer costs the same on a real code and on an unknown one (issue 12).

    Both run the same statements (compared exactly). Timing on a shared machine is
    noisy, so the timing test interleaves the two paths in pairs (alternating which
    goes first), compares their medians in each half of the run, and fails only when
    both halves show the same path slower by more than 0.5 ms.
    """

    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["CUSTOMER_LOCKOUT_ATTEMPTS"] = 100_000
        app_settings["CUSTOMER_VERIFY_RATE_LIMIT"] = "100000 per minute"
        return app_settings

    @staticmethod
    def _clients(app, plain):
        known, unknown = app.test_client(), app.test_client()
        enter_code(known, plain["notice_code"])
        enter_code(unknown, _unknown_like(plain["notice_code"]))
        return known, unknown

    @staticmethod
    def _post(client, token, plain):
        return client.post("/verify", data={**dob_fields("1901-02-03"),
                                            "postcode": plain["postcode"], "csrf_token": token})

    def test_both_paths_run_the_same_statements(self, app, db, real):
        from sqlalchemy import event

        _record, plain = real()
        clients = self._clients(app, plain)
        counts = []
        for client in clients:
            token = csrf_token(client, "/")
            self._post(client, token, plain)  # warm both paths
            seen = []

            def hook(_conn, _cursor, statement, *_args, seen=seen):
                seen.append(statement.split()[0])

            event.listen(db.engine, "before_cursor_execute", hook)
            try:
                assert self._post(client, token, plain).status_code == 401
            finally:
                event.remove(db.engine, "before_cursor_execute", hook)
            counts.append(len(seen))
        assert counts[0] == counts[1], counts

    PAIRS = 160  # per run: two halves of 80 pairs; about 3 s on SQLite, 5 s on PostgreSQL
    LIMIT_MS = 0.5

    @pytest.mark.alone  # the other xdist worker's tests would load the machine unevenly
    def test_median_times_do_not_differ(self, app, db, real):
        import statistics
        import time

        _record, plain = real()
        clients = self._clients(app, plain)
        tokens = [csrf_token(client, "/") for client in clients]
        for index in (0, 1, 0, 1):  # warm both paths (statement caches, pools)
            assert self._post(clients[index], tokens[index], plain).status_code == 401
        times = ([], [])
        for pair in range(self.PAIRS):
            for index in ((0, 1) if pair % 2 else (1, 0)):
                started = time.perf_counter()
                response = self._post(clients[index], tokens[index], plain)
                times[index].append(time.perf_counter() - started)
                assert response.status_code == 401
        half = self.PAIRS // 2
        differences = [
            round((statistics.median(times[0][part]) - statistics.median(times[1][part]))
                  * 1000, 3)
            for part in (slice(0, half), slice(half, None))]
        consistent = (all(d > self.LIMIT_MS for d in differences)
                      or all(d < -self.LIMIT_MS for d in differences))
        assert not consistent, f"real minus unknown code, median ms per half: {differences}"
