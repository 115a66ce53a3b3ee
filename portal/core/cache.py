"""A small thread-safe least-recently-used map, for the per-process caches, and values
kept in one for a few seconds (``timed``)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app


class LRU:
    """Keeps at most ``size`` items; the least recently used go first."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def pop(self, key) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def app_lru(key: str, size: str | int) -> LRU:
    """This application's LRU under ``key`` (made on first use, holding ``size`` items, or
    as many as the setting named ``size`` says)."""
    extensions = current_app.extensions
    found = extensions.get(key)
    if found is None:
        size = int(current_app.config[size] if isinstance(size, str) else size)
        found = extensions.setdefault(key, LRU(size))
    return found


T = TypeVar("T")


def timed(key: str, size: str | int, item: Hashable, seconds: float,
          load: Callable[[], T], *, generation: Callable[[], Any] | None = None) -> T:
    """``load()``, or what it answered for ``item`` less than ``seconds`` ago in this
    process (kept in the application's LRU ``key``; ``seconds`` <= 0 keeps nothing).

    ``generation``: what it answers changes whenever the kept values are thrown away; an
    answer loaded while that happened is returned but not kept (it may predate the change).
    """
    if seconds <= 0:
        return load()
    store = app_lru(key, size)
    now = time.monotonic()
    found = store.get(item)
    # Its age against ``seconds`` as the caller reads them now (a setting lowered while
    # the process runs applies to what was kept before).
    if found is not None and now - found[0] < seconds:
        return found[1]
    before = generation() if generation else None
    value = load()
    if generation is None or generation() == before:
        store.put(item, (now, value))
    return value
