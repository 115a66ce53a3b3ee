"""``flask campaigns``: launch, follow and control notification campaigns.

``campaigns`` (the click group) is importable: campaign-ui adds ``evidence`` and
``letters`` to it from its own module.
"""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup

from portal.dispatch import campaigns as engine
from portal.dispatch import chunks
from portal.extensions import db
from portal.incidents.operations import find_incident
from portal.models.person import CHANNELS

campaigns = AppGroup("campaigns", help="Notification campaigns (SMS, e-mail, letters).")


def _incident(reference: str):
    incident = find_incident(reference)
    if incident is None:
        raise click.BadParameter(f"no incident with reference {reference!r}",
                                 param_hint="--incident")
    return incident


def _channels(value: str) -> list[str]:
    chosen = [item.strip().lower() for item in value.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in CHANNELS]
    if unknown or not chosen:
        raise click.BadParameter(
            f"choose among {', '.join(CHANNELS)} (comma-separated); got {value!r}",
            param_hint="--channels")
    return chosen


def _campaign(campaign_id: int):
    campaign = engine.get(campaign_id)
    if campaign is None:
        raise click.BadParameter(f"no campaign {campaign_id}", param_hint="ID")
    return campaign


@campaigns.command("launch")
@click.option("--incident", "reference", required=True, help="The incident's reference.")
@click.option("--channels", required=True, help="Comma-separated: sms,email,letter.")
@click.option("--again", is_flag=True,
              help="Also send to people who already got this notice version on a channel.")
@click.option("--dry-run", is_flag=True, help="Only show how many people each channel reaches.")
def launch(reference: str, channels: str, again: bool, dry_run: bool) -> None:
    """Launch a campaign of the incident's approved notice; prints the campaign id last."""
    incident = _incident(reference)
    chosen = _channels(channels)
    try:
        if dry_run:
            for channel, numbers in engine.preview(incident.id, chosen, again=again).items():
                click.echo(f"{channel}: {numbers['reached']} to reach, "
                           f"{numbers['skipped']} skipped (already notified), "
                           f"{numbers['preferred']} left to their preferred channel")
            return
        campaign, summary = engine.launch(incident.id, chosen, again=again)
    except engine.CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    for channel in chosen:
        click.echo(f"{channel}: {summary.created.get(channel, 0)} messages, "
                   f"{summary.skipped.get(channel, 0)} skipped (already notified)")
    if not summary.queued:
        click.echo("Redis is unreachable: the messages wait as pending; run "
                   "'flask campaigns recover' once it is back.", err=True)
    click.echo(f"Launched campaign {campaign.id}")


@campaigns.command("list")
@click.option("--incident", "reference", required=True, help="The incident's reference.")
def list_(reference: str) -> None:
    """List the incident's campaigns, newest first."""
    incident = _incident(reference)
    found = engine.campaigns_of(incident.id)
    sizes = engine.totals([campaign.id for campaign in found])
    if not found:
        click.echo("No campaigns.")
    for campaign in found:
        launched = campaign.launched_at.strftime("%Y-%m-%d %H:%M UTC") if campaign.launched_at \
            else "-"
        click.echo(f"{campaign.id}\t{campaign.status}\t{','.join(campaign.channels)}\t"
                   f"{sizes.get(campaign.id, 0)} messages\t{launched}\t{campaign.name}")


def _print_status(campaign_id: int) -> None:
    campaign = _campaign(campaign_id)
    click.echo(f"Campaign {campaign.id} ({campaign.name}): {campaign.status}")
    table = engine.counts(campaign_id)
    shown = engine.SHOWN_STATUSES
    click.echo("channel\t" + "\t".join(shown))
    for channel, numbers in table.items():
        click.echo(channel + "\t" + "\t".join(str(numbers[status]) for status in shown))
    eta = engine.eta_seconds(campaign_id)
    click.echo(f"rate: {engine.rate(campaign_id):.1f}/s; "
               f"left: {'done' if eta == 0 else ('unknown' if eta is None else f'{eta} s')}")


def _open_rows(campaign_id: int) -> tuple[int, int]:
    """(rows still to send, all SMS and e-mail rows)."""
    table = engine.counts(campaign_id)
    total = sum(sum(table.get(channel, {}).values()) for channel in engine.SENT_CHANNELS)
    left = sum(table.get(channel, {}).get(status, 0) for channel in engine.SENT_CHANNELS
               for status in engine.OPEN_STATUSES)
    return left, total


@campaigns.command("status")
@click.argument("campaign_id", type=int)
@click.option("--watch", is_flag=True, help="Show a progress bar until nothing is left to send.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between refreshes.")
def status(campaign_id: int, watch: bool, interval: float) -> None:
    """Counts per channel and status, the recent rate and the time left."""
    _campaign(campaign_id)
    if watch:
        left, total = _open_rows(campaign_id)
        with click.progressbar(length=max(total, 1), label="Sending") as bar:
            done = 0
            while True:
                left, total = _open_rows(campaign_id)
                db.session.commit()
                bar.length = max(total, 1)
                bar.update(total - left - done)
                done = total - left
                campaign = engine.get(campaign_id)
                if left == 0 or campaign.status in ("paused", "cancelled"):
                    break
                db.session.expire_all()
                time.sleep(interval)
    _print_status(campaign_id)


@campaigns.command("pause")
@click.argument("campaign_id", type=int)
def pause(campaign_id: int) -> None:
    """Pause a running campaign (jobs claim nothing new)."""
    _campaign(campaign_id)
    click.echo("Paused." if engine.pause(campaign_id) else "Not running: nothing to pause.")


@campaigns.command("resume")
@click.argument("campaign_id", type=int)
def resume(campaign_id: int) -> None:
    """Resume a paused campaign."""
    _campaign(campaign_id)
    click.echo("Resumed." if engine.resume(campaign_id) else "Not paused: nothing to resume.")


@campaigns.command("cancel")
@click.argument("campaign_id", type=int)
def cancel(campaign_id: int) -> None:
    """Cancel a campaign: its pending messages are not sent."""
    _campaign(campaign_id)
    cancelled = engine.cancel(campaign_id)
    if cancelled is None:
        click.echo("Already finished or cancelled: nothing to cancel.")
    else:
        click.echo(f"Cancelled; {cancelled} pending messages will not be sent.")


@campaigns.command("recover")
def recover() -> None:
    """Release expired leases now and queue every message waiting to be sent."""
    result = chunks.recover()
    click.echo(f"Released {result['released']} expired leases; queued campaigns: "
               f"{', '.join(map(str, result['campaigns'])) or 'none'}.")


def register(app: Flask) -> None:
    app.cli.add_command(campaigns)
