"""Issue 11 item 7: administrators manage staff at /helpdesk/staff.

Create with a one-time set-up link (never a typed password), change role, deactivate and
reactivate, unlock, reset two-factor, issue a new link; the last active administrator and
one's own administrator role are kept; every change is logged.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from portal.models import AttemptCounter, Interaction, StaffSetupLink, StaffUser
from portal.models.base import utcnow
from tests.support import STAFF_PASSWORD, csrf_token


@pytest.fixture
def admin_login(app, make_staff):
    """``admin_login(client=None)``: a client signed in as a new administrator (with TOTP)."""

    def sign_in(client=None, user=None):
        client = client or app.test_client()
        user = user or make_staff("admin", totp_secret=pyotp.random_base32())
        token = csrf_token(client, "/staff/login")
        client.post("/staff/login", data={"email": user.email, "password": STAFF_PASSWORD,
                                          "csrf_token": token})
        token = csrf_token(client, "/staff/login/code")
        done = client.post("/staff/login/code", data={
            "code": pyotp.TOTP(user.totp_secret).now(), "csrf_token": token})
        assert done.status_code == 302, done.text
        client.admin = user
        return client

    return sign_in


def _post(client, url: str, data: dict | None = None):
    return client.post(url, data={**(data or {}),
                                  "csrf_token": csrf_token(client, "/staff/account")})


def _create(client, name="Nia Newcomer", email="nia@staff.example", role="agent"):
    return _post(client, "/helpdesk/staff/", {"name": name, "email": email, "role": role})


def _link_path(response) -> str:
    return re.search(r'value="https?://[^/"]+(/staff/setup/[^"]+)"', response.text).group(1)


def _logged(db, action: str) -> list[Interaction]:
    db.session.expire_all()
    return list(db.session.execute(select(Interaction).where(Interaction.action == action)
                                   .order_by(Interaction.id)).scalars())


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_only_admins_reach_staff_pages(app, client, db, make_staff, login, role):
    target = make_staff("agent")
    login(make_staff(role))
    assert client.get("/helpdesk/staff/").status_code == 403
    assert client.get(f"/helpdesk/staff/{target.id}").status_code == 403
    token = csrf_token(client, "/staff/account")
    for path in ("/role", "/deactivate", "/unlock", "/two-factor/reset", "/link"):
        response = client.post(f"/helpdesk/staff/{target.id}{path}",
                               data={"role": "admin", "csrf_token": token})
        assert response.status_code == 403, path
    assert _create(client).status_code == 403
    assert 'href="/helpdesk/staff/"' not in client.get("/helpdesk/").text
    db.session.refresh(target)
    assert target.role == "agent" and target.active


def test_admin_sees_the_list_and_the_nav_entry(app, db, make_staff, admin_login):
    agent = make_staff("agent", email="zed@staff.example")
    client = admin_login()
    page = client.get("/helpdesk/staff/")
    assert page.status_code == 200
    assert agent.email in page.text and client.admin.email in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert 'href="/helpdesk/staff/"' in client.get("/helpdesk/").text


def test_create_issues_a_one_time_link_that_sets_the_password(app, db, admin_login):
    from portal.dispatch.channels import outbox

    admin = admin_login()
    created = _create(admin, role="manager")
    assert created.status_code == 201
    path = _link_path(created)
    token = path.rsplit("/", 1)[1]
    user = db.session.execute(select(StaffUser).where(
        StaffUser.email == "nia@staff.example")).scalar_one()
    assert user.role == "manager" and user.active
    # Only a digest is stored; the token is in no row of the log.
    stored = db.session.execute(select(StaffSetupLink)).scalar_one()
    assert stored.token_digest != token and len(stored.token_digest) == 64
    for row in db.session.execute(select(Interaction)).scalars():
        assert token not in str(row.details)
    assert [row.details["staff_id"] for row in _logged(db, "staff.invited")] == [user.id]
    # The link went by email to the new member.
    mail = outbox.recent(1)[0]
    assert mail.recipient == "nia@staff.example" and path in mail.body
    # Nobody knows the password yet: it cannot sign in.
    newcomer = app.test_client()
    signin = csrf_token(newcomer, "/staff/login")
    failed = newcomer.post("/staff/login", data={"email": user.email, "password": "x" * 20,
                                                 "csrf_token": signin})
    assert failed.status_code == 401
    # The link page names the account to its owner and sets the password.
    form = newcomer.get(path)
    assert form.status_code == 200 and "Nia Newcomer" in form.text
    mismatch = newcomer.post(path, data={"password": "a good long password",
                                         "confirm": "another long password",
                                         "csrf_token": csrf_token(newcomer, path)})
    assert mismatch.status_code == 400 and "The two passwords differ." in mismatch.text
    short = newcomer.post(path, data={"password": "short", "confirm": "short",
                                      "csrf_token": csrf_token(newcomer, path)})
    assert short.status_code == 400 and "at least 12 characters" in short.text
    done = newcomer.post(path, data={"password": "a good long password",
                                     "confirm": "a good long password",
                                     "csrf_token": csrf_token(newcomer, path)})
    assert done.status_code == 302 and done.location.endswith("/staff/login")
    assert [row.actor_id for row in _logged(db, "staff.setup_completed")] == [user.id]
    signin = csrf_token(newcomer, "/staff/login")
    ok = newcomer.post("/staff/login", data={"email": user.email,
                                             "password": "a good long password",
                                             "csrf_token": signin})
    assert ok.status_code == 302 and ok.location.endswith("/helpdesk/")
    # Used once: the same link now gets the page every unusable link gets.
    again = app.test_client().get(path)
    unknown = app.test_client().get("/staff/setup/" + "A" * 43)
    assert again.status_code == unknown.status_code == 404
    assert "This link does not work" in again.text
    def without_nonce(text: str) -> str:
        return re.sub(r'nonce="[^"]*"', "", text)

    assert without_nonce(again.text) == without_nonce(unknown.text)


def test_an_expired_or_replaced_link_does_not_work(app, db, admin_login):
    admin = admin_login()
    first = _link_path(_create(admin))
    user = db.session.execute(select(StaffUser).where(
        StaffUser.email == "nia@staff.example")).scalar_one()
    renewed = _post(admin, f"/helpdesk/staff/{user.id}/link")
    assert renewed.status_code == 200
    second = _link_path(renewed)
    assert second != first
    assert app.test_client().get(first).status_code == 404  # replaced
    assert app.test_client().get(second).status_code == 200
    assert len(_logged(db, "staff.setup_link_renewed")) == 1
    for link in db.session.execute(select(StaffSetupLink)).scalars():
        link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(second).status_code == 404  # expired


def test_bad_input_is_named_and_kept(app, db, make_staff, admin_login):
    make_staff("agent", email="taken@staff.example")
    admin = admin_login()
    invalid = _create(admin, name="Kept Name", email="not an address")
    assert invalid.status_code == 400
    assert "Enter a valid email address." in invalid.text and 'value="Kept Name"' in invalid.text
    taken = _create(admin, name="Kept Name", email="Taken@staff.example")
    assert taken.status_code == 400
    assert "A staff account with this email address exists." in taken.text
    assert db.session.execute(select(StaffUser).where(
        StaffUser.name == "Kept Name")).first() is None
    assert db.session.execute(select(StaffSetupLink)).first() is None


def test_role_change_deactivation_and_reactivation(app, db, make_staff, login, admin_login):
    agent = make_staff("agent")
    agent_client = app.test_client()
    token = csrf_token(agent_client, "/staff/login")
    agent_client.post("/staff/login", data={"email": agent.email, "password": STAFF_PASSWORD,
                                            "csrf_token": token})
    assert agent_client.get("/helpdesk/").status_code == 200
    admin = admin_login()
    assert _post(admin, f"/helpdesk/staff/{agent.id}/role",
                 {"role": "manager"}).status_code == 302
    db.session.refresh(agent)
    assert agent.role == "manager"
    assert _logged(db, "staff.role_changed")[-1].details == {
        "staff_id": agent.id, "from": "agent", "to": "manager"}
    # A changed role ends the open session: pages rendered under the old role are gone.
    assert agent_client.get("/helpdesk/").status_code == 302
    assert _post(admin, f"/helpdesk/staff/{agent.id}/deactivate").status_code == 302
    db.session.refresh(agent)
    assert not agent.active
    assert len(_logged(db, "staff.deactivated")) == 1
    assert login(agent).status_code == 401  # cannot sign in
    assert _post(admin, f"/helpdesk/staff/{agent.id}/reactivate").status_code == 302
    db.session.refresh(agent)
    assert agent.active and len(_logged(db, "staff.reactivated")) == 1
    assert login(agent).status_code == 302


def test_an_admin_keeps_their_own_admin_role(app, db, admin_login):
    admin = admin_login()
    me = admin.admin
    refused = _post(admin, f"/helpdesk/staff/{me.id}/role", {"role": "agent"})
    assert refused.status_code == 409
    assert "You cannot remove your own administrator role" in refused.text
    refused = _post(admin, f"/helpdesk/staff/{me.id}/deactivate")
    assert refused.status_code == 409
    db.session.refresh(me)
    assert me.role == "admin" and me.active
    assert _logged(db, "staff.role_changed") == [] and _logged(db, "staff.deactivated") == []


def test_the_last_active_admin_stays(app, db, make_staff):
    from portal.security import staff_accounts
    from portal.security.staff_accounts import StaffError

    only = make_staff("admin")
    other = make_staff("admin", active=False)
    manager = make_staff("manager")
    with app.test_request_context():
        with pytest.raises(StaffError, match="last active administrator"):
            staff_accounts.change_role(only, "manager", by=manager)
        with pytest.raises(StaffError, match="last active administrator"):
            staff_accounts.deactivate(only, by=manager)
        db.session.rollback()
        # With a second active admin, one of them may go.
        staff_accounts.reactivate(db.session.get(StaffUser, other.id), by=only)
        assert staff_accounts.change_role(db.session.get(StaffUser, only.id), "manager",
                                          by=other)
        db.session.commit()
    roles = {user.id: (user.role, user.active)
             for user in db.session.execute(select(StaffUser)).scalars()}
    assert roles[only.id] == ("manager", True) and roles[other.id] == ("admin", True)


def test_unlock_lifts_the_account_and_every_address_lock(app, db, make_staff, admin_login):
    locked = make_staff("agent", locked_until=utcnow() + timedelta(minutes=60),
                        failed_logins=50)
    later = utcnow() + timedelta(minutes=15)
    db.session.add_all([
        AttemptCounter(key=f"staff:{locked.id}:203.0.113.7", failures=5, locked_until=later),
        AttemptCounter(key=f"staff:{locked.id}:198.51.100.2", failures=5, locked_until=later),
        AttemptCounter(key=f"staff:{locked.id}1:198.51.100.2", failures=5, locked_until=later),
    ])
    db.session.commit()
    admin = admin_login()
    assert "Locked" in admin.get("/helpdesk/staff/").text
    assert _post(admin, f"/helpdesk/staff/{locked.id}/unlock").status_code == 302
    db.session.expire_all()
    user = db.session.get(StaffUser, locked.id)
    assert user.locked_until is None and user.failed_logins == 0
    keys = set(db.session.execute(select(AttemptCounter.key)).scalars())
    assert not any(key.startswith(f"staff:{locked.id}:") for key in keys)
    assert f"staff:{locked.id}1:198.51.100.2" in keys  # another account's lock stays
    assert _logged(db, "staff.unlocked")[-1].details["address_locks"] == 2


def test_reset_two_factor_ends_sessions_and_asks_for_setup_again(app, db, make_staff,
                                                                admin_login):
    manager = make_staff("manager", totp_secret=pyotp.random_base32())
    admin = admin_login()
    assert _post(admin, f"/helpdesk/staff/{manager.id}/two-factor/reset").status_code == 302
    db.session.refresh(manager)
    assert manager.totp_secret is None and manager.totp_last_step is None
    assert len(_logged(db, "staff.totp_reset")) == 1
    # An admin who loses their phone is reset the same way: the next sign-in asks for setup.
    other_admin = make_staff("admin", totp_secret=pyotp.random_base32())
    _post(admin, f"/helpdesk/staff/{other_admin.id}/two-factor/reset")
    client = app.test_client()
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/login", data={"email": other_admin.email,
                                                 "password": STAFF_PASSWORD,
                                                 "csrf_token": token})
    assert response.location.endswith("/staff/two-factor/setup")


def test_users_unlock_command_clears_address_locks_too(app, db, make_staff, runner):
    locked = make_staff("agent", locked_until=utcnow() + timedelta(minutes=60))
    db.session.add(AttemptCounter(key=f"staff:{locked.id}:203.0.113.7", failures=5,
                                  locked_until=utcnow() + timedelta(minutes=15)))
    db.session.commit()
    result = runner.invoke(args=["users", "unlock", "--email", locked.email])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.execute(select(AttemptCounter)).first() is None
    assert db.session.get(StaffUser, locked.id).locked_until is None


def test_setup_tokens_are_redacted_from_request_logs():
    from portal.security.logs import redact

    line = '127.0.0.1 - - "GET /staff/setup/abcDEF123_-x?next=1 HTTP/1.1" 200 -'
    assert "abcDEF123" not in redact(line) and "/staff/setup/[redacted]" in redact(line)
    assert "abc" not in redact("GET /staff/%73etup/abc HTTP/1.1")
    assert redact("GET /n/ABCD-EFGH-JKMN HTTP/1.1") == "GET /n/[redacted] HTTP/1.1"


def _signed_in(app, user):
    """A client signed in as ``user`` with their password (no two-factor)."""
    client = app.test_client()
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/login", data={"email": user.email,
                                                 "password": STAFF_PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 302 and "/staff/" not in response.location, response.location
    return client


def test_deactivation_ends_the_members_open_session(app, db, make_staff, admin_login):
    agent = make_staff("agent")
    agent_client = _signed_in(app, agent)
    assert agent_client.get("/helpdesk/tickets/").status_code == 200
    admin = admin_login()
    assert _post(admin, f"/helpdesk/staff/{agent.id}/deactivate").status_code == 302
    ended = agent_client.get("/helpdesk/tickets/")
    assert ended.status_code == 302 and "/staff/login" in ended.location


def test_deactivate_and_reset_ask_for_confirmation_first(app, db, make_staff, admin_login):
    agent = make_staff("agent", totp_secret=pyotp.random_base32())
    admin = admin_login()
    show = admin.get(f"/helpdesk/staff/{agent.id}").text
    # The account page only links to the confirmation pages; it posts neither action.
    assert f'action="/helpdesk/staff/{agent.id}/deactivate"' not in show
    assert f'href="/helpdesk/staff/{agent.id}/deactivate"' in show
    assert f'action="/helpdesk/staff/{agent.id}/two-factor/reset"' not in show
    assert f'href="/helpdesk/staff/{agent.id}/two-factor/reset"' in show
    for path, button in (("/deactivate", "Yes, deactivate the account"),
                         ("/two-factor/reset", "Yes, reset two-factor sign-in")):
        page = admin.get(f"/helpdesk/staff/{agent.id}{path}")
        assert page.status_code == 200
        assert button in page.text and agent.name in page.text
        assert f'action="/helpdesk/staff/{agent.id}{path}"' in page.text
        assert page.headers["Cache-Control"] == "no-store"
    db.session.refresh(agent)
    assert agent.active and agent.totp_secret is not None  # a GET changes nothing
    assert _logged(db, "staff.deactivated") == [] and _logged(db, "staff.totp_reset") == []


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_after_a_reset_any_role_sets_up_two_factor_at_the_next_sign_in(app, db, make_staff,
                                                                       admin_login, role):
    member = make_staff(role, totp_secret=pyotp.random_base32())
    admin = admin_login()
    assert _post(admin, f"/helpdesk/staff/{member.id}/two-factor/reset").status_code == 302
    db.session.refresh(member)
    assert member.totp_secret is None and member.totp_required
    assert "set-up due at the next sign-in" in admin.get("/helpdesk/staff/").text
    client = app.test_client()
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/login", data={"email": member.email,
                                                 "password": STAFF_PASSWORD,
                                                 "csrf_token": token})
    assert response.location.endswith("/staff/two-factor/setup")
    # No session until the authenticator is set up again.
    assert client.get("/helpdesk/tickets/").status_code == 302
    page = client.get("/staff/two-factor/setup")
    assert "An administrator reset your two-factor sign-in" in page.text
    with client.session_transaction() as session:
        secret = session["staff_totp_setup_secret"]
    done = client.post("/staff/two-factor/setup", data={
        "code": pyotp.TOTP(secret).now(),
        "csrf_token": csrf_token(client, "/staff/two-factor/setup")})
    assert done.status_code == 302
    assert client.get("/helpdesk/tickets/").status_code == 200
    db.session.expire_all()
    member = db.session.get(StaffUser, member.id)
    assert member.totp_secret == secret and not member.totp_required


def test_two_admins_demoting_each_other_at_once_leave_one(app, db, make_staff):
    """Concurrent requests: the admins' rows are locked (or the writers serialised), so
    two administrators taking each other's role at the same moment cannot both succeed."""
    from sqlalchemy.exc import OperationalError

    from portal.security import staff_accounts
    from portal.security.staff_accounts import StaffError
    from tests.support.race import run_together

    first, second = make_staff("admin"), make_staff("admin")

    def demote(target_id: int, by_id: int):
        def call():
            with app.test_request_context():
                try:
                    target = db.session.get(StaffUser, target_id)
                    by = db.session.get(StaffUser, by_id)
                    staff_accounts.change_role(target, "manager", by=by)
                    db.session.commit()
                    return True
                except (StaffError, OperationalError):
                    db.session.rollback()
                    return False
                finally:
                    db.session.remove()
        return call

    for _round in range(3):
        results = run_together([demote(first.id, second.id), demote(second.id, first.id)])
        db.session.expire_all()
        admins = db.session.execute(select(StaffUser.id).where(
            StaffUser.role == "admin", StaffUser.active.is_(True))).scalars().all()
        assert len(admins) >= 1, results
        assert results.count(True) <= 1, results
        # Both administrators again for the next round.
        for user in db.session.execute(select(StaffUser)).scalars():
            user.role = "admin"
        db.session.commit()


def test_opening_a_set_up_link_does_not_sign_anyone_out(app, db, client, make_staff, login):
    """Opening /staff/setup/<anything> is a GET any site can cause: the signed-in staff
    member stays signed in; only setting the password through the link signs them out."""
    from portal.security import staff_accounts

    login(make_staff("manager"))
    assert client.get("/staff/setup/not-a-token").status_code == 404
    assert client.get("/helpdesk/incidents/").status_code == 200
    admin = make_staff("admin")
    issued = staff_accounts.create("invited@example.com", "Invited", "agent", by=admin,
                                   setup_url=lambda token: f"/staff/setup/{token}")
    db.session.commit()
    path = f"/staff/setup/{issued.token}"
    assert client.get(path).status_code == 200
    assert client.get("/helpdesk/incidents/").status_code == 200
    done = client.post(path, data={"password": "a good long password",
                                   "confirm": "a good long password",
                                   "csrf_token": csrf_token(client, path)})
    assert done.status_code == 302
    assert client.get("/helpdesk/incidents/").status_code == 302  # now signed out
