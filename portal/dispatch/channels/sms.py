"""Text messages through Twilio, or the outbox on the embedded default.

An SMS never carries personal data: callers pass a short message and a portal
link only.
"""

from __future__ import annotations

from flask import current_app

from portal.dispatch.channels import ChannelError, outbox

# Twilio error codes that will not succeed on a retry (invalid number, opted out...).
PERMANENT_ERRORS = {21211, 21214, 21408, 21610, 21612, 21614}
MAX_BODY = 480


def _client():
    from twilio.rest import Client

    config = current_app.config
    if not config["TWILIO_ACCOUNT_SID"] or not config["TWILIO_AUTH_TOKEN"]:
        raise ChannelError("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)",
                           permanent=True)
    client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])
    base = config["TWILIO_API_BASE"]
    if base:
        # Lets tests point the client at a stub on loopback.
        client.api.base_url = base.rstrip("/")
    return client


def send(to: str, body: str, *, status_callback: str | None = None) -> str:
    """Send a text message to an E.164 number; return the provider's message id."""
    if not to:
        raise ChannelError("no phone number", permanent=True)
    if len(body) > MAX_BODY:
        raise ChannelError("message too long for SMS", permanent=True)
    if current_app.config["OUTBOX_ENABLED"]:
        return outbox.store("sms", to, body)
    from twilio.base.exceptions import TwilioException, TwilioRestException

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
    except TwilioRestException as exc:
        raise ChannelError(
            f"Twilio refused the message: {exc.code}",
            code=str(exc.code),
            permanent=exc.code in PERMANENT_ERRORS,
        ) from exc
    except TwilioException as exc:
        raise ChannelError(f"Twilio request failed: {exc.__class__.__name__}") from exc
    return message.sid
