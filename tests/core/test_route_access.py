"""Every route is classified: who may call it. A new route must be added here."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

# Endpoints anyone may call (customer entry points, health, static files).
PUBLIC = {
    "customer.index", "customer.from_link", "customer.verify", "customer.no_letter",
    "customer.faq", "customer.signed_out", "customer.sign_out", "health.healthz", "static",
    "staff_auth.login", "staff_auth.login_totp", "staff_auth.totp_setup", "staff_auth.logout",
    "staff_auth.setup",  # a one-time set-up link: unknown, used and expired look alike
    "customer.insurer_logo",
    "public.incident",  # the substitute notice: published pages only, else 404
    # Twilio only: a request without a valid X-Twilio-Signature gets 403 (tests/dispatch).
    "webhooks.twilio_status", "webhooks.twilio_inbound",
}
# Endpoints for a verified customer only.
CUSTOMER = {
    "customer.notice", "customer.notice_pdf", "customer.reveal_activation_code",
    "customer.preferences", "customer.tickets", "customer.ticket", "customer.ticket_new",
    "customer.ticket_reply", "customer.ticket_close",
}
# Staff endpoints guarded by Flask-Login alone (the member's own account).
STAFF_SELF = {"staff_auth.account", "staff_auth.totp_disable", "staff_auth.time_zone"}


def _sample_url(rule) -> str:
    values = {"reference": "INC-001", "language": "en", "number": 1, "run_id": 1,
              "ticket_id": 1, "element": "x", "code": "AAAA-BBBB-CCCC", "filename": "x.css"}
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values.get(name, 1)), url)
    return url


def test_every_endpoint_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    staff_guarded = {
        endpoint for endpoint in endpoints
        if hasattr(app.view_functions[endpoint], "required_role")
    }
    unclassified = endpoints - PUBLIC - CUSTOMER - STAFF_SELF - staff_guarded
    assert unclassified == set(), f"classify these routes in {__file__}: {sorted(unclassified)}"


def test_every_helpdesk_route_uses_the_role_decorator(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/helpdesk"):
            view = app.view_functions[rule.endpoint]
            assert hasattr(view, "required_role"), f"{rule.endpoint} lacks @staff_required"


def _staff_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if hasattr(app.view_functions[rule.endpoint], "required_role")]


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    for rule in _staff_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_sample_url(rule), method=method)
            if method == "POST":
                assert response.status_code in (302, 400), rule.endpoint  # 400: no CSRF token
            else:
                assert response.status_code == 302, rule.endpoint
                assert "/staff/login" in response.location


@pytest.mark.parametrize("role", ["agent"])
def test_agents_get_403_on_manager_routes(app, client, make_staff, login, make_incident, role):
    make_incident(reference="INC-001")
    login(make_staff(role))
    for rule in _staff_rules(app):
        view = app.view_functions[rule.endpoint]
        if view.required_role == "agent" or "GET" not in rule.methods:
            continue
        assert client.get(_sample_url(rule)).status_code == 403, rule.endpoint


def test_customer_routes_need_a_verified_session(app, client):
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in CUSTOMER:
            continue
        if "GET" in rule.methods:
            response = client.get(_sample_url(rule))
            assert response.status_code in (302, 303), rule.endpoint
            assert urlsplit(response.location).path == "/", rule.endpoint


def test_no_staff_page_may_be_cached(app, client, make_staff, login, make_incident):
    """Staff pages show personal data (a thread, a revealed value, a queue of references):
    every answer under /helpdesk, /staff and /dev says no-store, whichever view wrote it
    (an administrator's pages answer a manager 403, no-store too)."""
    make_incident(reference="INC-001")
    login(make_staff("manager"))
    seen = 0
    for rule in _staff_rules(app) + [rule for rule in app.url_map.iter_rules()
                                     if rule.endpoint in STAFF_SELF]:
        if "GET" not in rule.methods:
            continue
        response = client.get(_sample_url(rule))
        seen += response.status_code == 200
        assert response.headers.get("Cache-Control") == "no-store", (rule.rule,
                                                                     response.status_code)
    assert seen >= 10  # the pages themselves, not only their 404s
