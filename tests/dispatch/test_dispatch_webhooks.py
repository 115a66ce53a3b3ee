"""Twilio's webhooks: signatures, forward-only statuses, fallback, STOP/START/HELP, tickets."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from portal.dispatch import campaigns
from portal.models import Notification, Person, Ticket, TicketMessage
from tests.support import make_settings
from tests.support.customer import actions, interactions, outbox
from tests.support.dispatch import incident_with_people, rows

TOKEN = "webhook-test-token"
BASE = "https://portal.example"


@pytest.fixture
def app_settings(database_url, data_keys):
    # The public address differs from the test client's (http://localhost): a proxy in front.
    return make_settings(database_url, data_keys, TWILIO_AUTH_TOKEN=TOKEN, PORTAL_BASE_URL=BASE)


def signed_post(client, path: str, form: dict, *, token: str = TOKEN, url: str | None = None):
    signature = RequestValidator(token).compute_signature(url or BASE + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def sent(db, make_incident, make_person):
    """A campaign whose SMS went out (through the outbox); returns the SMS rows."""
    incident, _people = incident_with_people(db, make_incident, make_person, 2)
    campaign, _summary = campaigns.launch(incident.id, ["sms"])
    return campaign.id, [row for row in rows(db, campaign.id)]


def status(client, sid: str, value: str, **extra):
    return signed_post(client, "/hooks/twilio/status",
                       {"MessageSid": sid, "MessageStatus": value, **extra})


def test_forged_unsigned_and_wrongly_addressed_callbacks_are_refused(app, db, client, sent):
    _campaign_id, [row, _other] = sent
    form = {"MessageSid": row.provider_id, "MessageStatus": "delivered"}
    assert client.post("/hooks/twilio/status", data=form).status_code == 403
    assert signed_post(client, "/hooks/twilio/status", form, token="guessed").status_code == 403
    # Signed for the address the test client sees, not the public one: refused.
    assert signed_post(client, "/hooks/twilio/status", form,
                       url="http://localhost/hooks/twilio/status").status_code == 403
    assert signed_post(client, "/hooks/twilio/inbound",
                       {"From": "+14155550000", "Body": "STOP"}, token="x").status_code == 403
    assert actions(db, "webhook.") == ["webhook.forged"] * 4
    assert rows(db, row.campaign_id)[0].status == "sent"


def test_a_stream_of_forged_callbacks_is_cut_off_and_signed_ones_do_not_count(
        app, db, client, sent):
    """Each forged request writes a log row: past WEBHOOK_FORGED_RATE_LIMIT from one address
    they are refused unread (429, nothing written). Twilio's signed callbacks never count
    toward it, and another address is not affected."""
    _campaign_id, [row, _other] = sent
    app.config["WEBHOOK_FORGED_RATE_LIMIT"] = "3 per minute"
    form = {"MessageSid": row.provider_id, "MessageStatus": "delivered"}
    for _ in range(5):  # signed ones in between do not use the allowance up
        assert status(client, row.provider_id, "sent").status_code == 204
    codes = [client.post("/hooks/twilio/status", data=form).status_code for _ in range(6)]
    assert codes == [403, 403, 403, 429, 429, 429]
    assert actions(db, "webhook.") == ["webhook.forged"] * 3
    other = app.test_client()
    assert other.post("/hooks/twilio/status", data=form,
                      environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403


def test_status_moves_forward_only_and_replays_change_nothing(app, db, client, sent):
    campaign_id, [row, _other] = sent
    assert status(client, row.provider_id, "delivered").status_code == 204
    assert status(client, row.provider_id, "delivered").status_code == 204  # replayed
    assert status(client, row.provider_id, "sent").status_code == 204  # late, out of order
    assert status(client, row.provider_id, "undelivered").status_code == 204
    assert status(client, "SMunknown", "delivered").status_code == 204
    after = rows(db, campaign_id)[0]
    assert after.status == "delivered" and after.delivered_at is not None
    assert actions(db, "sms.") == ["sms.delivered"]
    assert campaigns.counts(campaign_id)["sms"]["delivered"] == 1


def test_undelivered_falls_back_to_email_once(app, db, client, sent):
    campaign_id, [row, _other] = sent
    assert status(client, row.provider_id, "sent").status_code == 204
    assert status(client, row.provider_id, "undelivered", ErrorCode="30003").status_code == 204
    assert status(client, row.provider_id, "failed").status_code == 204  # nothing more
    by_channel = {(r.person_id, r.channel): r for r in rows(db, campaign_id)}
    assert by_channel[row.person_id, "sms"].status == "undelivered"
    assert by_channel[row.person_id, "sms"].error_code == "30003"
    email = by_channel[row.person_id, "email"]
    assert email.status == "sent" and email.fallback_of_id == row.id
    assert len(outbox(db, "email")) == 1
    assert actions(db, "sms.") == ["sms.undelivered"]  # "sent" told nothing new


def inbound(client, sender: str, body: str):
    return signed_post(client, "/hooks/twilio/inbound", {"From": sender, "Body": body,
                                                          "MessageSid": "SMin"})


def test_stop_start_and_help(app, db, client, make_incident, make_person):
    incident = make_incident(contact_hotline="+1 800 555 0142")
    other = make_incident()
    twin, _ = make_person(other, phone="+14155550777")  # the same number, another incident
    person, plain = make_person(incident, language="de", phone="+14155550777")
    response = inbound(client, plain["phone"], "  stop ")
    assert response.status_code == 200 and "<Message>" not in response.text
    db.session.expire_all()
    assert all(db.session.get(Person, pid).sms_opt_out for pid in (person.id, twin.id))
    assert actions(db, "sms.") == ["sms.opted_out", "sms.opted_out"]
    # The customer texted STOP: each row names them (not the system) as the actor.
    assert sorted((row.actor_type, row.actor_id) for row in interactions(db, "sms.opted_out")) \
        == sorted(("customer", pid) for pid in (person.id, twin.id))
    from tests.support.customer import approve_notice

    approve_notice(db, incident)
    assert campaigns.preview(incident.id, ["sms"])["sms"]["reached"] == 0  # honoured
    assert "<Message>" not in inbound(client, plain["phone"], "Start").text
    db.session.expire_all()
    assert not db.session.get(Person, person.id).sms_opt_out
    response = inbound(client, plain["phone"], "HELP")
    assert "+1 800 555 0142" in response.text and "<Message>" in response.text
    assert "STOP" in response.text
    assert actions(db, "sms.help")[-1] == "sms.help_requested"
    assert db.session.execute(select(Ticket)).first() is None  # no ticket for keywords


def test_other_text_opens_or_joins_an_sms_ticket(app, db, client, make_incident, make_person):
    incident = make_incident()
    person, plain = make_person(incident)
    assert inbound(client, plain["phone"], "Is my card number at risk?").status_code == 200
    assert inbound(client, plain["phone"], "Please call me").status_code == 200
    [ticket] = db.session.execute(select(Ticket)).scalars()
    assert ticket.channel == "sms" and ticket.person_id == person.id
    bodies = [m.body for m in db.session.execute(
        select(TicketMessage).order_by(TicketMessage.id)).scalars()]
    assert bodies == ["Is my card number at risk?", "Please call me"]
    assert actions(db, "ticket.") == ["ticket.created", "ticket.customer_replied"]
    response = inbound(client, "+14155559999", "Hello?")  # nobody has this number
    assert "<Message>" in response.text and "could not match" in response.text
    assert db.session.execute(select(Ticket)).scalars().all() == [ticket]
    assert actions(db, "sms.inbound_unknown") == ["sms.inbound_unknown"]
    for entry in db.session.execute(select(Notification)).scalars():
        raise AssertionError(entry)
