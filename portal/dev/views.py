"""``/dev/outbox``: what the embedded default "sent" by SMS and e-mail.

Never available in production: the blueprint is registered only when
``DEV_PAGES`` is on, and each request checks again.
"""

from __future__ import annotations

from flask import abort, current_app, render_template
from sqlalchemy import select

from portal.dev import bp
from portal.extensions import db
from portal.models.campaign import OutboxMessage
from portal.security.headers import no_store

PAGE_SIZE = 200


@bp.before_request
def _dev_only():
    config = current_app.config
    if not config["DEV_PAGES"] or config["ENV_NAME"] == "production":
        abort(404)


@bp.get("/dev/outbox")
def outbox():
    """The newest outbox messages, newest first."""
    messages = list(db.session.execute(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE)
    ).scalars())
    return no_store(current_app.make_response(
        render_template("dev/outbox.html", messages=messages)
    ))
