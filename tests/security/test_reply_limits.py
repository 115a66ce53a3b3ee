"""Issue 12 item 5: limits on what a verified customer can write.

Replies are capped per ticket (``CUSTOMER_REPLIES_PER_TICKET``) and per person across
tickets (``CUSTOMER_REPLIES_PER_DAY``) in 24 hours; the refusal says so, keeps the typed
text in the form and is logged. Message length is capped by the forms.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select


@pytest.fixture
def app_settings(app_settings):
    app_settings["CUSTOMER_REPLIES_PER_TICKET"] = 3
    app_settings["CUSTOMER_REPLIES_PER_DAY"] = 5
    return app_settings


@pytest.fixture
def customer(approved_incident, make_person, verify_as):
    record, plain = make_person(approved_incident())
    return record, verify_as(plain)


@pytest.fixture
def reply(form_token):
    def post(client, ticket_id: int, message: str):
        token = form_token(client, f"/tickets/{ticket_id}")
        return client.post(f"/tickets/{ticket_id}/reply",
                           data={"message": message, "csrf_token": token})

    return post


def _messages(db, ticket_id=None) -> int:
    from portal.models import TicketMessage

    query = select(func.count(TicketMessage.id))
    if ticket_id is not None:
        query = query.where(TicketMessage.ticket_id == ticket_id)
    return db.session.scalar(query)


def _refusals(db) -> list[dict]:
    from portal.models import Interaction

    return [row.details for row in db.session.execute(
        select(Interaction).where(Interaction.action == "ticket.reply_refused")
        .order_by(Interaction.id)).scalars()]


def test_replies_to_one_ticket_are_capped_and_the_text_is_kept(db, customer, open_ticket,
                                                               reply):
    _record, client = customer
    ticket_id = open_ticket(client)
    assert [reply(client, ticket_id, f"Reply {n}").status_code for n in range(3)] == [302] * 3
    refused = reply(client, ticket_id, "Please <call> me back & soon")
    assert refused.status_code == 429
    assert refused.headers["Cache-Control"] == "no-store"
    assert "You have already sent 3 replies to this question in the last 24 hours" in refused.text
    assert 'class="error-summary"' in refused.text
    # Nothing lost: the typed reply is still in the text box (escaped, as typed).
    assert "Please &lt;call&gt; me back &amp; soon</textarea>" in refused.text
    assert _messages(db, ticket_id) == 4  # the opening message and three replies
    assert _refusals(db) == [{"reason": "daily_limit", "scope": "ticket_replies", "limit": 3}]
    # Another ticket still takes replies, up to the daily total.
    other = open_ticket(client, "Another question about my policy.")
    assert reply(client, other, "Reply to the other one").status_code == 302


def test_replies_across_tickets_are_capped_per_day(db, customer, open_ticket, reply):
    _record, client = customer
    tickets = [open_ticket(client, f"Question number {n}") for n in range(3)]
    statuses = [reply(client, ticket_id, "A reply").status_code
                for ticket_id in tickets for _ in range(2)]
    assert statuses == [302] * 5 + [429]
    refused = reply(client, tickets[0], "One more thing")
    assert refused.status_code == 429
    assert "You have already sent 5 replies in the last 24 hours" in refused.text
    assert "One more thing</textarea>" in refused.text
    assert [details["scope"] for details in _refusals(db)] == ["replies", "replies"]
    # Opening messages are not replies: new questions are still taken (their own cap).
    assert open_ticket(client, "A brand new question") > 0


def test_replies_older_than_a_day_and_other_channels_do_not_count(db, customer, open_ticket,
                                                                  reply):
    from portal.models import TicketMessage
    from portal.models.base import utcnow

    record, client = customer
    ticket_id = open_ticket(client)
    old = utcnow() - timedelta(hours=25)
    for n in range(4):
        db.session.add(TicketMessage(ticket_id=ticket_id, author_type="customer",
                                     author_id=record.id, channel="web", body=f"old {n}",
                                     internal=False, created_at=old))
        db.session.add(TicketMessage(ticket_id=ticket_id, author_type="customer",
                                     author_id=record.id, channel="sms", body=f"sms {n}",
                                     internal=False))
        db.session.add(TicketMessage(ticket_id=ticket_id, author_type="staff", author_id=None,
                                     channel="web", body=f"staff {n}", internal=False))
    db.session.commit()
    assert [reply(client, ticket_id, "Fresh").status_code for _ in range(4)] == [302] * 3 + [429]


def test_another_persons_replies_do_not_count(db, approved_incident, make_person, verify_as,
                                              open_ticket, reply):
    incident = approved_incident()
    _first, first_plain = make_person(incident)
    _second, second_plain = make_person(incident)
    first, second = verify_as(first_plain), verify_as(second_plain)
    first_ticket, second_ticket = open_ticket(first), open_ticket(second)
    assert [reply(first, first_ticket, "Mine").status_code for _ in range(3)] == [302] * 3
    assert [reply(second, second_ticket, "Mine").status_code for _ in range(3)] == [302] * 3


@pytest.mark.parametrize("length, status", [(4000, 302), (4001, 400), (50_000, 400)])
def test_reply_length_is_limited(db, customer, open_ticket, reply, length, status):
    _record, client = customer
    ticket_id = open_ticket(client)
    response = reply(client, ticket_id, "x" * length)
    assert response.status_code == status
    assert _messages(db, ticket_id) == (2 if status == 302 else 1)
    if status == 400:
        assert "Your reply must be at most 4000 characters." in response.text
        assert "x" * length + "</textarea>" in response.text  # kept for shortening


@pytest.mark.parametrize("length, status", [(4000, 302), (4001, 400)])
def test_question_length_is_limited(db, customer, form_token, length, status):
    from portal.models import Ticket

    _record, client = customer
    token = form_token(client, "/tickets/new")
    response = client.post("/tickets/new", data={"topic": "notice", "message": "y" * length,
                                                 "csrf_token": token})
    assert response.status_code == status
    assert db.session.scalar(select(func.count(Ticket.id))) == (1 if status == 302 else 0)


def test_reply_limits_are_settings_with_documented_defaults():
    from pathlib import Path

    from portal.config import Config

    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    assert (Config.CUSTOMER_REPLIES_PER_TICKET, Config.CUSTOMER_REPLIES_PER_DAY) == (10, 20)
    for name in ("CUSTOMER_REPLIES_PER_TICKET", "CUSTOMER_REPLIES_PER_DAY"):
        assert f"`{name}`" in docs, name
