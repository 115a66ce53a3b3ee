"""Language choice (saved preference, then ``?lang=``, then Accept-Language) and times.

Every time a reader sees goes through ``format_when`` (the ``datetime`` and
``longdate`` template filters): converted to a time zone, formatted for the
page's language by Babel and, for a time of day, followed by the zone's
abbreviation. The zone is the one given, else the signed-in staff member's
preference, else the zone the page set (``use_page_zone``: the incident's),
else ``PORTAL_TIME_ZONE``.
"""

from __future__ import annotations

import weakref
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask.globals import _cv_app
from flask.templating import Environment
from flask_babel import get_locale, get_translations
from flask_babel import gettext as babel_gettext
from flask_babel.speaklater import LazyString
from jinja2 import BytecodeCache, Template, nodes, pass_eval_context
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

SESSION_KEY = "lang"
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "de": "Deutsch"}


def language_in_text(code: str) -> str:
    """A language's name in the reader's language, for a sentence: "auf Englisch",
    "en anglais" (``LANGUAGE_NAMES`` holds each language's own name, for switchers)."""
    try:
        return Locale.parse(code).get_display_name(get_locale() or "en") or code
    except (ValueError, UnknownLocaleError):
        return code


def supported() -> tuple[str, ...]:
    """The configured languages."""
    return tuple(current_app.config["LANGUAGES"])


def select_locale() -> str:
    """Pick the request's locale (Flask-Babel's locale selector).

    Outside a request (CLI commands, jobs) it is the default locale; code that
    writes for a particular person wraps its calls in ``force_locale``.
    """
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    preferred = g.get("preferred_locale")
    if preferred in supported():
        return preferred
    chosen = session.get(SESSION_KEY)
    if chosen in supported():
        return chosen
    return request.accept_languages.best_match(supported()) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def _remember_explicit_choice() -> None:
    lang = request.args.get("lang")
    if lang in supported():
        session[SESSION_KEY] = lang
        g.explicit_locale = lang


def _staff_preference() -> None:
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        explicit = g.get("explicit_locale")
        if explicit and explicit != current_user.locale:
            from portal.extensions import db

            current_user.locale = explicit
            db.session.commit()
        if current_user.locale:
            g.preferred_locale = current_user.locale
        if getattr(current_user, "time_zone", None):
            g.staff_time_zone = current_user.time_zone


def current_language() -> str:
    """The language code of the current request, for templates."""
    locale = get_locale()
    return locale.language if locale else "en"


def language_href(code: str) -> str:
    """The language switcher's link to this page in ``code``: the page's own query (its
    filters, its page of results) kept, only ``lang`` replaced."""
    kept = [(name, value) for name, value in request.args.items(multi=True) if name != "lang"]
    return "?" + urlencode([*kept, ("lang", code)])


def _babel_state() -> dict | None:
    """The attributes of Flask-Babel's per-context state (its chosen locale, its catalog, and
    ours), read through the application context's variable, not the ``g`` proxy; None
    outside an application or before Flask-Babel made it."""
    app_context = _cv_app.get(None)
    state = None if app_context is None else app_context.g.__dict__.get("_flask_babel")
    return None if state is None else state.__dict__


def _catalog():
    """The active locale's catalog, looked up once per locale per request.

    Flask-Babel's template callables resolve the domain, the locale and the
    catalog on every ``_()`` call (a page makes dozens); this keeps the catalog
    next to the locale object it belongs to, so ``force_locale`` still switches it.
    The hit is read through the application context's context variable rather than
    the ``g`` proxy: the queue page asks a few hundred times, and the proxy's lookups
    were most of the cost.
    """
    if _cv_app.get(None) is None:
        return get_translations()
    state = _babel_state()
    if state is not None:
        cached = state.get("portal_catalog")
        if cached is not None and cached[0] is state.get("babel_locale"):
            return cached[1]
    translations = get_translations()
    state = _babel_state()
    locale = None if state is None else state.get("babel_locale")
    if locale is not None:
        state["portal_catalog"] = (locale, translations)
    return translations


