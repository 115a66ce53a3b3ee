"""``flask codes import``: load a vendor's monitoring activation codes into the pool."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from portal.extensions import db
from portal.models import Incident

codes = AppGroup("codes", help="Credit-monitoring activation codes.")


@codes.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--incident", "reference", required=True, help="Incident reference.")
def import_command(file: Path, reference: str) -> None:
    """Add the codes in FILE (CSV with a 'code' column) to the incident's pool."""
    from portal.people.activation import CodeFileError, import_codes, pool_counts

    incident = db.session.execute(
        select(Incident).where(Incident.reference == reference)
    ).scalar_one_or_none()
    if incident is None:
        raise click.ClickException(f"no incident with reference {reference!r}")
    try:
        summary = import_codes(incident.id, file)
    except CodeFileError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    for line, reason in summary.rejected[:20]:
        click.echo(f"line {line}: {reason}", err=True)
    total, assigned = pool_counts(incident.id)
    click.echo(summary.line())
    click.echo(f"pool: {total} codes, {assigned} assigned, {total - assigned} free")


def register(app: Flask) -> None:
    app.cli.add_command(codes)
