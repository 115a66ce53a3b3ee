"""``flask campaigns evidence|letters|letters-mailed|letters-returned``: a campaign's files.

Added to the engine's ``campaigns`` group (``portal/cli/campaigns_cmd.py``). Files
that hold personal data are written owner-only (0600).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.dispatch import evidence, letters
from portal.extensions import db
from portal.models import Campaign


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.BadParameter(f"no campaign {campaign_id}", param_hint="ID")
    return campaign


def _private_copy(source: Path, target: Path) -> None:
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out, source.open("rb") as data:
        os.fchmod(out.fileno(), 0o600)
        shutil.copyfileobj(data, out)


@click.command("evidence")
@click.argument("campaign_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The CSV file to write (one row per message).")
def evidence_command(campaign_id: int, out: str) -> None:
    """Write a campaign's evidence CSV (one row per message); the export is logged."""
    campaign = _campaign(campaign_id)
    evidence.record_export(campaign.id, via="cli")
    db.session.commit()
    lines = 0
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        for chunk in evidence.csv_lines(campaign.id):
            handle.write(chunk)
            lines += chunk.count("\n")
    click.echo(f"Wrote {max(lines - 1, 0)} messages of campaign {campaign.id} to {out}")


@click.command("letters")
@click.argument("campaign_id", type=int)
@click.option("--out", "out", required=True,
              type=click.Path(file_okay=False, writable=True),
              help="Directory for the batches' PDFs and manifests (created, owner-only).")
@click.option("--existing", is_flag=True, help="Also copy the batches printed before.")
def letters_command(campaign_id: int, out: str, existing: bool) -> None:
    """Print a campaign's waiting letters: batched PDFs and manifests into --out."""
    campaign = _campaign(campaign_id)
    target = Path(out)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    run = letters.print_run(campaign.id)
    wanted = set(run.batches)
    copied = 0
    for batch in letters.batches_of(campaign.id):
        if (batch.id not in wanted and not existing) or not batch.pdf_path:
            continue
        for kind, name in (("pdf", batch.pdf_path), ("manifest", batch.manifest_path)):
            _private_copy(Path(name), target / Path(name).name)
            letters.record_download(batch, kind, None)
        copied += 1
    db.session.commit()
    click.echo(f"Printed {run.letters} letters in {len(run.batches)} batches"
               + (f"; {run.failed} could not be printed" if run.failed else "")
               + f"; copied {copied} batches to {target}")


@click.command("letters-mailed")
@click.argument("campaign_id", type=int)
@click.option("--batch", "number", required=True, type=int, help="The batch number.")
def letters_mailed_command(campaign_id: int, number: int) -> None:
    """Record that the print house mailed a batch (its letters count as delivered)."""
    campaign = _campaign(campaign_id)
    batch = next((item for item in letters.batches_of(campaign.id) if item.number == number),
                 None)
    if batch is None:
        raise click.BadParameter(f"campaign {campaign.id} has no batch {number}",
                                 param_hint="--batch")
    moved = letters.mark_mailed(campaign.id, batch.id)
    db.session.commit()
    click.echo(f"Batch {number}: {moved} letters marked as mailed"
               if moved else f"Batch {number} was already marked as mailed; nothing changed")


@click.command("letters-returned")
@click.argument("campaign_id", type=int)
@click.option("--file", "path", required=True,
              type=click.Path(exists=True, dir_okay=False, readable=True),
              help="CSV of returned letter ids (one per line, or a letter_id column).")
def letters_returned_command(campaign_id: int, path: str) -> None:
    """Record returned letters (they count as undelivered)."""
    campaign = _campaign(campaign_id)
    try:
        ids, problems = letters.parse_letter_ids(Path(path).read_bytes())
    except letters.LetterError as error:
        raise click.BadParameter(error.message, param_hint="--file") from error
    outcome = letters.mark_returned(campaign.id, ids)
    db.session.commit()
    for line, value in problems:
        click.echo(f"line {line}: {value!r} is not a letter id", err=True)
    if outcome.unknown:
        shown = ", ".join(str(item) for item in outcome.unknown[:50])
        click.echo(f"not letters of campaign {campaign.id}: {shown}", err=True)
    click.echo(f"{len(outcome.returned)} letters recorded as returned; "
               f"{len(outcome.already)} already were")
    if problems or outcome.unknown:
        raise SystemExit(1)


def register(group: AppGroup) -> None:
    """Add the file commands to the ``campaigns`` group."""
    for command in (evidence_command, letters_command, letters_mailed_command,
                    letters_returned_command):
        group.add_command(command)
