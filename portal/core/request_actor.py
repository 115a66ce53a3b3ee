"""The web side of the interaction log's actor: one ``AuditContext`` per request.

A ``before_request`` hook opens the context with the client's address and the
signed-in staff member; Flask-Login's sign-in and sign-out signals keep the
staff member current within the request; the customer session
(``portal.customer.session``) adds the verified customer after checking it.
``portal.audit.log.record`` reads the context, never the request.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import current_user, user_logged_in, user_logged_out

from portal.audit import context as audit_context

_G_KEY = "_audit_context"


def _open() -> None:
    staff_id = current_user.id if getattr(current_user, "is_authenticated", False) else None
    setattr(g, _G_KEY, audit_context.begin(ip=request.remote_addr, staff_id=staff_id))


def _close(_error=None) -> None:
    context = g.pop(_G_KEY, None)
    if context is not None:
        audit_context.end(context)


def _signed_in(_app, user, **_extra) -> None:
    audit_context.set_staff(user.id)


def _signed_out(_app, **_extra) -> None:
    audit_context.set_staff(None)


def init_app(app: Flask) -> None:
    """Open and close the request's audit context; follow staff sign-in and sign-out."""
    app.before_request(_open)
    app.teardown_request(_close)
    user_logged_in.connect(_signed_in, app)
    user_logged_out.connect(_signed_out, app)
