"""Shared fixtures.

The database under test is chosen by ``PORTAL_TEST_DB``: ``sqlite`` (default) or
``postgresql`` (a fresh database per test session on the local server). Tests
that need a service which is not reachable skip with a reason, unless
``REQUIRE_SERVICES=1``, under which such a skip is a failure.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from portal import create_app
from portal.config import TestConfig, as_bool, settings_for_tests

ENV = settings_for_tests()
REQUIRE_SERVICES = as_bool(ENV["require_services"])
POSTGRES_ADMIN_URL = ENV["postgres_url"] or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = ENV["redis_url"] or "redis://127.0.0.1:6379/0"
STAFF_PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(ENV["artifacts"] or Path(__file__).resolve().parent.parent / "test-artifacts")


def service_missing(reason: str):
    """Skip for a missing service, or fail when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


# --- databases -------------------------------------------------------------------


class PostgresServer:
    """Creates and drops throw-away databases on the local PostgreSQL server."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self._engine = None

    def reachable(self) -> str | None:
        try:
            self._admin().connect().close()
        except Exception as exc:  # noqa: BLE001 - any failure means unreachable
            return f"PostgreSQL not reachable at {self.admin_url}: {exc.__class__.__name__}"
        return None

    def _admin(self):
        if self._engine is None:
            self._engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        return self._engine

    def create(self, prefix: str = "portal_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._admin().connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self._admin().url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin().connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_ADMIN_URL)
    problem = server.reachable()
    if problem:
        server.close()
        service_missing(problem)
    yield server
    server.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, request) -> Iterator[str]:
    """One database for the whole session; tests empty it after themselves."""
    kind = (ENV["database"] or "sqlite").lower()
    if kind in {"postgresql", "postgres", "pg"}:
        server = request.getfixturevalue("postgres_server")
        url = server.create()
        yield url
        server.drop(url)
    elif kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}"
    else:
        raise pytest.UsageError(f"PORTAL_TEST_DB must be sqlite or postgresql, not {kind!r}")


@pytest.fixture(scope="session")
def data_keys() -> list[str]:
    return [Fernet.generate_key().decode()]


def make_settings(database_url: str, data_keys: list[str], **overrides) -> dict:
    """Test settings as a mapping (``create_app`` accepts one)."""
    settings = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    settings.update(
        SQLALCHEMY_DATABASE_URI=database_url,
        PORTAL_DATA_KEYS=list(data_keys),
        PORTAL_RQ_QUEUE=f"test-{uuid.uuid4().hex[:8]}",
    )
    if database_url.startswith("sqlite"):
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    settings.update(overrides)
    return settings


_schema_ready: set[str] = set()


@pytest.fixture
def app_settings(database_url, data_keys) -> dict:
    """Override entries of this dict in a test module's own fixture to tune the app."""
    return make_settings(database_url, data_keys)


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server would.

    The ``app`` fixture keeps an app context open for the test's own database
    work; without this, requests would share its ``g`` and its session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app_settings):
    application = create_app(app_settings)
    application.test_client_class = IsolatedClient
    from portal.extensions import db as _db

    with application.app_context():
        url = app_settings["SQLALCHEMY_DATABASE_URI"]
        if url not in _schema_ready:
            _db.drop_all()
            _db.create_all()
            _schema_ready.add(url)
        yield application
        _db.session.remove()
        _empty_tables(_db)
        _db.engine.dispose()


@pytest.fixture
def make_app(database_url, data_keys):
    """Build extra applications with overridden settings; disposed after the test."""
    created = []

    def factory(**overrides):
        application = create_app(make_settings(database_url, data_keys, **overrides))
        application.test_client_class = IsolatedClient
        created.append(application)
        return application

    yield factory
    from portal.extensions import db as _db

    for application in created:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()
        state = application.extensions.get("rq")
        if state:
            state["connection"].close()


def _empty_tables(db) -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def db(app):
    from portal.extensions import db as _db

    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- redis -----------------------------------------------------------------------


@pytest.fixture
def redis():
    """A Redis client on the local server (keys are namespaced per test by callers)."""
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except RedisError as exc:
        service_missing(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    yield client
    client.close()


# --- factories ---------------------------------------------------------------------


def csrf_token(client, url: str) -> str:
    """Fetch a page and return the CSRF token of its first form."""
    page = client.get(url)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    )
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


