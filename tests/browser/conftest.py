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
# Each new context (a browser window) loaded the address bar's WebUI popups into a
# renderer of their own: about 1 CPU-s per context, for an address bar that headless
# pages never show.
DISABLED_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")


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
        browser = _launch(playwright)
        yield browser
        browser.close()


def _launch(playwright):
    """Chromium with Playwright's switches, plus ``DISABLED_FEATURES`` switched off.

    Chromium reads only the last ``--disable-features``, so ours would undo the list
    Playwright passes: the first browser's command line is read from ``/proc`` and it
    is launched again with the two lists merged (as it was if that cannot be read).
    """
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    switches = [arg for arg in _browser_arguments() if arg.startswith("--disable-features=")]
    if len(switches) != 1:
        return browser
    disabled = switches[0].split("=", 1)[1].split(",")
    if all(feature in disabled for feature in DISABLED_FEATURES):
        return browser
    browser.close()
    merged = [*disabled, *(f for f in DISABLED_FEATURES if f not in disabled)]
    return playwright.chromium.launch(
        executable_path=CHROMIUM, ignore_default_args=switches,
        args=[*CHROMIUM_ARGS, "--disable-features=" + ",".join(merged)])


def _browser_arguments() -> list[str]:
    """The command line of the Chromium this process launched (through Playwright's driver)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    found: list[str] = []
    pending = list(children.get(os.getpid(), []))
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                arguments = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "--remote-debugging-pipe" in arguments:
            found = arguments
    return found


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
