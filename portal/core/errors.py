"""Translated error pages."""

from __future__ import annotations

from flask import Flask, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import RoutingException


class FieldError(ValueError):
    """Bad input a form can show: ``message`` to the user, ``field`` the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("We could not process that request. If you were filling in a form, "
           "go back, reload the page and try again."),
    ),
    403: (_l("Access denied"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("We could not find the page you asked for.")),
    405: (_l("Method not allowed"), _l("This page cannot be used that way.")),
    413: (
        _l("File too large"),
        _l("The file you sent is larger than we accept. Please send a smaller file."),
    ),
    429: (
        _l("Too many attempts"),
        _l("You have made too many requests in a short time. Please wait a few "
           "minutes and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred on our side. Please try again shortly."),
    ),
}


def _render(code: int):
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=message), code


def page_above():
    """Where a ``GET`` of a form's address leads: the nearest page above it, or None.

    A page a form answered (a reply with its errors, the composer, a reveal, an unlock)
    keeps the form's address; the language switcher, a reload or a bookmark then asks
    for it with ``GET``, which the form's route does not take. The page the form was on
    is the nearest address above that a ``GET`` reaches (``/helpdesk/people/7/unlock``
    → ``/helpdesk/people/7``); the site's root is not such a page. The address is built
    from the matched route, never copied from the request, and keeps only ``lang``.
    Nothing is posted again; the page above checks who may see it as always.
    """
    if request.method not in ("GET", "HEAD"):
        return None
    adapter = current_app.url_map.bind_to_environ(request.environ)
    parts = request.path.rstrip("/").split("/")
    while len(parts) > 2:
        parts.pop()
        try:
            endpoint, values = adapter.match("/".join(parts), method="GET")
        except (HTTPException, RoutingException):
            continue
        lang = request.args.get("lang")
        return url_for(endpoint, **values, **({"lang": lang} if lang else {}))
    return None


def handle_http_exception(error: HTTPException):
    """Render any HTTP error with the shared page."""
    if error.code is None or error.code < 400:
        return error
    if error.code == 405 and (above := page_above()) is not None:
        return redirect(above, 303)
    body, code = _render(error.code if error.code in MESSAGES else 500)
    limit = getattr(getattr(error, "limit", None), "limit", None)  # Flask-Limiter's 429
    if code == 429 and limit is not None:
        # The limiter's own headers are off (they cost a Redis round trip on every
        # limited request); say when to retry at the latest: the limit's window.
        return body, code, {"Retry-After": str(limit.get_expiry())}
    return body, code


def handle_unexpected(error: Exception):
    """Render a 500 for an unhandled exception (already logged by Flask)."""
    return _render(500)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected)
