"""Periodic jobs: ``every(name, func, seconds)`` registers one per application.

The registry lives in ``app.extensions["periodic"]``. Under rq, every ``flask worker``
runs a small ticker thread (``start_ticker``) that, once a second, offers each due
job to the queue; a Redis ``SET NX PX`` per job and period makes sure that only one
worker enqueues it, whatever the number of workers. The job runs like any other
(``func()``, no arguments, inside the worker's app context) under the deterministic
id ``periodic-<name>`` (dots as underscores), so a slow run is never doubled. On the
embedded default (no Redis) nothing runs on its own: ``run_all`` runs every job now.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

log = logging.getLogger(__name__)
EXTENSION_KEY = "periodic"
TICK_SECONDS = 1.0


@dataclass(frozen=True)
class Periodic:
    name: str
    func: Callable[[], object]
    seconds: float


def _registry(app: Flask | None = None) -> dict[str, Periodic]:
    app = app or current_app._get_current_object()
    return app.extensions.setdefault(EXTENSION_KEY, {})


def every(name: str, func: Callable[[], object], seconds: float, *,
          app: Flask | None = None) -> None:
    """Run ``func()`` (a module-level function, no arguments) every ``seconds``.

    Registering a name again replaces it; ``seconds`` <= 0 unregisters it.
    Call from an ``init_app`` (pass ``app``) or inside an app context.
    """
    registry = _registry(app)
    if seconds <= 0:
        registry.pop(name, None)
        return
    if func.__name__ == "<lambda>" or "." in func.__qualname__:
        raise ValueError("a periodic job must be a module-level function")
    registry[name] = Periodic(name, func, float(seconds))


def registered(app: Flask | None = None) -> list[Periodic]:
    """The periodic jobs of the application, by name."""
    return sorted(_registry(app).values(), key=lambda item: item.name)


def run_all(app: Flask | None = None) -> dict[str, object]:
    """Run every periodic job now, in this process; returns their results by name."""
    return {item.name: item.func() for item in registered(app)}


def job_id(name: str) -> str:
    """``periodic-<name>``, anything but letters, digits, ``_`` and ``-`` as ``_`` (rq's rule)."""
    return "periodic-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def tick(app: Flask | None = None) -> list[str]:
    """Enqueue the periodic jobs whose period started and nobody enqueued yet.

    Returns the names enqueued by this call. No-op without Redis.
    """
    from portal.core import jobs

    queue = jobs.queue()
    if queue is None:
        return []
    enqueued = []
    for item in registered(app):
        key = f"{queue.name}:periodic:{item.name}"
        if queue.connection.set(key, "1", nx=True, px=int(item.seconds * 1000)):
            jobs.enqueue(item.func, job_id=job_id(item.name), result_ttl=0,
                         failure_ttl=3600)
            enqueued.append(item.name)
    return enqueued


def start_ticker(app: Flask, stop: threading.Event) -> threading.Thread | None:
    """Start the thread that calls ``tick`` every second until ``stop`` is set."""
    if not registered(app):
        return None

    def loop():
        while not stop.wait(TICK_SECONDS):
            try:
                with app.app_context():
                    tick(app)
            except Exception:  # noqa: BLE001 - Redis away: try again next second
                log.warning("periodic tick failed", exc_info=True)

    thread = threading.Thread(target=loop, name="periodic-ticker", daemon=True)
    thread.start()
    return thread
