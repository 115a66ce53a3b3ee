"""``flask incidents``: create and list incidents from the command line."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from portal.extensions import db
from portal.incidents.operations import IncidentError, create_incident
from portal.models import Incident

incidents = AppGroup("incidents", help="Manage incidents.")


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date and time "
                                 "(e.g. 2026-11-20T14:30Z)", param_hint=name) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date (e.g. 2027-01-31)",
                                 param_hint=name) from exc


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@incidents.command("create")
@click.option("--reference", required=True, help="Short unique reference, e.g. 2026-11-POLICY.")
@click.option("--title", required=True)
@click.option("--insurer", "insurer_name",
              help="The insurer's name as customers know it (shown on their pages).")
@click.option("--status", default="draft", show_default=True)
@click.option("--summary")
@click.option("--occurred-from", help="ISO date/time (UTC unless an offset is given).")
@click.option("--occurred-to")
@click.option("--discovered-at")
@click.option("--determined-at")
@click.option("--contained-at")
@click.option("--categories", help="Comma-separated catalog keys, e.g. national_id,health.")
@click.option("--jurisdictions", help="Comma-separated rule ids, e.g. gdpr_art33,ca_1798_82.")
@click.option("--language", "default_language", default="en", show_default=True)
@click.option("--verification", "verification_method", default="postcode", show_default=True,
              help="postcode or policy_last4.")
@click.option("--hotline", "contact_hotline")
@click.option("--hours", "contact_hours")
@click.option("--email", "contact_email")
@click.option("--postal-address", "contact_postal_address")
@click.option("--dpo", "dpo_contact")
@click.option("--monitoring-provider")
@click.option("--monitoring-url", "monitoring_enroll_url")
@click.option("--monitoring-enroll-by", help="ISO date.")
@click.option("--monitoring-description")
@click.option("--time-zone", help="IANA zone customers read times in, e.g. America/Chicago "
              "(default: the postal address's country, else UTC).")
def create(**options) -> None:
    """Create an incident (logged as incident.created)."""
    values = {name: value for name, value in options.items() if value is not None}
    for name in ("occurred_from", "occurred_to", "discovered_at", "determined_at",
                 "contained_at"):
        if name in values:
            values[name] = _when(values[name], "--" + name.replace("_", "-"))
    if "monitoring_enroll_by" in values:
        values["monitoring_enroll_by"] = _date(values["monitoring_enroll_by"],
                                               "--monitoring-enroll-by")
    for name in ("categories", "jurisdictions"):
        if name in values:
            values[name] = _split(values[name])
    try:
        incident = create_incident(values, via="cli", actor_type="system")
    except IncidentError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created incident {incident.reference} (id {incident.id})")


@incidents.command("list")
def list_incidents() -> None:
    """List incidents."""
    rows = db.session.execute(select(Incident).order_by(Incident.created_at)).scalars().all()
    if not rows:
        click.echo("no incidents")
        return
    for incident in rows:
        click.echo(f"{incident.reference:24} {incident.status:8} {incident.title}")


def register(app: Flask) -> None:
    app.cli.add_command(incidents)
