"""Pages rendered once and served to many readers, with per-request values put in afterwards.

The notice page is the same for every reader of the same notice in the same
language, apart from two per-request values: the CSRF token of its forms and the
nonce of its inline script. ``render_shared`` renders the template once with
placeholders in their place, keeps the result in a per-process LRU under the
caller's key, and fills in this request's values on every use.

The caller's key must capture everything else the page depends on. A page with
flashed messages waiting is rendered normally (and the messages consumed), never
taken from or put into the cache. The placeholders are random per process, so no
text in a notice can imitate one.
"""

from __future__ import annotations

import secrets

from flask import g, render_template, session
from flask_wtf.csrf import generate_csrf

from portal.core.cache import LRU, app_lru
from portal.security.headers import csp_nonce

EXTENSION_KEY = "portal.core.shared_pages"
_CSRF_SLOT = f"csrf-slot-{secrets.token_hex(12)}"
_NONCE_SLOT = f"nonce-slot-{secrets.token_hex(12)}"


def _store() -> LRU:
    return app_lru(EXTENSION_KEY, "SHARED_PAGE_CACHE_SIZE")


def _fill(page: str) -> str:
    return page.replace(_CSRF_SLOT, generate_csrf()).replace(_NONCE_SLOT, csp_nonce())


def render_shared(key: tuple, template: str, **context) -> str:
    """``render_template(template, **context)``, rendered once per ``key`` and process."""
    if session.get("_flashes"):
        return render_template(template, **context)
    store = _store()
    page = store.get(key)
    if page is None:
        page = render_template(template, csrf_token=lambda: _CSRF_SLOT,
                               csp_nonce=lambda: _NONCE_SLOT, **context)
        store.put(key, page)
    return _fill(page)


def error_summary_shown(shown: bool = False) -> str | bool:
    """``error_summary_shown(True)`` marks that the page shows an error summary (returns "");
    ``error_summary_shown()``, at the end of the page, tells whether to add the script that
    moves focus to it (so pages without one carry no script)."""
    if shown:
        g.error_summary_shown = True
        return ""
    return bool(g.get("error_summary_shown"))
