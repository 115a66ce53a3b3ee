"""Templates translate through the per-request catalog, and force_locale still switches it."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, gettext

TEXT = "{{ _('Skip to main content') }}|{{ _('Language') }}"


def _expected() -> str:
    return f"{gettext('Skip to main content')}|{gettext('Language')}"


def test_template_gettext_matches_flask_babel_and_follows_force_locale(app):
    # Each request gets its own application context (and so its own ``g``), as in a server.
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "es"}):
        spanish = render_template_string(TEXT)
        assert spanish == _expected()
        with force_locale("de"):
            german = render_template_string(TEXT)
            assert german == _expected()
        assert render_template_string(TEXT) == spanish
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        english = render_template_string(TEXT)
        assert english == "Skip to main content|Language"
    assert german != english and spanish != english


def test_extraction_reads_strings_inside_our_own_template_tags(app, tmp_path):
    """The ticket page's {% cached %} blocks hold labels and hints: babel.cfg names the
    tag's extension (and extracts loudly), or their strings would drop out of the catalogs
    at the next ``translate update`` and show in English on every other language's page."""
    from babel.messages.pofile import read_po

    from portal.cli.translate_cmd import _extract

    with app.app_context():
        pot = _extract(tmp_path / "messages.pot")
    with pot.open("rb") as handle:
        ids = {message.id for message in read_po(handle)}
    assert "Only staff see notes." in ids  # inside {% cached "ticket-note" %}
    assert "Staff" in ids  # the staff menu's label, inside {% cached "staff-nav", ... %}
