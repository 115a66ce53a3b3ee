"""Settings. This module is the only place that reads ``os.environ``.

Every setting is documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


def as_bool(value: str | None, default: bool = False) -> bool:
    """Read a boolean setting: 1/true/yes/on are true, 0/false/no/off false."""
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"not a boolean: {value!r}")


def as_int(value: str | None, default: int) -> int:
    """Read an integer setting."""
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"not an integer: {value!r}") from exc


def as_list(value: str | None) -> list[str]:
    """Read a comma-separated setting into a list of non-empty items."""
    if not value:
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _time_zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"PORTAL_TIME_ZONE {name!r} is not an IANA time zone") from None
    return name


def _check_fernet_keys(keys: list[str]) -> list[str]:
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"PORTAL_DATA_KEYS item {index + 1} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from exc
    return keys


def _normalise_db_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "development"
    DEBUG = False
    TESTING = False

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Pooled connections are replaced after half an hour. They are not pinged before
    # each use (a round trip on every request): after a database restart, each
    # process answers one request with an error and then reconnects all its
    # connections. PORTAL_DB_PRE_PING=1 pings instead (docs/configuration.md).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_recycle": 1800, "pool_pre_ping": False}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "portal_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 12 * 3600

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024

    LANGUAGES = ("en", "es", "fr", "de")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    STAFF_LOCKOUT_ATTEMPTS = 5  # per account and source address
    STAFF_LOCKOUT_MINUTES = 15
    STAFF_ACCOUNT_LOCKOUT_ATTEMPTS = 50  # per account, from every address together
    STAFF_ACCOUNT_LOCKOUT_MINUTES = 60
    STAFF_SETUP_LINK_HOURS = 72  # a new staff member's one-time link to set a password
    STAFF_IDLE_MINUTES = 60
    STAFF_SESSION_MAX_HOURS = 12
    STAFF_LOGIN_RATE_LIMIT = "20 per minute;200 per hour"
    # Staff password hashing (argon2id): argon2-cffi's defaults, RFC 9106's low-memory profile.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536  # KiB
    ARGON2_PARALLELISM = 4
    CUSTOMER_VERIFY_RATE_LIMIT = "30 per minute;300 per hour"
    # People and queue searches and reveals one staff member may make (helpdesk/limits.py).
    STAFF_LOOKUP_RATE_LIMIT = "30 per minute;300 per hour"
    # Ticket and person pages one staff member may open (helpdesk/limits.py): far above
    # what a person reads, far below what a script walking the ids would.
    STAFF_PAGE_RATE_LIMIT = "120 per minute;1500 per hour"
    # Forged or unsigned webhook requests (403) one address may make before it is
    # refused unread (429): each forged one writes a log row. Twilio's signed requests
    # never count.
    WEBHOOK_FORGED_RATE_LIMIT = "20 per minute;100 per hour"
    # Customer portal (docs/configuration.md, "Customer portal").
    CUSTOMER_IDLE_MINUTES = 30
    CUSTOMER_MAX_HOURS = 12
    CUSTOMER_LOCKOUT_ATTEMPTS = 5
    CUSTOMER_LOCKOUT_MINUTES = 30
    # Each further lock of a code within CUSTOMER_LOCKOUT_ESCALATION_HOURS lasts twice the
    # one before, up to CUSTOMER_LOCKOUT_MAX_HOURS (portal.people.unknown_codes.escalate).
    CUSTOMER_LOCKOUT_ESCALATION_HOURS = 24
    CUSTOMER_LOCKOUT_MAX_HOURS = 24
    # Keyed attempt counters (unknown notice codes, staff sign-in per address) are deleted
    # this long after their last failure and lock (at least twice the longest lockout),
    # by a periodic job every ATTEMPT_COUNTER_PURGE_SECONDS (0: never).
    ATTEMPT_COUNTER_KEEP_HOURS = 24
    ATTEMPT_COUNTER_PURGE_SECONDS = 3600
    CUSTOMER_RESEND_MIN_SECONDS = 0.5
    CUSTOMER_RESEND_PER_DAY = 3
    CUSTOMER_TICKETS_PER_DAY = 10
    CUSTOMER_REPLIES_PER_TICKET = 10
    CUSTOMER_REPLIES_PER_DAY = 20
    CUSTOMER_DEFAULT_VERIFICATION_METHOD = "postcode"
    CUSTOMER_LOCK_HOTLINE: str | None = None
    CUSTOMER_LOCK_HOTLINE_HOURS: str | None = None
    # Who runs the portal, named on the pages before verification (docs/customer-portal.md).
    PORTAL_OPERATOR_NAME: str | None = None
    INSURER_LOGO_MAX_BYTES = 200 * 1024
    TICKET_FIRST_RESPONSE_HOURS = 24
    TICKET_RESOLUTION_HOURS = 120
    # X-RateLimit-* headers would cost a Redis round trip on every limited request;
    # a refused request gets Retry-After from the error handler instead.
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_STRATEGY = "moving-window"

    HSTS_SECONDS = 0
    PROXY_HOPS = 0
    OUTBOX_ENABLED = True
    DEV_PAGES = False

    REDIS_URL: str | None = None
    PORTAL_BASE_URL = "http://127.0.0.1:5000"
    PORTAL_DEFAULT_REGION = "US"
    PORTAL_TIME_ZONE = "UTC"
    PORTAL_RQ_QUEUE = "portal"

    # Per-application caches (docs/configuration.md, "Caches").
    NOTICE_CACHE_SIZE = 4096
    NOTICE_STAMP_SECONDS = 2.0
    SHARED_PAGE_CACHE_SIZE = 1024

    # Outbound services.
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: str | None = None
    TWILIO_FROM: str | None = None
    TWILIO_MESSAGING_SERVICE_SID: str | None = None
    TWILIO_API_BASE: str | None = None
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = True
    MAIL_FROM = "notices@example.invalid"

    # Dispatch: campaigns, channels' rates, retries, leases, letters (docs/campaigns.md).
    DISPATCH_RETRY_BASE_SECONDS = 10  # first retry after this, doubling each time
    DISPATCH_MAX_ATTEMPTS = 6
    DISPATCH_SMS_PER_SECOND = 100  # shared by every worker; 0 = unlimited
    DISPATCH_EMAIL_PER_SECOND = 0  # 0 = unlimited
    DISPATCH_LEASE_SECONDS = 300
    DISPATCH_CHUNK_SIZE = 500
    DISPATCH_SEND_CONCURRENCY = 8  # connections a worker sends one chunk over at once
    DISPATCH_RECOVER_EVERY_SECONDS = 60
    DISPATCH_SMTP_TIMEOUT_SECONDS = 30
    DISPATCH_TWILIO_TIMEOUT_SECONDS = 30
    DISPATCH_LETTER_BATCH_SIZE = 500  # letters per print file (one PDF + one manifest)
    DISPATCH_LETTER_DIR = ""  # print files (names, addresses), owner-only; "" = instance/letters
    # (end of dispatch settings)

    # Helpdesk: queue, SLA, answers, look-up limits (docs/helpdesk.md).
    # Tickets: how long a page load keeps an agent "present" (collision warning),
    # rows per queue page.
    TICKET_PRESENCE_SECONDS = 45
    TICKET_QUEUE_PAGE_SIZE = 50
    # The active staff and the approved answers agents choose from, kept per process this
    # long; a change committed in the same process shows at once (portal/core/lists.py).
    LIST_CACHE_SECONDS = 30
    # Person look-up and calls: an agent may lift a person's verification lock and resend
    # their notice code this many times per person in 24 hours; a person reached through a
    # search or a ticket stays reachable (page, calls) for this many minutes.
    HELPDESK_UNLOCKS_PER_PERSON_PER_DAY = 2
    HELPDESK_RESENDS_PER_PERSON_PER_DAY = 2
    HELPDESK_PERSON_GRANT_MINUTES = 120
    # (end of helpdesk settings)

    # Audit: keyed chain, sealer, checkpoints, retention (docs/audit.md).
    # PORTAL_AUDIT_KEY (HMAC key of the chain) and PORTAL_AUDIT_SIGNING_KEY (Ed25519 private
    # key, base64 of its 32 raw bytes) come from the environment or, in development, instance/.
    PORTAL_AUDIT_KEY: str | None = None
    PORTAL_AUDIT_SIGNING_KEY: str | None = None
    PORTAL_AUDIT_CHECKPOINT_DIR: str | None = None  # load(): instance/checkpoints
    PORTAL_AUDIT_CHECKPOINT_MINUTES = 60
    PORTAL_AUDIT_CHECKPOINT_EMAIL: str | None = None  # the compliance address, optional
    PORTAL_AUDIT_SEAL_SECONDS = 5  # PostgreSQL: how often the sealer chains new rows
    PORTAL_RETENTION_DAYS = 365 * 3  # an incident's people are purged after this, by hand
    # (end of audit settings)

    # Oversight: log review, export, staff administration, reports (docs/oversight.md).
    # Reports: days the dashboards show; a substitute notice's minimum days up (HIPAA: 90).
    REPORTS_DAYS = 30
    REPORTS_SNAPSHOT_SECONDS = 300  # a dashboard older than this is recomputed on reading
    REPORTS_REFRESH_SECONDS = 120  # the periodic refresh of active incidents' dashboards
    SUBSTITUTE_NOTICE_MIN_DAYS = 90
    # (end of oversight settings)


class TestConfig(Config):
    """Settings for the test-suite; the fixtures fill in the database URL."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
    PORTAL_DATA_KEYS = [Fernet.generate_key().decode()]
    PORTAL_INDEX_KEY = "test-index-key-0123456789abcdef"
    PORTAL_BASE_URL = "http://localhost"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    REDIS_URL = None
    RATELIMIT_STORAGE_URI = "memory://"
    DEV_PAGES = True
    # Speed only: the smallest argon2 cost, no resend timing pad, a sign-in limit reached
    # in fifteen requests (a parallel test sends twelve). Tests of these behaviours set
    # the production values themselves.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    CUSTOMER_RESEND_MIN_SECONDS = 0
    STAFF_LOGIN_RATE_LIMIT = "15 per minute;200 per hour"
    # Audit chain: fixed test keys; tests of checkpoints give each app its own directory.
    PORTAL_AUDIT_KEY = "test-audit-key-0123456789abcdef0123456789"
    PORTAL_AUDIT_SIGNING_KEY = "dGVzdC1zaWduaW5nLWtleS0zMi1ieXRlcy1sb25nISE="


