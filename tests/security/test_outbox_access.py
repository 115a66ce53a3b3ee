"""The development outbox: managers and admins only, codes masked, reveals logged.

Also: production refuses the outbox, and a start that other machines can reach
with the outbox on prints a loud warning.
"""

from __future__ import annotations

import logging
import re

import pyotp
import pytest
from sqlalchemy import select

from portal import config as settings
from portal.dispatch.channels import outbox as outbox_store
from portal.models import Interaction

CODE = "7K2D-QX9M-4TRB"
MASKED = "7K2D-••••-••••"


def _token(page) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


@pytest.fixture
def messages(db):
    """Two kept messages carrying the code (link and plain), one without."""
    ids = [
        outbox_store.store("sms", "+14155550100",
                           f"Open your notice here: http://localhost/n/{CODE}"),
        outbox_store.store("email", "someone@example.com",
                           f"Your notice code: {CODE}\n\nOpen it: http://localhost/N/{CODE}",
                           subject="Your notice code"),
        outbox_store.store("sms", "+14155550101", "There is a reply to your question."),
    ]
    db.session.commit()
    by_provider = {m.provider_id: m.id for m in outbox_store.recent(10)}
    return [by_provider[provider_id] for provider_id in ids]


@pytest.fixture
def manager(make_staff, login):
    user = make_staff("manager")
    login(user)
    return user


def _reveals(db) -> list[Interaction]:
    db.session.expire_all()
    return list(db.session.execute(
        select(Interaction).where(Interaction.action == "outbox.revealed")
    ).scalars())


def test_anonymous_visitors_are_sent_to_sign_in(client, messages):
    response = client.get("/dev/outbox")
    assert response.status_code == 302
    assert "/staff/login" in response.location
    assert CODE not in response.text


def test_anonymous_reveal_is_refused(client, messages):
    assert client.post(f"/dev/outbox/{messages[0]}/reveal").status_code == 400  # no CSRF token


def test_agents_get_403(client, make_staff, login, messages, db):
    login(make_staff("agent"))
    page = client.get("/dev/outbox")
    assert page.status_code == 403
    assert CODE not in page.text
    token = _token(client.get("/staff/account"))
    assert client.post(f"/dev/outbox/{messages[0]}/reveal",
                       data={"csrf_token": token}).status_code == 403
    assert _reveals(db) == []


def test_managers_see_messages_with_codes_masked(client, manager, messages):
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "There is a reply to your question." in page.text
    assert f"/n/{MASKED}" in page.text and f"/N/{MASKED}" in page.text
    assert f"Your notice code: {MASKED}" in page.text
    for part in (CODE, CODE.replace("-", ""), "QX9M", "4TRB"):
        assert part not in page.text
    # A reveal button for the two messages with a code, none for the third.
    assert page.text.count('class="inline-form outbox-reveal"') == 2


def test_admins_may_read_it(client, make_staff, login, messages):
    login(make_staff("admin", totp_secret=pyotp.random_base32()))
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    assert MASKED in page.text and CODE not in page.text


