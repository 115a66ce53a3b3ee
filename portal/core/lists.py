"""Short lists read on many pages, kept per process for a few seconds.

The active staff (the queue's "assigned to" filter, the ticket page's assign list and the
names in its thread) and the approved answers offered on a ticket page are the same for
every agent and change a few times a day, yet each page read them with a statement of
its own: a third of the queue page's statements, each about 0.3 ms of Python and a round
trip (docs/benchmarks.md, helpdesk, seventh round). The customer pages read their
incident's stamp (``portal.notices.cache``) and face (``portal.incidents.brand``) the same
way.

A domain declares each list where it reads it (a ``KeptList``: its name, the tables it is
read from, the setting of its seconds) and the application factory hands them all to
``init_app``. ``kept(kept_list, key, load)`` answers ``load()`` as it was at most that
many seconds ago (``portal.core.cache.timed``). A transaction that wrote a row of one of
a list's tables empties that list in this process when it ends (committed or rolled back);
another process sees the change when its copy expires. So a list may be that many seconds
old in another process, and nothing that acts on one trusts it: an assignment checks the
staff member afresh, a reply checks that its answer is still approved. 0 keeps nothing.

Only plain values are kept (ids, names, titles, rows of values), never ORM objects, which
belong to one session, and nothing personal.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.core.cache import timed

_TOUCHED = "portal.lists_touched"
_GENERATIONS = "portal.lists_generations"
_SOURCES = "portal.lists_sources"

T = TypeVar("T")


@dataclass(frozen=True)
class KeptList:
    """A list kept per process: its name, the tables it is read from (a write to one
    empties it), the setting that says for how many seconds, and at most how many keys
    (``kept``'s ``key``) it holds (a number, or the name of the setting that says)."""

    name: str
    tables: frozenset[str]
    seconds: str = "LIST_CACHE_SECONDS"
    size: int | str = 64


def store_key(kept_list: KeptList) -> str:
    """Where the application keeps the list (an LRU in ``app.extensions``)."""
    return _store_key(kept_list.name)


def _store_key(name: str) -> str:
    return f"portal.lists.{name}"


def _generations() -> dict[str, int]:
    return current_app.extensions.setdefault(_GENERATIONS, {})


def kept(kept_list: KeptList, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, or what it answered at most the list's seconds ago in this process.

    A list read while a commit emptied it (another thread's) is answered but not kept:
    it may have been read before that commit.
    """
    generations = _generations()
    name = kept_list.name
    return timed(store_key(kept_list), kept_list.size, key,
                 float(current_app.config[kept_list.seconds]), load,
                 generation=lambda: generations.get(name, 0))


def forget(*kept_lists: KeptList) -> None:
    """Drop the lists (every key) in this process."""
    _forget_named(kept_list.name for kept_list in kept_lists)


def _forget_named(names: Iterable[str]) -> None:
    generations = _generations()
    extensions = current_app.extensions
    for name in names:
        generations[name] = generations.get(name, 0) + 1
        store = extensions.get(_store_key(name))
        if store is not None:
            store.clear()


def _note_written(session: Session, _flush_context) -> None:
    written = (*session.new, *session.dirty, *session.deleted)
    if not written or not has_app_context():
        return
    sources = current_app.extensions.get(_SOURCES)
    if not sources:
        return
    tables = {table.name for table in (getattr(row, "__table__", None) for row in written)
              if table is not None}
    touched = session.info.setdefault(_TOUCHED, set())
    touched.update(name for name, read_from in sources.items() if tables & read_from)


def _forget_touched(session: Session, transaction) -> None:
    """At the end of the outermost transaction, committed or rolled back, empty the lists
    it wrote to: a list read inside it may hold its uncommitted rows. A savepoint's end
    (released or rolled back) leaves the marks to the transaction around it."""
    if transaction.parent is not None:
        return
    touched = session.info.pop(_TOUCHED, None)
    if touched and has_app_context():
        _forget_named(touched)


def init_app(app, kept_lists: Iterable[KeptList]) -> None:
    """Take the application's lists, and register the listeners that empty a list once a
    transaction that wrote to one of its tables ends.

    Session events are process-wide: registered once, by the first application built,
    they empty the lists of whichever application is current.
    """
    app.extensions[_SOURCES] = {kept_list.name: kept_list.tables for kept_list in kept_lists}
    for name, listener in (("after_flush", _note_written),
                           ("after_transaction_end", _forget_touched)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
