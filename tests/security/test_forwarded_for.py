"""Issue 12 item 7: X-Forwarded-For rotation against the per-IP limits.

Without ``PROXY_HOPS`` the header is not trusted at all: a rotating value does not reset
the per-IP limit on ``/verify`` and ``/staff/login``. With ``PROXY_HOPS=1`` only the last
hop (the one the trusted proxy appended) names the client; hops before it are the
client's own words and change nothing.
"""

from __future__ import annotations

import pytest

from tests.support.dates import dob_fields

LIMIT = 3


@pytest.fixture
def app_settings(app_settings, request):
    app_settings["STAFF_LOGIN_RATE_LIMIT"] = f"{LIMIT} per minute"
    app_settings["CUSTOMER_VERIFY_RATE_LIMIT"] = f"{LIMIT} per minute"
    app_settings["PROXY_HOPS"] = getattr(request, "param", 0)
    return app_settings


def _verify_attempts(client, form_token, code: str, forwarded: list[str]) -> list:
    token = form_token(client, "/")
    assert client.post("/", data={"code": code, "csrf_token": token}).status_code == 302
    return [client.post("/verify", data={**dob_fields("1901-02-03"), "postcode": "0",
                                         "csrf_token": token},
                        headers={"X-Forwarded-For": value})
            for value in forwarded]


def _staff_attempts(client, form_token, forwarded: list[str]) -> list:
    token = form_token(client, "/staff/login")
    return [client.post("/staff/login", data={"email": "nobody@staff.example",
                                              "password": "wrong wrong", "csrf_token": token},
                        headers={"X-Forwarded-For": value})
            for value in forwarded]


ROTATING = [f"198.51.100.{n}" for n in range(1, LIMIT + 2)]
ROTATING_FIRST_HOP = [f"198.51.100.{n}, 203.0.113.9" for n in range(1, LIMIT + 2)]


def _limited(responses) -> list[bool]:
    # The per-IP limiter answers 429 with Retry-After; failures before it answer 401.
    return [r.status_code == 429 and r.headers.get("Retry-After") == "60" for r in responses]


class TestWithoutProxyHops:
    def test_verify_ignores_a_rotating_header(self, app, client, form_token, make_person):
        _person, plain = make_person()
        responses = _verify_attempts(client, form_token, plain["notice_code"], ROTATING)
        assert [r.status_code for r in responses[:LIMIT]] == [401] * LIMIT
        assert _limited(responses) == [False] * LIMIT + [True]

    def test_staff_login_ignores_a_rotating_header(self, app, client, form_token):
        responses = _staff_attempts(client, form_token, ROTATING)
        assert [r.status_code for r in responses[:LIMIT]] == [401] * LIMIT
        assert _limited(responses) == [False] * LIMIT + [True]

    def test_the_header_is_not_the_address(self, app):
        assert app.config["PROXY_HOPS"] == 0
        with app.test_request_context(headers={"X-Forwarded-For": "198.51.100.1"},
                                      environ_base={"REMOTE_ADDR": "192.0.2.7"}):
            from flask import request

            assert request.remote_addr == "192.0.2.7"


@pytest.mark.parametrize("app_settings", [1], indirect=True)
class TestBehindOneProxy:
    def test_verify_counts_the_last_hop(self, app, client, form_token, make_person):
        _person, plain = make_person()
        spoofed = _verify_attempts(client, form_token, plain["notice_code"], ROTATING_FIRST_HOP)
        assert _limited(spoofed) == [False] * LIMIT + [True]

    def test_verify_distinct_clients_have_their_own_limit(self, app, client, form_token,
                                                          make_person):
        _person, plain = make_person()
        # Four different clients behind the proxy: none reaches the per-IP limit (the
        # code's own lock, at 5 failures, is not reached either).
        responses = _verify_attempts(client, form_token, plain["notice_code"], ROTATING)
        assert [r.status_code for r in responses] == [401] * (LIMIT + 1)

    def test_staff_login_counts_the_last_hop(self, app, client, form_token):
        spoofed = _staff_attempts(client, form_token, ROTATING_FIRST_HOP)
        assert _limited(spoofed) == [False] * LIMIT + [True]
        others = _staff_attempts(client, form_token,
                                 [f"203.0.113.{n}" for n in range(20, 20 + LIMIT)])
        assert [r.status_code for r in others] == [401] * LIMIT
