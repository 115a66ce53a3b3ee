"""The notice page rendered once per notice: each reader still gets their own tokens."""

from __future__ import annotations

import re

import pytest

from portal.core import shared_pages
from tests.support.customer import FULL_CONTACT, add_activation_codes, approve_notice, sign_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'<script nonce="([^"]+)"')


@pytest.fixture
def incident(db, make_incident):
    incident = make_incident(**FULL_CONTACT)
    approve_notice(db, incident)
    return incident


def _tokens(response) -> tuple[set[str], str]:
    nonces = NONCE.findall(response.text)
    assert len(nonces) == 1
    return set(CSRF.findall(response.text)), nonces[0]


def _without_tokens(text: str) -> str:
    return NONCE.sub("<script nonce=\"-\"", CSRF.sub('name="csrf_token" value="-"', text))


def test_two_readers_of_one_notice_get_the_same_page_with_their_own_tokens(
        app, db, incident, make_person):
    first, first_plain = make_person(incident, categories=["contact_details"])
    second, second_plain = make_person(incident, categories=["contact_details"])
    one, two = app.test_client(), app.test_client()
    sign_in(one, first_plain)
    sign_in(two, second_plain)
    store = shared_pages._store()
    page_one = one.get("/notice")
    page_two = two.get("/notice")
    assert page_one.status_code == page_two.status_code == 200
    assert store.hits >= 1 and len(store) == 1
    csrf_one, nonce_one = _tokens(page_one)
    csrf_two, nonce_two = _tokens(page_two)
    assert len(csrf_one) == len(csrf_two) == 1 and csrf_one != csrf_two
    assert nonce_one != nonce_two
    assert page_one.headers["Content-Security-Policy"].count(f"'nonce-{nonce_one}'") == 1
    assert "slot-" not in page_one.text and "slot-" not in page_two.text
    assert _without_tokens(page_one.text) == _without_tokens(page_two.text)
    # The token on the page is this session's: the sign-out form works with it.
    response = two.post("/sign-out", data={"csrf_token": csrf_two.pop()})
    assert response.status_code == 302
    assert one.get("/notice").status_code == 200


def test_the_shared_page_is_what_a_fresh_render_gives(app, db, incident, make_person):
    _record, plain = make_person(incident, categories=["national_id", "health"])
    client = app.test_client()
    sign_in(client, plain)
    cached = client.get("/notice")  # first view: rendered and stored
    again = client.get("/notice")  # served from the store
    shared_pages._store().clear()
    app.config["SHARED_PAGE_CACHE_SIZE"] = 0
    fresh = client.get("/notice")
    assert _without_tokens(cached.text) == _without_tokens(again.text)
    assert _without_tokens(again.text) == _without_tokens(fresh.text)


def test_other_categories_or_languages_get_their_own_page(app, db, incident, make_person):
    approve_notice(db, incident, language="es")
    _health, health_plain = make_person(incident, categories=["health"])
    _card, card_plain = make_person(incident, categories=["payment_card"], language="es")
    one, two = app.test_client(), app.test_client()
    sign_in(one, health_plain)
    sign_in(two, card_plain)
    health_page, card_page = one.get("/notice").text, two.get("/notice").text
    assert "Payment card" not in health_page
    assert '<article class="notice" lang="es">' in card_page
    assert '<article class="notice" lang="en">' in health_page
    assert len(shared_pages._store()) == 2


def test_a_revealed_activation_code_is_never_shared(app, db, make_incident, make_person):
    incident = make_incident(**FULL_CONTACT)
    approve_notice(db, incident)
    add_activation_codes(db, incident, 2)
    _first, first_plain = make_person(incident, categories=["contact_details"])
    _second, second_plain = make_person(incident, categories=["contact_details"])
    one, two = app.test_client(), app.test_client()
    sign_in(one, first_plain)
    sign_in(two, second_plain)
    token = CSRF.findall(one.get("/notice").text)[-1]
    one.post("/notice/activation-code", data={"csrf_token": token})
    revealed = one.get("/notice").text
    code = re.search(r'id="activation-code">([^<]+)<', revealed).group(1)
    other = two.get("/notice").text
    assert code not in other and "Show my activation code" in other


def test_pending_flash_messages_are_shown_not_cached(app, db, incident, make_person):
    _record, plain = make_person(incident)
    client = app.test_client()
    sign_in(client, plain)
    client.get("/notice")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "A one-off message.")]
    assert "A one-off message." in client.get("/notice").text
    assert "A one-off message." not in client.get("/notice").text
