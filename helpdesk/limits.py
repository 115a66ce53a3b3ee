"""Rate limits on what staff look up: people searches, queue searches and reveals.

Each is logged, but a log is read after the fact: the limit stops an account (a
curious insider, or stolen credentials) from walking through the people of an
incident at machine speed. Counted per staff member, not per address (a call
centre shares one), under ``STAFF_LOOKUP_RATE_LIMIT``.
"""

from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from portal.extensions import limiter


def _limit() -> str:
    return current_app.config["STAFF_LOOKUP_RATE_LIMIT"]


def _staff_key() -> str:
    if getattr(current_user, "is_authenticated", False):
        return f"staff-lookup:{current_user.id}"
    return get_remote_address()


def _looks_nothing_up() -> bool:
    """A request these routes answer without a look-up: a page without ``?q=`` (the queue
    browsed by its filters, the empty search form). A posted form always counts, and so
    does a search by address: ``?q=`` works too (for links), and a budget only for posted
    searches would let a script walk the people of an incident through the address."""
    return request.method != "POST" and not request.args.get("q", "").strip()


# One budget per staff member shared by every look-up route.
lookup_limit = limiter.shared_limit(_limit, scope="staff-lookup", key_func=_staff_key,
                                    exempt_when=_looks_nothing_up)