# The request's catalog, for callers outside this module; with ``kept_in``, for texts made
# of its translations once (it stays the same object for a language and application).
catalog = _catalog


MAX_KEPT_TEXTS = 4096  # per catalog; emptied when full


def kept_in(catalog, key, build):
    """``build()``, kept with ``catalog`` under ``key``: a text made of its translations
    (a span in words, the labels of a page), made once per language and application.
    Kept on the catalog object itself, so it goes with it (no process-wide state)."""
    store = catalog.__dict__.get("_portal_kept")
    if store is None:
        store = catalog.__dict__.setdefault("_portal_kept", {})
    found = store.get(key)
    if found is None:
        if len(store) >= MAX_KEPT_TEXTS:
            store.clear()
        found = store[key] = build()
    return found


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext``, through the request's cached catalog.

    For strings looked up many times a page (the queue's per-row phrases):
    Flask-Babel resolves the domain, locale and catalog on every call.
    """
    text = _catalog().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Flask-Babel's ``ngettext``, through the request's cached catalog."""
    variables.setdefault("num", num)
    return _catalog().ungettext(singular, plural, num) % variables


def resolved(label) -> str:
    """The text of a ``lazy_gettext`` label, through the request's cached catalog."""
    return resolved_in(_catalog(), label)


def resolved_in(catalog, label) -> str:
    """The text of a ``lazy_gettext`` label in ``catalog`` (see ``catalog()``)."""
    if (isinstance(label, LazyString) and label._func is babel_gettext
            and len(label._args) == 1 and not label._kwargs):
        return catalog.ugettext(label._args[0])
    return str(label)


def is_time_zone(name: str | None) -> bool:
    """Tell whether ``name`` is an IANA time zone this system knows."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted (for choosers).

    Read once per process: ``available_timezones`` walks the zone files on disk, about
    8 ms each time, and the staff account page and the incident form asked on every view.
    """
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def is_listed_time_zone(name: str | None) -> bool:
    """Whether ``name`` is one of the zones the choosers offer (``time_zone_names``).

    What the staff forms accept: ``is_time_zone`` also knows aliases (``CET``,
    ``EST5EDT``, ``Universal``) that no chooser lists, and a chooser's rendering is kept
    per chosen zone (``{% cached %}``), so only listed names may become keys.
    """
    return bool(name) and name in time_zone_names()


def zone(name: str | None) -> tzinfo:
    """The zone called ``name``; UTC when it is empty or unknown."""
    return ZoneInfo(name) if is_time_zone(name) else UTC


def use_page_zone(name: str | None) -> None:
    """Show this request's times in ``name`` (the incident's zone) unless staff chose one."""
    if has_request_context() and is_time_zone(name):
        g.page_time_zone = name


def display_zone_name() -> str:
    """The zone the current page shows times in (see the module docstring)."""
    if has_request_context():
        values = _cv_app.get().g.__dict__  # ``g``, without its proxy (a page asks often)
        for key in ("staff_time_zone", "page_time_zone"):
            name = values.get(key)
            if is_time_zone(name):
                return name
    if has_app_context():
        return current_app.config["PORTAL_TIME_ZONE"]
    return "UTC"


def zone_abbreviation(moment: datetime) -> str:
    """The zone's abbreviation at ``moment`` (an aware time): "PST", "CET", "UTC", "UTC-03"."""
    name = moment.tzname() or "UTC"
    if name[:1] in "+-":  # zones without a letter abbreviation
        return "UTC" + name.replace("-", "\u2212")
    return name


def _active_locale():
    """What Flask-Babel's ``get_locale`` answers, read where it keeps it once chosen (as
    ``_catalog`` does): ``get_locale`` takes about fifteen calls to answer the same."""
    state = _babel_state()
    locale = None if state is None else state.get("babel_locale")
    return locale if locale is not None else get_locale()


def _locale():
    return _active_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]


