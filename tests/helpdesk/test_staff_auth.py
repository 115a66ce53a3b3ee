"""Staff sign-in: passwords, lockout, TOTP, sign-out, CSRF and role checks."""

from __future__ import annotations

from functools import partial

import pyotp
import pytest
from sqlalchemy import select

from portal.models import Interaction, StaffUser
from tests.support import STAFF_PASSWORD, csrf_token
from tests.support.race import run_together


def actions(db) -> list[str]:
    return list(db.session.execute(select(Interaction.action).order_by(Interaction.id)).scalars())


def _address_locked(db, agent) -> bool:
    """Whether sign-ins to ``agent`` from some address are locked."""
    from portal.models import AttemptCounter
    from portal.models.base import utcnow

    db.session.expire_all()
    return db.session.execute(
        select(AttemptCounter).where(AttemptCounter.key.like(f"staff:{agent.id}:%"),
                                     AttemptCounter.locked_until > utcnow())
    ).first() is not None


def _post_login(app, email: str, password: str, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(client, "/staff/login")
    return client.post("/staff/login",
                       data={"email": email, "password": password, "csrf_token": token})


def test_login_page_renders_with_security_headers(client):
    response = client.get("/staff/login")
    assert response.status_code == 200
    assert "Staff sign-in" in response.text
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'nonce-" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_agent_signs_in_lands_on_helpdesk_and_signs_out(client, make_staff, login, db):
    agent = make_staff("agent")
    response = login(agent)
    assert response.status_code == 302
    assert response.location.endswith("/helpdesk/")
    home = client.get("/helpdesk/")
    assert home.status_code == 200
    assert agent.name in home.text
    token = csrf_token(client, "/helpdesk/")
    response = client.post("/staff/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/helpdesk/").status_code == 302  # back to sign-in
    assert actions(db) == ["staff.login", "staff.logout"]


def test_post_without_csrf_token_is_rejected(client, make_staff):
    agent = make_staff("agent")
    response = client.post("/staff/login", data={"email": agent.email, "password": STAFF_PASSWORD})
    assert response.status_code == 400
    assert "Bad request" in response.text


def test_logout_requires_post_with_csrf(client, make_staff, login):
    login(make_staff("agent"))
    assert client.get("/staff/logout").status_code == 405
    assert client.post("/staff/logout", data={}).status_code == 400
    assert client.get("/helpdesk/").status_code == 200  # still signed in


def test_wrong_password_is_generic_and_five_failures_lock(client, make_staff, login, db):
    agent = make_staff("agent")
    for _ in range(5):
        response = login(agent, password="wrong password!!")
        assert response.status_code == 401
        assert "Sign-in failed" in response.text
    # Locked from this address (issue 12: not for everyone, see below).
    assert _address_locked(db, agent)
    # Even the right password is refused while locked, with the same message.
    response = login(agent)
    assert response.status_code == 401
    assert "Sign-in failed" in response.text
    assert client.get("/helpdesk/").status_code == 302
    logged = actions(db)
    assert logged.count("staff.login_failed") == 6
    assert "staff.locked" in logged


def test_lock_expires(client, make_staff, login, db):
    from datetime import timedelta

    from portal.models.base import utcnow

    agent = make_staff("agent", locked_until=utcnow() - timedelta(seconds=1))
    assert login(agent).status_code == 302


def test_unknown_email_fails_like_a_wrong_password(client, make_staff, db):
    token = csrf_token(client, "/staff/login")
    response = client.post(
        "/staff/login",
        data={"email": "nobody@staff.example", "password": "whatever pass", "csrf_token": token},
    )
    assert response.status_code == 401
    assert "Sign-in failed" in response.text


def test_inactive_account_cannot_sign_in(client, make_staff, login):
    agent = make_staff("agent", active=False)
    assert login(agent).status_code == 401


def test_deactivation_ends_existing_sessions(client, make_staff, login, db):
    agent = make_staff("agent")
    login(agent)
    assert client.get("/helpdesk/").status_code == 200
    agent.active = False
    agent.session_version += 1
    db.session.commit()
    assert client.get("/helpdesk/").status_code == 302


def test_admin_must_set_up_totp_before_the_session_starts(client, make_staff, login, db):
    admin = make_staff("admin")
    response = login(admin)
    assert response.status_code == 302
    assert response.location.endswith("/staff/two-factor/setup")
    assert client.get("/helpdesk/").status_code == 302  # not signed in yet
    page = client.get("/staff/two-factor/setup")
    assert "Administrators must use two-factor sign-in" in page.text
    secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0]
    token = csrf_token(client, "/staff/two-factor/setup")
    bad = client.post("/staff/two-factor/setup", data={"code": "000000", "csrf_token": token})
    assert bad.status_code in (400, 401)
    response = client.post(
        "/staff/two-factor/setup",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": token},
    )
    assert response.status_code == 302
    assert client.get("/helpdesk/").status_code == 200
    db.session.refresh(admin)
    assert admin.totp_enabled
    assert "staff.totp_enabled" in actions(db)


