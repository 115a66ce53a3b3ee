"""Security headers on every response, with a per-request CSP nonce."""

from __future__ import annotations

import secrets

from flask import Flask, g, request


def csp_nonce() -> str:
    """The nonce for this request's inline ``<script>`` tags."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


# Every staff page may show personal data (a ticket's thread, a revealed date of
# birth, a queue of references): none is kept by a browser or a proxy, whether or
# not its view remembered to say so.
STAFF_AREAS = ("/helpdesk", "/staff", "/dev")


def _set_headers(response, hsts_seconds: int):
    if request.path.startswith(STAFF_AREAS) and "Cache-Control" not in response.headers:
        no_store(response)
    nonce = csp_nonce()
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "font-src 'self'; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: Flask-WTF checks the Referer of HTTPS posts,
    # and nothing leaks to other sites either way.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if hsts_seconds:
        response.headers["Strict-Transport-Security"] = (
            f"max-age={hsts_seconds}; includeSubDomains"
        )
    return response


def init_app(app: Flask) -> None:
    """Register the header hook and the ``csp_nonce()`` template global."""
    hsts = int(app.config["HSTS_SECONDS"])
    app.after_request(lambda response: _set_headers(response, hsts))
    app.jinja_env.globals["csp_nonce"] = csp_nonce


def no_store(response):
    """Mark a response as never to be cached (pages with personal data)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
