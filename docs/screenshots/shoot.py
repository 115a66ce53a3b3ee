"""Screenshots of every customer page of the demo, at phone and desktop width.

    python docs/screenshots/shoot.py [--chromium /usr/bin/chromium] [--port 5123]

Seeds and serves the demo (``flask --app wsgi demo``) on a loopback port with a
throw-away instance folder, walks the customer journey in headless Chromium
(playwright with Debian's chromium) and writes ``<page>-360.png`` and
``<page>-1280.png`` next to this file. docs/customer-portal.md shows them.
Not a test: run it by hand when the customer pages change.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WIDTHS = (360, 1280)


def serve(port: int, instance: Path) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{instance / 'portal.sqlite3'}"}
    env.pop("PORTAL_BASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Serving on"):
            break
    text = "".join(lines)
    found = {
        "code": re.search(r"notice code:\s+(\S+)", text).group(1),
        "dob": re.search(r"date of birth:\s+(\S+)", text).group(1),
        "postcode": re.search(r"postcode:\s+(.+)", text).group(1).strip(),
    }
    for _ in range(50):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return process, found


def fill_dob(page, iso: str) -> None:
    year, month, day = iso.split("-")
    if page.locator("#date_of_birth-day").count():
        page.fill("#date_of_birth-day", str(int(day)))
        page.fill("#date_of_birth-month", str(int(month)))
        page.fill("#date_of_birth-year", year)
    else:
        page.fill("#date_of_birth", iso)


def shoot(page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(HERE / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    print("shot", name)


def walk(page, base: str, who: dict) -> None:
    page.goto(f"{base}/")
    shoot(page, "01-entry")
    page.goto(f"{base}/n/{who['code']}")
    shoot(page, "02-verify")
    fill_dob(page, "1901-01-01")
    page.fill("#postcode", who["postcode"])
    page.click("button[type=submit]")
    shoot(page, "03-verify-failed")
    fill_dob(page, who["dob"])
    page.fill("#postcode", who["postcode"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/notice$"))
    shoot(page, "04-notice")
    page.goto(f"{base}/faq")
    shoot(page, "05-faq")
    page.goto(f"{base}/tickets/new")
    shoot(page, "06-ticket-new")
    page.select_option("#topic", index=1)
    page.fill("#message", "I received your letter. Do I need to change my online banking password?")
    page.click("main form button[type=submit]")
    shoot(page, "07-ticket")
    page.goto(f"{base}/tickets")
    shoot(page, "08-tickets")
    page.goto(f"{base}/preferences")
    shoot(page, "09-preferences")
    page.goto(f"{base}/notice")
    page.click("form[action$='sign-out'] button")
    shoot(page, "10-signed-out")
    page.goto(f"{base}/no-letter")
    shoot(page, "11-no-letter")
    page.goto(f"{base}/n/{who['code']}")
    for _ in range(6):
        if page.locator("#postcode").count() == 0:
            break
        fill_dob(page, "1901-01-01")
        page.fill("#postcode", "X")
        page.click("button[type=submit]")
    shoot(page, "12-locked")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--port", type=int, default=5123)
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="portal-shots-"))
    process, who = serve(args.port, instance)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page()
            walk(page, f"http://127.0.0.1:{args.port}", who)
            browser.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
