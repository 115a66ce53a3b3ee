"""``/dev/outbox``: what the embedded default "sent" by SMS and e-mail.

Never available in production: the blueprint is registered only when
``DEV_PAGES`` is on, and each request checks again. Only a signed-in manager or
admin may read it, and codes and staff set-up links show masked: revealing one
message is a logged POST that shows it unmasked for the next page view only, and a
set-up link only to an administrator.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, session, url_for
from flask_login import current_user

from portal.audit import log as audit
from portal.dev import bp
from portal.dispatch.channels import outbox as outbox_store
from portal.extensions import db
from portal.security.headers import no_store
from portal.security.permissions import staff_required

PAGE_SIZE = 200
REVEAL_KEY = "dev_outbox_reveal"


@bp.before_request
def _dev_only():
    config = current_app.config
    if not config["DEV_PAGES"] or config["ENV_NAME"] == "production":
        abort(404)


def _may_reveal(body: str) -> bool:
    """Staff set-up links are for administrators' eyes only; other messages, managers' too."""
    return current_user.role == "admin" or not outbox_store.holds_setup_link(body)


@bp.get("/dev/outbox")
@staff_required("manager")
def outbox():
    """The newest outbox messages, newest first, codes masked."""
    revealed = session.pop(REVEAL_KEY, None)
    entries = []
    for message in outbox_store.recent(PAGE_SIZE):
        body = message.body or ""
        allowed = _may_reveal(body)
        shown = body if message.id == revealed and allowed else outbox_store.masked(body)
        entries.append({
            "message": message,
            "body": shown,
            "maskable": shown != body and allowed,
            "revealed": message.id == revealed and allowed,
        })
    return no_store(current_app.make_response(
        render_template("dev/outbox.html", entries=entries)
    ))


@bp.post("/dev/outbox/<int:message_id>/reveal")
@staff_required("manager")
def reveal(message_id: int):
    """Show one message unmasked on the next view of the outbox; logged."""
    # The CSRF token is checked by CSRFProtect before this runs.
    message = outbox_store.get(message_id)
    if message is None:
        abort(404)
    if not _may_reveal(message.body or ""):
        abort(403)
    audit.record("outbox.revealed", details={"message_id": message_id})
    db.session.commit()
    session[REVEAL_KEY] = message_id
    return redirect(url_for("dev.outbox", _anchor=f"msg-{message_id}"))
