"""``flask audit export``: the interaction log as CSV, with the log review's filters."""

from __future__ import annotations

import click
from flask import Flask

from portal.audit import review
from portal.cli.audit_cmd import group
from portal.extensions import db


@group.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write (overwritten); '-' for standard output.")
@click.option("--from", "start", help="From this date or date and time (UTC), e.g. 2026-11-01.")
@click.option("--to", "end", help="Up to this date (inclusive) or date and time (UTC).")
@click.option("--actor", help="A staff e-mail address, 'customer' or 'system'.")
@click.option("--person", help="A person's external reference.")
@click.option("--ticket", help="A ticket number.")
@click.option("--campaign", help="A campaign number.")
@click.option("--incident", help="An incident reference.")
@click.option("--action", help="An action name, or a prefix ending in '.' such as 'verify.'.")
def export(out: str, **options) -> None:
    """Write the log (oldest first, personal values masked) as formula-safe CSV; logged."""
    args = {"from": options.pop("start"), "to": options.pop("end"), **options}
    try:
        filters = review.parse_filters({name: value for name, value in args.items() if value})
    except review.FilterError as error:
        for name, message in error.errors.items():
            click.echo(f"--{name}: {message}", err=True)
        raise click.exceptions.Exit(2) from None
    review.log_export(filters, None, "cli")
    db.session.commit()
    with click.open_file(out, "w", encoding="utf-8") as handle:
        for chunk in review.csv_chunks(filters):
            handle.write(chunk)
    click.echo(f"exported the interaction log to {out}", err=True)


def register(app: Flask) -> None:
    """Nothing to add: the command joins the ``audit`` group when this module is imported."""
