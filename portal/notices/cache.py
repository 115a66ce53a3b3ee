"""A per-process cache of built notices, and the customer page's view bookkeeping.

Building a notice (``portal.notices.build.build_notice``) takes several queries and a
few hundred translated strings; the result depends only on the incident, the
approved version chosen, the incident's own advice and the person's categories.
``lookup``/``notice_for`` answer from a small stamp of the incident (its
``updated_at``, its approved versions, a stamp of its advice rows), read with one
query at most every ``NOTICE_STAMP_SECONDS`` (2) per process (a kept list,
``portal.core.lists``), and reuse a notice
built earlier for the same key. A new approved version, an edited incident or
edited advice changes the key: a change committed in this process takes effect
on the next request, one committed in another process within those seconds.
Cached notices are shared between requests and must not be modified; the
per-reader banner ("updated since you last read it") is applied to a copy.

The cache and the stamps belong to the application (``app.extensions``); the
version a session last read is kept by the customer session
(``portal.customer.session.seen_notice_version``).
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import and_, bindparam, func, select, true

from portal.core import lists
from portal.core.cache import LRU, app_lru
from portal.extensions import db
from portal.models import Incident, IncidentAdvice, NoticeVersion
from portal.notices.build import Notice, build_notice

EXTENSION_KEY = "portal.notices.cache"
# The stamps, kept per process and incident (portal.core.lists).
STAMPS = lists.KeptList(
    "notice_stamps", frozenset({Incident.__tablename__, NoticeVersion.__tablename__,
                                IncidentAdvice.__tablename__}),
    seconds="NOTICE_STAMP_SECONDS", size=256)


def cache() -> LRU:
    """This application's notice cache (created on first use)."""
    return app_lru(EXTENSION_KEY, "NOTICE_CACHE_SIZE")


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


# Built once, at import: constructing the statement costs more than running it.
_STAMP = _stamp_statement()


def _read_stamp(incident_id: int):
    return db.session.execute(_STAMP, {"incident_id": incident_id}).all()


def _stamp(incident_id: int):
    """The incident's stamp, default language, advice stamp and approved versions.

    Kept per process and incident for ``NOTICE_STAMP_SECONDS`` (``portal.core.lists``): a
    transaction in this process that writes an incident, a notice version or advice
    empties the stamps when it ends; one committed in another process shows within that
    many seconds.
    """
    return lists.kept(STAMPS, incident_id, lambda: _read_stamp(incident_id))


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