def test_reveal_is_logged_and_shows_one_message_once(client, db, manager, messages):
    sms_id, email_id, _plain = messages
    token = _token(client.get("/dev/outbox"))
    response = client.post(f"/dev/outbox/{email_id}/reveal", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.location.endswith(f"/dev/outbox#msg-{email_id}")
    [reveal] = _reveals(db)
    assert reveal.details == {"message_id": email_id}
    assert (reveal.actor_type, reveal.actor_id) == ("staff", manager.id)

    page = client.get("/dev/outbox")
    assert f"Your notice code: {CODE}" in page.text
    assert f"http://localhost/N/{CODE}" in page.text
    assert f"http://localhost/n/{MASKED}" in page.text  # the other message stays masked
    assert "Shown in full this once." in page.text

    again = client.get("/dev/outbox")
    assert CODE not in again.text
    assert len(_reveals(db)) == 1
    assert sms_id != email_id


def test_reveal_needs_the_csrf_token(client, db, manager, messages):
    assert client.post(f"/dev/outbox/{messages[0]}/reveal").status_code == 400
    assert client.post(f"/dev/outbox/{messages[0]}/reveal",
                       data={"csrf_token": "forged"}).status_code == 400
    assert _reveals(db) == []
    assert CODE not in client.get("/dev/outbox").text


def test_reveal_of_an_unknown_message_is_404(client, db, manager, messages):
    token = _token(client.get("/dev/outbox"))
    assert client.post("/dev/outbox/999999/reveal", data={"csrf_token": token}).status_code == 404
    assert _reveals(db) == []


@pytest.mark.parametrize(("text", "expected"), [
    (f"/n/{CODE}", f"/n/{MASKED}"),
    (f"/n/{CODE.lower()}", "/n/7k2d-••••-••••"),
    (f"/n/{CODE.replace('-', '')}?x=1", f"/n/{MASKED}?x=1"),
    (f"code: {CODE}.", f"code: {MASKED}."),
    ("no code here, 2026-11-28", "no code here, 2026-11-28"),
])
def test_masking(text, expected):
    assert outbox_store.masked(text) == expected


# --- production and exposure ------------------------------------------------------------


def _production_env(monkeypatch):
    from cryptography.fernet import Fernet

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("PORTAL_INDEX_KEY", "i" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")
    monkeypatch.setenv("PORTAL_AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("PORTAL_AUDIT_SIGNING_KEY", "c2lnbmluZy1rZXktb2YtdGhpcnR5LXR3by1ieXRlcyE=")


def test_production_refuses_the_outbox(monkeypatch, tmp_path):
    _production_env(monkeypatch)
    monkeypatch.delenv("PORTAL_OUTBOX", raising=False)
    loaded = settings.load(tmp_path)
    assert loaded["OUTBOX_ENABLED"] is False and not loaded["DEV_PAGES"]
    monkeypatch.setenv("PORTAL_OUTBOX", "1")
    with pytest.raises(settings.ConfigError, match="PORTAL_OUTBOX"):
        settings.load(tmp_path)


@pytest.mark.parametrize(("base_url", "bind", "warns"), [
    ("http://127.0.0.1:5000", None, False),
    ("http://localhost", "127.0.0.1", False),
    ("http://[::1]:5000", "::1", False),
    ("http://127.0.0.1:5000", "0.0.0.0", True),  # noqa: S104 - the case under test
    ("https://portal.example.com", None, True),
    ("http://192.168.1.20:5000", None, True),
])
def test_exposure_warning(base_url, bind, warns):
    config = {"OUTBOX_ENABLED": True, "PORTAL_BASE_URL": base_url}
    warning = outbox_store.exposure_warning(config, bind_host=bind)
    assert (warning is not None) == warns
    if warns:
        assert "outbox is ON" in warning
    assert outbox_store.exposure_warning(dict(config, OUTBOX_ENABLED=False), bind) is None


def test_app_start_warns_when_the_base_url_is_public(make_app, caplog):
    with caplog.at_level(logging.WARNING, logger="portal"):
        make_app(PORTAL_BASE_URL="https://portal.example.com")
    assert "development outbox is ON" in caplog.text
    assert "PORTAL_BASE_URL is https://portal.example.com" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="portal"):
        make_app(PORTAL_BASE_URL="https://portal.example.com", OUTBOX_ENABLED=False)
        make_app(PORTAL_BASE_URL="http://127.0.0.1:5000")
    assert "outbox" not in caplog.text


def test_demo_names_the_outbox_reader_and_warns_on_a_public_bind(app, db, monkeypatch):
    import flask_migrate
    import werkzeug.serving

    served = []
    monkeypatch.setattr(flask_migrate, "upgrade", lambda: None)
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *args, **kw: served.append(args))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--host", "0.0.0.0"])  # noqa: S104 - the case under test
    assert result.exit_code == 0, result.output
    assert "Sign in as a manager or admin to read it, e.g. manager@demo.example" in result.output
    assert "development outbox is ON" in result.stderr
    assert "the server listens on 0.0.0.0" in result.stderr
    assert served and served[0][0] == "0.0.0.0"  # noqa: S104

    quiet = runner.invoke(args=["demo", "--host", "127.0.0.1"])
    assert quiet.exit_code == 0, quiet.output
    assert "outbox is ON" not in quiet.stderr


SETUP_TOKEN = "s3tUp-T0ken_only.the.invitee-holds"


@pytest.fixture
def invitation(db):
    """The set-up link an administrator's invitation e-mails to a new staff member."""
    outbox_store.store("email", "new.admin@example.com",
                       f"Choose your password: http://localhost/staff/setup/{SETUP_TOKEN}\n",
                       subject="Your staff account")
    db.session.commit()
    return outbox_store.recent(1)[0].id


def test_a_staff_set_up_link_is_masked_and_only_an_administrator_may_reveal_it(
        client, make_staff, login, invitation, db):
    """Whoever holds a set-up link chooses that account's password: a manager who could
    read an invited administrator's link on the outbox could become that administrator."""
    login(make_staff("manager"))
    page = client.get("/dev/outbox")
    assert SETUP_TOKEN not in page.text and "/staff/setup/••••" in page.text
    assert 'class="inline-form outbox-reveal"' not in page.text  # no button to press
    refused = client.post(f"/dev/outbox/{invitation}/reveal",
                          data={"csrf_token": _token(client.get("/staff/account"))})
    assert refused.status_code == 403 and _reveals(db) == []
    assert SETUP_TOKEN not in client.get("/dev/outbox").text
    client.post("/staff/logout", data={"csrf_token": _token(client.get("/staff/account"))})
    login(make_staff("admin", totp_secret=pyotp.random_base32()))
    page = client.get("/dev/outbox")
    assert SETUP_TOKEN not in page.text  # masked until asked for, as codes are
    client.post(f"/dev/outbox/{invitation}/reveal", data={"csrf_token": _token(page)})
    assert SETUP_TOKEN in client.get("/dev/outbox").text and len(_reveals(db)) == 1
