"""Short lists every agent page reads, kept per process for a few seconds.

The active staff (the queue's "assigned to" filter, the ticket page's assign list and the
names in its thread) and the approved answers offered on a ticket page are the same for
every agent and change a few times a day, yet each page read them with a statement of
its own: a third of the queue page's statements, each about 0.3 ms of Python and a round
trip (docs/benchmarks.md, helpdesk, seventh round).

``kept(name, key, load)`` answers ``load()`` as it was at most ``LIST_CACHE_SECONDS``
ago (``portal.core.cache.timed``). A transaction that wrote a row of a table a list is read
from (``_sources``) empties that list in this process when it ends; another process sees the
change when its copy expires. So a list may be that many seconds old in another process,
and nothing that acts on one trusts it: an assignment checks the staff member afresh, a
reply checks that its answer is still approved. 0 keeps nothing.

Only plain values are kept (ids, names, titles), never ORM objects, which belong to one
session, and nothing personal.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.core.cache import timed

AGENTS = "agents"  # portal.tickets.queue.agents
ANSWERS = "answers"  # portal.answers.choose.answer_choices
MAX_KEYS = 64  # per list: the answers are kept per language and incident
_TOUCHED = "portal.lists_touched"
_GENERATIONS = "portal.lists_generations"

T = TypeVar("T")


_SOURCES = "portal.lists_sources"


def _sources() -> dict[str, tuple[type, ...]]:
    """Each list, and the mapped classes (tables) it is read from."""
    from portal.models.answer import Answer, AnswerVersion
    from portal.models.staff import StaffUser

    return {AGENTS: (StaffUser,), ANSWERS: (Answer, AnswerVersion)}


def _store_key(name: str) -> str:
    return f"portal.lists.{name}"


def _generations() -> dict[str, int]:
    return current_app.extensions.setdefault(_GENERATIONS, {})


def kept(name: str, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, or what it answered at most ``LIST_CACHE_SECONDS`` ago in this process.

    A list read while a commit emptied it (another thread's) is answered but not kept:
    it may have been read before that commit.
    """
    generations = _generations()
    return timed(_store_key(name), MAX_KEYS, key,
                 float(current_app.config["LIST_CACHE_SECONDS"]), load,
                 generation=lambda: generations.get(name, 0))


def forget(*names: str) -> None:
    """Drop the named lists (every key) in this process."""
    generations = _generations()
    for name in names:
        generations[name] = generations.get(name, 0) + 1
        store = current_app.extensions.get(_store_key(name))
        if store is not None:
            store.clear()


def _note_written(session: Session, _flush_context) -> None:
    written = (*session.new, *session.dirty, *session.deleted)
    if not written or not has_app_context():
        return
    touched = session.info.setdefault(_TOUCHED, set())
    for name, classes in current_app.extensions.get(_SOURCES, {}).items():
        if name not in touched and any(isinstance(row, classes) for row in written):
            touched.add(name)


def _forget_touched(session: Session, transaction) -> None:
    """At the end of the outermost transaction, committed or rolled back, empty the lists
    it wrote to: a list read inside it may hold its uncommitted rows. A savepoint's end
    (released or rolled back) leaves the marks to the transaction around it."""
    if transaction.parent is not None:
        return
    touched = session.info.pop(_TOUCHED, None)
    if touched and has_app_context():
        forget(*touched)


def init_app(app) -> None:
    """Register the listeners that empty a list once a transaction that wrote to its table
    ends.

    Session events are process-wide: registered once, by the first application built,
    they empty the lists of whichever application is current. The tables each list is
    read from are looked up here, once, not on every flush.
    """
    app.extensions[_SOURCES] = _sources()
    for name, listener in (("after_flush", _note_written),
                           ("after_transaction_end", _forget_touched)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
