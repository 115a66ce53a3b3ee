"""``flask data purge``: the retention purge of an incident's personal data."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.extensions import db
from portal.models import Incident
from portal.people import retention

group = AppGroup("data", help="Personal data: retention.")


@group.command("purge")
@click.option("--incident", "reference", required=True, help="Incident reference, e.g. INC-001.")
@click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(reference: str, dry_run: bool, yes: bool) -> None:
    """Anonymise an incident's people and redact their values from tickets and the log."""
    incident = db.session.execute(
        select(Incident).where(Incident.reference == reference)).scalar_one_or_none()
    if incident is None:
        raise click.ClickException(f"no incident with reference {reference!r}")
    state = retention.retention_state(incident, current_app.config["PORTAL_RETENTION_DAYS"])
    click.echo(f"incident {incident.reference}: {state['people']} people, "
               f"{state['purged']} already anonymised; retention until "
               f"{state['until']:%Y-%m-%d}")
    if not dry_run and not yes:
        if not state["due"]:
            click.echo("the retention period has not ended yet", err=True)
        if not click.confirm("Erase these people's personal data for good?", default=False):
            raise click.ClickException("nothing done")
    summary = retention.purge(incident.id, dry_run=dry_run)
    for line in summary.lines():
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing was changed")


def register(app: Flask) -> None:
    app.cli.add_command(group)
