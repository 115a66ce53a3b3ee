"""``flask audit verify``: check the interaction log's hash chain."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from portal.audit import log as audit

group = AppGroup("audit", help="Interaction log tools.")


@group.command("verify")
def verify() -> None:
    """Exit 0 if the chain is intact, 1 naming the first bad row otherwise."""
    report = audit.verify()
    if report.ok:
        click.echo(f"interaction log intact: {report.checked} rows verified")
        return
    click.echo(
        f"interaction log BROKEN at row {report.bad_id}: {report.reason} "
        f"({report.checked} rows before it verified)",
        err=True,
    )
    sys.exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(group)