@pytest.fixture
def make_staff(db):
    """Create a staff member: ``make_staff("manager", email=..., totp_secret=...)``."""
    from portal.models import StaffUser
    from portal.security.passwords import hash_password

    counter = {"n": 0}
    hashed = hash_password(STAFF_PASSWORD)

    def factory(role: str = "agent", **fields) -> StaffUser:
        counter["n"] += 1
        fields.setdefault("email", f"{role}{counter['n']}@staff.example")
        fields.setdefault("name", f"{role.title()} {counter['n']}")
        fields.setdefault("password_hash", hashed)
        user = StaffUser(role=role, **fields)
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client):
    """Sign a staff member in through the real form (with TOTP when enabled)."""

    def do_login(user, password: str = STAFF_PASSWORD):
        token = csrf_token(client, "/staff/login")
        response = client.post(
            "/staff/login", data={"email": user.email, "password": password, "csrf_token": token}
        )
        if user.totp_secret and response.status_code == 302 and "/login/code" in response.location:
            import pyotp

            token = csrf_token(client, "/staff/login/code")
            response = client.post(
                "/staff/login/code",
                data={"code": pyotp.TOTP(user.totp_secret).now(), "csrf_token": token},
            )
        return response

    return do_login


@pytest.fixture
def make_incident(db):
    """Create an incident with sensible defaults."""
    from datetime import UTC, datetime, timedelta

    from portal.models import Incident

    counter = {"n": 0}

    def factory(**fields) -> Incident:
        counter["n"] += 1
        now = datetime.now(UTC)
        fields.setdefault("reference", f"INC-{counter['n']:03d}")
        fields.setdefault("title", f"Test incident {counter['n']}")
        fields.setdefault("status", "active")
        fields.setdefault("discovered_at", now - timedelta(days=3))
        fields.setdefault("determined_at", now - timedelta(days=1))
        fields.setdefault("jurisdictions", ["gdpr_art33", "gdpr_art34"])
        fields.setdefault("categories", ["contact_details", "date_of_birth"])
        fields.setdefault("contact_hotline", "+1 800 555 0100")
        incident = Incident(**fields)
        db.session.add(incident)
        db.session.commit()
        return incident

    return factory


@pytest.fixture
def make_person(db, make_incident):
    """Create an affected person; returns ``(person, plain_values)``.

    ``plain_values`` holds what the customer knows: notice code, date of birth,
    postcode, policy number.
    """
    from portal.people.create import new_person
    from portal.security.crypto import generate_code

    counter = {"n": 0}

    def factory(incident=None, **values):
        counter["n"] += 1
        incident = incident or make_incident()
        n = counter["n"]
        plain = {
            "external_ref": f"P-{n:05d}",
            "first_name": "Jamie",
            "last_name": f"Tester{n}",
            "date_of_birth": date(1980, 1, 1 + n % 28).isoformat(),
            "postcode": f"9{n:04d}",
            "policy_number": f"POL{n:08d}",
            "email": f"person{n}@customer.example",
            "phone": f"+1415555{n:04d}",
            "notice_code": generate_code(),
            "language": "en",
            "categories": ["contact_details", "date_of_birth"],
        }
        plain.update(values)
        person = new_person(incident.id, plain)
        db.session.add(person)
        db.session.commit()
        return person, plain

    return factory


@pytest.fixture
def artifacts_dir() -> Path:
    """Where browser tests save screenshots for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --- loopback peers for the channels ---------------------------------------------------------


@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) on loopback; yields (controller, handler with .messages)."""
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            self.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def twilio_stub():
    """A loopback HTTP stub of Twilio's Messages API; yields (base_url, received requests).

    Point ``TWILIO_API_BASE`` at the URL; sending to +15005550001 answers Twilio's
    invalid-number error (21211), anything else a queued message.
    """
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            received.append((self.path, form))
            if form.get("To") == ["+15005550001"]:
                status, payload = 400, {"code": 21211, "message": "Invalid 'To' Phone Number",
                                        "status": 400}
            else:
                status, payload = 201, {"sid": f"SM{len(received):032d}", "status": "queued",
                                        "to": form["To"][0], "body": form["Body"][0]}
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