def format_when(value: datetime | date | None, format: str = "medium",
                zone_name: str | None = None, *, date_only: bool = False) -> str:
    """A time in a zone, for the page's language, with the zone's abbreviation.

    Naive datetimes are taken as UTC (the database stores UTC). A ``date`` (or
    ``date_only``) is formatted as a date in the zone, without abbreviation.
    """
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return babel_dates.format_date(value, format, locale=_locale())
    where = zone(zone_name or display_zone_name())
    moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(where)
    if date_only:
        return babel_dates.format_date(moment.date(), format, locale=_locale())
    text = babel_dates.format_datetime(moment, format, tzinfo=where, locale=_locale())
    return f"{text} ({zone_abbreviation(moment)})"


def format_minute(value: datetime | None) -> str:
    """A time to the minute in the reader's zone, ordered as their language writes a date:
    "21 Nov 2026, 14:05 (PST)", "21. Nov. 2026, 14:05 (PST)", "21 nov. 2026, 14:05 (PST)".

    What ``format_when`` writes with the pattern "<the language's day>, HH:mm": the day
    (Babel's part of the work) is kept per language and date, the hour and minute are
    written here (two ASCII digits each, as Babel writes them in every language offered).
    """
    if not isinstance(value, datetime):
        return format_when(value, _minute_pattern(Locale.parse(_locale())))
    where = zone(display_zone_name())
    moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(where)
    day, locale = moment.date(), _locale()
    text = kept_in(_catalog(), ("minute-day", str(locale), day), lambda: babel_dates.format_date(
        day, _minute_pattern(Locale.parse(locale), date_only=True), locale=locale))
    return f"{text}, {moment.hour:02d}:{moment.minute:02d} ({zone_abbreviation(moment)})"


def _minute_pattern(locale: Locale, *, date_only: bool = False) -> str:
    day = "d MMM y" if locale.language == "en" else locale.datetime_skeletons["yMMMd"].pattern
    return day if date_only else f"{day}, HH:mm"


def _datetime_filter(value, format: str = "medium", zone: str | None = None) -> str:
    return format_when(value, format, zone)


def _longdate_filter(value, zone: str | None = None) -> str:
    return format_when(value, "long", zone, date_only=True)


# The templates' ``_``, ``gettext``, ``ngettext``, ``pgettext`` and ``npgettext``: what Jinja's
# "newstyle" gettext answers (the translation, marked safe where the template autoescapes, the
# variables formatted into it, so escaped there), in one call. Jinja's own take three calls
# through ``Context.call`` for each ``_()`` (``_`` looks up ``gettext``, which calls the catalog
# function, each handed the template context): a ticket page makes about 70.
# The catalog's texts are trusted markup, as Jinja trusts them (S704).


@pass_eval_context
def _template_gettext(eval_ctx, string: str, /, **variables) -> str:
    text = _catalog().ugettext(string)
    if not variables and "%" not in text:  # most calls: formatting would change nothing
        return Markup(text) if eval_ctx.autoescape else text  # noqa: S704
    return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, /, **variables) -> str:
    variables.setdefault("num", num)
    text = _catalog().ungettext(singular, plural, num)
    return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704


@pass_eval_context
def _template_pgettext(eval_ctx, context: str, string: str, /, **variables) -> str:
    variables.setdefault("context", context)
    text = _catalog().upgettext(context, string)
    return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704


@pass_eval_context
def _template_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, /,
                        **variables) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    text = _catalog().unpgettext(context, singular, plural, num)
    return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704


# Templates are compiled once per language, with each ``_("literal")`` (and ``gettext``) that
# takes no variables replaced by its translation: the compiler then writes the text into the
# template's code, next to the markup around it, instead of a call per render (a ticket page
# made about 60: a tenth of its rendering). The text is exactly what ``_template_gettext``
# answers: the translation, marked safe where the template autoescapes. A translation with a
# "%" is left to the call, which formats it.
TRANSLATED_NAMES = frozenset({"_", "gettext"})
TEMPLATE_CACHE_SIZE = 2000  # templates × languages; Jinja's default (400) would evict


