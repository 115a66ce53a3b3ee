"""Customer verification: codes, the generic failure, the lock, session clocks, sign-out."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from functools import partial

import pytest

from portal.customer import session as customer_session
from portal.models.base import utcnow
from portal.people import unknown_codes, verification
from tests.support import csrf_token
from tests.support.customer import (
    actions,
    answer,
    approve_notice,
    enter_code,
    interactions,
    main_html,
    personal_values,
    sign_in,
)
from tests.support.dates import dob_fields
from tests.support.race import run_together


@pytest.fixture
def person(db, make_incident, make_person):
    incident = make_incident(contact_hotline="+1 800 555 0142", contact_hours="Mon-Fri 9-17")
    approve_notice(db, incident)
    return make_person(incident)


def test_landing_page_has_labelled_code_field(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<label class="label" for="code">' in response.text
    assert response.text.count("<h1") == 1
    assert response.headers["Cache-Control"] == "no-store"


def test_malformed_code_gets_a_clear_field_error(client):
    response = enter_code(client, "hello")
    assert response.status_code == 400
    assert 'id="code-error"' in response.text
    assert 'aria-describedby="code-hint code-error"' in response.text


def test_link_keeps_code_out_of_url_and_session(client, person):
    _person, plain = person
    response = client.get(f"/n/{plain['notice_code']}")
    assert response.status_code == 303
    assert response.location.endswith("/verify")
    assert plain["notice_code"] not in response.location
    with client.session_transaction() as session:
        stored = json.dumps(dict(session))
    code = plain["notice_code"]
    assert code not in stored and code.replace("-", "") not in stored
    page = client.get("/verify")
    assert page.status_code == 200
    assert code[-4:] in page.text  # the tail tells the customer which code


def test_a_link_cut_short_says_so_and_keeps_nothing(client, person):
    """An SMS app that split the message leaves a link with part of the code: the
    landing page says the link is incomplete (in the customer's language) instead of an
    empty form; nothing of the partial code is kept, and a real code's link is judged
    by its form only (whether it exists is never told here)."""
    _person, plain = person
    cut = plain["notice_code"][:9]
    response = client.get(f"/n/{cut}")
    assert response.status_code == 303 and response.location.endswith("/")
    with client.session_transaction() as session:
        assert cut.replace("-", "") not in json.dumps(dict(session))
    page = client.get("/")
    assert "The link you followed is incomplete." in page.text
    assert "incomplete" not in client.get("/").text  # said once
    client.get(f"/n/{cut}?lang=de")
    assert "Der Link, dem Sie gefolgt sind, ist unvollständig." in client.get("/").text


def test_success_rotates_session_keeps_language_and_logs(client, db, person):
    record, plain = person
    client.get("/?lang=fr")
    enter_code(client, plain["notice_code"])
    with client.session_transaction() as session:
        session["leftover"] = "from before"
    response = answer(client, plain["date_of_birth"], postcode=plain["postcode"])
    assert response.status_code == 302 and response.location.endswith("/notice")
    with client.session_transaction() as session:
        assert "leftover" not in session
        assert customer_session.PENDING_CODE_KEY not in session
        assert session["customer_person_id"] == record.id
        assert session["lang"] == "fr"
    assert client.get("/notice").status_code == 200
    succeeded = interactions(db, "verify.succeeded")
    assert len(succeeded) == 1
    assert succeeded[0].actor_type == "customer" and succeeded[0].person_id == record.id
    db.session.refresh(record)
    assert record.last_verified_at is not None


def test_postcode_is_normalised(client, person):
    _record, plain = person
    enter_code(client, plain["notice_code"].lower().replace("-", " "))
    response = answer(client, plain["date_of_birth"], postcode=" " + plain["postcode"] + " ")
    assert response.status_code == 302


def test_a_code_pasted_with_dashes_and_a_zip_plus_4_are_right_answers(client, db, person):
    """A code copied from a letter or a mail may carry en dashes; a ZIP+4 from an envelope
    is the right postcode when the record holds the five-digit ZIP. Neither is a failure."""
    from portal.models import Interaction

    record, plain = person
    assert len(plain["postcode"]) == 5
    enter_code(client, plain["notice_code"].replace("-", "\u2013"))
    response = answer(client, plain["date_of_birth"], postcode=plain["postcode"] + "-1234")
    assert response.status_code == 302
    failed = db.session.query(Interaction).filter(Interaction.action == "verify.failed").count()
    assert failed == 0
    db.session.refresh(record)
    assert record.last_verified_at is not None


def test_a_wrong_zip_plus_4_is_still_wrong(client, person):
    _record, plain = person
    enter_code(client, plain["notice_code"])
    wrong = "1" + plain["postcode"][1:] + "-1234"
    assert answer(client, plain["date_of_birth"], postcode=wrong).status_code == 401


def test_every_failure_gets_the_same_generic_message(client, db, make_person, person):
    _record, plain = person
    bodies = []
    # unknown code
    enter_code(client, "0000-0000-0000")
    bodies.append(answer(client, plain["date_of_birth"], postcode=plain["postcode"]))
    # wrong date of birth
    enter_code(client, plain["notice_code"])
    bodies.append(answer(client, "1901-02-03", postcode=plain["postcode"]))
    # wrong postcode
    bodies.append(answer(client, plain["date_of_birth"], postcode="00000"))
    assert {response.status_code for response in bodies} == {401}
    # The real code's second failure leaves one attempt fewer (the unknown code's second
    # would too: test_attempts_left.py); the count is the only difference allowed.
    pages = {main_html(response).replace(plain["notice_code"][-4:], "XXXX")
             .replace("0000</p>", "XXXX</p>")
             .replace("You have 3 attempts left", "You have 4 attempts left")
             for response in bodies}
    assert all("We could not confirm your details" in page for page in pages)
    assert len({page.split("Notice code")[0] for page in pages}) == 1
    failed = interactions(db, "verify.failed")
    assert [row.details.get("reason") for row in failed] == ["unknown_code", "mismatch",
                                                             "mismatch"]
    for row in failed:
        text = json.dumps(row.details)
        assert not any(value in text for value in personal_values(plain))
        assert plain["notice_code"] not in text


def test_five_failures_lock_for_thirty_minutes(client, db, person):
    record, plain = person
    enter_code(client, plain["notice_code"])
    for attempt in range(4):
        assert answer(client, "1901-02-03", postcode=plain["postcode"]).status_code == 401, attempt
    locked = answer(client, "1901-02-03", postcode=plain["postcode"])
    assert locked.status_code == 429
    assert "Too many attempts" in locked.text
    assert "+1 800 555 0142" in locked.text and "Mon-Fri 9-17" in locked.text
    # How long first: the clock time alone, in the portal's zone, read as tomorrow.
    assert "You can try again in 30 minutes (after " in locked.text
    db.session.refresh(record)
    remaining = verification.failures(record).locked_until - utcnow()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    # The right answers are refused while locked; the lock page shows again.
    again = answer(client, plain["date_of_birth"], postcode=plain["postcode"])
    assert again.status_code == 429
    assert client.get("/notice").status_code == 302
    assert client.get("/verify").status_code == 429
    logged = actions(db, "verify.")
    assert logged.count("verify.locked") == 1
    assert logged.count("verify.failed") == 6
    assert "verify.succeeded" not in logged


def test_lock_expires(client, db, person, monkeypatch):
    record, plain = person
    enter_code(client, plain["notice_code"])
    for _ in range(5):
        answer(client, "1901-02-03", postcode=plain["postcode"])
    assert verification.failures(record).locked_until is not None
    later = unknown_codes.clock() + 30 * 60 + 1
    monkeypatch.setattr(unknown_codes, "clock", lambda: later)
    sign_in(client, plain)
    db.session.refresh(record)
    assert verification.failures(record) == unknown_codes.State(0, None)


def test_success_resets_the_failure_count(client, db, person):
    record, plain = person
    enter_code(client, plain["notice_code"])
    for _ in range(3):
        answer(client, "1901-02-03", postcode=plain["postcode"])
    db.session.refresh(record)
    assert verification.failures(record).failures == 3
    answer(client, plain["date_of_birth"], postcode=plain["postcode"])
    db.session.refresh(record)
    assert verification.failures(record).failures == 0


def test_policy_last4_method(client, db, make_incident, make_person):
    incident = make_incident(verification_method="policy_last4")
    approve_notice(db, incident)
    _record, plain = make_person(incident)
    enter_code(client, plain["notice_code"])
    page = client.get("/verify")
    assert "Last four characters of your policy number" in page.text
    assert 'name="postcode"' not in page.text
    assert answer(client, plain["date_of_birth"], policy_last4="9999").status_code == 401
    response = answer(client, plain["date_of_birth"], policy_last4=plain["policy_number"][-4:])
    assert response.status_code == 302


def test_verify_without_a_code_goes_back_to_start(client):
    assert client.get("/verify").location.endswith("/")


@pytest.mark.parametrize("key, age", [
    (customer_session.SEEN_KEY, 31 * 60),
    (customer_session.STARTED_KEY, 12 * 3600 + 60),
])
def test_session_idles_out_and_has_an_absolute_end(client, db, person, key, age):
    _record, plain = person
    sign_in(client, plain)
    assert client.get("/notice").status_code == 200
    with client.session_transaction() as session:
        session[key] = time.time() - age
    response = client.get("/notice")
    assert response.status_code == 302 and response.location.endswith("/")
    assert "inactive for too long" in client.get("/").text
    assert client.get("/notice").status_code == 302
    expired = interactions(db, "customer.session_expired")
    assert expired and expired[0].details["reason"] in {"idle", "absolute"}


def test_activity_keeps_the_session_alive(client, person):
    _record, plain = person
    sign_in(client, plain)
    with client.session_transaction() as session:
        session[customer_session.SEEN_KEY] = time.time() - 29 * 60
    assert client.get("/notice").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session[customer_session.SEEN_KEY] < 5


def test_sign_out_needs_post_with_csrf_and_is_logged(client, db, person):
    _record, plain = person
    sign_in(client, plain)
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out", data={}).status_code == 400
    assert client.get("/notice").status_code == 200
    token = csrf_token(client, "/notice")
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/signed-out")
    assert "You have signed out" in client.get("/signed-out?lang=en").text
    assert client.get("/notice").status_code == 302
    assert actions(db, "customer.") == ["customer.signed_out"]


def test_verification_interactions_carry_no_personal_values(client, db, person):
    _record, plain = person
    enter_code(client, plain["notice_code"])
    answer(client, "1901-02-03", postcode="12345")
    answer(client, plain["date_of_birth"], postcode=plain["postcode"])
    for row in interactions(db, "verify.failed") + interactions(db, "verify.succeeded"):
        text = json.dumps(row.details)
        for value in personal_values(plain) + [plain["notice_code"], "1901-02-03", "12345"]:
            assert value not in text


class TestRateLimit:
    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["CUSTOMER_VERIFY_RATE_LIMIT"] = "4 per minute"
        return app_settings

    def test_per_ip_rate_limit(self, client, person):
        _record, plain = person
        enter_code(client, plain["notice_code"])
        responses = [answer(client, "1901-02-03", postcode="1") for _ in range(5)]
        assert [response.status_code for response in responses] == [401, 401, 401, 401, 429]
        assert responses[-1].headers["Retry-After"] == "60"
        assert "Too many attempts" in responses[-1].text


def test_an_anonymised_person_cannot_verify(client, db, person):
    record, plain = person
    record.anonymised_at = utcnow()
    db.session.commit()
    enter_code(client, plain["notice_code"])
    response = answer(client, plain["date_of_birth"], postcode=plain["postcode"])
    assert response.status_code == 401
    assert interactions(db, "verify.failed")[0].details["reason"] == "unknown_code"


def test_parallel_wrong_answers_are_all_counted(app, db, person):
    """Eight wrong answers at once: no count is lost, and the code ends up locked."""
    record, plain = person
    clients = [app.test_client() for _ in range(8)]
    tokens = []
    for each in clients:
        enter_code(each, plain["notice_code"])
        tokens.append(csrf_token(each, "/"))
    statuses = []

    def attempt(each, token):
        response = each.post("/verify", data={**dob_fields("1901-02-03"),
                                               "postcode": plain["postcode"],
                                               "csrf_token": token})
        statuses.append(response.status_code)

    run_together([partial(attempt, *pair) for pair in zip(clients, tokens, strict=True)],
                 timeout=60)
    assert len(statuses) == 8 and set(statuses) <= {401, 429}
    counts = [row.details["failures"] for row in interactions(db, "verify.failed")
              if row.details.get("reason") == "mismatch"]
    assert sorted(counts) == [1, 2, 3, 4, 5]  # no count lost, none past the lock
    assert len(interactions(db, "verify.locked")) == 1
    db.session.refresh(record)
    assert verification.failures(record).locked_until is not None


# --- H3: the attempt is reserved before anything is compared --------------------------------


def _count_comparisons(monkeypatch, gate=None):
    """Wrap the answer comparison to count calls (and optionally hold right answers)."""
    from portal.people import verification as verify_module

    original = verify_module.answers_match
    calls = []

    def counting(person, answers, method):
        result = original(person, answers, method)
        calls.append(result)
        if result and gate is not None:
            gate(person)
        return result

    monkeypatch.setattr(verify_module, "answers_match", counting)
    return calls


def _parallel_posts(app, plain, answers: list[bool], before_start=None):
    """POST one verification per entry (True: the right answers) at once; statuses in order.

    With ``before_start``, the right answers go first and the wrong ones start together
    once ``before_start()`` returns.
    """
    clients = [app.test_client() for _ in answers]
    tokens = []
    for each in clients:
        enter_code(each, plain["notice_code"])
        tokens.append(csrf_token(each, "/"))
    statuses = [None] * len(answers)
    waiting = [index for index, right in enumerate(answers)
               if before_start is None or not right]

    def attempt(index):
        dob = plain["date_of_birth"] if answers[index] else "1901-02-03"
        response = clients[index].post("/verify", data={
            **dob_fields(dob), "postcode": plain["postcode"], "csrf_token": tokens[index]})
        statuses[index] = response.status_code

    run_together([partial(attempt, index) for index in waiting],
                 early=[partial(attempt, index) for index in range(len(answers))
                        if index not in waiting],
                 before_start=before_start, timeout=90)
    return statuses


def test_right_answers_counted_before_a_parallel_lock_do_not_verify(app, db, person,
                                                                      monkeypatch):
    """The right answer is compared first, then 19 wrong answers lock the code: no session."""
    import threading

    record, plain = person
    entered = threading.Event()

    def hold_until_locked(compared):
        entered.set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with app.app_context():  # a session of its own: sees what others committed
                until = verification.failures(compared).locked_until
            if until is not None:
                return
            time.sleep(0.02)

    calls = _count_comparisons(monkeypatch, gate=hold_until_locked)
    statuses = _parallel_posts(app, plain, [True] + [False] * 19,
                               before_start=lambda: entered.wait(timeout=20))
    assert statuses[0] == 429, "the right answer got past a lock set while it was compared"
    assert 302 not in statuses
    assert interactions(db, "verify.succeeded") == []
    assert len(calls) <= 5, f"{len(calls)} attempts were compared in one window"
    assert len(interactions(db, "verify.locked")) == 1
    db.session.refresh(record)
    assert verification.failures(record).locked_until is not None
    late_statuses = _parallel_posts(app, plain, [True] * 3 + [False] * 3)
    assert set(late_statuses) == {429}
    assert len(calls) <= 5  # nothing compared while locked


def test_parallel_attempts_never_compare_more_than_five(app, db, person, monkeypatch):
    """Twenty at once (one right): at most five compared per window, none past the lock."""
    record, plain = person
    calls = _count_comparisons(monkeypatch)
    statuses = _parallel_posts(app, plain, [False] * 10 + [True] + [False] * 9)
    assert set(statuses) <= {302, 401, 429}
    assert statuses.count(302) <= 1
    succeeded = interactions(db, "verify.succeeded")
    windows = 1 + len(succeeded)
    numbered = [row.details["failures"] for row in interactions(db, "verify.failed")
                if row.details.get("reason") == "mismatch"]
    numbered += [row.details["attempt"] for row in succeeded]
    numbered += [row.details["attempt"] for row in interactions(db, "verify.failed")
                 if row.details.get("reason") == "locked" and "attempt" in row.details]
    assert len(calls) == len(numbered), "an attempt was compared without being counted"
    assert len(calls) <= 5 * windows
    assert max(numbered) <= 5
    assert all(numbered.count(n) <= windows for n in set(numbered))
    assert statuses[10] in {302, 429}  # the right answers: verified, or refused by the lock
    assert (statuses[10] == 302) == bool(succeeded)


def test_fifth_attempt_with_the_right_answers_verifies(client, db, person):
    record, plain = person
    enter_code(client, plain["notice_code"])
    for _ in range(4):
        assert answer(client, "1901-02-03", postcode=plain["postcode"]).status_code == 401
    response = answer(client, plain["date_of_birth"], postcode=plain["postcode"])
    assert response.status_code == 302
    db.session.refresh(record)
    assert verification.failures(record) == unknown_codes.State(0, None)
    assert interactions(db, "verify.locked") == []


# --- M2: sign-out ends the session on the server ---------------------------------------------


def _cookie(client) -> str:
    return client.get_cookie("portal_session").value


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, client, db, person):
    record, plain = person
    sign_in(client, plain)
    assert client.get("/notice").status_code == 200
    copied = _cookie(client)
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/notice")})
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.session_nonce is None
    thief = app.test_client()
    thief.set_cookie("portal_session", copied)
    stolen = thief.get("/notice")
    assert stolen.status_code == 302 and stolen.location.endswith("/")
    assert "Your session has ended" in thief.get("/").text
    expired = interactions(db, "customer.session_expired")
    assert [row.details["reason"] for row in expired] == ["ended"]


def test_a_new_verification_ends_the_older_session(app, client, db, person):
    record, plain = person
    sign_in(client, plain)
    other = app.test_client()
    sign_in(other, plain)
    assert client.get("/notice").status_code == 302
    assert other.get("/notice").status_code == 200
    # The ended session signing out does not end the newer one.
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert other.get("/notice").status_code == 200
    db.session.refresh(record)
    assert record.session_nonce


def test_a_session_without_a_nonce_is_ended(client, db, person):
    _record, plain = person
    sign_in(client, plain)
    with client.session_transaction() as session:
        del session[customer_session.NONCE_KEY]
    assert client.get("/notice").status_code == 302


def test_a_lock_cleared_by_hand_starts_a_new_window(client, db, person):
    record, plain = person
    enter_code(client, plain["notice_code"])
    for _ in range(5):
        answer(client, "1901-02-03", postcode=plain["postcode"])
    verification.lift_lock(record)  # the count goes with the lock (the agent's page shows 0)
    assert verification.failures(record) == unknown_codes.State(0, None)
    assert answer(client, "1901-02-03", postcode=plain["postcode"]).status_code == 401
    db.session.refresh(record)
    assert verification.failures(record) == unknown_codes.State(1, None)


def test_the_failure_text_names_the_configured_limit(app, client, person):
    _record, plain = person
    app.config.update(CUSTOMER_LOCKOUT_ATTEMPTS=4, CUSTOMER_LOCKOUT_MINUTES=45)
    enter_code(client, plain["notice_code"])
    response = answer(client, "1901-02-03", postcode=plain["postcode"])
    assert response.status_code == 401
    assert "After 4 unsuccessful attempts the code is locked for 45 minutes." in response.text
