"""The verified customer's session: who it is, its clocks, and how it ends.

A verified session holds only the person's id, two timestamps and a random
nonce. It idles out after ``CUSTOMER_IDLE_MINUTES`` (30) and ends after
``CUSTOMER_MAX_HOURS`` (12) whatever the activity. The nonce must match
``Person.session_nonce``: sign-out clears it, so a copy of the cookie taken
before sign-out opens nothing afterwards, and a newer verification of the same
person replaces it, which ends any older session of that person. Every customer
route that shows personal data uses ``customer_required``; ids in URLs are never
enough on their own.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps

from flask import current_app, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import defer

from portal.audit import context as audit_context
from portal.audit import log as audit
from portal.core import autocommit
from portal.core.i18n import SESSION_KEY as LANG_KEY
from portal.extensions import db
from portal.models.person import Person
from portal.people.identity import PLAIN_FIELDS

# The customer's keys in Flask's session; no other module names them.
PERSON_KEY = "customer_person_id"
STARTED_KEY = "customer_started_at"
SEEN_KEY = "customer_seen_at"
PENDING_CODE_KEY = "customer_pending_code"  # the code's blind index, never the code
PENDING_TAIL_KEY = "customer_pending_tail"  # last four characters, to show which code
SEEN_VERSION_KEY = "customer_seen_notice"  # {language: version} read (and logged) here
NONCE_KEY = "customer_session_nonce"
REVEALED_KEY = "customer_activation_revealed"


# Most customer pages show no personal value: decrypt a field only when a page reads it.
LAZY_PII = tuple(defer(getattr(Person, name)) for name in (*PLAIN_FIELDS, "notice_code"))
# Built once: the statement's cache key (with its options) is then computed only once.
_BY_ID = select(Person).options(*LAZY_PII).where(Person.id == bindparam("person_id"))
# The idle clock is refreshed at most this often, so most page views leave the cookie as is.
SEEN_PRECISION_SECONDS = 60


def _load_person(person_id: int) -> Person | None:
    """The verified person, attached to this request's session.

    Read outside the request's transaction (``portal.core.autocommit``): a page that
    then reads nothing else from the database, the notice most of the time, costs
    one round trip instead of three.
    """
    row = autocommit.read_row(_BY_ID, {"person_id": person_id})
    return row[0] if row else None


def idle_seconds() -> int:
    return int(current_app.config["CUSTOMER_IDLE_MINUTES"]) * 60


def max_seconds() -> int:
    return int(current_app.config["CUSTOMER_MAX_HOURS"]) * 3600


def new_nonce() -> str:
    """A fresh session nonce."""
    return secrets.token_hex(16)


def start(person: Person, stored_nonce: str | None = None) -> None:
    """Begin a fresh verified session (nothing from before survives, except the language).

    Gives the person a new session nonce (the caller commits), which ends any older
    session of the same person. ``stored_nonce`` is one the caller has already
    written to the person's row.
    """
    lang = session.get(LANG_KEY)
    session.clear()
    if lang:
        session[LANG_KEY] = lang
        if lang != person.language:
            # The visitor picked a language with the switcher before verifying:
            # that choice becomes their saved preference, as the switcher does later.
            audit.record(
                "preferences.changed",
                actor_type="customer",
                actor_id=person.id,
                incident_id=person.incident_id,
                person_id=person.id,
                details={"field": "language", "from": person.language, "to": lang,
                         "via": "switcher"},
            )
            person.language = lang
    now = time.time()
    nonce = stored_nonce or new_nonce()
    if stored_nonce is None:
        person.session_nonce = nonce
    session[PERSON_KEY] = person.id
    session[STARTED_KEY] = now
    session[SEEN_KEY] = now
    session[NONCE_KEY] = nonce
    audit_context.set_customer(person.id)


def _nonce_matches(person: Person) -> bool:
    given = session.get(NONCE_KEY)
    stored = person.session_nonce
    if not isinstance(given, str) or not stored:
        return False
    return hmac.compare_digest(given.encode(), stored.encode())


def end(person: Person | None = None) -> None:
    """Forget the verified customer, keeping only the language choice.

    With ``person`` (sign-out), also clears the person's session nonce when it is
    this session's, so no copy of the cookie works any more (the caller commits).
    """
    if person is not None and _nonce_matches(person):
        person.session_nonce = None
    audit_context.set_customer(None)
    lang = session.get(LANG_KEY)
    session.clear()
    if lang:
        session[LANG_KEY] = lang


def _expired_reason(now: float) -> str | None:
    started = session.get(STARTED_KEY)
    seen = session.get(SEEN_KEY)
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return "invalid"
    if now - started > max_seconds():
        return "absolute"
    if now - seen > idle_seconds():
        return "idle"
    return None


def load_customer() -> None:
    """``before_request`` of the customer blueprint: check the clocks, load the person.

    Also applies an explicit ``?lang=`` choice to the person's saved language and
    makes the saved language the interface language.
    """
    g.customer = None
    person_id = session.get(PERSON_KEY)
    if person_id is None:
        return
    now = time.time()
    reason = _expired_reason(now)
    person = None
    if reason is None:
        person = _load_person(person_id)
    if reason is None and (person is None or person.anonymised_at is not None):
        reason = "gone"
    if reason is None and not _nonce_matches(person):
        reason = "ended"  # signed out, or replaced by a newer verification
    if reason is not None:
        audit.record(
            "customer.session_expired",
            actor_type="customer",
            actor_id=person_id if isinstance(person_id, int) else None,
            person_id=person.id if person is not None else None,
            details={"reason": reason},
        )
        db.session.commit()
        end()
        g.session_expired = reason
        return
    if now - session[SEEN_KEY] >= SEEN_PRECISION_SECONDS:
        session[SEEN_KEY] = now
    g.customer = person
    audit_context.set_customer(person.id)
    explicit = g.get("explicit_locale")
    if explicit and explicit != person.language:
        audit.record(
            "preferences.changed",
            incident_id=person.incident_id,
            person_id=person.id,
            details={"field": "language", "from": person.language, "to": explicit,
                     "via": "switcher"},
        )
        person.language = explicit
        db.session.commit()
    if person.language:
        g.preferred_locale = person.language


def current_person() -> Person | None:
    """The verified customer of this request, or ``None``."""
    return g.get("customer")


def seen_notice_version(language: str, from_log: Callable[[], int | None]) -> int | None:
    """The notice version this person last read in ``language``: this session's, else the log's."""
    seen = session.get(SEEN_VERSION_KEY)
    if isinstance(seen, dict) and isinstance(seen.get(language), int):
        return seen[language]
    return from_log()


def note_notice_view(language: str, version: int) -> bool:
    """Remember that this session read ``version`` in ``language``; True when it is new here.

    The caller logs ``notice.viewed`` only when this returns True, so the log
    holds one view per session for each version and language read.
    """
    seen = session.get(SEEN_VERSION_KEY)
    seen = dict(seen) if isinstance(seen, dict) else {}
    if seen.get(language) == version:
        return False
    seen[language] = version
    session[SEEN_VERSION_KEY] = seen
    return True


def customer_required(view):
    """Send visitors without a verified session to the code page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_person() is None:
            reason = g.get("session_expired")
            if reason == "ended":
                flash(_("Your session has ended. Please enter your code again."), "info")
            elif reason:
                flash(_("Your session ended because it was inactive for too long. "
                        "Please enter your code again."), "info")
            return redirect(url_for("customer.index"))
        return view(*args, **kwargs)

    return wrapped
