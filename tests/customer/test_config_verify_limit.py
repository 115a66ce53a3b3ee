"""The customer verification rate limit is a setting (load tests raise it)."""

from __future__ import annotations

from portal import config as settings


def test_customer_verify_rate_limit_defaults_and_reads_env(monkeypatch, tmp_path):
    for name in ("PORTAL_ENV", "PORTAL_CUSTOMER_VERIFY_RATE_LIMIT", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    default = settings.Config.CUSTOMER_VERIFY_RATE_LIMIT
    assert settings.load(tmp_path)["CUSTOMER_VERIFY_RATE_LIMIT"] == default
    monkeypatch.setenv("PORTAL_CUSTOMER_VERIFY_RATE_LIMIT", "100000 per minute")
    assert settings.load(tmp_path)["CUSTOMER_VERIFY_RATE_LIMIT"] == "100000 per minute"
