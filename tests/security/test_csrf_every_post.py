"""Issue 12 item 7: every POST route refuses a request without a CSRF token, and one with
a token from another session, with 400, and changes nothing.

The routes come from ``app.url_map``, so a new POST route is covered the day it is added.
Each is tried from a session that could otherwise use it: a verified customer for the
customer pages, a signed-in manager for staff pages, and a half-way staff sign-in for
the second step.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.support.dates import dob_fields

# POST routes that may take a request without a CSRF token (none today). Add one only with
# a reason, e.g. a webhook that checks a signature instead.
CSRF_EXEMPT: dict[str, str] = {
    # Twilio cannot hold a token: its X-Twilio-Signature is checked instead (403 without
    # it; tests/dispatch/test_dispatch_webhooks.py).
    "webhooks.twilio_status": "signed by Twilio",
    "webhooks.twilio_inbound": "signed by Twilio",
}

FORM = {"code": "AAAA-BBBB-CCCC", **dob_fields("1980-01-02"), "postcode": "90001",
        "message": "A message long enough", "topic": "notice", "email": "x@staff.example",
        "password": "correct horse battery staple", "reason": "A reason", "external_ref": "P-1",
        "title": "Changed", "authority": "An authority", "text": "Some advice",
        "what_happened": "Changed text", "first_name": "Jamie", "last_name": "Tester",
        "policy_number": "POL1", "language": "en"}


def _url(rule, incident) -> str:
    values = {"reference": incident.reference, "language": "en", "number": 1, "element": "x",
              "ticket_id": 1, "run_id": 1, "message_id": 1,
              "answer_id": 1, "person_id": 1,  # helpdesk answers, people (issue 10)
              "campaign_id": 1, "batch_id": 1,  # campaigns and their letters (issue 9)
              "interaction_id": 1,  # log reveals (issue 11 oversight)
              "staff_id": 1, "token": "x"}  # staff administration, set-up links
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), url)
    return url


def _snapshot(db) -> dict:
    """Every table's rows, to tell that nothing changed."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        rows[table.name] = sorted(map(repr, db.session.execute(select(table)).all()))
    return rows


@pytest.fixture
def sessions(app, db, approved_incident, make_person, make_staff, verify_as, staff_client):
    """Clients for each kind of session, and the incident the staff routes name."""
    incident = approved_incident(reference="INC-001")
    _person, plain = make_person(incident)
    customer = verify_as(plain)
    from portal.models import Ticket, TicketMessage

    ticket = Ticket(incident_id=incident.id, person_id=_person.id, channel="web",
                    topic="notice", status="open")
    db.session.add(ticket)
    db.session.flush()
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                 author_id=_person.id, channel="web", body="Hello",
                                 internal=False))
    db.session.commit()
    manager = staff_client(make_staff("manager"))
    anonymous = app.test_client()
    return {"customer": customer, "staff": manager, "anonymous": anonymous}, incident


def _own_token(client, url: str) -> str | None:
    page = client.get(url)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    return match.group(1) if match else None


def _post_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if "POST" in rule.methods),
                  key=lambda rule: rule.rule)


def _client_for(rule, clients):
    if rule.endpoint.startswith("customer."):
        return clients["customer"]
    if rule.endpoint in ("staff_auth.login", "staff_auth.login_totp"):
        return clients["anonymous"]
    return clients["staff"]


def test_every_post_route_is_covered(app):
    rules = _post_rules(app)
    assert len(rules) >= 20
    csrf = app.extensions["csrf"]
    assert app.config.get("WTF_CSRF_ENABLED", True) and app.config.get("WTF_CSRF_CHECK_DEFAULT",
                                                                        True)
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        exempt = f"{view.__module__}.{view.__name__}" in csrf._exempt_views
        assert exempt == (rule.endpoint in CSRF_EXEMPT), rule.endpoint


@pytest.mark.parametrize("token_kind", ["missing", "foreign", "garbled"])
def test_every_post_route_refuses_a_missing_or_foreign_token(app, db, sessions, token_kind):
    clients, incident = sessions
    stranger = app.test_client()
    foreign = _own_token(stranger, "/")  # a valid token, of another session
    assert foreign
    before = _snapshot(db)
    checked = []
    for rule in _post_rules(app):
        if rule.endpoint in CSRF_EXEMPT:
            continue
        client = _client_for(rule, clients)
        token = {"missing": None, "foreign": foreign, "garbled": foreign[:-4] + "AAAA"}[
            token_kind]
        attempts = [(dict(FORM), {})]  # no token at all
        if token is not None:  # the token in the form, or in the header instead
            attempts = [(dict(FORM, csrf_token=token), {}), (dict(FORM), {"X-CSRFToken": token})]
        for data, headers in attempts:
            response = client.post(_url(rule, incident), data=data, headers=headers)
            assert response.status_code == 400, (rule.endpoint, token_kind, response.status_code)
        checked.append(rule.endpoint)
    assert _snapshot(db) == before
    assert len(checked) == len(_post_rules(app)) - len(CSRF_EXEMPT)
    # The sessions are as they were: still signed in.
    assert clients["customer"].get("/notice").status_code == 200
    assert clients["staff"].get("/helpdesk/").status_code == 200


def test_a_token_of_the_same_session_is_accepted(app, db, sessions):
    """The check above refuses for the right reason: the same post with the session's token
    gets through CSRF (here: the customer's sign-out)."""
    from portal.models import Interaction

    clients, _incident = sessions
    customer = clients["customer"]
    token = _own_token(customer, "/notice")
    before = db.session.scalar(select(func.count(Interaction.id)))
    response = customer.post("/sign-out", data={"csrf_token": token})
    assert response.status_code in (302, 303)
    assert db.session.scalar(select(func.count(Interaction.id))) > before
