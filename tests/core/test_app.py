"""Application wiring: configuration, headers, error pages, health, jobs, CLI."""

from __future__ import annotations

import pytest

from portal import config as settings
from portal.core import jobs


def test_production_refuses_to_start_without_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    required = ("SECRET_KEY", "PORTAL_DATA_KEYS", "PORTAL_INDEX_KEY", "DATABASE_URL", "REDIS_URL",
                "PORTAL_AUDIT_KEY", "PORTAL_AUDIT_SIGNING_KEY")
    for name in required:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(settings.ConfigError) as error:
        settings.load(tmp_path)
    message = str(error.value)
    for name in required:
        assert name in message
    assert not (tmp_path / "dev-secrets.json").exists()


def test_production_names_only_what_is_missing(monkeypatch, tmp_path):
    from cryptography.fernet import Fernet

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")
    monkeypatch.setenv("PORTAL_AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("PORTAL_AUDIT_SIGNING_KEY", "c2lnbmluZy1rZXktb2YtdGhpcnR5LXR3by1ieXRlcyE=")
    monkeypatch.delenv("PORTAL_INDEX_KEY", raising=False)
    with pytest.raises(settings.ConfigError, match="PORTAL_INDEX_KEY") as error:
        settings.load(tmp_path)
    assert "SECRET_KEY" not in str(error.value)
    monkeypatch.setenv("PORTAL_INDEX_KEY", "i" * 32)
    loaded = settings.load(tmp_path)
    assert loaded["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["HSTS_SECONDS"] > 0


def test_bad_data_key_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("PORTAL_DATA_KEYS", "not-a-key")
    with pytest.raises(settings.ConfigError, match="PORTAL_DATA_KEYS item 1"):
        settings.load(tmp_path)


def test_development_generates_keys_once(monkeypatch, tmp_path):
    for name in ("PORTAL_ENV", "SECRET_KEY", "PORTAL_DATA_KEYS", "PORTAL_INDEX_KEY",
                 "DATABASE_URL", "REDIS_URL", "PORTAL_AUDIT_KEY", "PORTAL_AUDIT_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    first = settings.load(tmp_path)
    second = settings.load(tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["PORTAL_DATA_KEYS"] == second["PORTAL_DATA_KEYS"]
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert first["REDIS_URL"] is None


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("", False), (None, False)]
)
def test_as_bool(raw, expected):
    assert settings.as_bool(raw) is expected


def test_as_bool_rejects_nonsense():
    with pytest.raises(settings.ConfigError):
        settings.as_bool("maybe")


# --- responses ----------------------------------------------------------------------


def test_every_response_has_security_headers(client):
    for path in ("/", "/staff/login", "/no-such-page", "/healthz"):
        response = client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_csp_nonce_changes_per_request(client):
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_hsts_when_configured(make_app):
    response = make_app(HSTS_SECONDS=600).test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=600")


def test_no_hsts_by_default(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.parametrize(
    ("status", "title"),
    [(400, "Bad request"), (403, "Access denied"), (404, "Page not found"),
     (413, "File too large"), (429, "Too many attempts"), (500, "Something went wrong")],
)
def test_error_pages(app, client, status, title):
    from flask import abort

    @app.get(f"/_test/error/{status}")
    def raise_error():
        if status == 500:
            raise RuntimeError("boom")
        abort(status)

    app.config["PROPAGATE_EXCEPTIONS"] = False  # serve the page as in production
    response = client.get(f"/_test/error/{status}")
    assert response.status_code == status
    assert f"<h1>{title}</h1>" in response.text
    assert "boom" not in response.text


def test_error_page_in_german(app, client):
    from flask import abort

    @app.get("/_test/forbidden")
    def forbidden():
        abort(403)

    response = client.get("/_test/forbidden?lang=de")
    assert "Zugriff verweigert" in response.text


@pytest.mark.parametrize(("asked", "leads_to"), [
    ("/tickets/5/close?lang=fr", "/tickets/5?lang=fr"),  # the customer's ticket
    ("/notice/activation-code", "/notice"),
    ("/helpdesk/staff/3/role?lang=es&next=//evil.example", "/helpdesk/staff/3?lang=es"),
])
def test_a_form_address_asked_for_with_get_leads_to_the_page_above(client, asked, leads_to):
    """A page a form answered keeps the form's address; asked for again (the language
    switcher, a reload) it leads to the page the form was on, with only ``lang`` kept."""
    response = client.get(asked)
    assert response.status_code == 303
    assert response.location == leads_to


@pytest.mark.parametrize("asked", ["/sign-out", "/staff/logout", "/hooks/twilio/inbound"])
def test_a_form_with_no_page_above_it_is_still_405(client, asked):
    response = client.get(asked)
    assert response.status_code == 405
    assert "<h1>Method not allowed</h1>" in response.text
    doubled = client.get("//helpdesk/people/7/unlock")  # never to another host
    assert not (doubled.location or "").startswith("//")


def test_upload_over_the_limit_is_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=10)
    response = app.test_client().post("/staff/login", data={"email": "x" * 100})
    assert response.status_code == 413


# --- health ---------------------------------------------------------------------------


def test_healthz_without_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "not configured"},
    }
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.redis
def test_healthz_with_redis(redis, make_app):
    from tests.support import REDIS_URL

    response = make_app(REDIS_URL=REDIS_URL).test_client().get("/healthz")
    assert response.json["checks"]["redis"] == "ok"


