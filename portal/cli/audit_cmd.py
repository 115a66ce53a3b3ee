"""``flask audit``: verify the interaction log, sign checkpoints, print the public key."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from portal.audit import checkpoints, keys

group = AppGroup("audit", help="Interaction log tools.")


@group.command("verify")
@click.option("--checkpoint", "files", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A checkpoint file to check the log against (repeatable). "
                   "Default: every checkpoint in PORTAL_AUDIT_CHECKPOINT_DIR.")
@click.option("--public-key", "public_key_file", type=click.File("rb"),
              help="The PEM public key to check signatures with (default: this "
                   "installation's; give the copy an auditor keeps).")
def verify(files: tuple[Path, ...], public_key_file) -> None:
    """Exit 0 if the chain is intact and extends every checkpoint, 1 naming each problem."""
    public_key = None
    if public_key_file is not None:
        try:
            public_key = keys.load_public_key(public_key_file.read())
        except ValueError as exc:
            raise click.BadParameter(f"not a PEM Ed25519 public key ({exc})",
                                     param_hint="--public-key") from None
    outcome = checkpoints.verify_log(list(files) if files else None, public_key)
    report = outcome.report
    if outcome.ok:
        click.echo(f"interaction log intact: {report.checked} rows verified")
        if outcome.checkpoints:
            click.echo(f"extends all {len(outcome.checkpoints)} checkpoints "
                       f"(latest at row {max(r.seq or 0 for r in outcome.checkpoints)})")
        else:
            click.echo("no checkpoints given or found: deleting the newest rows could not be "
                       "detected (see `flask audit checkpoint`)")
        if report.pending:
            click.echo(f"{report.pending} rows were not sealed yet (another sealer is running)")
        return
    if not report.ok:
        click.echo(f"interaction log BROKEN at row {report.bad_id}: {report.reason} "
                   f"({report.checked} rows before it verified)", err=True)
    for result in outcome.checkpoints:
        if not result.ok:
            click.echo(f"checkpoint {result.name}: {result.problem}", err=True)
    sys.exit(1)


@group.command("checkpoint")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the checkpoint to this file.")
def checkpoint(out: Path | None) -> None:
    """Seal and verify the log, then sign its head into the checkpoint directory."""
    try:
        made = checkpoints.make_checkpoint(out)
    except checkpoints.ChainBroken as exc:
        click.echo(f"no checkpoint written: {exc}", err=True)
        sys.exit(1)
    body = made.document["checkpoint"]
    click.echo(f"checkpoint of {body['count']} rows (last row id {body['last_row_id']}) "
               f"written to {made.path}")
    for copy in made.copies:
        click.echo(f"copy written to {copy}")
    if made.emailed:
        click.echo("mailed to the compliance address")


@group.command("public-key")
def public_key() -> None:
    """Print the checkpoints' public key (PEM), for an auditor or regulator to keep."""
    click.echo(keys.public_key_pem(), nl=False)


def register(app: Flask) -> None:
    app.cli.add_command(group)
