"""Text messages through Twilio, or the outbox on the embedded default.

An SMS never carries personal data: callers pass a short message and a portal
link only. One Twilio client (with its pooled HTTP connection) is kept per
application in ``app.extensions`` and reused by every message of a worker.
"""

from __future__ import annotations

from flask import current_app

from portal.dispatch.channels import ChannelError, outbox

# Twilio error codes that will not succeed on a retry (invalid number, opted out...).
PERMANENT_ERRORS = {21211, 21214, 21408, 21610, 21612, 21614}
# The person replied STOP to the provider: record the opt-out too.
OPTED_OUT_ERROR = 21610
MAX_BODY = 480
EXTENSION_KEY = "twilio_client"


def _client():
    config = current_app.config
    key = (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
           config["TWILIO_API_BASE"], config["DISPATCH_TWILIO_TIMEOUT_SECONDS"])
    cached = current_app.extensions.get(EXTENSION_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    client = new_client()
    current_app.extensions[EXTENSION_KEY] = (key, client)
    return client


def new_client():
    """A Twilio client with an HTTP session of its own (one per sending thread).

    The session does not look up proxy and CA settings in the environment on every
    request (``trust_env``, about 0.6 ms each): they are read once here instead, so
    ``HTTPS_PROXY``/``NO_PROXY`` and ``REQUESTS_CA_BUNDLE`` still apply, as they are
    when the client is made (docs/configuration.md, "Outbound proxy").
    """
    import os

    config = current_app.config
    if not config["TWILIO_ACCOUNT_SID"] or not config["TWILIO_AUTH_TOKEN"]:
        raise ChannelError("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)",
                           permanent=True)
    from requests.utils import get_environ_proxies
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    base = (config["TWILIO_API_BASE"] or "https://api.twilio.com").rstrip("/")
    http = TwilioHttpClient(timeout=float(config["DISPATCH_TWILIO_TIMEOUT_SECONDS"]),
                            proxy=get_environ_proxies(base + "/") or None)
    http.session.trust_env = False
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        http.session.verify = bundle
    # environment={}: no TWILIO_EDGE/TWILIO_REGION from the process's environment.
    client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                    http_client=http, environment={})
    if config["TWILIO_API_BASE"]:
        # Lets tests and the benchmark point the client at a stub on loopback.
        client.api.base_url = base
    return client


def classify(exc: Exception) -> ChannelError:
    """The ``ChannelError`` for an exception raised by Twilio's client."""
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        code = exc.code
        return ChannelError(f"Twilio refused the message: {code or exc.status}",
                            code=str(code or exc.status), permanent=code in PERMANENT_ERRORS)
    return ChannelError(f"Twilio request failed: {exc.__class__.__name__}", code="network")


class Sender:
    """A sending thread's own Twilio client (made on its first message)."""

    def __init__(self):
        self._client = None

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> str:
        if self._client is None and not current_app.config["OUTBOX_ENABLED"]:
            self._client = new_client()
        return send(to, body, status_callback=status_callback, client=self._client)


def send(to: str, body: str, *, status_callback: str | None = None, client=None) -> str:
    """Send a text message to an E.164 number; return the provider's message id.

    ``client`` (from ``new_client``) is a sending thread's own; by default the
    application's shared one is used.
    """
    if not to:
        raise ChannelError("no phone number", permanent=True)
    if len(body) > MAX_BODY:
        raise ChannelError("message too long for SMS", permanent=True)
    if current_app.config["OUTBOX_ENABLED"]:
        return outbox.store("sms", to, body)
    from requests import RequestException
    from twilio.base.exceptions import TwilioException

    config = current_app.config
    params: dict = {"to": to, "body": body}
    if config["TWILIO_MESSAGING_SERVICE_SID"]:
        params["messaging_service_sid"] = config["TWILIO_MESSAGING_SERVICE_SID"]
    elif config["TWILIO_FROM"]:
        params["from_"] = config["TWILIO_FROM"]
    else:
        raise ChannelError("Twilio sender is not configured (TWILIO_FROM)", permanent=True)
    if status_callback:
        params["status_callback"] = status_callback
    try:
        message = (client or _client()).messages.create(**params)
    except (TwilioException, RequestException, OSError) as exc:
        raise classify(exc) from exc
    return message.sid
