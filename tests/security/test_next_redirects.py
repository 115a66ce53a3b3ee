"""Issue 12 item 7: ``next=`` payloads on staff sign-in all land on this site.

Each payload is sent as typed (the query string percent-encoded by the client) and raw
(as an attacker would write the link), through the password step and through the
two-factor step; the redirect after sign-in must stay on this host.
"""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import pytest

PAYLOADS = [
    "//evil.example",
    "/\\evil.example",
    "/%09/evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "https://evil.example",
    "///evil.example",
    "/\t/evil.example",
    " //evil.example",
    "https:evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "/.//evil.example",
]
BASE = "http://localhost/staff/login"


def _lands_same_site(location: str) -> None:
    # Resolve the Location as a browser does (backslashes count as slashes, tabs vanish).
    browser_view = location.replace("\\", "/").replace("\t", "").replace("\n", "")
    target = urlsplit(urljoin(BASE, browser_view))
    assert target.scheme == "http" and target.netloc == "localhost", location
    assert "evil" not in target.netloc


def _login_url(payload: str, raw: bool) -> str:
    return f"/staff/login?next={payload}" if raw else f"/staff/login?next={quote(payload, safe='')}"


# Each payload percent-encoded, and raw where it can stand in a request line as written.
CASES = [(payload, False) for payload in PAYLOADS] + [
    (payload, True) for payload in PAYLOADS if not any(ch in payload for ch in " \t")]


@pytest.mark.parametrize("payload, raw", CASES)
def test_password_sign_in_stays_on_site(app, make_staff, form_token, payload, raw):
    user = make_staff("manager")
    client = app.test_client()
    url = _login_url(payload, raw)
    token = form_token(client, url)
    response = client.post(url, data={"email": user.email, "password":
                                      "correct horse battery staple", "csrf_token": token})
    assert response.status_code == 302
    _lands_same_site(response.location)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_two_factor_sign_in_stays_on_site(app, make_staff, form_token, payload):
    import pyotp

    secret = pyotp.random_base32()
    user = make_staff("manager", totp_secret=secret)
    client = app.test_client()
    url = _login_url(payload, raw=False)
    token = form_token(client, url)
    first = client.post(url, data={"email": user.email, "password":
                                   "correct horse battery staple", "csrf_token": token})
    assert first.status_code == 302 and "/login/code" in first.location
    token = form_token(client, "/staff/login/code")
    second = client.post("/staff/login/code", data={"code": pyotp.TOTP(secret).now(),
                                                    "csrf_token": token})
    assert second.status_code == 302
    _lands_same_site(second.location)


def test_a_same_site_next_is_kept(app, make_staff, form_token):
    user = make_staff("manager")
    client = app.test_client()
    url = "/staff/login?next=" + quote("/helpdesk/incidents/?page=2", safe="")
    token = form_token(client, url)
    response = client.post(url, data={"email": user.email, "password":
                                      "correct horse battery staple", "csrf_token": token})
    assert response.location == "/helpdesk/incidents/?page=2"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_next_refuses_every_payload_or_keeps_it_a_local_path(payload):
    from portal.security.redirects import safe_next

    result = safe_next(payload, "/helpdesk/")
    _lands_same_site(result)
