"""Helpers for the browser tests: axe-core checks, reflow checks, screenshots."""

from __future__ import annotations

from pathlib import Path


def axe_violations(page, axe_source: str) -> list[dict]:
    """Serious or critical axe-core violations on the current page."""
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


def shoot(page, artifacts_dir: Path, name: str, widths=(1280, 375)) -> None:
    """Full-page screenshots at each width, then back to desktop width."""
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(artifacts_dir / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
