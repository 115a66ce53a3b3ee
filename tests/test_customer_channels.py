"""The SMS and e-mail channel modules against real loopback servers, and the outbox."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from portal.dispatch.channels import ChannelError, email, sms
from tests.customer_support import outbox


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


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            self.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, handler
    controller.stop()


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


@pytest.fixture
def twilio_stub():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            received.append((self.path, form))
            if form.get("To") == ["+15005550001"]:
                status, payload = 400, {"code": 21211, "message": "Invalid 'To' Phone Number",
                                        "status": 400}
            else:
                status, payload = 201, {"sid": f"SM{len(received):032d}", "status": "queued",
                                        "to": form["To"][0], "body": form["Body"][0]}
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


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
