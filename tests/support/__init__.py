"""Plain helpers and constants for the tests (no fixtures; those live in tests/fixtures/).

Test modules import from here, never from a conftest.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from portal.config import TestConfig, as_bool, settings_for_tests

ENV = settings_for_tests()
REQUIRE_SERVICES = as_bool(ENV["require_services"])
POSTGRES_ADMIN_URL = ENV["postgres_url"] or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = ENV["redis_url"] or "redis://127.0.0.1:6379/0"
STAFF_PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(ENV["artifacts"] or Path(__file__).resolve().parents[2] / "test-artifacts")


def service_missing(reason: str):
    """Skip for a missing service, or fail when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


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


def csrf_token(client, url: str) -> str:
    """Fetch a page and return the CSRF token of its first form."""
    page = client.get(url)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    )
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)
