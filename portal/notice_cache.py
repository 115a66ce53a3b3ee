"""A per-process cache of built notices, and the customer page's view bookkeeping.

Building a notice (``portal.notices.build_notice``) takes several queries and a
few hundred translated strings; the result depends only on the incident, the
approved version chosen, the incident's own advice and the person's categories.
``notice_for`` answers with one small query that reads everything the choice
depends on (the incident's ``updated_at``, its approved versions, a stamp of its
advice rows) and reuses a notice built earlier for the same key. A new approved
version, an edited incident or edited advice changes the key, so the next
request builds afresh: nothing is ever served stale. Cached notices are shared
between requests and must not be modified; the per-reader banner ("updated since
you last read it") is applied to a copy.

``seen_version``/``note_view`` keep the version this session last read in the
session, so the interaction log is read once per session rather than on every
page view, and ``notice.viewed`` is logged once per session for each version and
language the person reads (reloads within a session are not logged again).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, session
from sqlalchemy import and_, bindparam, func, select, true

from portal.extensions import db
from portal.models import Incident, IncidentAdvice, NoticeVersion
from portal.notices import Notice, build_notice

EXTENSION_KEY = "portal.notice_cache"
DEFAULT_SIZE = 4096
SEEN_KEY = "customer_seen_notice"  # {language: version} read (and logged) in this session


class NoticeCache:
    """A small thread-safe LRU of built notices."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple, Notice] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> Notice | None:
        with self._lock:
            notice = self._items.get(key)
            if notice is None:
                self.misses += 1
            else:
                self.hits += 1
                self._items.move_to_end(key)
            return notice

    def put(self, key: tuple, notice: Notice) -> None:
        with self._lock:
            self._items[key] = notice
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def cache() -> NoticeCache:
    """This application's notice cache (created on first use)."""
    extensions = current_app.extensions
    found = extensions.get(EXTENSION_KEY)
    if found is None:
        size = int(current_app.config.get("NOTICE_CACHE_SIZE", DEFAULT_SIZE))
        found = extensions.setdefault(EXTENSION_KEY, NoticeCache(size))
    return found


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


def _stamp(incident_id: int):
    """One query: the incident's stamp, default language, advice stamp and approved versions."""
    global _STAMP
    if _STAMP is None:  # built once: constructing the statement costs more than running it
        _STAMP = _stamp_statement()
    return db.session.execute(_STAMP, {"incident_id": incident_id}).all()


def _choose(rows, language: str):
    """The approved version ``portal.notices.approved_version`` would choose."""
    newest: dict[str, tuple] = {}
    for row in rows:
        if row.id is not None and (row.language not in newest
                                   or row.version > newest[row.language].version):
            newest[row.language] = row
    for candidate in (language, rows[0].default_language, "en"):
        if candidate and candidate in newest:
            return newest[candidate]
    return None


def notice_for(person, language: str | None = None, *,
               seen_version: int | None = None) -> Notice | None:
    """``build_for_person`` with the same result, served from the cache when it can be."""
    language = language or person.language
    rows = _stamp(person.incident_id)
    if not rows:
        return None
    chosen = _choose(rows, language)
    if chosen is None:
        return None
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
            return None
        if notice.notice_version_id == chosen.id:  # else a version was approved meanwhile
            store.put(key, notice)
    if seen_version is not None and notice.version > seen_version:
        return dataclasses.replace(notice, newer_version=notice.version,
                                   what_changed=chosen.what_changed)
    return notice


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
