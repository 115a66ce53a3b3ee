"""Rate limits on what staff look up: people searches, queue searches and reveals, and
the ticket and person pages they open.

Each is logged, but a log is read after the fact: the limits stop an account (a
curious insider, or stolen credentials) from walking through the people of an
incident at machine speed, by searching (``STAFF_LOOKUP_RATE_LIMIT``) or by opening
ticket after ticket by its number, each showing a first name, a reference and
hints of the contact details (``STAFF_PAGE_RATE_LIMIT``). Counted per staff member,
not per address (a call centre shares one).
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many

from portal.extensions import limiter


def _limit() -> str:
    return current_app.config["STAFF_LOOKUP_RATE_LIMIT"]


def _page_limit() -> str:
    return current_app.config["STAFF_PAGE_RATE_LIMIT"]


def _staff_key() -> str:
    if getattr(current_user, "is_authenticated", False):
        return f"staff:{current_user.id}"  # each limit its own scope
    return get_remote_address()


# What the browser says started a request (Fetch Metadata's ``Sec-Fetch-Site``) when a
# page of another site did: a link, a redirect or a script there.
STARTED_ELSEWHERE = frozenset({"cross-site", "same-site"})


def held_search() -> str:
    """The ``?q=`` of a request another site started, which these routes do not run.

    A search by address looks people up, logs it under the staff member's name and
    spends their budget: a link on any page they visit could do all three (the session
    cookie is sent on a link followed from another site). Such a search is held: the page
    shows the value in the search box and runs it only when the staff member presses the
    button (a posted form, CSRF-checked). Typed, bookmarked (``none``) and same-origin
    requests run; a client that sends no ``Sec-Fetch-Site`` is not a browser another site
    can steer. Empty when nothing is held.
    """
    if request.method == "POST" or request.headers.get("Sec-Fetch-Site") not in STARTED_ELSEWHERE:
        return ""
    return request.args.get("q", "").strip()


def _looks_nothing_up() -> bool:
    """A request these routes answer without a look-up: a page without ``?q=`` (the queue
    browsed by its filters, the empty search form) or with a held one. A posted form
    always counts, and so does a search by address: ``?q=`` works too (for links), and a
    budget only for posted searches would let a script walk the people of an incident
    through the address."""
    if request.method == "POST":
        return False
    return not request.args.get("q", "").strip() or bool(held_search())


# One budget per staff member shared by every look-up route.
lookup_limit = limiter.shared_limit(_limit, scope="staff-lookup", key_func=_staff_key,
                                    exempt_when=_looks_nothing_up)


def spend_page_budget() -> bool:
    """Count this request's page against the staff member's page budget
    (``STAFF_PAGE_RATE_LIMIT``); False when it is spent.

    Every view that shows a ticket page or a person (masked) asks before rendering: the
    page itself, the composer's search, a form shown again with its errors, the call
    form; presence pings and redirects after a change do not count. Asking twice in one
    request counts once. The limit is hit through Flask-Limiter's own rate limiter,
    storage and strategy: a decorator checks every limit of the app again, a tenth of a
    ticket page's Python (``helpdesk_profile.py --tree``), where one hit is a few calls
    and one round trip to Redis a window.
    """
    if "page_budget" not in g:
        key = _staff_key()
        g.page_budget = all(limiter.limiter.hit(item, "staff-pages", key)
                            for item in parse_many(_page_limit()))
    return g.page_budget