def test_totp_code_required_and_not_replayable(client, make_staff, db):
    secret = pyotp.random_base32()
    manager = make_staff("manager", totp_secret=secret)
    token = csrf_token(client, "/staff/login")
    response = client.post(
        "/staff/login",
        data={"email": manager.email, "password": STAFF_PASSWORD, "csrf_token": token},
    )
    assert response.location.endswith("/staff/login/code")
    assert client.get("/helpdesk/").status_code == 302
    token = csrf_token(client, "/staff/login/code")
    wrong = client.post("/staff/login/code", data={"code": "123456", "csrf_token": token})
    assert wrong.status_code in (400, 401)
    code = pyotp.TOTP(secret).now()
    ok = client.post("/staff/login/code", data={"code": code, "csrf_token": token})
    assert ok.status_code == 302
    assert client.get("/helpdesk/").status_code == 200
    # Sign out and try the same code again: refused as a replay.
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/helpdesk/")})
    token = csrf_token(client, "/staff/login")
    client.post(
        "/staff/login",
        data={"email": manager.email, "password": STAFF_PASSWORD, "csrf_token": token},
    )
    token = csrf_token(client, "/staff/login/code")
    replay = client.post("/staff/login/code", data={"code": code, "csrf_token": token})
    assert replay.status_code == 401


def test_non_admin_can_enable_and_disable_totp(client, make_staff, login, db):
    agent = make_staff("agent")
    login(agent)
    page = client.get("/staff/two-factor/setup")
    secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0]
    token = csrf_token(client, "/staff/two-factor/setup")
    totp = pyotp.TOTP(secret)
    client.post("/staff/two-factor/setup", data={"code": totp.now(), "csrf_token": token})
    db.session.refresh(agent)
    assert agent.totp_enabled
    token = csrf_token(client, "/staff/account")
    # The code just used is refused (replay); the next time step's code works.
    import time

    next_code = totp.at(time.time() + 30)
    client.post("/staff/two-factor/disable", data={"code": next_code, "csrf_token": token})
    db.session.refresh(agent)
    assert not agent.totp_enabled


def test_open_redirect_is_refused(client, make_staff):
    agent = make_staff("agent")
    token = csrf_token(client, "/staff/login")
    response = client.post(
        "/staff/login?next=https://evil.example/",
        data={"email": agent.email, "password": STAFF_PASSWORD, "csrf_token": token},
    )
    assert response.location.endswith("/helpdesk/")


def test_next_same_site_path_is_followed(client, make_staff):
    agent = make_staff("agent")
    token = csrf_token(client, "/staff/login")
    response = client.post(
        "/staff/login?next=/staff/account",
        data={"email": agent.email, "password": STAFF_PASSWORD, "csrf_token": token},
    )
    assert response.location.endswith("/staff/account")


@pytest.mark.parametrize("path", ["/helpdesk/", "/staff/account"])
def test_staff_pages_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/staff/login" in response.location


def test_role_decorator_refuses_lower_roles(app, client, make_staff, login):
    from portal.security.permissions import staff_required

    @app.get("/_test/managers-only")
    @staff_required("manager")
    def managers_only():
        return "ok"

    login(make_staff("agent"))
    assert client.get("/_test/managers-only").status_code == 403


def test_per_ip_rate_limit(app_settings, app, client, make_staff):
    agent = make_staff("agent")
    limit = int(app.config["STAFF_LOGIN_RATE_LIMIT"].split(" ")[0])
    responses = []
    for _ in range(limit + 1):
        token = csrf_token(client, "/staff/login")
        responses.append(
            client.post(
                "/staff/login",
                data={"email": agent.email + "x", "password": "nope nope", "csrf_token": token},
            )
        )
    assert [r.status_code for r in responses[:limit]] == [401] * limit
    assert responses[-1].status_code == 429
    assert "Too many attempts" in responses[-1].text


def test_user_is_stored_with_argon2(db, make_staff):
    user = make_staff("agent")
    stored = db.session.execute(select(StaffUser.password_hash).where(StaffUser.id == user.id))
    assert stored.scalar_one().startswith("$argon2id$")


@pytest.mark.redis
def test_rate_limit_is_counted_in_redis_when_configured(redis, make_app, db, make_staff):
    """Processes sharing Redis share the per-IP limit: two apps, one budget."""
    import uuid

    from tests.support import REDIS_URL

    prefix = f"test-limits-{uuid.uuid4().hex[:8]}"
    settings = {
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "STAFF_LOGIN_RATE_LIMIT": "3 per minute",
    }
    first, second = make_app(**settings), make_app(**settings)
    statuses = []
    for application in (first, second, first, second):
        client = application.test_client()
        token = csrf_token(client, "/staff/login")
        statuses.append(
            client.post(
                "/staff/login",
                data={"email": "x@staff.example", "password": "nope nope", "csrf_token": token},
            ).status_code
        )
    assert statuses == [401, 401, 401, 429]
    assert any(prefix in key.decode() for key in redis.scan_iter(f"*{prefix}*"))
    for key in redis.scan_iter(f"*{prefix}*"):
        redis.delete(key)


