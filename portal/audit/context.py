"""Who is acting and from where, for ``record``: set by the web layer, read here.

The web layer (``portal.core.request_actor``) opens one context per request with
the client's address and the signed-in staff member; the customer session adds
the verified customer once it has checked the session. Outside a request (CLI
commands, jobs) there is no context and the actor is ``system``.

The context lives in a ``ContextVar``, as Flask's own request context does: the
variable is created once, its value belongs to the running request alone.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field


@dataclass
class AuditContext:
    """The actor and client address of one request; staff take precedence over a customer."""

    ip: str | None = None
    staff_id: int | None = None
    customer_id: int | None = None
    _token: Token | None = field(default=None, repr=False, compare=False)

    @property
    def actor(self) -> tuple[str, int | None]:
        """``(actor_type, actor_id)`` as the interaction log stores them."""
        if self.staff_id is not None:
            return "staff", self.staff_id
        if self.customer_id is not None:
            return "customer", self.customer_id
        return "system", None


_current: ContextVar[AuditContext | None] = ContextVar("portal_audit_context", default=None)


def current() -> AuditContext | None:
    """The running request's context, or ``None`` outside a request."""
    return _current.get()


def begin(ip: str | None = None, staff_id: int | None = None) -> AuditContext:
    """Open a context for a request; ``end`` closes it."""
    context = AuditContext(ip=ip, staff_id=staff_id)
    context._token = _current.set(context)
    return context


def end(context: AuditContext) -> None:
    """Close ``context``, restoring whatever was current before ``begin``."""
    token, context._token = context._token, None
    if token is None:
        return
    try:
        _current.reset(token)
    except ValueError:  # closed from another context (a preserved test request)
        _current.set(None)


def set_staff(staff_id: int | None) -> None:
    """Record that a staff member signed in (or, with ``None``, out) in this request."""
    context = current()
    if context is not None:
        context.staff_id = staff_id


def set_customer(person_id: int | None) -> None:
    """Record that this request's customer was verified (or, with ``None``, ended)."""
    context = current()
    if context is not None:
        context.customer_id = person_id
