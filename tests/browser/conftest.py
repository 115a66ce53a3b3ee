"""Browser fixtures: the app served from a thread, headless Debian Chromium, axe-core.

Chromium is Debian's package (never ``playwright install``). A missing browser
or a missing ``node_modules/axe-core`` skips with a reason, or fails under
``REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.support import ENV, service_missing

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = ENV["chromium"] or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _QuietHandler(WSGIRequestHandler):
    """No access log: paths such as ``/n/<code>`` must not end up in logs."""

    def log_request(self, *args, **kwargs):
        pass


@pytest.fixture
def live_server(app):
    """Serve the test app on a loopback port from a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    # shutdown() waits for the serving loop's next poll: 0.5 s by default, per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PORTAL_BASE_URL"] = base
    yield base
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        service_missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("playwright is not installed in the virtualenv")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []

    def on_console(message):
        # Form errors answer 400/401/429 on purpose; anything else (CSP, scripts) is a bug.
        if message.type == "error" and "the server responded with a status of 4" not in (
            message.text
        ):
            errors.append(message.text)

    page.on("console", on_console)
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        service_missing(f"axe-core missing at {AXE} (run `npm ci` in the repository root)")
    return AXE.read_text()
