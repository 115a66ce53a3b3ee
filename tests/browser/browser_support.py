"""Helpers for the browser tests: axe-core checks, reflow checks, screenshots."""

from __future__ import annotations

from pathlib import Path

from portal.config import as_bool
from tests.support import ENV

# Screenshots are for people to look at, not checks: taking them (full pages at two
# widths, PNG-encoded by Chromium) was about a quarter of the browser tests' CPU, so
# they are taken only when asked for (PORTAL_TEST_SCREENSHOTS=1; CI asks).
SCREENSHOTS = as_bool(ENV.get("screenshots"))


def axe_violations(page, axe_source: str) -> list[dict]:
    """Serious or critical axe-core violations on the current page."""
    # A click that navigates returns once the new page has started loading:
    # audit the page once it has loaded, not the half-parsed one.
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)  # evaluated through DevTools: not an inline script
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def fits_width(page) -> bool:
    """No horizontal scrolling: the page reflows to the viewport."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def screenshot(target, path: Path, **options) -> None:
    """``target.screenshot`` (a page or a locator) into ``path``, when screenshots are wanted."""
    if SCREENSHOTS:
        target.screenshot(path=str(path), **options)


def shoot(page, artifacts_dir: Path, name: str, widths=(1280, 375)) -> None:
    """Full-page screenshots at each width, then back to desktop width (when wanted)."""
    if not SCREENSHOTS:
        return
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(artifacts_dir / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
