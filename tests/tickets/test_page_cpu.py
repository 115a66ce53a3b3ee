"""What keeps the queue and the ticket page cheap in CPU (issue 10, Speed), counted.

docs/benchmarks.md (helpdesk, third round) has the profile and the numbers. Each test
counts calls, never time:

- the queue's rows call nothing through Jinja's ``Context.call`` (a ``_()`` in the row
  loop copied the whole template context for every row) and never reach Flask-Babel's
  per-call lookup of the catalog;
- the rows are written in Python (``helpdesk.tickets.rows``), every row value escaped
  as ``markupsafe.escape`` escapes it but without a ``Markup`` object per value; every
  value is still escaped (a value with markup in each field);
- the ticket page's selects use ``QuickSelect``, which writes what WTForms' ``Select``
  writes, and its forms parse WTForms' catalog once per language, not once per request;
- ``portal.core.i18n``'s ``gettext``/``ngettext``/``resolved`` answer what Flask-Babel
  answers, in every language;
- a template's ``_()`` is one call through Jinja's ``Context.call`` (Jinja's own took
  three) and writes what Jinja's newstyle gettext writes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template
from markupsafe import Markup
from wtforms.validators import DataRequired, Length

from portal.models.base import utcnow
from portal.tickets.queue import QueueFilters, QueuePage, QueueRow
from tests.support.calls import CallCounter

HOSTILE = "<b>x</b>&\"'"


def _row(n: int, now, **values) -> QueueRow:
    fields = dict(id=1000 + n, topic="notice", status="open", channel="web", language="en",
                  next_due_at=now + timedelta(hours=(n % 5) - 2, minutes=n),
                  created_at=now - timedelta(days=1), last_customer_message_at=None,
                  incident_reference="INC-A", assignee_id=None if n % 2 else 7,
                  assignee_name=None if n % 2 else "Agent Seven", person_reference="REF-1")
    fields.update(values)
    return QueueRow(**fields)


def _render_queue(app, rows, lang="en") -> str:
    from helpdesk.tickets.views import SLA_LABELS
    from portal.core.i18n import LANGUAGE_NAMES
    from portal.models.ticket import TICKET_CHANNELS, TICKET_STATUSES

    # A fresh application context, as each real request has (``g`` holds the locale).
    with app.app_context(), app.test_request_context(f"/helpdesk/tickets/?lang={lang}"):
        app.preprocess_request()
        return render_template(
            "tickets/queue.html", page=QueuePage(rows, None), filters=QueueFilters(),
            now=utcnow(), problems=[], statuses=TICKET_STATUSES, channels=TICKET_CHANNELS,
            languages=["en", "es", "fr", "de"], language_names=LANGUAGE_NAMES,
            sla_labels=SLA_LABELS, agents=[])


def test_queue_rows_cost_no_calls_or_catalog_lookups_per_row(app, monkeypatch):
    import flask_babel
    from jinja2.runtime import Context

    now = utcnow()
    _render_queue(app, [_row(0, now)], lang="de")  # compiled, and cached parts kept, first
    counts = {}
    for size in (2, 12):
        calls = CallCounter(monkeypatch, Context, "call")
        lookups = CallCounter(monkeypatch, flask_babel.Domain, "get_translations")
        markups = CallCounter(monkeypatch, Markup, "__new__")
        html = _render_queue(app, [_row(n, now) for n in range(size)], lang="de")
        assert "queue-overdue" in html and "Überfällig" in html
        counts[size] = calls.calls, lookups.calls, markups.calls
        monkeypatch.undo()
    (calls2, lookups2, markups2), (calls12, lookups12, markups12) = counts[2], counts[12]
    assert calls12 == calls2, "a call in the queue's row loop (Jinja's Context.call)"
    assert lookups12 == lookups2, "a row reached Flask-Babel's per-call catalog lookup"
    # As a Jinja loop with autoescape on: 23 Markup objects a row; with autoescape off, 7 or 8
    # (one per printed value); written in Python (helpdesk.tickets.rows), none.
    assert markups12 == markups2, (markups2, markups12)


@pytest.mark.parametrize("value", ["", "plain", HOSTILE, "&amp; already", "é<>", 42, "\"'"])
def test_queue_rows_escape_as_markupsafe_escapes(value):
    from markupsafe import escape

    from helpdesk.tickets.rows import ESCAPES

    assert str(value).translate(ESCAPES) == str(escape(value))  # as each row value is


def test_queue_rows_escape_every_value(app):
    now = utcnow()
    rows = [_row(1, now, topic=HOSTILE, status=HOSTILE, channel=HOSTILE, language=HOSTILE,
                 incident_reference=HOSTILE, person_reference=HOSTILE, assignee_id=None,
                 assignee_name=None),
            _row(2, now, assignee_id=3, assignee_name=HOSTILE)]
    html = _render_queue(app, rows)
    assert "<b>x</b>" not in html
    escaped = "&lt;b&gt;x&lt;/b&gt;&amp;&#34;&#39;"
    # topic, status, channel, language, incident, person reference; the assignee
    assert html.count(escaped) == 7, html


def test_quick_select_writes_what_wtforms_select_writes(app):
    from wtforms import Form, SelectField
    from wtforms.fields.choices import SelectChoice
    from wtforms.widgets import Select

    from helpdesk.tickets.forms import QuickSelect

    choices = [SelectChoice("", "Nobody"), SelectChoice("3", HOSTILE),
               SelectChoice(HOSTILE, "plain"), SelectChoice("7", ""),
               SelectChoice("8", "with attributes", render_kw={"disabled": True})]

    class Plain(Form):
        pick = SelectField("Pick", choices=choices, widget=Select())

    class Quick(Form):
        pick = SelectField("Pick", choices=choices, widget=QuickSelect())

    class Required(Form):
        pick = SelectField("Pick", choices=choices, widget=Select(),
                           validators=[DataRequired()])
        quick = SelectField("Pick", choices=choices, widget=QuickSelect(),
                            validators=[DataRequired()])

    for chosen in ("", "3", HOSTILE, "8"):
        plain, quick = Plain(data={"pick": chosen}), Quick(data={"pick": chosen})
        assert quick.pick(class_="inline-select") == plain.pick(class_="inline-select")
        assert quick.pick() == plain.pick()
        attrs = {"aria-describedby": HOSTILE, "aria-invalid": False, "data_x": 'a"b'}
        assert quick.pick(**attrs) == plain.pick(**attrs)
        both = Required(data={"pick": chosen, "quick": chosen})
        assert str(both.quick(**attrs)) == str(both.pick(**attrs)).replace(
            'id="pick" name="pick"', 'id="quick" name="quick"')


def test_quick_text_area_writes_what_wtforms_text_area_writes(app):
    from wtforms import Form, TextAreaField
    from wtforms.widgets import TextArea

    from helpdesk.tickets.forms import QuickTextArea

    class Both(Form):
        plain = TextAreaField("Body", widget=TextArea(),
                              validators=[DataRequired(), Length(max=8000)])
        quick = TextAreaField("Body", widget=QuickTextArea(),
                              validators=[DataRequired(), Length(max=8000)])

    for value in ("", HOSTILE, "two\nlines"):
        form = Both(data={"plain": value, "quick": value})
        for attrs in ({}, {"aria-describedby": "body-hint body-error", "aria-invalid": "true",
                           "autofocus": True, "class_": HOSTILE}):
            assert str(form.quick(**attrs)) == str(form.plain(**attrs)).replace(
                '"plain"', '"quick"')


def test_ticket_forms_hidden_tag_writes_what_flask_wtf_writes(app):
    from flask_wtf import FlaskForm
    from wtforms import HiddenField

    from helpdesk.tickets.forms import NoteForm, ReplyForm, RevealForm, TicketForm

    class Odd(TicketForm):
        plain = HiddenField(default=HOSTILE)
        styled = HiddenField(render_kw={"data-x": "1"})

    with app.app_context(), app.test_request_context("/helpdesk/tickets/1"):
        for form_class in (ReplyForm, NoteForm, RevealForm, Odd):
            form = form_class(formdata=None)
            if form_class is ReplyForm:
                form.seen_message_id.data = HOSTILE
            assert form.hidden_tag() == FlaskForm.hidden_tag(form)
            assert 'name="csrf_token"' in form.hidden_tag()
        assert "&lt;b&gt;" in Odd(formdata=None).hidden_tag()


def test_a_lazy_forms_hidden_tag_writes_what_the_form_writes_without_building_it(app):
    from helpdesk.tickets.forms import LazyForm, NoteForm, ReplyForm, RevealForm, StatusForm

    with app.app_context(), app.test_request_context("/helpdesk/tickets/1"):
        for form_class in (NoteForm, RevealForm, StatusForm):
            built = []
            lazy = LazyForm(form_class, lambda form_class=form_class, built=built: (
                built.append(1) or form_class(formdata=None)))
            assert lazy.hidden_tag() == form_class(formdata=None).hidden_tag()
            assert built == [], form_class
            assert lazy.meta.csrf and built == [1]  # a field or attribute builds it, once
            assert lazy.hidden_tag() == lazy._form.hidden_tag() and built == [1]
        # A form with hidden fields of its own is built for them.
        reply = LazyForm(ReplyForm, lambda: ReplyForm(formdata=None))
        assert 'name="seen_message_id"' in reply.hidden_tag() and reply._form is not None
        app.config["WTF_CSRF_ENABLED"] = False
        try:
            note = LazyForm(NoteForm, lambda: NoteForm(formdata=None))
            assert "csrf_token" not in note.hidden_tag() and note._form is not None
        finally:
            app.config["WTF_CSRF_ENABLED"] = True


def test_ticket_forms_parse_the_wtforms_catalog_once_per_language(app, monkeypatch):
    from babel import support

    from helpdesk.tickets.forms import RevealForm

    loads = []
    original = support.Translations.load

    def counting(dirname=None, locales=None, domain=None):
        if domain == "wtforms":
            loads.append([str(locale) for locale in locales])
        return original(dirname, locales, domain)

    monkeypatch.setattr(support.Translations, "load", counting)
    for _ in range(3):
        with app.app_context(), app.test_request_context("/helpdesk/tickets/1?lang=de"):
            app.preprocess_request()
            form = RevealForm(formdata=None)
            form.reason.choices = [("a", "A")]
            assert form.meta.get_translations(form).gettext("Not a valid choice.") != ""
    assert loads == [["de"]]


@pytest.mark.parametrize("lang", ["en", "es", "fr", "de"])
def test_cached_catalog_answers_what_flask_babel_answers(app, lang):
    import flask_babel

    from helpdesk.tickets.views import CHANNEL_LABELS, STATUS_LABELS
    from portal.core import i18n

    with app.app_context(), app.test_request_context(f"/helpdesk/tickets/?lang={lang}"):
        app.preprocess_request()
        assert str(flask_babel.get_locale()) == lang
        for label in [*STATUS_LABELS.values(), *CHANNEL_LABELS.values()]:
            assert i18n.resolved(label) == str(label)
        assert i18n.gettext("%(span)s late", span="2") == flask_babel.gettext(
            "%(span)s late", span="2")
        for num in (1, 2, 5):
            assert i18n.ngettext("%(num)d hour", "%(num)d hours", num) == flask_babel.ngettext(
                "%(num)d hour", "%(num)d hours", num)
        with flask_babel.force_locale("de"):
            assert i18n.gettext("Overdue") == flask_babel.gettext("Overdue")
        assert i18n.gettext("Overdue") == flask_babel.gettext("Overdue")


@pytest.mark.parametrize("lang", ["en", "es", "fr", "de"])
def test_kept_due_phrases_and_labels_answer_what_flask_babel_answers(app, lang):
    """The queue's due phrases and the tickets' labels are made once per language and
    value (``i18n.kept_in``): each answers what Flask-Babel answers, made afresh."""
    import flask_babel

    from helpdesk.tickets.views import STATUS_LABELS, _ticket_labels, due_phrase
    from portal.core import i18n

    def babel_span(days, hours, minutes):
        parts = []
        if days:
            parts.append(flask_babel.ngettext("%(num)d day", "%(num)d days", days))
        if hours or days:
            parts.append(flask_babel.ngettext("%(num)d hour", "%(num)d hours", hours))
        if not days:
            parts.append(flask_babel.ngettext("%(num)d minute", "%(num)d minutes", minutes))
        return ", ".join(parts)

    now = utcnow()
    with app.app_context(), app.test_request_context(f"/helpdesk/tickets/?lang={lang}"):
        app.preprocess_request()
        for _round in range(2):  # made, then kept
            for days, hours, minutes in ((0, 0, 1), (0, 1, 0), (0, 5, 59), (1, 0, 0),
                                         (2, 23, 0), (40, 1, 0)):
                span = timedelta(days=days, hours=hours, minutes=minutes, seconds=20)
                words = babel_span(days, hours, minutes)
                assert due_phrase(now + span, now) == flask_babel.gettext(
                    "%(span)s left", span=words)
                assert due_phrase(now - span, now) == flask_babel.gettext(
                    "%(span)s late", span=words)
            labels = _ticket_labels()["ticket_status_labels"]
            assert labels == {key: str(label) for key, label in STATUS_LABELS.items()}
        # Kept with the catalog, bounded.
        kept = i18n.catalog().__dict__["_portal_kept"]
        assert 0 < len(kept) <= i18n.MAX_KEPT_TEXTS


def _each_autoescape(app, lang: str):
    """In a request in ``lang``, the template environment autoescaping, then not (a template
    is compiled for one or the other); put back as it was after each."""
    with app.app_context(), app.test_request_context(f"/helpdesk/tickets/?lang={lang}"):
        app.preprocess_request()
        for autoescape in (True, False):
            app.jinja_env.autoescape = autoescape
            try:
                yield autoescape
            finally:
                app.jinja_env.autoescape = True


GETTEXT_TEMPLATE = """\
{{ _("Tickets") }}|{{ _("Ticket #%(number)d", number=7) }}|
{{ gettext("Until %(when)s", when=value) }}|{{ ngettext("%(num)d hour", "%(num)d hours", 1) }}|
{{ ngettext("%(num)d hour", "%(num)d hours", 5) }}|{{ _("100%% sure") }}|
{{ pgettext("menu", "Open") }}|{{ npgettext("menu", "%(num)d item", "%(num)d items", 3) }}
{% for item in [value, "plain"] %}{{ _("Until %(when)s", when=item) }}|{% endfor %}
{% trans %}Search{% endtrans %}|{% trans n=value %}Until {{ n }}{% endtrans %}
{% trans count=2 %}{{ count }} hour{% pluralize %}{{ count }} hours{% endtrans %}
{% autoescape false %}{{ _("Until %(when)s", when=value) }}|{{ _("Overdue") }}|
{% trans n=value %}Until {{ n }}{% endtrans %}{% endautoescape %}
"""


@pytest.mark.parametrize("lang", ["en", "es", "fr", "de"])
def test_template_gettext_answers_what_jinja_s_newstyle_gettext_answers(app, lang):
    """``_``/``gettext``/``ngettext``/``pgettext``/``npgettext`` and ``{% trans %}`` write what
    Jinja's own newstyle callables write: translated, safe where autoescaping, variables
    escaped there and not where autoescape is off."""
    from jinja2 import ext

    from portal.core import i18n

    jinja_s = {
        "_": ext._gettext_alias,
        "gettext": ext._make_new_gettext(lambda s: i18n._catalog().ugettext(s)),
        "ngettext": ext._make_new_ngettext(lambda s, p, n: i18n._catalog().ungettext(s, p, n)),
        "pgettext": ext._make_new_pgettext(lambda c, s: i18n._catalog().upgettext(c, s)),
        "npgettext": ext._make_new_npgettext(
            lambda c, s, p, n: i18n._catalog().unpgettext(c, s, p, n)),
    }
    for autoescape in _each_autoescape(app, lang):
        # The calls themselves (nothing compiled in here: compared below with what is).
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(i18n, "TRANSLATED_NAMES", frozenset())
            template = app.jinja_env.from_string(GETTEXT_TEMPLATE)
        for value in (HOSTILE, Markup("<i>safe</i>"), 3):
            ours = template.render(value=value)
            assert ours == template.render(value=value, **jinja_s), (autoescape, value)
            if value == HOSTILE:  # escaped outside the autoescape-false block only
                assert ("&lt;b&gt;x" in ours) is autoescape and HOSTILE in ours
        if lang == "de":
            assert "Überfällig" in template.render(value=1)


def test_a_template_gettext_is_one_call(app, monkeypatch):
    """Each ``_()`` with variables in a template goes through Jinja's ``Context.call`` once
    (Jinja's own ``_`` took three: the alias, newstyle ``gettext``, the catalog function);
    one without variables costs no call at all (compiled in, below)."""
    from jinja2.runtime import Context

    with app.app_context(), app.test_request_context("/helpdesk/tickets/?lang=fr"):
        app.preprocess_request()
        counts = []
        for size in (1, 11):
            template = app.jinja_env.from_string(
                "{% for n in range(size) %}{{ _('Tickets') }}{{ _('Until %(when)s', when=n) }}"
                "{{ ngettext('%(num)d hour', '%(num)d hours', n) }}{% endfor %}")
            calls = CallCounter(monkeypatch, Context, "call")
            formats = CallCounter(monkeypatch, Markup, "__mod__")
            template.render(size=size)
            counts.append((calls.calls, formats.calls))
            monkeypatch.undo()
    (calls1, formats1), (calls11, formats11) = counts
    assert (calls11 - calls1) / 10 == 2, counts
    # Only the two with variables format; the literal one is not even called.
    assert (formats11 - formats1) / 10 == 2, counts


FOLDED_TEMPLATE = """\
{{ _("Tickets") }}|{{ gettext("Overdue") }}|
<p title="{{ _('Sign out') }}">{{ _("Search") ~ "!" }}</p>|
{{ _("100%% sure") }}|{{ _("Until %(when)s", when=value) }}|{% trans %}Search{% endtrans %}|
{% if value %}{{ _("Open") }}{% endif %}|{{ [_("Tickets"), _("People")]|join(", ") }}|
{{ value ~ _("Overdue") }}|{{ _("Overdue")|upper }}|{{ {"a": _("Agent")}[value] if value == "a" }}
{% autoescape false %}{{ _("Overdue") }}|{{ _("Tickets") ~ value }}{% endautoescape %}
"""


@pytest.mark.parametrize("lang", ["en", "es", "fr", "de"])
def test_templates_compiled_with_their_texts_write_what_the_calls_write(app, monkeypatch, lang):
    """A ``_("literal")`` is compiled into the template as its translation, which writes
    exactly what the call writes: marked safe where autoescaping (and so not escaped
    again), a plain text in expressions, with autoescape on and off."""
    from jinja2.runtime import Context

    from portal.core import i18n

    for autoescape in _each_autoescape(app, lang):
        folded = app.jinja_env.from_string(FOLDED_TEMPLATE)
        with monkeypatch.context() as patch:
            patch.setattr(i18n, "TRANSLATED_NAMES", frozenset())
            called = app.jinja_env.from_string(FOLDED_TEMPLATE)
        for value in (HOSTILE, Markup("<i>safe</i>"), "a", 0):
            assert folded.render(value=value) == called.render(value=value), (
                autoescape, value)
        with monkeypatch.context() as patch:
            calls = CallCounter(patch, Context, "call")
            folded.render(value="")
            # Only "100%% sure" (formatted: "%%" is "%") and "Until %(when)s".
            assert calls.calls == 2
        if lang == "de":
            assert "ÜBERFÄLLIG" in folded.render(value=1)


def test_each_language_has_its_own_compiled_template(app, tmp_path):
    """The template cache keys by language: a page in German after one in English (and
    back) is in its own language, and each language's template is compiled once; so does
    a bytecode cache (a template loaded again from it is still in its own language)."""
    from flask import render_template
    from jinja2 import FileSystemBytecodeCache

    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(tmp_path))
    app.jinja_env.cache.clear()

    def render(lang):
        with app.app_context(), app.test_request_context(f"/helpdesk/tickets/?lang={lang}"):
            app.preprocess_request()
            return render_template("errors/error.html", code=404, title="t", message="m")

    pages = {lang: render(lang) for lang in ("en", "de", "es", "fr")}
    assert len(set(pages.values())) == 4
    cached = len(app.jinja_env.cache)
    for lang in ("de", "en", "fr", "es", "de"):
        assert render(lang) == pages[lang]
    assert len(app.jinja_env.cache) == cached
    app.jinja_env.cache.clear()  # now loaded from the bytecode cache
    for lang in ("de", "en", "fr", "es"):
        assert render(lang) == pages[lang]
    assert len(list(tmp_path.iterdir())) == cached
    assert app.jinja_env.cache.capacity >= 4 * 200  # every template in every language


def test_an_import_in_a_template_costs_a_few_calls(app):
    """``{% from ... import %}`` reuses the imported template's module; Jinja's own check
    for new global names cost three Python calls per global name (about 120 an import)."""
    import cProfile
    import pstats

    with app.app_context(), app.test_request_context("/helpdesk/tickets/?lang=de"):
        app.preprocess_request()
        template = app.jinja_env.from_string(
            '{% from "macros.html" import focus_error_summary %}{% import "macros.html" as m %}'
            "{{ focus_error_summary is defined and m.focus_error_summary is defined }}")
        assert template.render() == "True"  # compiled and imported once
        counter = cProfile.Profile()
        counter.enable()
        text = template.render()
        counter.disable()
    calls = sum(nc for _cc, nc, _tt, _ct, _callers in pstats.Stats(counter).stats.values())
    assert text == "True" and calls < 300, calls  # Jinja's own: 515 here


def test_a_queue_page_builds_no_select_of_its_own(db, make_ticket, monkeypatch):
    """The queue's columns, joins and order are built once (``portal.tickets.queue._QUEUE``):
    a page only adds its conditions (building the whole statement cost ~400 calls)."""
    from sqlalchemy.sql.selectable import Select

    from portal.tickets.queue import queue_page

    ticket_id = make_ticket().id
    now = utcnow()
    built = CallCounter(monkeypatch, Select, "__init__")
    page = queue_page(QueueFilters(), staff_id=1, now=now, day_end=now + timedelta(days=1))
    assert built.calls == 0
    assert [row.id for row in page.rows] == [ticket_id]
