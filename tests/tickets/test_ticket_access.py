"""Who may reach the ticket routes: one check (``portal.tickets.access``) shared by the
queue and every ticket route, tried with ids of an incident the agent may not see.
"""

from __future__ import annotations

import re

import pytest

from portal.tickets import access
from tests.support import csrf_token


def ticket_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("tickets.")]


def test_every_ticket_route_needs_the_agent_role(app):
    for rule in ticket_rules(app):
        expected = "manager" if rule.endpoint.startswith("tickets.sla_") else access.TICKET_ROLE
        assert app.view_functions[rule.endpoint].required_role == expected, rule.endpoint


@pytest.mark.parametrize("role", ["agent", "manager", "admin"])
def test_every_role_may_work_tickets(app, client, make_staff, login, make_ticket, role):
    ticket = make_ticket()
    import pyotp

    login(make_staff(role, totp_secret=pyotp.random_base32() if role == "admin" else None))
    assert client.get("/helpdesk/tickets/").status_code == 200
    assert client.get(f"/helpdesk/tickets/{ticket.id}").status_code == 200


def test_restricted_incidents_hide_tickets_on_every_route(
        app, db, client, make_staff, login, make_ticket, make_incident, monkeypatch):
    mine, theirs = make_incident(reference="MINE"), make_incident(reference="THEIRS")
    visible = make_ticket(incident=mine)
    hidden = make_ticket(incident=theirs, body="Secret question of another incident")
    monkeypatch.setattr(access, "visible_incident_ids", lambda user: [mine.id])
    login(make_staff("agent"))
    token = csrf_token(client, f"/helpdesk/tickets/{visible.id}")
    listed = client.get("/helpdesk/tickets/?status=all").text
    assert f"/helpdesk/tickets/{visible.id}\"" in listed
    assert f"/helpdesk/tickets/{hidden.id}\"" not in listed
    before = (hidden.status, hidden.assignee_id, len(hidden.messages))
    for rule in ticket_rules(app):
        if "ticket_id" not in rule.arguments:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = re.sub(r"<int:ticket_id>", str(hidden.id), rule.rule)
            response = client.open(url, method=method, data={
                "csrf_token": token, "body": "x" * 10, "status": "closed", "field": "phone",
                "reason": "verify_identity", "assignee": "", "seen_message_id": "0"},
                headers={"X-CSRFToken": token})
            assert response.status_code == 404, (rule.endpoint, method)
            assert "Secret question" not in response.text
    db.session.expire_all()
    assert (hidden.status, hidden.assignee_id, len(hidden.messages)) == before


def test_anonymous_and_customers_cannot_reach_tickets(app, client, make_ticket):
    ticket = make_ticket()
    response = client.get(f"/helpdesk/tickets/{ticket.id}")
    assert response.status_code == 302 and "/staff/login" in response.location
