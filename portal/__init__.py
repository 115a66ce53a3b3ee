"""Breach notification portal: the application factory (wiring only).

The work lives in the domain packages below this one; see the README's Layout table.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask


def create_app(config: type | Mapping | None = None) -> Flask:
    """Build the application. Wiring only: no network calls, no migrations.

    ``config`` is a settings class or mapping; without it, settings come from the
    environment through ``portal.config.load``.
    """
    app = Flask(__name__, instance_relative_config=False)
    from portal.core.i18n import TranslatedEnvironment

    app.jinja_environment = TranslatedEnvironment  # templates compiled per language (i18n)
    _configure(app, config)
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        # Behind reverse proxies: take the client address and scheme from the
        # headers the trusted proxies set, so per-IP limits and the log see clients.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)

    from portal.answers import choose
    from portal.core import cursors, errors, fragments, i18n, jobs, lists, read_pages, request_actor
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate
    from portal.incidents import brand
    from portal.notices import cache as notice_cache
    from portal.security import attempts, crypto, headers, logs
    from portal.tickets import queue

    db.init_app(app)
    cursors.init_app(app, db)  # PostgreSQL: result descriptions made only when read
    read_pages.init_app(app)  # marked read pages: no BEGIN/COMMIT (the first hook)
    migrate.init_app(app, db, directory=_migrations_dir(), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=_translations_dir(),
    )
    login_manager.init_app(app)
    crypto.init_app(app)
    attempts.init_app(app)  # the hourly purge of stale keyed counters
    jobs.init_app(app)
    headers.init_app(app)
    logs.install()
    request_actor.init_app(app)  # first hook: the log's actor for the rest
    i18n.init_app(app)
    fragments.init_app(app)
    # The lists kept per process, from the domains that read them.
    lists.init_app(app, (queue.AGENTS, choose.ANSWERS, notice_cache.STAMPS, brand.FACES))
    errors.init_app(app)
    from portal import dispatch  # campaigns (issue 9): periodic lease recovery

    dispatch.init_app(app)
    from portal import audit  # audit chain (issue 11): the sealer and checkpoint jobs

    audit.init_app(app)
    from portal.reports import snapshots as report_snapshots  # issue 11: dashboards' refresh

    report_snapshots.init_app(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    _warn_if_outbox_exposed(app)

    from portal.cli import register as register_cli

    register_cli(app)
    return app


def _configure(app: Flask, config) -> None:
    from portal import config as settings

    if config is None:
        app.config.update(settings.load(app.instance_path))
    elif isinstance(config, Mapping):
        app.config.update(config)
    else:
        app.config.from_object(config)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")


def _project_root() -> str:
    import os

    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _migrations_dir() -> str:
    import os

    return os.path.join(_project_root(), "migrations")


def _translations_dir() -> str:
    import os

    return os.path.join(_project_root(), "translations")


def _register_blueprints(app: Flask) -> None:
    from helpdesk import register as register_helpdesk
    from portal.core.health import bp as health_bp
    from portal.customer import bp as customer_bp
    from portal.public import bp as public_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(customer_bp)
    from portal.webhooks import bp as webhooks_bp  # Twilio callbacks (issue 9)

    app.register_blueprint(webhooks_bp)
    app.register_blueprint(public_bp)  # the substitute notice (issue 11)
    register_helpdesk(app)
    if app.config["DEV_PAGES"] and app.config["ENV_NAME"] != "production":
        from portal.dev import bp as dev_bp

        app.register_blueprint(dev_bp)


def _warn_if_outbox_exposed(app: Flask) -> None:
    # Configuration only, no lookups: the serving commands add their bind address.
    from portal.dispatch.channels.outbox import exposure_warning

    warning = exposure_warning(app.config)
    if warning:
        app.logger.warning("%s", warning)


def _register_template_helpers(app: Flask) -> None:
    from portal.core.shared_pages import error_summary_shown
    from portal.security.permissions import has_role

    app.jinja_env.globals["has_role"] = has_role
    app.jinja_env.globals["error_summary_shown"] = error_summary_shown
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
