"""Which people this staff session may act for: reached through a search or a ticket.

An id in a URL is never enough to reach a person's page, log a call or open a
ticket for them: the agent must have found the person by a search
(``people.search``) or opened a ticket of theirs, which calls ``remember``. The
grant lives in the signed staff session and lapses after
``HELPDESK_PERSON_GRANT_MINUTES``; at most ``MAX_GRANTS`` are kept (the oldest go).
"""

from __future__ import annotations

import time

from flask import current_app, session

SESSION_KEY = "person_grants"
MAX_GRANTS = 50


def clock() -> float:
    """The clock grants are timed by (tests move it)."""
    return time.time()


def _grants() -> dict[str, float]:
    grants = session.get(SESSION_KEY)
    return dict(grants) if isinstance(grants, dict) else {}


def _lifetime() -> float:
    return float(current_app.config["HELPDESK_PERSON_GRANT_MINUTES"]) * 60


def _refresh_step(lifetime: float) -> float:
    """How old a grant gets before ``remember`` renews it: a minute (a sixtieth of the
    lifetime when that is shorter). Renewing changes the session, which re-signs and
    re-sends its cookie: the ticket page remembers its person on every view."""
    return min(60.0, lifetime / 60)


def remember(person_id: int) -> None:
    """Allow this session to act for the person until the grant lapses (renewed at most
    every ``_refresh_step``: a grant may lapse that much sooner than the last view would
    make it)."""
    now = clock()
    lifetime = _lifetime()
    current = _grants()
    until = current.get(str(int(person_id)))
    if (isinstance(until, int | float)
            and lifetime - _refresh_step(lifetime) < until - now <= lifetime):
        return
    grants = {key: until for key, until in current.items() if until > now}
    grants[str(int(person_id))] = now + lifetime
    if len(grants) > MAX_GRANTS:
        grants = dict(sorted(grants.items(), key=lambda item: item[1])[-MAX_GRANTS:])
    session[SESSION_KEY] = grants


def allowed(person_id: int) -> bool:
    """Tell whether this session reached the person (by search or ticket) recently."""
    until = _grants().get(str(int(person_id)))
    return until is not None and until > clock()