def test_parallel_wrong_passwords_cannot_outrun_the_lockout(app, db, make_staff):
    """Twelve attempts at once: exactly five are checked, then the account is locked."""
    agent = make_staff("agent")
    email = agent.email
    clients = [app.test_client() for _ in range(12)]
    tokens = [csrf_token(client, "/staff/login") for client in clients]
    statuses = []

    def attempt(client, token):
        response = client.post(
            "/staff/login",
            data={"email": email, "password": "wrong password!!", "csrf_token": token},
        )
        statuses.append(response.status_code)

    run_together([partial(attempt, *pair) for pair in zip(clients, tokens, strict=True)])
    assert statuses == [401] * 12
    db.session.expire_all()
    assert _address_locked(db, agent)
    rows = db.session.execute(
        select(Interaction.details).where(Interaction.action == "staff.login_failed")
    ).scalars().all()
    reasons = [row["reason"] for row in rows]
    assert reasons.count("password") == 5
    assert reasons.count("locked") == 7
    assert actions(db).count("staff.locked") == 1


def test_sign_out_ends_copies_of_the_session_cookie(app, client, make_staff, login):
    agent = make_staff("agent")
    login(agent)
    with client.session_transaction() as session:
        stolen = dict(session)
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/helpdesk/")})
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(stolen)
    assert thief.get("/helpdesk/").status_code == 302


def test_idle_staff_session_ends(client, make_staff, login, db):
    import time

    login(make_staff("agent"))
    assert client.get("/helpdesk/").status_code == 200
    with client.session_transaction() as session:
        session["staff_seen_at"] = time.time() - 61 * 60
    response = client.get("/helpdesk/")
    assert response.status_code == 302
    assert "/staff/login" in response.location
    assert "staff.session_expired" in actions(db)


# --- issue 12 item 4: nobody locks an agent out from outside ---------------------------------


def test_an_outsider_s_failures_do_not_lock_the_agent_out(app, db, make_staff):
    agent = make_staff("agent")
    for _ in range(6):
        assert _post_login(app, agent.email, "wrong password!!", "198.51.100.9").status_code == 401
    assert _post_login(app, agent.email, STAFF_PASSWORD, "198.51.100.9").status_code == 401
    assert _post_login(app, agent.email, STAFF_PASSWORD, "192.0.2.10").status_code == 302
    db.session.expire_all()
    assert not db.session.get(StaffUser, agent.id).is_locked()


class TestManyAddresses:
    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["STAFF_ACCOUNT_LOCKOUT_ATTEMPTS"] = 12
        app_settings["STAFF_LOGIN_RATE_LIMIT"] = "1000 per minute"
        return app_settings

    def test_many_failures_from_many_addresses_lock_the_account_and_tell_admins(
            self, app, db, make_staff):
        from portal.models import OutboxMessage

        admin = make_staff("admin")
        agent = make_staff("agent")
        for index in range(12):
            address = f"203.0.113.{index // 4}"  # three addresses, four failures each
            assert _post_login(app, agent.email, "wrong password!!", address).status_code == 401
        db.session.expire_all()
        assert db.session.get(StaffUser, agent.id).is_locked()
        assert _post_login(app, agent.email, STAFF_PASSWORD, "192.0.2.10").status_code == 401
        scopes = [row["scope"] for row in db.session.execute(
            select(Interaction.details).where(Interaction.action == "staff.locked")).scalars()]
        assert scopes == ["account"]
        mails = db.session.execute(select(OutboxMessage)).scalars().all()
        assert [mail.recipient for mail in mails] == [admin.email]
        assert agent.email in mails[0].body


def test_lock_texts_follow_the_settings(app, client, make_staff, db):
    """The sign-in page and the two-step lock message name the configured numbers."""
    app.config.update(STAFF_LOCKOUT_ATTEMPTS=3, STAFF_LOCKOUT_MINUTES=20)
    secret = pyotp.random_base32()
    manager = make_staff("manager", totp_secret=secret)
    token = csrf_token(client, "/staff/login")
    failed = client.post("/staff/login", data={"email": manager.email,
                                               "password": "wrong password!!",
                                               "csrf_token": token})
    assert "After 3 failed attempts an account is locked for 20 minutes." in failed.text
    client.post("/staff/login", data={"email": manager.email, "password": STAFF_PASSWORD,
                                      "csrf_token": token})
    token = csrf_token(client, "/staff/login/code")
    for _ in range(3):
        response = client.post("/staff/login/code", data={"code": "000000",
                                                          "csrf_token": token})
    assert response.status_code == 302  # back to the first step, with the lock's length
    page = client.get(response.location)
    assert "Your account is locked for 20 minutes." in page.text
