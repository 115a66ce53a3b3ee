"""``flask users`` and ``flask demo``."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.models import Interaction, Person, StaffUser


def test_users_create_with_password_from_environment(runner, db, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "a long enough password")
    result = runner.invoke(
        args=["users", "create", "--email", "New.Agent@Example.com", "--name", "New Agent",
              "--role", "agent"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(StaffUser)).scalar_one()
    assert user.email == "new.agent@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert "staff.created" in db.session.execute(select(Interaction.action)).scalars().all()


def test_users_create_prompts_when_no_environment_password(runner, db, monkeypatch):
    monkeypatch.delenv("PORTAL_PASSWORD", raising=False)
    result = runner.invoke(
        args=["users", "create", "--email", "m@example.com", "--name", "M", "--role", "manager"],
        input="prompted password 1\nprompted password 1\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(StaffUser.id))) == 1


def test_users_create_rejects_bad_input_and_writes_nothing(runner, db, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "short")
    result = runner.invoke(
        args=["users", "create", "--email", "x@example.com", "--name", "X", "--role", "agent"]
    )
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    monkeypatch.setenv("PORTAL_PASSWORD", "a long enough password")
    result = runner.invoke(
        args=["users", "create", "--email", "not-an-email", "--name", "X", "--role", "agent"]
    )
    assert result.exit_code != 0
    assert "invalid email" in result.output
    result = runner.invoke(
        args=["users", "create", "--email", "x@example.com", "--name", "X", "--role", "boss"]
    )
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count(StaffUser.id))) == 0
    assert db.session.scalar(select(func.count(Interaction.id))) == 0


def test_users_create_refuses_duplicates(runner, make_staff, monkeypatch):
    existing = make_staff("agent")
    monkeypatch.setenv("PORTAL_PASSWORD", "a long enough password")
    result = runner.invoke(
        args=["users", "create", "--email", existing.email.upper(), "--name", "X",
              "--role", "agent"]
    )
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_users_deactivate_unlock_and_list(runner, db, make_staff):
    from datetime import timedelta

    from portal.models.base import utcnow

    user = make_staff("manager", locked_until=utcnow() + timedelta(minutes=10))
    listing = runner.invoke(args=["users", "list"])
    assert user.email in listing.output and "manager" in listing.output
    assert runner.invoke(args=["users", "unlock", "--email", user.email]).exit_code == 0
    assert runner.invoke(args=["users", "deactivate", "--email", user.email]).exit_code == 0
    db.session.expire_all()
    user = db.session.get(StaffUser, user.id)
    assert user.locked_until is None
    assert not user.active
    assert user.session_version == 2
    missing = runner.invoke(args=["users", "deactivate", "--email", "nobody@example.com"])
    assert missing.exit_code != 0 and "no staff account" in missing.output


def test_demo_seeds_idempotently(runner, db):
    from portal.demo import seed

    first = seed()
    people = db.session.scalar(select(func.count(Person.id)))
    assert 45 <= people <= 60
    assert first["people_added"] == people
    languages = set(db.session.execute(select(Person.language)).scalars())
    assert languages == {"en", "es", "fr", "de"}
    roles = set(db.session.execute(select(StaffUser.role)).scalars())
    assert roles == {"agent", "manager", "admin"}
    # A finished campaign by SMS and e-mail: its messages wait in the outbox.
    from portal.dispatch import campaigns
    from portal.models import Campaign

    [campaign] = db.session.execute(select(Campaign)).scalars().all()
    assert campaign.status == "completed" and campaign.channels == ["sms", "email"]
    sent = campaigns.counts(campaign.id)
    assert sent["sms"]["sent"] > 0 and sent["email"]["sent"] > 0
    second = seed()
    assert second["people_added"] == 0
    assert db.session.scalar(select(func.count(Person.id))) == people
    assert db.session.scalar(select(func.count(Campaign.id))) == 1
    assert second["sample"] == first["sample"]
    sample = first["sample"]
    assert len(sample["notice_code"]) == 14 and sample["date_of_birth"] and sample["postcode"]


def test_demo_staff_can_sign_in(client, db, login):
    from portal.demo import DEMO_STAFF, seed
    from tests.support import csrf_token

    seed()
    for email, _name, role, password in DEMO_STAFF:
        user = db.session.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one()
        response = login(user, password=password)
        assert response.status_code == 302
        if role == "admin":
            assert response.location.endswith("/staff/two-factor/setup")
        else:
            assert response.location.endswith("/helpdesk/")
            token = csrf_token(client, "/helpdesk/")
            assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302


def test_demo_signs_a_first_checkpoint_and_verifies_the_log(app, db, tmp_path):
    """The demo's log page shows a verified chain and a checkpoint, not "never"."""
    from portal.audit import checkpoints
    from portal.demo import seed

    app.config["PORTAL_AUDIT_CHECKPOINT_DIR"] = str(tmp_path)
    seed()
    files = checkpoints.checkpoint_files()
    assert len(files) == 1
    state = checkpoints.status()
    assert state["verification"]["result"] == "intact"
    assert state["checkpoint"]["count"] > 0
    assert checkpoints.verify_log().ok
    seed()  # idempotent: a demo with a checkpoint is left alone
    assert checkpoints.checkpoint_files() == files
