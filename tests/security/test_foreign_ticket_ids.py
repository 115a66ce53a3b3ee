"""Issue 12 item 7: another person's ticket ids on every customer ticket route.

Ids 1 to 50 are tried on every route with a ``<ticket_id>``: each one that is not the
signed-in person's answers 404 with the very page an id that never existed gets, and
changes nothing.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

SECRET = "Secret message of the other person"


def _normalised(text: str) -> str:
    """A page without its per-request values (CSRF tokens, CSP nonces)."""
    text = re.sub(r'name="csrf_token"[^>]*', "", text)
    return re.sub(r'nonce="[^"]*"', "", text)


def _state(db):
    from portal.models import Interaction, Ticket, TicketMessage

    db.session.expire_all()
    tickets = db.session.execute(select(Ticket.id, Ticket.status, Ticket.closed_at)
                                 .order_by(Ticket.id)).all()
    messages = db.session.scalar(select(func.count(TicketMessage.id)))
    logged = db.session.scalar(select(func.count(Interaction.id)))
    return tickets, messages, logged


def test_other_peoples_ticket_ids_are_not_found_on_any_route(app, db, approved_incident,
                                                           make_person, verify_as, form_token):
    from portal.models import Ticket, TicketMessage

    incident = approved_incident()
    other, _other_plain = make_person(incident)
    me, my_plain = make_person(incident)
    mine = set()
    for n in range(50):  # ids 1..50: mostly the other person's, every tenth mine
        owner = me if n % 10 == 9 else other
        ticket = Ticket(incident_id=incident.id, person_id=owner.id, channel="web",
                        topic="notice", status="open" if n % 2 else "pending_customer")
        db.session.add(ticket)
        db.session.flush()
        db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                     author_id=owner.id, channel="web",
                                     body=f"{SECRET} {ticket.id}", internal=False))
        if owner is me:
            mine.add(ticket.id)
    db.session.commit()
    assert db.session.scalar(select(func.max(Ticket.id))) >= 50

    client = verify_as(my_plain)
    token = form_token(client, "/tickets")
    # The customer routes (the helpdesk's send a customer to the staff sign-in).
    ticket_rules = [rule for rule in app.url_map.iter_rules()
                    if "ticket_id" in rule.arguments and rule.endpoint.startswith("customer.")]
    assert {rule.endpoint for rule in ticket_rules} >= {
        "customer.ticket", "customer.ticket_reply", "customer.ticket_close"}
    before = _state(db)
    for rule in ticket_rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            never = client.open(rule.rule.replace("<int:ticket_id>", "999999"), method=method,
                                data={"csrf_token": token, "message": "Hello there"})
            assert never.status_code == 404, (rule.endpoint, method)
            for ticket_id in range(1, 51):
                if ticket_id in mine:
                    continue
                url = rule.rule.replace("<int:ticket_id>", str(ticket_id))
                response = client.open(url, method=method,
                                       data={"csrf_token": token, "message": "Hello there"})
                assert response.status_code == 404, (url, method)
                assert SECRET not in response.text
                assert _normalised(response.text) == _normalised(never.text), (url, method)
    assert _state(db) == before
    # The list shows only the person's own tickets, and their own ids still open.
    listing = client.get("/tickets").text
    for ticket_id in range(1, 51):
        assert (f'href="/tickets/{ticket_id}"' in listing) == (ticket_id in mine)
    for ticket_id in mine:
        own = client.get(f"/tickets/{ticket_id}")
        assert own.status_code == 200 and f"{SECRET} {ticket_id}" in own.text
