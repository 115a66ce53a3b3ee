"""Read pages: ``GET`` views whose request runs in autocommit mode on PostgreSQL.

The web layer's half of ``portal.core.autocommit``: a decorator that marks a view, and
the first ``before_request`` hook, which gives a marked view's request its connection
in autocommit mode before any statement runs (the signed-in user's load is the first).
"""

from __future__ import annotations

from flask import Flask, current_app, request

from portal.core.autocommit import available
from portal.extensions import db

READ_PAGE = "portal_read_page"


def read_page(view):
    """Mark a ``GET`` view whose request runs in autocommit mode on PostgreSQL.

    For pages that read and at most append single rows (a ``ticket.viewed`` or
    ``person.searched`` log row): under PostgreSQL's READ COMMITTED each statement sees
    its own snapshot anyway, so the request's transaction bought no consistency, only
    two round trips a page (BEGIN, and COMMIT or ROLLBACK). A row appended in such a
    request is committed by its own statement, at once; a later failure does not
    take it back (a view that errored is still logged as a view). Not for a page that
    writes two rows that must stand or fall together, nor one that locks rows.
    Place it directly under the route decorator.
    """
    setattr(view, READ_PAGE, True)
    return view


def _begin_read_page() -> None:
    if request.method not in ("GET", "HEAD") or not available():
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, READ_PAGE, False):
        # Before any statement (the signed-in user's load is the first): the session's
        # connection for this request, in autocommit mode; the pool resets it on return.
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def init_app(app: Flask) -> None:
    """Run marked read pages in autocommit mode (the first ``before_request`` hook)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin_read_page)