class ProductionConfig(Config):
    """Production: secrets must come from the environment."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS_SECONDS = 31536000
    OUTBOX_ENABLED = False


def _new_signing_key() -> str:
    """A new Ed25519 private key as base64 of its 32 raw bytes."""
    import base64

    return base64.b64encode(secrets.token_bytes(32)).decode()


def _check_signing_key(value: str) -> str:
    import base64
    import binascii

    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ConfigError("PORTAL_AUDIT_SIGNING_KEY must be base64 of 32 bytes "
                          "(an Ed25519 private key; docs/audit.md shows how to make one)")
    return value


def _dev_secrets(instance_path: Path) -> dict[str, str]:
    """Load development secrets from ``instance/``, creating them on first use."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "dev-secrets.json"
    if path.exists():
        values = json.loads(path.read_text())
        missing = {"PORTAL_AUDIT_KEY", "PORTAL_AUDIT_SIGNING_KEY"} - set(values)
        if missing:
            # A file from before the keyed audit chain: add its keys, keep the others.
            values.setdefault("PORTAL_AUDIT_KEY", secrets.token_urlsafe(48))
            values.setdefault("PORTAL_AUDIT_SIGNING_KEY", _new_signing_key())
            path.write_text(json.dumps(values))
        return values
    values = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
        "PORTAL_INDEX_KEY": secrets.token_urlsafe(48),
        "PORTAL_AUDIT_KEY": secrets.token_urlsafe(48),
        "PORTAL_AUDIT_SIGNING_KEY": _new_signing_key(),
    }
    # Written with owner-only permissions: these keys decrypt the demo's personal data.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    return values


