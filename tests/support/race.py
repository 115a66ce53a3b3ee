"""The one way tests run code in parallel threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


def run_together(calls: Sequence[Callable], *, early: Sequence[Callable] = (),
                 before_start: Callable | None = None, timeout: float = 90.0) -> list:
    """Run each of ``calls`` in its own thread, all released at the same moment.

    ``early`` calls start first, without waiting for anyone; ``before_start()``
    runs after they started and before ``calls`` are released. Returns the
    results, ``early`` first (``None`` for a thread still running after
    ``timeout`` seconds); the first exception raised in a thread is re-raised here.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * (len(early) + len(calls))
    errors: list[BaseException] = []

    def run(index: int, call: Callable, wait: bool) -> None:
        try:
            if wait:
                barrier.wait()
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index, call, False))
               for index, call in enumerate(early)]
    threads += [threading.Thread(target=run, args=(len(early) + index, call, True))
                for index, call in enumerate(calls)]
    for thread in threads[:len(early)]:
        thread.start()
    if before_start is not None:
        before_start()
    for thread in threads[len(early):]:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    return results
