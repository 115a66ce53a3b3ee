"""A per-process cache of built notices, and the customer page's view bookkeeping.

Building a notice (``portal.notices.build.build_notice``) takes several queries and a
few hundred translated strings; the result depends only on the incident, the
approved version chosen, the incident's own advice and the person's categories.
``lookup``/``notice_for`` answer from a small stamp of the incident (its
``updated_at``, its approved versions, a stamp of its advice rows), read with one
query at most every ``NOTICE_STAMP_SECONDS`` (2) per process, and reuse a notice
built earlier for the same key. A new approved version, an edited incident or
edited advice changes the key: a change committed in this process takes effect
on the next request, one committed in another process within those seconds.
Cached notices are shared between requests and must not be modified; the
per-reader banner ("updated since you last read it") is applied to a copy.

``seen_version``/``note_view`` keep the version this session last read in the
session, so the interaction log is read once per session rather than on every
page view, and ``notice.viewed`` is logged once per session for each version and
language the person reads (reloads within a session are not logged again).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from flask import current_app, has_app_context, session
from sqlalchemy import and_, bindparam, event, func, select, true
from sqlalchemy.orm import Session

from portal.core.cache import LRU, app_lru
from portal.extensions import db
from portal.models import Incident, IncidentAdvice, NoticeVersion
from portal.notices.build import Notice, build_notice

EXTENSION_KEY = "portal.notices.cache"
STAMPS_KEY = "portal.notice_stamps"
DEFAULT_SIZE = 4096
DEFAULT_STAMP_SECONDS = 2.0
SEEN_KEY = "customer_seen_notice"  # {language: version} read (and logged) in this session


# Kept for callers that name the type; the cache is a plain LRU of built notices.
NoticeCache = LRU


def cache() -> LRU:
    """This application's notice cache (created on first use)."""
    return app_lru(EXTENSION_KEY, "NOTICE_CACHE_SIZE", DEFAULT_SIZE)


def _stamp_statement():
    incident_id = bindparam("incident_id")
    advice = (
        select(func.count(IncidentAdvice.id), func.max(IncidentAdvice.updated_at))
        .where(IncidentAdvice.incident_id == incident_id)
        .subquery()
    )
    return (
        select(
            Incident.updated_at, Incident.default_language, advice.c[0], advice.c[1],
            NoticeVersion.id, NoticeVersion.language, NoticeVersion.version,
            NoticeVersion.what_changed, NoticeVersion.approved_at,
        )
        .select_from(Incident)
        .join(advice, true())
        .outerjoin(NoticeVersion, and_(NoticeVersion.incident_id == Incident.id,
                                       NoticeVersion.state == "approved"))
        .where(Incident.id == incident_id)
    )


_STAMP = None


def _read_stamp(incident_id: int):
    global _STAMP
    if _STAMP is None:  # built once: constructing the statement costs more than running it
        _STAMP = _stamp_statement()
    return db.session.execute(_STAMP, {"incident_id": incident_id}).all()


def _stamps() -> dict:
    return current_app.extensions.setdefault(STAMPS_KEY, {})


def _stamp(incident_id: int):
    """The incident's stamp, default language, advice stamp and approved versions.

    Read at most once every ``NOTICE_STAMP_SECONDS`` per process and incident; a
    change committed in this process clears it at once (``_forget_stamps``), one
    committed in another process shows within that many seconds.
    """
    seconds = float(current_app.config.get("NOTICE_STAMP_SECONDS", DEFAULT_STAMP_SECONDS))
    if seconds <= 0:
        return _read_stamp(incident_id)
    stamps = _stamps()
    now = time.monotonic()
    found = stamps.get(incident_id)
    if found is not None and now - found[0] < seconds:
        return found[1]
    rows = _read_stamp(incident_id)
    stamps[incident_id] = (now, rows)
    return rows


_DIRTY = "portal.notice_stamps_dirty"


def _note_notice_changes(session, _flush_context) -> None:
    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, Incident | NoticeVersion | IncidentAdvice):
            session.info[_DIRTY] = True
            return


def _forget_stamps(session) -> None:
    if session.info.pop(_DIRTY, False) and has_app_context():
        _stamps().clear()


def _drop_dirty_mark(session) -> None:
    session.info.pop(_DIRTY, None)


def init_app(app) -> None:
    """Register the listeners that forget stamps once a notice change commits.

    Session events are process-wide: they are registered once, by the first
    application built, and clear the stamps of whichever application is current.
    """
    for name, listener in (("after_flush", _note_notice_changes),
                           ("after_commit", _forget_stamps),
                           ("after_rollback", _drop_dirty_mark)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _choose(rows, language: str):
    """The approved version ``portal.notices.build.approved_version`` would choose."""
    newest: dict[str, tuple] = {}
    for row in rows:
        if row.id is not None and (row.language not in newest
                                   or row.version > newest[row.language].version):
            newest[row.language] = row
    for candidate in (language, rows[0].default_language, "en"):
        if candidate and candidate in newest:
            return newest[candidate]
    return None


def lookup(person, language: str | None = None, *,
           seen_version: int | None = None) -> tuple[Notice | None, tuple | None]:
    """The notice ``build_for_person`` would build, and a key that identifies it.

    The key covers everything the notice depends on, the "updated since you last
    read it" banner included, so equal keys mean equal notices.
    """
    language = language or person.language
    rows = _stamp(person.incident_id)
    if not rows:
        return None, None
    chosen = _choose(rows, language)
    if chosen is None:
        return None, None
    first = rows[0]
    categories = tuple(person.categories or ())
    key = (person.incident_id, first.updated_at, first[2], first[3], chosen.id,
           chosen.approved_at, categories)
    store = cache()
    notice = store.get(key)
    if notice is None:
        incident = db.session.get(Incident, person.incident_id)
        notice = build_notice(incident, list(categories), language)
        if notice is None:
            return None, None
        if notice.notice_version_id != chosen.id:  # a version was approved meanwhile
            return notice, None
        store.put(key, notice)
    if seen_version is not None and notice.version > seen_version:
        return (dataclasses.replace(notice, newer_version=notice.version,
                                    what_changed=chosen.what_changed),
                (*key, notice.version, chosen.what_changed))
    return notice, key


def notice_for(person, language: str | None = None, *,
               seen_version: int | None = None) -> Notice | None:
    """``build_for_person`` with the same result, served from the cache when it can be."""
    return lookup(person, language, seen_version=seen_version)[0]


def seen_version(language: str, from_log: Callable[[], int | None]) -> int | None:
    """The version this person last read in ``language``: this session's, else the log's."""
    seen = session.get(SEEN_KEY)
    if isinstance(seen, dict) and isinstance(seen.get(language), int):
        return seen[language]
    return from_log()


def note_view(notice: Notice) -> bool:
    """Remember that this session read ``notice``; True when it is new for this session.

    The caller logs ``notice.viewed`` only when this returns True.
    """
    seen = session.get(SEEN_KEY)
    seen = dict(seen) if isinstance(seen, dict) else {}
    if seen.get(notice.language) == notice.version:
        return False
    seen[notice.language] = notice.version
    session[SEEN_KEY] = seen
    return True
