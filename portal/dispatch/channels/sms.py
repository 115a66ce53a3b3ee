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
    if not config["TWILIO_ACCOUNT_SID"] or not config["TWILIO_AUTH_TOKEN"]:
        raise ChannelError("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)",
                           permanent=True)
    key = (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
           config["TWILIO_API_BASE"], config["DISPATCH_TWILIO_TIMEOUT_SECONDS"])
    cached = current_app.extensions.get(EXTENSION_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    http = TwilioHttpClient(timeout=float(config["DISPATCH_TWILIO_TIMEOUT_SECONDS"]))
    # environment={}: no TWILIO_EDGE/TWILIO_REGION from the process's environment.
    client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                    http_client=http, environment={})
    base = config["TWILIO_API_BASE"]
    if base:
        # Lets tests and the benchmark point the client at a stub on loopback.
        client.api.base_url = base.rstrip("/")
    current_app.extensions[EXTENSION_KEY] = (key, client)
    return client


def classify(exc: Exception) -> ChannelError:
    """The ``ChannelError`` for an exception raised by Twilio's client."""
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        code = exc.code
        return ChannelError(f"Twilio refused the message: {code or exc.status}",
                            code=str(code or exc.status), permanent=code in PERMANENT_ERRORS)
    return ChannelError(f"Twilio request failed: {exc.__class__.__name__}", code="network")


def send(to: str, body: str, *, status_callback: str | None = None) -> str:
    """Send a text message to an E.164 number; return the provider's message id."""
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
        message = _client().messages.create(**params)
    except (TwilioException, RequestException, OSError) as exc:
        raise classify(exc) from exc
    return message.sid
