"""Which people this staff session may act for: found by a search, or reached from a ticket.

An id in a URL is never enough to reach a person's page, log a call or open a
ticket for them: the agent must have found the person by a search
(``people.search``) or followed a link naming a ticket of theirs that the agent may
work (``helpdesk.people.views``); either calls ``remember``. The grant lives in the
signed staff session and lapses after ``HELPDESK_PERSON_GRANT_MINUTES``; at most
``MAX_GRANTS`` are kept (the oldest go).

The session holds them as one string, ``"<person id>:<until, whole seconds>,..."``: as a
dictionary, Flask's tagged JSON walked every entry, both ways, on every request
(docs/benchmarks.md, helpdesk).
"""

from __future__ import annotations

import time

from flask import current_app, session

SESSION_KEY = "person_grants"
MAX_GRANTS = 50


def clock() -> float:
    """The clock grants are timed by (tests move it)."""
    return time.time()


def parse(stored) -> dict[str, float]:
    """The grants a session holds: person id (text) to the time the grant lapses."""
    if isinstance(stored, dict):  # a session signed by an earlier release
        return {str(key): until for key, until in stored.items()
                if isinstance(until, int | float)}
    grants: dict[str, float] = {}
    if isinstance(stored, str):
        for entry in stored.split(","):
            person, _, until = entry.partition(":")
            if person.isdigit() and until.isdigit():
                grants[person] = int(until)
    return grants


def _grants() -> dict[str, float]:
    return parse(session.get(SESSION_KEY))


def _lifetime() -> float:
    return float(current_app.config["HELPDESK_PERSON_GRANT_MINUTES"]) * 60


def _refresh_step(lifetime: float) -> float:
    """How old a grant gets before ``remember`` renews it: a minute (a sixtieth of the
    lifetime when that is shorter). Renewing changes the session, which re-signs and
    re-sends its cookie."""
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
    grants[str(int(person_id))] = int(now + lifetime)
    if len(grants) > MAX_GRANTS:
        grants = dict(sorted(grants.items(), key=lambda item: item[1])[-MAX_GRANTS:])
    session[SESSION_KEY] = ",".join(f"{key}:{int(until)}" for key, until in grants.items())


def allowed(person_id: int) -> bool:
    """Tell whether this session reached the person (by search or ticket) recently."""
    until = _grants().get(str(int(person_id)))
    return until is not None and until > clock()
