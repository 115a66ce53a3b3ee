"""The layout's rules, checked on the source: views hold no SQL of their own, and domain
packages never reach for Flask's request, session or g (DESIGN §3).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What a view must not write itself: it calls a domain function instead.
SQL = re.compile(r"select\(|db\.session\.execute|db\.session\.scalar|\.query\(")
VIEW_DIRS = ("portal/customer/views", "helpdesk")
# Until the attempts engineer's branch moves verification into portal/people/ and
# portal/security/attempts.py: then these entries go.
SQL_PENDING: set[str] = set()

REQUEST_GLOBALS = {"request", "session", "g"}
# The web layer: blueprints, and the plumbing that runs per request by nature.
WEB_LAYER = (
    "portal/customer/",  # blueprint
    "portal/dev/",  # blueprint
    "portal/webhooks/",  # blueprint
    "portal/core/errors.py",  # error pages
    "portal/core/i18n.py",  # the locale selector and ?lang= switcher
    "portal/core/shared_pages.py",  # page rendering (CSRF slots, waiting flashes)
    "portal/core/request_actor.py",  # the before_request hook that names the log's actor
    "portal/core/read_pages.py",  # the before_request hook that runs read pages in autocommit
    "portal/security/headers.py",  # per-response headers, the CSP nonce
    "portal/security/permissions.py",  # view decorators
    "portal/extensions.py",  # Flask-Login's session protection
)
# Domain modules that still read the request; each is another branch's work in issue 8.
REQUEST_PENDING: set[str] = set()


def _sources(*folders: str):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def _sql_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if SQL.search(line)]


def _request_globals(text: str) -> set[str]:
    """The names of flask's request, session and g this module imports or reads."""
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask.globals"):
            found |= {alias.name for alias in node.names} & REQUEST_GLOBALS
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "flask" and node.attr in REQUEST_GLOBALS):
            found.add(node.attr)
    return found


def _domain_offenders() -> dict[str, set[str]]:
    return {
        name: used
        for name, text in _sources("portal")
        if not name.startswith(WEB_LAYER) and (used := _request_globals(text))
    }


def test_views_hold_no_sql():
    offenders = {
        name: lines
        for name, text in _sources(*VIEW_DIRS)
        if name not in SQL_PENDING and (lines := _sql_lines(text))
    }
    assert offenders == {}, "views must call domain functions instead of querying"


def test_sql_allow_list_is_not_stale():
    still = {name for name, text in _sources(*VIEW_DIRS) if _sql_lines(text)}
    assert not SQL_PENDING - still, f"no SQL left in {sorted(SQL_PENDING - still)}: drop them"


def test_domain_modules_do_not_read_the_request():
    offenders = {name: used for name, used in _domain_offenders().items()
                 if name not in REQUEST_PENDING}
    assert offenders == {}, "pass values in from the view instead"


def test_request_allow_list_is_not_stale():
    still = set(_domain_offenders())
    assert not REQUEST_PENDING - still, (
        f"{sorted(REQUEST_PENDING - still)} no longer read the request: drop them")


def test_the_checks_see_what_they_look_for():
    assert _sql_lines("rows = db.session.execute(select(Ticket))")
    assert _sql_lines("Ticket.query(1)")
    assert not _sql_lines("tickets = person_tickets(person.id)")
    assert _request_globals("from flask import current_app, g, request") == {"g", "request"}
    assert _request_globals("def f():\n    from flask import session\n") == {"session"}
    assert _request_globals("import flask\nflask.request.args") == {"request"}
    assert _request_globals("from flask import current_app") == set()
