"""``flask persons import``: load an incident's affected persons from a CSV file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from portal.extensions import db
from portal.models import Incident

persons = AppGroup("persons", help="Affected persons of an incident.")


@persons.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--incident", "reference", required=True, help="Incident reference, e.g. INC-001.")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rejected rows (line, column, reason) to this CSV file.")
@click.option("--workers", type=int, default=None,
              help="Worker processes for validation and encryption (default: by file size).")
def import_command(file: Path, reference: str, dry_run: bool, errors_path: Path | None,
                   workers: int | None) -> None:
    """Import affected persons from FILE (UTF-8 CSV; see docs/import.md)."""
    from portal.imports.run import ImportFileError, import_persons

    if not file.is_file():
        raise click.ClickException(f"no such file: {file}")
    incident = db.session.execute(
        select(Incident).where(Incident.reference == reference)
    ).scalar_one_or_none()
    if incident is None:
        raise click.ClickException(f"no incident with reference {reference!r}")
    size = file.stat().st_size
    errors_out = errors_path.open("w", encoding="utf-8", newline="") if errors_path else None
    try:
        with click.progressbar(length=size, label="Importing", file=sys.stderr) as bar:
            summary = import_persons(incident.id, file, dry_run=dry_run, errors_out=errors_out,
                                     progress=bar.update, workers=workers, via="cli")
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if errors_out is not None:
            errors_out.close()
    for error in summary.errors[:20]:
        click.echo(f"line {error.line}, {error.column or 'row'}: {error.text}", err=True)
    if summary.rejected and len(summary.errors) > 20:
        click.echo("(more problems in the errors CSV)" if errors_path else
                   "(use --errors PATH for every problem)", err=True)
    prefix = "dry run: " if dry_run else ""
    click.echo(prefix + summary.line())


def register(app: Flask) -> None:
    app.cli.add_command(persons)