def load(instance_path: str | Path) -> type[Config] | dict:
    """Build the settings for this process from the environment.

    ``PORTAL_ENV=production`` refuses to start without ``SECRET_KEY``,
    ``PORTAL_DATA_KEYS``, ``PORTAL_INDEX_KEY``, ``PORTAL_AUDIT_KEY``,
    ``PORTAL_AUDIT_SIGNING_KEY``, ``DATABASE_URL`` and ``REDIS_URL``.
    """
    instance_path = Path(instance_path)
    env_name = (_env("PORTAL_ENV") or "development").lower()
    if env_name not in {"development", "production"}:
        raise ConfigError("PORTAL_ENV must be 'development' or 'production'")
    base = ProductionConfig if env_name == "production" else Config
    settings: dict = {name: getattr(base, name) for name in dir(base) if name.isupper()}

    provided = {
        "SECRET_KEY": _env("SECRET_KEY"),
        "PORTAL_DATA_KEYS": _env("PORTAL_DATA_KEYS"),
        "PORTAL_INDEX_KEY": _env("PORTAL_INDEX_KEY"),
        "PORTAL_AUDIT_KEY": _env("PORTAL_AUDIT_KEY"),
        "PORTAL_AUDIT_SIGNING_KEY": _env("PORTAL_AUDIT_SIGNING_KEY"),
    }
    database_url = _env("DATABASE_URL")
    if env_name == "production":
        missing = [name for name, value in provided.items() if value is None]
        if database_url is None:
            missing.append("DATABASE_URL")
        if _env("REDIS_URL") is None:
            # Without Redis, rate limits are per process and jobs run inside requests.
            missing.append("REDIS_URL")
        if missing:
            raise ConfigError(
                "refusing to start in production without: " + ", ".join(missing)
            )
    else:
        generated = None
        for name, value in provided.items():
            if value is None:
                generated = generated or _dev_secrets(instance_path)
                provided[name] = generated[name]
        settings["DEV_PAGES"] = True
        settings["DEBUG"] = as_bool(_env("FLASK_DEBUG"), False)

    settings["SECRET_KEY"] = provided["SECRET_KEY"]
    settings["PORTAL_DATA_KEYS"] = _check_fernet_keys(as_list(provided["PORTAL_DATA_KEYS"]))
    if not settings["PORTAL_DATA_KEYS"]:
        raise ConfigError("PORTAL_DATA_KEYS is empty")
    settings["PORTAL_INDEX_KEY"] = provided["PORTAL_INDEX_KEY"]
    if len(settings["PORTAL_INDEX_KEY"]) < 16:
        raise ConfigError("PORTAL_INDEX_KEY must be at least 16 characters")

    settings["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(
        database_url or f"sqlite:///{instance_path / 'portal.sqlite3'}"
    )
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = dict(
        settings["SQLALCHEMY_ENGINE_OPTIONS"],
        pool_pre_ping=as_bool(_env("PORTAL_DB_PRE_PING"), False),
    )
    settings["REDIS_URL"] = _env("REDIS_URL")
    settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"] or "memory://"
    settings["PORTAL_BASE_URL"] = (
        _env("PORTAL_BASE_URL") or settings["PORTAL_BASE_URL"]
    ).rstrip("/")
    settings["PORTAL_DEFAULT_REGION"] = (
        _env("PORTAL_DEFAULT_REGION") or settings["PORTAL_DEFAULT_REGION"]
    ).upper()
    settings["PORTAL_TIME_ZONE"] = _time_zone(
        _env("PORTAL_TIME_ZONE") or settings["PORTAL_TIME_ZONE"])
    settings["PORTAL_RQ_QUEUE"] = _env("PORTAL_RQ_QUEUE") or settings["PORTAL_RQ_QUEUE"]
    settings["PORTAL_OPERATOR_NAME"] = (
        _env("PORTAL_OPERATOR_NAME") or settings["PORTAL_OPERATOR_NAME"]
    )

    if env_name == "production" or settings["PORTAL_BASE_URL"].startswith("https://"):
        settings["SESSION_COOKIE_SECURE"] = True
        settings["REMEMBER_COOKIE_SECURE"] = True
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto.
    settings["PROXY_HOPS"] = as_int(_env("PORTAL_PROXY_HOPS"), settings["PROXY_HOPS"])
    settings["HSTS_SECONDS"] = as_int(_env("PORTAL_HSTS_SECONDS"), settings["HSTS_SECONDS"])
    settings["OUTBOX_ENABLED"] = as_bool(_env("PORTAL_OUTBOX"), settings["OUTBOX_ENABLED"])
    if env_name == "production" and settings["OUTBOX_ENABLED"]:
        # The outbox keeps messages (notice codes included) instead of sending them.
        raise ConfigError("refusing to start in production with PORTAL_OUTBOX on: "
                          "messages would be kept in the database, not sent")
    settings["STAFF_LOGIN_RATE_LIMIT"] = (
        _env("PORTAL_STAFF_LOGIN_RATE_LIMIT") or settings["STAFF_LOGIN_RATE_LIMIT"]
    )
    settings["STAFF_LOOKUP_RATE_LIMIT"] = (
        _env("PORTAL_STAFF_LOOKUP_RATE_LIMIT") or settings["STAFF_LOOKUP_RATE_LIMIT"])
    settings["STAFF_PAGE_RATE_LIMIT"] = (
        _env("PORTAL_STAFF_PAGE_RATE_LIMIT") or settings["STAFF_PAGE_RATE_LIMIT"])
    settings["WEBHOOK_FORGED_RATE_LIMIT"] = (
        _env("PORTAL_WEBHOOK_FORGED_RATE_LIMIT") or settings["WEBHOOK_FORGED_RATE_LIMIT"])
    settings["CUSTOMER_VERIFY_RATE_LIMIT"] = (
        _env("PORTAL_CUSTOMER_VERIFY_RATE_LIMIT") or settings["CUSTOMER_VERIFY_RATE_LIMIT"]
    )
    settings["MAX_CONTENT_LENGTH"] = as_int(
        _env("PORTAL_MAX_UPLOAD_BYTES"), settings["MAX_CONTENT_LENGTH"]
    )

    # Outbound services.
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM",
                 "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_BASE", "SMTP_HOST",
                 "SMTP_USERNAME", "SMTP_PASSWORD", "MAIL_FROM"):
        settings[name] = _env(name) or settings[name]
    settings["SMTP_PORT"] = as_int(_env("SMTP_PORT"), settings["SMTP_PORT"])
    settings["SMTP_STARTTLS"] = as_bool(_env("SMTP_STARTTLS"), settings["SMTP_STARTTLS"])

    # Dispatch settings from the environment.
    for name in ("DISPATCH_RETRY_BASE_SECONDS", "DISPATCH_MAX_ATTEMPTS",
                 "DISPATCH_SMS_PER_SECOND", "DISPATCH_EMAIL_PER_SECOND",
                 "DISPATCH_LEASE_SECONDS", "DISPATCH_CHUNK_SIZE",
                 "DISPATCH_RECOVER_EVERY_SECONDS", "DISPATCH_SMTP_TIMEOUT_SECONDS",
                 "DISPATCH_TWILIO_TIMEOUT_SECONDS", "DISPATCH_SEND_CONCURRENCY"):
        # The names (DISPATCH_...), or PORTAL_DISPATCH_... like most settings.
        settings[name] = as_int(_env(name) or _env(f"PORTAL_{name}"), settings[name])
        if settings[name] < 0:
            raise ConfigError(f"{name} must not be negative")
    for name in ("DISPATCH_MAX_ATTEMPTS", "DISPATCH_LEASE_SECONDS", "DISPATCH_CHUNK_SIZE",
                 "DISPATCH_SEND_CONCURRENCY"):
        if settings[name] < 1:
            raise ConfigError(f"{name} must be at least 1")
    settings["DISPATCH_LETTER_BATCH_SIZE"] = as_int(_env("DISPATCH_LETTER_BATCH_SIZE"),
                                                    settings["DISPATCH_LETTER_BATCH_SIZE"])
    if settings["DISPATCH_LETTER_BATCH_SIZE"] < 1:
        raise ConfigError("DISPATCH_LETTER_BATCH_SIZE must be at least 1")
    settings["DISPATCH_LETTER_DIR"] = (_env("DISPATCH_LETTER_DIR")
                                       or str(instance_path / "letters"))
    # (end of dispatch environment)

    # Helpdesk settings from the environment.
    settings["TICKET_FIRST_RESPONSE_HOURS"] = as_int(
        _env("PORTAL_TICKET_FIRST_RESPONSE_HOURS"), settings["TICKET_FIRST_RESPONSE_HOURS"])
    settings["TICKET_RESOLUTION_HOURS"] = as_int(
        _env("PORTAL_TICKET_RESOLUTION_HOURS"), settings["TICKET_RESOLUTION_HOURS"])
    settings["TICKET_PRESENCE_SECONDS"] = as_int(
        _env("PORTAL_TICKET_PRESENCE_SECONDS"), settings["TICKET_PRESENCE_SECONDS"])
    settings["TICKET_QUEUE_PAGE_SIZE"] = as_int(
        _env("PORTAL_TICKET_QUEUE_PAGE_SIZE"), settings["TICKET_QUEUE_PAGE_SIZE"])
    settings["LIST_CACHE_SECONDS"] = as_int(
        _env("PORTAL_LIST_CACHE_SECONDS"), settings["LIST_CACHE_SECONDS"])
    for name in ("HELPDESK_UNLOCKS_PER_PERSON_PER_DAY", "HELPDESK_RESENDS_PER_PERSON_PER_DAY",
                 "HELPDESK_PERSON_GRANT_MINUTES"):
        settings[name] = as_int(_env(f"PORTAL_{name}"), settings[name])
        if settings[name] < (1 if name == "HELPDESK_PERSON_GRANT_MINUTES" else 0):
            raise ConfigError(f"{name} is out of range: {settings[name]}")
    # (end of helpdesk environment)
    settings["STAFF_SETUP_LINK_HOURS"] = as_int(
        _env("PORTAL_STAFF_SETUP_LINK_HOURS"), settings["STAFF_SETUP_LINK_HOURS"])
    if not 1 <= settings["STAFF_SETUP_LINK_HOURS"] <= 24 * 14:
        raise ConfigError("PORTAL_STAFF_SETUP_LINK_HOURS must be between 1 and 336")

    # Audit settings from the environment.
    settings["PORTAL_AUDIT_KEY"] = provided["PORTAL_AUDIT_KEY"]
    if len(settings["PORTAL_AUDIT_KEY"]) < 32:
        raise ConfigError("PORTAL_AUDIT_KEY must be at least 32 characters")
    settings["PORTAL_AUDIT_SIGNING_KEY"] = _check_signing_key(provided["PORTAL_AUDIT_SIGNING_KEY"])
    settings["PORTAL_AUDIT_CHECKPOINT_DIR"] = (
        _env("PORTAL_AUDIT_CHECKPOINT_DIR") or str(instance_path / "checkpoints"))
    settings["PORTAL_AUDIT_CHECKPOINT_MINUTES"] = as_int(
        _env("PORTAL_AUDIT_CHECKPOINT_MINUTES"), settings["PORTAL_AUDIT_CHECKPOINT_MINUTES"])
    if settings["PORTAL_AUDIT_CHECKPOINT_MINUTES"] < 1:
        raise ConfigError("PORTAL_AUDIT_CHECKPOINT_MINUTES must be at least 1")
    settings["PORTAL_AUDIT_CHECKPOINT_EMAIL"] = (
        _env("PORTAL_AUDIT_CHECKPOINT_EMAIL") or settings["PORTAL_AUDIT_CHECKPOINT_EMAIL"])
    settings["PORTAL_AUDIT_SEAL_SECONDS"] = as_int(
        _env("PORTAL_AUDIT_SEAL_SECONDS"), settings["PORTAL_AUDIT_SEAL_SECONDS"])
    if settings["PORTAL_AUDIT_SEAL_SECONDS"] < 1:
        raise ConfigError("PORTAL_AUDIT_SEAL_SECONDS must be at least 1")
    settings["PORTAL_RETENTION_DAYS"] = as_int(
        _env("PORTAL_RETENTION_DAYS"), settings["PORTAL_RETENTION_DAYS"])
    # (end of audit environment)

    # Oversight settings from the environment.
    settings["REPORTS_DAYS"] = as_int(_env("PORTAL_REPORTS_DAYS"), settings["REPORTS_DAYS"])
    if not 1 <= settings["REPORTS_DAYS"] <= 366:
        raise ConfigError("PORTAL_REPORTS_DAYS must be between 1 and 366")
    for name in ("REPORTS_SNAPSHOT_SECONDS", "REPORTS_REFRESH_SECONDS"):
        settings[name] = as_int(_env("PORTAL_" + name), settings[name])
        if settings[name] < 0:
            raise ConfigError(f"PORTAL_{name} cannot be negative")
    settings["SUBSTITUTE_NOTICE_MIN_DAYS"] = as_int(
        _env("PORTAL_SUBSTITUTE_NOTICE_MIN_DAYS"), settings["SUBSTITUTE_NOTICE_MIN_DAYS"])
    if settings["SUBSTITUTE_NOTICE_MIN_DAYS"] < 90:
        raise ConfigError("PORTAL_SUBSTITUTE_NOTICE_MIN_DAYS must be at least 90 "
                          "(HIPAA's substitute notice stays up 90 days)")
    # (end of oversight environment)

    settings["ENV_NAME"] = env_name
    return settings


def passwords_from_env() -> str | None:
    """Return ``PORTAL_PASSWORD`` for non-interactive ``users create``."""
    return _env("PORTAL_PASSWORD")


def settings_for_tests() -> dict[str, str | None]:
    """Settings the test-suite takes from the environment."""
    return {
        "database": _env("PORTAL_TEST_DB"),
        "postgres_url": _env("PORTAL_TEST_POSTGRES_URL"),
        "redis_url": _env("PORTAL_TEST_REDIS_URL"),
        "require_services": _env("REQUIRE_SERVICES"),
        "chromium": _env("PORTAL_TEST_CHROMIUM"),
        "artifacts": _env("PORTAL_TEST_ARTIFACTS"),
        "screenshots": _env("PORTAL_TEST_SCREENSHOTS"),
    }
