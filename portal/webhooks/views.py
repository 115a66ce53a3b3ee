"""``/hooks/twilio/status`` and ``/hooks/twilio/inbound``: thin views over ``portal.dispatch``.

Who may call: Twilio only, proved by the request's signature (HMAC-SHA1 with our
auth token, checked by twilio's ``RequestValidator``). A forged or unsigned request
gets 403 and a log entry (``webhook.forged``) naming the path, nothing else. The
responses reveal nothing: 204 for a status, TwiML with at most a short reply.
"""

from __future__ import annotations

from flask import Response, abort, current_app, request

from portal.audit import log as audit
from portal.dispatch import callbacks, inbound
from portal.extensions import csrf, db, limiter
from portal.webhooks import bp


def _public_url() -> str:
    url = current_app.config["PORTAL_BASE_URL"].rstrip("/") + request.path
    query = request.query_string.decode("latin-1")
    return f"{url}?{query}" if query else url


def _require_twilio() -> None:
    from twilio.request_validator import RequestValidator

    token = current_app.config["TWILIO_AUTH_TOKEN"]
    signature = request.headers.get("X-Twilio-Signature", "")
    valid = bool(token and signature) and RequestValidator(token).validate(
        _public_url(), request.form.to_dict(), signature)
    if not valid:
        db.session.rollback()
        audit.record("webhook.forged", actor_type="system",
                     details={"path": request.path, "signed": bool(signature)})
        db.session.commit()
        current_app.logger.warning("refused an unsigned or forged webhook on %s", request.path)
        abort(403)


def _forged_limit() -> str:
    return current_app.config["WEBHOOK_FORGED_RATE_LIMIT"]


def _refused(response) -> bool:
    return response.status_code == 403


# Only refused (forged or unsigned) requests count: a stream of them from one address
# cannot fill the interaction log, while Twilio's own callbacks are never slowed.
forged_limit = limiter.limit(_forged_limit, deduct_when=_refused)


def _twiml(reply: str | None) -> Response:
    from twilio.twiml.messaging_response import MessagingResponse

    twiml = MessagingResponse()
    if reply:
        twiml.message(reply)
    return Response(str(twiml), mimetype="application/xml")


@bp.post("/twilio/status")
@csrf.exempt
@forged_limit
def twilio_status():
    _require_twilio()
    callbacks.apply_status(request.form.get("MessageSid", ""),
                           request.form.get("MessageStatus", ""),
                           request.form.get("ErrorCode"))
    return Response(status=204)


@bp.post("/twilio/inbound")
@csrf.exempt
@forged_limit
def twilio_inbound():
    _require_twilio()
    handled = inbound.handle(request.form.get("From", ""), request.form.get("Body", ""))
    return _twiml(handled.reply)