class _Translate(NodeTransformer):
    def __init__(self, catalog):
        self.catalog = catalog

    def visit_Call(self, node):  # noqa: N802 (Jinja's visitor names)
        node = self.generic_visit(node)
        if (isinstance(node.node, nodes.Name) and node.node.name in TRANSLATED_NAMES
                and node.node.ctx == "load" and len(node.args) == 1
                and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)
                and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None):
            text = self.catalog.ugettext(node.args[0].value)
            if "%" not in text:
                return nodes.MarkSafeIfAutoescape(nodes.Const(text), lineno=node.lineno)
        return node


class _Template(Template):
    def _get_default_module(self, ctx=None):
        # Jinja's own, but for one line: its ``set - KeysView`` tested each of the context's
        # hundred-odd global names through three Python calls, on every ``{% import %}``
        # (a ticket page: a fortieth of its calls). ``set.difference`` gives the same names.
        if ctx is not None:
            keys = ctx.globals_keys.difference(self.globals)
            if keys:
                return self.make_module({k: ctx.parent[k] for k in keys})
        return super()._get_default_module()


class TranslatedEnvironment(Environment):
    """Flask's template environment, compiling each template once per language (above)."""

    template_class = _Template

    def __init__(self, app, **options):
        options.setdefault("cache_size", TEMPLATE_CACHE_SIZE)
        super().__init__(app, **options)

    @property
    def bytecode_cache(self):
        return self._bytecode_cache

    @bytecode_cache.setter
    def bytecode_cache(self, cache):
        # A compiled template holds one language's texts: so does its cached bytecode's key.
        self._bytecode_cache = None if cache is None else _PerLanguageBytecode(cache)

    def _load_template(self, name, globals):  # noqa: A002 (Jinja's signature)
        # Jinja's own, with the language in the cache's key.
        if self.loader is None:
            raise TypeError("no loader for this environment specified")
        cache_key = (weakref.ref(self.loader), name, _template_language())
        template = self.cache.get(cache_key) if self.cache is not None else None
        if template is not None and (not self.auto_reload or template.is_up_to_date):
            if globals:
                template.globals.update(globals)
            return template
        template = self.loader.load(self, name, self.make_globals(globals))
        if self.cache is not None:
            self.cache[cache_key] = template
        return template

    def _parse(self, source, name, filename):
        template = super()._parse(source, name, filename)
        if _template_language() is None:
            return template
        return _Translate(_catalog()).visit(template)


class _PerLanguageBytecode(BytecodeCache):
    """A bytecode cache (``TranslatedEnvironment.bytecode_cache``) keyed by language too."""

    def __init__(self, cache: BytecodeCache):
        self.cache = cache

    def get_cache_key(self, name, filename=None):
        return f"{self.cache.get_cache_key(name, filename)}.{_template_language()}"

    def get_source_checksum(self, source):
        return self.cache.get_source_checksum(source)

    def load_bytecode(self, bucket):
        self.cache.load_bytecode(bucket)

    def dump_bytecode(self, bucket):
        self.cache.dump_bytecode(bucket)

    def clear(self):
        self.cache.clear()


def _template_language() -> str | None:
    """The language templates are compiled for now (None outside an application)."""
    if _cv_app.get(None) is None:
        return None
    locale = _active_locale()
    return str(locale) if locale is not None else None


def init_app(app: Flask) -> None:
    """Register the hooks that record an explicit choice and a staff preference."""
    app.before_request(_remember_explicit_choice)
    app.before_request(_staff_preference)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalog().ugettext(s),
        ngettext=lambda s, p, n: _catalog().ungettext(s, p, n),
        pgettext=lambda c, s: _catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalog().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # The same callables, one call each (above); ``{% trans %}`` calls these names too.
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext,
                                 ngettext=_template_ngettext, pgettext=_template_pgettext,
                                 npgettext=_template_npgettext)
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["language_href"] = language_href
    app.jinja_env.globals["display_zone_name"] = display_zone_name
    app.jinja_env.filters["datetime"] = _datetime_filter
    app.jinja_env.filters["minute"] = format_minute
    app.jinja_env.filters["longdate"] = _longdate_filter
