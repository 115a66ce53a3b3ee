"""``{% cached key %}...{% endcached %}``: a part of a template rendered once per key and
language, then reused.

For parts made of many calls that show nothing of the request, the user or the data: a
form's fields and labels that never carry a value or an error, a menu. Each ``_()``,
``url_for`` or WTForms widget in a template costs a few microseconds (the ticket page's
forms were about a tenth of its CPU); a cached part costs one dictionary look-up.

The key must name everything the part shows that can differ (a selected value, the
staff member's role, the page's endpoint); the page's language is always added to it.
A key of ``none`` renders the part as usual (a form with errors or data). A cached part
must show no token, nonce, time, name or personal value and must have no side effect.
The parts are kept per application in ``app.extensions`` (at most ``MAX_FRAGMENTS``;
the store is emptied when full, so a key that varies too much only costs renders).
"""

from __future__ import annotations

from flask import current_app, has_request_context
from flask_babel import get_locale
from jinja2 import nodes
from jinja2.ext import Extension

EXTENSION_KEY = "portal_fragments"
MAX_FRAGMENTS = 512


class FragmentCache(Extension):
    """The ``cached`` tag (see the module docstring)."""

    tags = {"cached"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        key = parser.parse_tuple()
        body = parser.parse_statements(("name:endcached",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_fragment", [key]), [], [], body).set_lineno(
            lineno)

    def _fragment(self, key, caller):
        if key is None or not has_request_context():
            return caller()
        store = current_app.extensions.setdefault(EXTENSION_KEY, {})
        full_key = (str(get_locale()), key)
        html = store.get(full_key)
        if html is None:
            html = caller()
            if len(store) >= MAX_FRAGMENTS:
                store.clear()
            store[full_key] = html
        return html


def init_app(app) -> None:
    app.jinja_env.add_extension(FragmentCache)
