"""Screenshots of the managers' campaign pages: 360 px, 1280 px at 200 % zoom, and German.

    python docs/screenshots/campaigns.py [--out DIR] [--chromium /usr/bin/chromium] [--port 5124]

Seeds and serves the demo with a throw-away instance folder (like ``shoot.py``),
signs in as the demo manager, launches a campaign by SMS, email and letter from
the incident page, prints the letters, and shoots each page as
``<page>-360.png``, ``<page>-zoom200.png`` (a 640 px layout at device scale 2:
what a 1280 px window shows at 200 %) and ``<page>-de.png``. Not a test.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shoot import serve  # noqa: E402  (the customer screenshots' demo server)

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MANAGER = ("manager@demo.example", "demo-manager-pass")


def shots(browser, state: str, url: str, name: str, out: Path) -> None:
    for suffix, viewport, scale, lang in (("360", 360, 1, "en"), ("zoom200", 640, 2, "en"),
                                          ("de", 1280, 1, "de")):
        context = browser.new_context(storage_state=state, device_scale_factor=scale,
                                      viewport={"width": viewport, "height": 900})
        page = context.new_page()
        separator = "&" if "?" in url else "?"
        page.goto(f"{url}{separator}lang={lang}")
        page.screenshot(path=str(out / f"{name}-{suffix}.png"), full_page=True)
        context.close()
    print("shot", name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "campaigns"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--port", type=int, default=5124)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as instance:
        process, _customer = serve(args.port, Path(instance))
        base = f"http://127.0.0.1:{args.port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium, args=ARGS)
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"{base}/staff/login")
                page.get_by_label("Email").fill(MANAGER[0])
                page.get_by_label("Password").fill(MANAGER[1])
                page.get_by_role("button", name="Sign in").click()
                page.goto(f"{base}/helpdesk/incidents/")
                page.locator("table a").first.click()
                incident_url = page.url
                state = str(Path(instance) / "state.json")
                context.storage_state(path=state)
                shots(browser, state, f"{incident_url}/campaigns/", "01-campaigns-empty", out)
                shots(browser, state, f"{incident_url}/campaigns/new", "02-new", out)
                page.goto(f"{incident_url}/campaigns/new?lang=en")
                for label in ("SMS", "Email", "Printed letter"):
                    page.get_by_label(label, exact=True).check()
                page.get_by_role("button", name="See how many people this reaches").click()
                page.screenshot(path=str(out / "03-confirm-1280.png"), full_page=True)
                page.set_viewport_size({"width": 360, "height": 900})
                page.screenshot(path=str(out / "03-confirm-360.png"), full_page=True)
                page.set_viewport_size({"width": 1280, "height": 900})
                page.get_by_role("button", name="Launch the campaign").click()
                page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
                show_url = page.url
                context.storage_state(path=state)
                shots(browser, state, show_url, "04-progress", out)
                shots(browser, state, f"{show_url}/letters", "05-letters-waiting", out)
                page.goto(f"{show_url}/letters?lang=en")
                page.get_by_role("button", name=re.compile("Print the")).click()
                shots(browser, state, f"{show_url}/letters", "06-letters-printed", out)
                shots(browser, state, show_url, "07-progress-done", out)
                shots(browser, state, f"{incident_url}/campaigns/", "08-campaigns", out)
                shots(browser, state, incident_url, "09-incident", out)
                browser.close()
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
