"""Customer tickets, reply notifications, and isolation between customers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.dispatch.replies import notify_reply
from portal.models import Ticket, TicketMessage
from tests.support import csrf_token
from tests.support.customer import (
    actions,
    approve_notice,
    interactions,
    outbox,
    personal_values,
    sign_in,
)


@pytest.fixture
def incident(db, make_incident):
    incident = make_incident()
    approve_notice(db, incident)
    return incident


def open_ticket(client, topic="notice", message="When did this happen exactly?"):
    token = csrf_token(client, "/tickets/new")
    return client.post("/tickets/new", data={"topic": topic, "message": message,
                                             "csrf_token": token})


def agent_reply(db, ticket_id, body="Hello, it happened in October.", internal=False):
    db.session.add(TicketMessage(ticket_id=ticket_id, author_type="staff", author_id=None,
                                 channel="web", body=body, internal=internal))
    db.session.commit()


def test_open_a_ticket(client, db, incident, make_person):
    record, plain = make_person(incident, language="en")
    sign_in(client, plain)
    assert "not asked us anything yet" in client.get("/tickets").text
    response = open_ticket(client)
    assert response.status_code == 302
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert response.location.endswith(f"/tickets/{ticket.id}")
    assert (ticket.person_id, ticket.incident_id, ticket.channel, ticket.status,
            ticket.language, ticket.topic) == (record.id, incident.id, "web", "new", "en",
                                               "notice")
    assert ticket.first_response_due is not None and ticket.last_customer_message_at
    page = client.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "When did this happen exactly?" in page.text
    assert "A question about my notice" in client.get("/tickets").text
    created = interactions(db, "ticket.created")
    assert created[0].ticket_id == ticket.id and created[0].details["topic"] == "notice"
    assert "When did" not in str(created[0].details)


@pytest.mark.parametrize("topic, message, error", [
    ("", "A long enough message", "Choose a topic."),
    ("made_up", "A long enough message", "Choose a topic from the list"),
    ("notice", "", "Enter your message."),
    ("notice", "hey", "between 5 and 4000 characters"),
    ("notice", "x" * 4001, "between 5 and 4000 characters"),
])
def test_ticket_validation(client, db, incident, make_person, topic, message, error):
    _record, plain = make_person(incident)
    sign_in(client, plain)
    response = open_ticket(client, topic=topic, message=message)
    assert response.status_code == 400
    assert error in response.text
    assert 'class="error-summary"' in response.text
    assert db.session.execute(select(Ticket)).first() is None


def test_thread_hides_internal_notes_and_shows_agent_replies(client, db, incident, make_person):
    _record, plain = make_person(incident)
    sign_in(client, plain)
    open_ticket(client)
    ticket = db.session.execute(select(Ticket)).scalar_one()
    agent_reply(db, ticket.id, body="Customer seems anxious, escalate", internal=True)
    agent_reply(db, ticket.id, body="It happened between 1 and 9 October.")
    page = client.get(f"/tickets/{ticket.id}").text
    assert "It happened between 1 and 9 October." in page
    assert "Support team" in page
    assert "escalate" not in page


def test_reply_and_close(client, db, incident, make_person):
    _record, plain = make_person(incident)
    sign_in(client, plain)
    open_ticket(client)
    ticket = db.session.execute(select(Ticket)).scalar_one()
    ticket.status = "pending_customer"
    ticket.paused_at = ticket.created_at
    db.session.commit()
    token = csrf_token(client, f"/tickets/{ticket.id}")
    empty = client.post(f"/tickets/{ticket.id}/reply", data={"message": "", "csrf_token": token})
    assert empty.status_code == 400 and "Enter your reply." in empty.text
    response = client.post(f"/tickets/{ticket.id}/reply",
                           data={"message": "Thanks, one more question.", "csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status == "open" and ticket.paused_at is None
    assert "one more question" in client.get(f"/tickets/{ticket.id}").text
    response = client.post(f"/tickets/{ticket.id}/close", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status == "closed" and ticket.closed_at is not None
    page = client.get(f"/tickets/{ticket.id}").text
    assert "This question is closed." in page and "Send reply" not in page
    # A reply typed before the question was closed (in another tab) is not lost: it comes
    # back as a new question, filled in with the same topic, to check and send.
    refused = client.post(f"/tickets/{ticket.id}/reply",
                          data={"message": "Another <thing> to ask", "csrf_token": token})
    assert refused.status_code == 409
    assert "your message was not added to it" in refused.text
    assert "Another &lt;thing&gt; to ask" in refused.text
    assert f'<option selected value="{ticket.topic}"' in refused.text or (
        f'value="{ticket.topic}" selected' in refused.text)
    assert 'action="/tickets/new"' in refused.text
    db.session.expire_all()
    assert len(db.session.execute(select(TicketMessage)).all()) == 2
    assert actions(db, "ticket.") == ["ticket.created", "ticket.customer_replied",
                                      "ticket.closed"]


def test_sms_reply_notification_carries_no_personal_data(client, db, incident, make_person):
    record, plain = make_person(incident, first_name="Marguerite")
    record.preferred_channel = "sms"
    db.session.commit()
    sign_in(client, plain)
    open_ticket(client)
    ticket = db.session.execute(select(Ticket)).scalar_one()
    reply = "Your policy POL-SECRET was affected; call us."
    agent_reply(db, ticket.id, body=reply)
    provider_id = notify_reply(ticket.id)
    assert provider_id and provider_id.startswith("outbox-sms-")
    [message] = outbox(db, "sms")
    assert message.recipient == plain["phone"]
    assert "reply" in message.body and "http://localhost/n/" in message.body
    assert reply not in message.body and "POL-SECRET" not in message.body
    for value in personal_values(plain) + ["Marguerite"]:
        assert value not in message.body
    notified = interactions(db, "ticket.reply_notified")
    assert notified[0].details["channel"] == "sms" and notified[0].ticket_id == ticket.id


def test_email_reply_notification_in_the_persons_language(client, db, incident, make_person):
    record, plain = make_person(incident, language="es")
    record.preferred_channel = "email"
    db.session.commit()
    sign_in(client, plain)
    open_ticket(client)
    ticket = db.session.execute(select(Ticket)).scalar_one()
    agent_reply(db, ticket.id)
    notify_reply(ticket.id)
    [message] = outbox(db, "email")
    assert message.recipient == plain["email"]
    assert "happened in October" not in message.body


def test_opted_out_of_sms_falls_back_to_email(db, incident, make_person):
    record, _plain = make_person(incident)
    record.preferred_channel = "sms"
    record.sms_opt_out = True
    db.session.add(Ticket(incident_id=incident.id, person_id=record.id, topic="other"))
    db.session.commit()
    ticket = db.session.execute(select(Ticket)).scalar_one()
    notify_reply(ticket.id)
    assert [m.channel for m in outbox(db)] == ["email"]


def test_a_letter_preference_or_no_email_consent_picks_the_usable_channel(db, incident,
                                                                        make_person):
    by_letter, _plain = make_person(incident)
    by_letter.preferred_channel = "letter"
    no_consent, _plain = make_person(incident)
    no_consent.preferred_channel, no_consent.consent_email = "email", False
    for person in (by_letter, no_consent):
        db.session.add(Ticket(incident_id=incident.id, person_id=person.id, topic="other"))
    db.session.commit()
    for ticket in db.session.execute(select(Ticket).order_by(Ticket.id)).scalars().all():
        notify_reply(ticket.id)
    assert [m.channel for m in outbox(db)] == ["email", "sms"]


def test_no_channel_is_logged_not_raised(db, incident, make_person):
    record, _plain = make_person(incident, email=None, phone=None)
    db.session.add(Ticket(incident_id=incident.id, person_id=record.id, topic="other"))
    db.session.commit()
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert notify_reply(ticket.id) is None
    assert actions(db, "ticket.reply_notify") == ["ticket.reply_notify_failed"]


# --- isolation ------------------------------------------------------------------------------


def test_another_persons_ticket_is_404_on_every_route(client, db, incident, make_person):
    _alice, alice_plain = make_person(incident, categories=["health"])
    bob, bob_plain = make_person(incident, categories=["payment_card"])
    sign_in(client, bob_plain)
    open_ticket(client, message="Bob's private question here")
    bob_ticket = db.session.execute(select(Ticket)).scalar_one()
    token = csrf_token(client, "/tickets")
    client.post("/sign-out", data={"csrf_token": token})

    sign_in(client, alice_plain)
    token = csrf_token(client, "/tickets")
    assert client.get(f"/tickets/{bob_ticket.id}").status_code == 404
    assert client.get(f"/tickets/{bob_ticket.id}/reply").status_code == 404
    assert client.post(f"/tickets/{bob_ticket.id}/reply",
                       data={"message": "hijack", "csrf_token": token}).status_code == 404
    assert client.post(f"/tickets/{bob_ticket.id}/close",
                       data={"csrf_token": token}).status_code == 404
    assert "Bob's private question" not in client.get("/tickets").text
    notice = client.get("/notice").text
    assert "Health information" in notice or "health" in notice.lower()
    assert "Payment card" not in notice
    for path in ("/notice", "/notice.pdf", "/preferences", "/faq", "/tickets",
                 "/tickets/new"):
        response = client.get(path, query_string={"person_id": bob.id, "id": bob.id})
        assert response.status_code == 200, path
        body = response.data if path.endswith(".pdf") else response.text.encode()
        assert bob_plain["last_name"].encode() not in body
    db.session.refresh(bob_ticket)
    assert bob_ticket.status == "new"
    assert len(db.session.execute(select(TicketMessage)).all()) == 1


ROUTES = [
    ("get", "/notice"), ("get", "/notice.pdf"), ("post", "/notice/activation-code"),
    ("get", "/preferences"), ("post", "/preferences"), ("get", "/tickets"),
    ("get", "/tickets/new"), ("post", "/tickets/new"), ("get", "/tickets/1"),
    ("get", "/tickets/1/reply"), ("post", "/tickets/1/reply"), ("post", "/tickets/1/close"),
]


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_customer_route_needs_verification(app, client, incident, make_person, method,
                                                 path):
    app.config["WTF_CSRF_ENABLED"] = False
    make_person(incident)
    response = getattr(client, method)(path, data={"customer_person_id": 1})
    assert response.status_code == 302
    assert response.location.endswith("/")


def test_a_forged_person_id_in_the_session_cookie_is_refused(app, client, incident,
                                                            make_person):
    make_person(incident)
    # Without the secret key the cookie cannot be forged; with a stale cookie of
    # another app (another key) the session is empty.
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], "eyJjdXN0b21lcl9wZXJzb25faWQiOjF9.x.y")
    assert other.get("/notice").status_code == 302


# --- L4: at most CUSTOMER_TICKETS_PER_DAY new tickets per person in 24 hours -----------------


class TestDailyTicketLimit:
    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["CUSTOMER_TICKETS_PER_DAY"] = 3
        return app_settings

    def test_the_limit_is_named_on_the_form(self, client, db, incident, make_person):
        from datetime import timedelta

        from portal.models.base import utcnow

        record, plain = make_person(incident)
        sign_in(client, plain)
        # A staff-made ticket (another channel) and an old web ticket do not count.
        db.session.add(Ticket(incident_id=incident.id, person_id=record.id, topic="other",
                              channel="phone"))
        db.session.add(Ticket(incident_id=incident.id, person_id=record.id, topic="other",
                              created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
        assert [open_ticket(client).status_code for _ in range(3)] == [302, 302, 302]
        refused = open_ticket(client, message="One more question, please.")
        assert refused.status_code == 429
        assert "You have already asked 3 questions in the last 24 hours" in refused.text
        assert "One more question, please." in refused.text  # the message is not lost
        assert 'class="error-summary"' in refused.text
        web = db.session.execute(select(Ticket).where(Ticket.person_id == record.id,
                                                      Ticket.channel == "web")).scalars().all()
        assert len(web) == 4  # three today plus the old one
        assert actions(db, "ticket.create_refused") == ["ticket.create_refused"]
        # Replies to existing tickets still work.
        ticket_id = max(ticket.id for ticket in web)
        token = csrf_token(client, f"/tickets/{ticket_id}")
        reply = client.post(f"/tickets/{ticket_id}/reply",
                            data={"message": "Still here", "csrf_token": token})
        assert reply.status_code == 302