def test_healthz_reports_unreachable_redis(make_app):
    response = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"] == "unreachable"


# --- jobs -------------------------------------------------------------------------------


def test_enqueue_runs_inline_without_redis(app):
    job = jobs.enqueue(jobs.ping_job, "hello", job_id="ping-1")
    assert job.result == "pong:hello"
    assert job.get_status() == "finished"


@pytest.mark.redis
def test_enqueue_uses_rq_and_the_worker_runs_it(redis, make_app):
    from rq.job import Job

    from tests.support import REDIS_URL

    app = make_app(REDIS_URL=REDIS_URL)
    with app.app_context():
        job = jobs.enqueue(jobs.ping_job, "queued", job_id="ping")
        job_id = jobs.scoped_id(app.config["PORTAL_RQ_QUEUE"], "ping")
        assert job.id == job_id
        # The same id while queued returns the same job instead of a second one.
        assert jobs.enqueue(jobs.ping_job, "queued", job_id="ping").id == job_id
        assert jobs.queue().count == 1
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
        assert result.exit_code == 0, result.output
        finished = Job.fetch(job_id, connection=redis)
        assert finished.return_value() == "pong:queued"
        finished.delete()
        queue_name = jobs.queue().name
        jobs.queue().delete(delete_jobs=True)
        for key in redis.scan_iter(f"rq:*{queue_name}*"):
            redis.delete(key)


def test_worker_explains_when_redis_is_not_configured(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


def test_https_form_post_with_same_origin_referer_passes_csrf(make_app, make_staff):
    """Browsers send a same-origin Referer under our policy; Flask-WTF needs it on HTTPS."""
    from tests.support import STAFF_PASSWORD, csrf_token

    app = make_app(WTF_CSRF_SSL_STRICT=True)
    client = app.test_client()
    base = "https://portal.example"
    token = csrf_token(client, f"{base}/staff/login")
    no_referer = client.post(f"{base}/staff/login",
                             data={"email": "a@b.example", "password": "x", "csrf_token": token})
    assert no_referer.status_code == 400  # what no-referrer would have caused for everybody
    with_referer = client.post(
        f"{base}/staff/login",
        data={"email": "a@b.example", "password": STAFF_PASSWORD, "csrf_token": token},
        headers={"Referer": f"{base}/staff/login"},
    )
    assert with_referer.status_code == 401  # reached the view: wrong account, not CSRF


def test_proxy_hops_take_the_client_address_from_the_proxy(make_app, db):
    from sqlalchemy import select

    from portal.models import Interaction

    app = make_app(PROXY_HOPS=1)
    client = app.test_client()
    token_page = client.get("/staff/login", headers={"X-Forwarded-For": "203.0.113.7"})
    import re

    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', token_page.text)[1]
    client.post(
        "/staff/login",
        data={"email": "nobody@staff.example", "password": "whatever pass", "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    ip = db.session.execute(select(Interaction.ip)).scalar_one()
    assert ip == "203.0.113.7"


def test_without_proxy_hops_forwarded_headers_are_ignored(app, client, db):
    from sqlalchemy import select

    from portal.models import Interaction
    from tests.support import csrf_token

    token = csrf_token(client, "/staff/login")
    client.post(
        "/staff/login",
        data={"email": "nobody@staff.example", "password": "whatever pass", "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert db.session.execute(select(Interaction.ip)).scalar_one() == "127.0.0.1"


def test_request_logs_never_carry_notice_codes(app, caplog):
    import logging

    from portal.security.logs import RedactNoticeCodes

    logger = logging.getLogger("werkzeug")
    assert any(isinstance(item, RedactNoticeCodes) for item in logger.filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('%s - - [%s] "%s" %s -', "127.0.0.1", "now",
                    "GET /n/7K2D-QX9M-4TRB?x=1 HTTP/1.1", 303)
    assert "7K2D" not in caplog.text
    assert "/n/[redacted]" in caplog.text


def test_unreachable_redis_is_logged(make_app, caplog):
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    with caplog.at_level("WARNING", logger="portal.core.health"):
        client.get("/healthz")
    assert any("Redis unreachable" in record.getMessage() and record.exc_info
               for record in caplog.records)


# --- per-application state ---------------------------------------------------------------


def test_two_apps_do_not_share_notice_stamps_or_caches(app, db, make_app, make_person):
    from portal.core import shared_pages
    from portal.notices import cache as notice_cache

    person, _plain = make_person()
    from portal.core import lists

    stamps = lists.store_key(notice_cache.STAMPS)
    notice_cache.notice_for(person)  # no approved version yet: only the stamp is kept
    assert app.extensions[stamps].get(person.incident_id) is not None
    first_cache = notice_cache.cache()
    other = make_app(NOTICE_CACHE_SIZE=7)
    with other.app_context():
        assert stamps not in other.extensions
        second_cache = notice_cache.cache()
        assert second_cache is not first_cache and second_cache.size == 7
        assert shared_pages._store() is not None
    assert first_cache.size == app.config["NOTICE_CACHE_SIZE"]
    assert other.extensions[shared_pages.EXTENSION_KEY] is not app.extensions.get(
        shared_pages.EXTENSION_KEY)
