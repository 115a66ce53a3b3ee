"""Loads the fixtures; they live in tests/fixtures/, plain helpers in tests/support/.

The database under test is chosen by ``PORTAL_TEST_DB``: ``sqlite`` (default) or
``postgresql`` (a fresh database per test session on the local server, dropped at
the end). Tests that need a service which is not reachable skip with a reason,
unless ``REQUIRE_SERVICES=1``, under which such a skip is a failure.
"""

import os
import sys
from pathlib import Path


def _cache_bytecode_outside_the_checkout() -> None:
    """Compile each module once, not once per test process and run.

    With ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines to keep checkouts free of
    ``__pycache__``) every run, and each of its worker processes, compiled the whole
    package and rewrote every test module again: about 4 CPU-seconds per process.
    The bytecode goes to a per-user cache directory instead (``PYTHONPYCACHEPREFIX``),
    so the checkout stays clean; subprocesses the tests start (gunicorn, rq workers)
    inherit the setting. An explicit ``PYTHONPYCACHEPREFIX`` is left as it is.
    """
    if not sys.dont_write_bytecode or sys.pycache_prefix:
        return
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    prefix = cache / "breach-portal-tests" / "pycache"
    try:
        prefix.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return  # no writable cache: compile in memory as before
    sys.pycache_prefix = str(prefix)
    sys.dont_write_bytecode = False
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


_cache_bytecode_outside_the_checkout()

pytest_plugins = [
    "tests.fixtures.speed",
    "tests.fixtures.alone",
    "tests.fixtures.db",
    "tests.fixtures.app",
    "tests.fixtures.staff",
    "tests.fixtures.people",
    "tests.fixtures.services",
    "tests.fixtures.reports",
    "tests.fixtures.answers",
]
