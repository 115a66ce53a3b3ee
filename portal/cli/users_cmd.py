"""``flask users``: create, deactivate, unlock and list staff accounts."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.audit import log as audit
from portal.config import passwords_from_env
from portal.extensions import db
from portal.models.staff import ROLES, StaffUser
from portal.security.passwords import hash_password, password_problem

users = AppGroup("users", help="Manage staff accounts.")


def _find(email: str) -> StaffUser | None:
    return db.session.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).scalar_one_or_none()


def _existing(email: str) -> StaffUser:
    user = _find(email)
    if user is None:
        raise click.ClickException(f"no staff account for {email}")
    return user


def create_staff(email: str, name: str, role: str, password: str) -> StaffUser:
    """Create a staff account and log it; raises ``ValueError`` on bad input."""
    from email_validator import EmailNotValidError, validate_email

    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"invalid email address: {exc}") from exc
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise ValueError("name must not be empty")
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    if _find(email) is not None:
        raise ValueError(f"a staff account for {email} already exists")
    user = StaffUser(email=email, name=name.strip(), role=role,
                     password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record("staff.created", actor_type="system",
                 details={"staff_id": user.id, "role": role, "via": "cli"})
    return user


@users.command("create")
@click.option("--email", required=True, help="Sign-in email address.")
@click.option("--name", required=True, help="Full name shown to colleagues.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="agent, manager or admin.")
def create(email: str, name: str, role: str) -> None:
    """Create a staff account (password from PORTAL_PASSWORD or a prompt)."""
    password = passwords_from_env()
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_staff(email, name, role, password)
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {user.role} {user.email} (id {user.id})")
    if role == "admin":
        click.echo("admins set up two-factor sign-in at their first sign-in")


@users.command("deactivate")
@click.option("--email", required=True)
def deactivate(email: str) -> None:
    """Deactivate a staff account and end its sessions."""
    user = _existing(email)
    user.active = False
    user.session_version += 1
    audit.record("staff.deactivated", actor_type="system",
                 details={"staff_id": user.id, "via": "cli"})
    db.session.commit()
    click.echo(f"deactivated {user.email}")


@users.command("unlock")
@click.option("--email", required=True)
def unlock(email: str) -> None:
    """Lift a sign-in lockout (the account's and every address's) before it expires."""
    from portal.security import staff_accounts

    user = _existing(email)
    staff_accounts.unlock(user, via="cli")  # the account's lock and every address's
    db.session.commit()
    click.echo(f"unlocked {user.email}")


@users.command("list")
def list_users() -> None:
    """List staff accounts."""
    rows = db.session.execute(select(StaffUser).order_by(StaffUser.email)).scalars().all()
    if not rows:
        click.echo("no staff accounts")
        return
    click.echo(f"{'email':40} {'role':8} {'active':6} {'2fa':4} name")
    for user in rows:
        click.echo(
            f"{user.email:40} {user.role:8} {'yes' if user.active else 'no':6} "
            f"{'on' if user.totp_enabled else 'off':4} {user.name}"
        )


def register(app: Flask) -> None:
    app.cli.add_command(users)
