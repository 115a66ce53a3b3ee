"""Language choice: saved preference, then ``?lang=``, then Accept-Language."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session

SESSION_KEY = "lang"
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "de": "Deutsch"}


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


def current_language() -> str:
    """The language code of the current request, for templates."""
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "en"


def _catalog():
    """The active locale's catalog, looked up once per locale per request.

    Flask-Babel's template callables resolve the domain, the locale and the
    catalog on every ``_()`` call (a page makes dozens); this keeps the catalog
    next to the locale object it belongs to, so ``force_locale`` still switches it.
    """
    from flask_babel import get_translations

    try:
        state = g.get("_flask_babel")
    except RuntimeError:  # no application context
        return get_translations()
    locale = getattr(state, "babel_locale", None)
    cached = getattr(state, "portal_catalog", None)
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    state = g.get("_flask_babel")
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.portal_catalog = (state.babel_locale, translations)
    return translations


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
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["current_language"] = current_language
