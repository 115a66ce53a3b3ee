"""The SMS and e-mail channel modules against real loopback servers, and the outbox."""

from __future__ import annotations

import pytest

from portal.dispatch.channels import ChannelError, email, sms
from tests.support.customer import outbox


def test_outbox_keeps_messages_encrypted(app, db):
    provider_id = sms.send("+14155550100", "Short message https://portal.example/")
    db.session.commit()
    assert provider_id.startswith("outbox-sms-")
    [message] = outbox(db)
    assert message.body == "Short message https://portal.example/"
    raw = db.session.execute(
        __import__("sqlalchemy").text("SELECT body, recipient FROM outbox_message")
    ).one()
    assert "Short message" not in raw[0] and "+1415" not in raw[1]


def test_sms_refuses_a_long_body(app):
    with pytest.raises(ChannelError) as caught:
        sms.send("+14155550100", "x" * 500)
    assert caught.value.permanent


# --- SMTP --------------------------------------------------------------------------------------


def test_email_over_real_smtp(app, smtp_sink):
    controller, handler = smtp_sink
    app.config.update(OUTBOX_ENABLED=False, SMTP_HOST="127.0.0.1",
                      SMTP_PORT=controller.port,
                      SMTP_STARTTLS=False, MAIL_FROM="notices@insurer.example")
    message_id = email.send("person@customer.example", "Hello body", subject="Hello")
    assert message_id.startswith("<") and "insurer.example" in message_id
    [envelope] = handler.messages
    assert envelope.rcpt_tos == ["person@customer.example"]
    assert b"Subject: Hello" in envelope.content and b"Hello body" in envelope.content


def test_email_without_smtp_host_is_a_permanent_error(app):
    app.config.update(OUTBOX_ENABLED=False, SMTP_HOST=None)
    with pytest.raises(ChannelError) as caught:
        email.send("person@customer.example", "x", subject="y")
    assert caught.value.permanent


def test_email_to_a_closed_port_is_a_transient_error(app):
    app.config.update(OUTBOX_ENABLED=False, SMTP_HOST="127.0.0.1", SMTP_PORT=1,
                      SMTP_STARTTLS=False)
    with pytest.raises(ChannelError) as caught:
        email.send("person@customer.example", "x", subject="y")
    assert not caught.value.permanent


# --- Twilio ------------------------------------------------------------------------------------


def test_sms_through_twilio_client(app, twilio_stub):
    base, received = twilio_stub
    app.config.update(OUTBOX_ENABLED=False, TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                      TWILIO_AUTH_TOKEN="token", TWILIO_FROM="+15005550006",
                      TWILIO_API_BASE=base)
    sid = sms.send("+14155550100", "There is a reply. Read it here: https://portal.example/")
    assert sid.startswith("SM")
    [(path, form)] = received
    assert path == f"/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert form["To"] == ["+14155550100"] and form["From"] == ["+15005550006"]
    with pytest.raises(ChannelError) as caught:
        sms.send("+15005550001", "hello")
    assert caught.value.permanent and caught.value.code == "21211"


def test_sms_without_twilio_settings_is_a_permanent_error(app):
    app.config.update(OUTBOX_ENABLED=False, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None,
                      TWILIO_FROM="+15005550006")
    with pytest.raises(ChannelError) as caught:
        sms.send("+14155550100", "hello")
    assert caught.value.permanent
