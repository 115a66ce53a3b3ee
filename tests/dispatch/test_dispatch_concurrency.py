"""A worker sends a chunk over ``DISPATCH_SEND_CONCURRENCY`` connections at once.

The Twilio stub here holds every request until four are in flight (a barrier), and
the SMTP sink holds each message until four are being delivered: a worker that
sent one message at a time would never get past the first, so the peaks they
record are the concurrency the provider saw. Outcomes are still recorded once per
row, and each thread keeps its own connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from portal.dispatch import campaigns
from tests.support import make_settings
from tests.support.dispatch import dispatch_redis_url, incident_with_people, rows

pytestmark = pytest.mark.redis

SID = "AC" + "6" * 32
THREADS = 4
PEOPLE = 2 * THREADS  # two chunks per channel


@pytest.fixture
def gated_twilio():
    """A Twilio Messages stub that answers only when ``THREADS`` requests are in flight."""
    state = {"now": 0, "peak": 0, "to": [], "clients": set()}
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS, timeout=20)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client's connection is reused

        def do_POST(self):  # noqa: N802 - http.server API
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
                state["to"].append(form["To"][0])
                state["clients"].add(self.client_address)
                number = len(state["to"])
            try:
                barrier.wait()
                status, payload = 201, {"sid": f"SM{number:032d}", "status": "queued"}
            except threading.BrokenBarrierError:
                status, payload = 500, {"code": 20500, "message": "not concurrent",
                                        "status": 500}
            finally:
                with lock:
                    state["now"] -= 1
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_settings(database_url, data_keys, redis, gated_twilio, smtp_sink):
    base, _state = gated_twilio
    controller, _handler = smtp_sink
    return make_settings(
        database_url, data_keys, REDIS_URL=dispatch_redis_url(), OUTBOX_ENABLED=False,
        TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="stub-token", TWILIO_FROM="+15005550006",
        TWILIO_API_BASE=base, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port,
        SMTP_STARTTLS=False, MAIL_FROM="notices@insurer.example",
        DISPATCH_CHUNK_SIZE=THREADS, DISPATCH_SEND_CONCURRENCY=THREADS,
        DISPATCH_SMS_PER_SECOND=0, DISPATCH_EMAIL_PER_SECOND=0, DISPATCH_MAX_ATTEMPTS=1,
        DISPATCH_TWILIO_TIMEOUT_SECONDS=30, DISPATCH_SMTP_TIMEOUT_SECONDS=30)


@pytest.fixture
def queue(app, redis):
    from portal.core import jobs

    name = jobs.queue().name
    connection = jobs.queue().connection
    yield jobs.queue()
    jobs.queue().delete(delete_jobs=True)
    for key in connection.scan_iter(f"*{name}*"):
        connection.delete(key)


def _gate_smtp(handler) -> dict:
    """Make the sink hold each message until ``THREADS`` are being delivered at once."""
    state = {"now": 0, "peak": 0}
    delivered = handler.handle_DATA

    async def handle_data(server, session, envelope):
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        for _n in range(2000):  # up to 20 s, then answer anyway (the peak tells)
            if state["peak"] >= THREADS:
                break
            await asyncio.sleep(0.01)
        state["now"] -= 1
        return await delivered(server, session, envelope)

    handler.handle_DATA = handle_data
    return state


def test_a_chunk_goes_out_over_several_connections_at_once(
        app, db, runner, queue, gated_twilio, smtp_sink, make_incident, make_person):
    _base, twilio = gated_twilio
    _controller, sink = smtp_sink
    smtp = _gate_smtp(sink)
    incident, persons = incident_with_people(db, make_incident, make_person, PEOPLE)
    campaign, summary = campaigns.launch(incident.id, ["sms", "email"])
    campaign_id = campaign.id
    assert summary.created == {"sms": PEOPLE, "email": PEOPLE}
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output

    assert twilio["peak"] == THREADS  # every request waited for THREADS in flight
    assert smtp["peak"] == THREADS
    # Exactly one message per person and channel, each row recorded once as sent.
    assert sorted(twilio["to"]) == sorted(plain["phone"] for _p, plain in persons)
    assert sorted(rcpt for envelope in sink.messages for rcpt in envelope.rcpt_tos) == sorted(
        plain["email"] for _p, plain in persons)
    final = rows(db, campaign_id)
    assert len(final) == 2 * PEOPLE
    assert all(row.status == "sent" and row.attempts == 1 for row in final)
    sids = [row.provider_id for row in final if row.channel == "sms"]
    assert len(set(sids)) == PEOPLE
    # Each thread its own connection: THREADS per chunk at most, never one per message.
    assert THREADS <= sink.connections <= 2 * THREADS
    assert THREADS <= len(twilio["clients"]) <= 2 * THREADS
    assert campaigns.get(campaign_id).status == "completed"


def test_concurrency_one_sends_over_one_connection(app, db, runner, queue, gated_twilio,
                                                   smtp_sink, make_incident, make_person):
    """``DISPATCH_SEND_CONCURRENCY=1``: the chunk goes out over a single connection."""
    _controller, sink = smtp_sink
    app.config["DISPATCH_SEND_CONCURRENCY"] = 1
    incident, persons = incident_with_people(db, make_incident, make_person, PEOPLE)
    campaign, _summary = campaigns.launch(incident.id, ["email"])
    campaign_id = campaign.id
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert sink.connections == 2  # one per chunk
    assert sorted(rcpt for envelope in sink.messages for rcpt in envelope.rcpt_tos) == sorted(
        plain["email"] for _p, plain in persons)
    assert campaigns.counts(campaign_id)["email"]["sent"] == PEOPLE


def test_a_campaign_email_parses_with_its_headers_and_both_parts(
        app, db, runner, queue, gated_twilio, smtp_sink, make_incident, make_person):
    """The e-mail's bytes are written directly (not by ``EmailMessage``): the stdlib
    parser must read back the same headers, a multipart/alternative with the text
    and HTML parts, and exactly the text whose digest the row keeps as evidence."""
    from email import message_from_bytes, policy

    from portal.dispatch.notice_messages import digest

    _controller, sink = smtp_sink
    app.config["DISPATCH_SEND_CONCURRENCY"] = 1
    incident, persons = incident_with_people(db, make_incident, make_person, 4,
                                             languages=("en", "es", "fr", "de"),
                                             insurer_name="Mutua Ñandú & Söhne")
    codes = {plain["email"]: plain["notice_code"] for _p, plain in persons}
    campaign, _summary = campaigns.launch(incident.id, ["email"])
    campaign_id = campaign.id
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    by_id = {row.provider_id: row for row in rows(db, campaign_id)}
    assert all(row.status == "sent" for row in by_id.values())
    assert len(sink.messages) == 4
    subjects = set()
    for envelope in sink.messages:
        message = message_from_bytes(envelope.content, policy=policy.default)
        [to] = envelope.rcpt_tos
        assert message["To"] == to and message["From"] == app.config["MAIL_FROM"]
        assert envelope.mail_from == app.config["MAIL_FROM"]
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["MIME-Version"] == "1.0"
        assert "Mutua Ñandú & Söhne" in message["Subject"]
        subjects.add(message["Subject"])
        row = by_id[message["Message-ID"]]  # the provider id is the Message-ID
        assert message.get_content_type() == "multipart/alternative"
        parts = list(message.iter_parts())
        assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
        text, html = (part.get_content() for part in parts)
        assert digest(text.replace("\r\n", "\n").rstrip("\n")) == row.content_digest
        link = f"{app.config['PORTAL_BASE_URL'].rstrip('/')}/n/{codes[to]}"
        assert link in text and codes[to] in text
        assert f'href="{link}"' in html and html.startswith("<!DOCTYPE html>")
        long_lines = [line for line in envelope.content.split(b"\r\n") if len(line) > 78]
        assert long_lines == []
        assert b"\n" not in envelope.content.replace(b"\r\n", b"")  # no bare LF
    assert len(subjects) == 4  # each in its language


def test_twilio_session_reads_the_proxy_once_not_per_request(app, monkeypatch):
    """``trust_env`` is off (no environment look-up per message), yet a proxy set in
    the environment when the client is made still applies (docs/configuration.md)."""
    from portal.dispatch.channels import sms

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    with app.app_context():
        app.config["TWILIO_API_BASE"] = ""
        client = sms.new_client()
        assert client.http_client.session.trust_env is False
        assert client.http_client.proxy == {"https": "http://proxy.internal.example:3128",
                                            "http": "http://proxy.internal.example:3128"}
        monkeypatch.setenv("NO_PROXY", "api.twilio.com")
        assert sms.new_client().http_client.proxy == {}
