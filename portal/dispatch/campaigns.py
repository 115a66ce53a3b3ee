"""Campaigns: who a launch reaches, the bulk creation of its rows, its controls and progress.

A launch creates one ``notification`` row per person and chosen channel with one
``INSERT … SELECT`` per channel (no ORM object per person), unique on (campaign,
person, channel) so a repeated launch or job inserts nothing. A person gets a
channel when their data, consent and opt-outs allow it; a person who already had
the same notice version on that channel (sent or delivered, in an earlier
campaign) is skipped and counted, unless the launch is ``again``. Then chunk jobs
(``portal.dispatch.chunks``) are queued; letter rows stay ``pending`` for the print
runs (campaign-ui), the engine never claims them.

Only one campaign of an incident runs at a time (running or paused): a second
launch while one is under way could reach people twice.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, case, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from portal.audit import log as audit
from portal.extensions import db
from portal.models import Campaign, Incident, Notification, Person
from portal.models.base import UTCDateTime, utcnow
from portal.models.person import CHANNELS
from portal.notices.build import approved_version

log = logging.getLogger(__name__)

# The channels a chunk job sends; letters are printed (campaign-ui's print runs).
SENT_CHANNELS = ("sms", "email")
# A person "already got" a notice version on a channel when a row reached these.
NOTIFIED_STATUSES = ("sent", "delivered")
# Rows still to go out (progress, completion, ETA).
OPEN_STATUSES = ("pending", "sending")
ACTIVE_CAMPAIGN = ("running", "paused")
SHOWN_STATUSES = ("pending", "sending", "sent", "delivered", "undelivered", "failed",
                  "cancelled", "skipped")


class CampaignError(ValueError):
    """A launch or control that cannot be done; the message says why (translated)."""


@dataclass
class LaunchSummary:
    campaign_id: int
    created: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    queued: bool = True  # False: Redis was unreachable; recover queues the rows later

    def as_dict(self) -> dict:
        return {"campaign_id": self.campaign_id, "created": self.created,
                "skipped": self.skipped, "queued": self.queued}


# --- who a channel reaches --------------------------------------------------------------------


def eligible(channel: str):
    """The SQL condition under which a person can get ``channel``."""
    if channel == "sms":
        return and_(Person.phone.is_not(None), Person.consent_sms.is_(True),
                    Person.sms_opt_out.is_(False))
    if channel == "email":
        return and_(Person.email.is_not(None), Person.consent_email.is_(True),
                    Person.email_opt_out.is_(False))
    if channel == "letter":
        return Person.address_line1.is_not(None)
    raise CampaignError(f"unknown channel {channel!r}")


def versions_by_language(incident_id: int) -> tuple[int, dict[str, int], int]:
    """(default version id, {language: approved version id}, default version number).

    Raises ``CampaignError`` when the incident has no approved notice.
    """
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise CampaignError("no such incident")
    default = approved_version(incident_id, incident.default_language or "en")
    if default is None:
        raise CampaignError(gettext("The incident has no approved notice to send."))
    mapping = {}
    for language in current_app.config["LANGUAGES"]:
        version = approved_version(incident_id, language)
        if version is not None:
            mapping[language] = version.id
    return default.id, mapping, default.version


def _version_case(default_id: int, mapping: dict[str, int]):
    if not mapping:
        return literal(default_id)
    return case(mapping, value=Person.language, else_=literal(default_id))


def _already_notified(channel: str, version_expr):
    earlier = aliased(Notification)
    return exists().where(earlier.person_id == Person.id, earlier.channel == channel,
                          earlier.notice_version_id == version_expr,
                          earlier.status.in_(NOTIFIED_STATUSES))


def _people(incident_id: int, channel: str):
    return (Person.incident_id == incident_id, Person.anonymised_at.is_(None), eligible(channel))


def held_by_preference(channel: str, chosen):
    """SQL: the person's stated preference keeps ``channel`` out of this launch.

    The rule (docs/campaigns.md, "Preferred channel"): a preference chooses among
    the electronic channels; it never holds a letter back. An SMS or e-mail is
    held back when the person prefers another channel that this launch also
    sends and that their data, consent and opt-outs allow, so they still get
    the notice, on the channel they asked for. A preference the launch cannot
    serve narrows nothing. ``None`` when nothing can be held back.
    """
    if channel not in SENT_CHANNELS:
        return None
    others = [other for other in chosen if other != channel]
    if not others:
        return None
    # NULL-safe (no preference, a NULL consent): "held" must be false, never unknown,
    # or NOT held would drop the person.
    return func.coalesce(or_(*(and_(Person.preferred_channel == other, eligible(other))
                               for other in others)), literal(False))


def _check_channels(channels) -> list[str]:
    chosen = [channel for channel in CHANNELS if channel in set(channels or ())]
    unknown = set(channels or ()) - set(CHANNELS)
    if unknown:
        raise CampaignError("unknown channel: " + ", ".join(sorted(unknown)))
    if not chosen:
        raise CampaignError(gettext("Choose at least one channel."))
    return chosen


def preview(incident_id: int, channels, again: bool = False) -> dict[str, dict[str, int]]:
    """Per channel: people a launch would reach, people skipped as already notified,
    and people left to their preferred channel (``preferred``).

    The three are disjoint: someone already notified on a channel counts as
    skipped there, whatever their preference.
    """
    chosen = _check_channels(channels)
    default_id, mapping, _number = versions_by_language(incident_id)
    version_expr = _version_case(default_id, mapping)
    result = {}
    for channel in chosen:
        notified = literal(False) if again else _already_notified(channel, version_expr)
        held = held_by_preference(channel, chosen)
        held_count = (literal(0) if held is None else
                      func.sum(case((and_(~notified, held), 1), else_=0)))
        total, done, preferred = db.session.execute(
            select(func.count(Person.id), func.sum(case((notified, 1), else_=0)), held_count)
            .where(*_people(incident_id, channel))
        ).one()
        skipped, preferred = int(done or 0), int(preferred or 0)
        result[channel] = {"reached": int(total) - skipped - preferred, "skipped": skipped,
                           "preferred": preferred}
    return result


# --- launch -----------------------------------------------------------------------------------


def _anyone_notified(incident_id: int, again: bool) -> bool:
    """Whether a launch must look for people already notified.

    Every notification belongs to a campaign of its person's incident, so before the
    incident's first campaign (and when sending ``again``) nobody can be: the launch
    then neither counts skips (two scans of every person of the incident) nor probes
    each person's earlier notifications (docs/benchmarks.md, row creation).
    """
    if again:
        return False
    return db.session.execute(
        select(Campaign.id).where(Campaign.incident_id == incident_id).limit(1)
    ).first() is not None


def _skipped(incident_id: int, chosen: list[str], anyone_notified: bool) -> dict[str, int]:
    """Per channel, the people a launch skips as already notified."""
    if not anyone_notified:
        return {channel: 0 for channel in chosen}
    counts = preview(incident_id, chosen)
    return {channel: counts[channel]["skipped"] for channel in chosen}


def _another_active() -> str:
    return gettext("Another campaign of this incident is running or paused: let it finish "
                   "or cancel it first.")


def active_campaign(incident_id: int) -> Campaign | None:
    """The incident's running or paused campaign, if any."""
    return db.session.execute(
        select(Campaign).where(Campaign.incident_id == incident_id,
                               Campaign.status.in_(ACTIVE_CAMPAIGN)).limit(1)
    ).scalar_one_or_none()


def _insert_rows(campaign_id: int, incident_id: int, channel: str, chosen, version_expr, now,
                 anyone_notified: bool) -> int:
    """Create a new campaign's rows for ``channel`` in one ``INSERT … SELECT``.

    The campaign is new, so no row can exist for it yet: a plain insert, without
    ``ON CONFLICT``'s speculative insertion per row (the unique index still refuses
    a duplicate).
    """
    conditions = list(_people(incident_id, channel))
    if anyone_notified:
        conditions.append(~_already_notified(channel, version_expr))
    held = held_by_preference(channel, chosen)
    if held is not None:
        conditions.append(~held)
    chosen = select(
        literal(campaign_id), Person.id, literal(channel), literal("pending"), literal(0),
        literal(0), version_expr, literal(now, UTCDateTime()), literal(now, UTCDateTime()),
    ).where(*conditions)
    names = ["campaign_id", "person_id", "channel", "status", "attempts", "resend_count",
             "notice_version_id", "created_at", "updated_at"]
    statement = insert(Notification.__table__).from_select(names, chosen)
    return db.session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def dialect_insert(table):
    """The database's own ``insert`` (with ``on_conflict_do_nothing``)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def title(reference: str, notice_version: int) -> str:
    """A campaign's title in the reader's language ("DEMO notice, version 1"). The stored
    ``Campaign.name`` is the same words in the launching manager's language, kept as
    the record (the regulator report quotes it); pages show this."""
    return gettext("%(reference)s notice, version %(number)d", reference=reference,
                   number=notice_version)


def _nobody_to_tell() -> str:
    return gettext("Nobody would be told on these channels: everyone was already notified "
                   "there or cannot be reached there. Choose other channels, or tick the "
                   "box to include people already notified.")


def launch(incident_id: int, channels, *, again: bool = False, actor_id: int | None = None,
           name: str | None = None):
    """Create the campaign and its rows, then queue its chunk jobs.

    Returns ``(Campaign, LaunchSummary)``. Commits. Raises ``CampaignError``
    for an unknown incident or channel, no approved notice, a campaign of the
    incident still running or paused, or nobody to tell (nothing is kept).
    """
    chosen = _check_channels(channels)
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise CampaignError("no such incident")
    if active_campaign(incident_id) is not None:
        raise CampaignError(_another_active())
    default_id, mapping, number = versions_by_language(incident_id)
    anyone_notified = _anyone_notified(incident_id, again)
    skipped = _skipped(incident_id, chosen, anyone_notified)
    now = utcnow()
    campaign = Campaign(
        incident_id=incident_id,
        name=name or title(incident.reference, number),  # the launching manager's language
        notice_version=number, channels=chosen, fallback=True, status="running",
        created_by_id=actor_id, launched_at=now, again=again,
        skipped=skipped,
    )
    db.session.add(campaign)
    try:
        db.session.flush()
    except IntegrityError:
        # Another launch of this incident got in between the check above and here
        # (uq_campaign_one_active): it goes on, this one is refused.
        db.session.rollback()
        raise CampaignError(_another_active()) from None
    summary = LaunchSummary(campaign.id)
    version_expr = _version_case(default_id, mapping)
    for channel in chosen:
        summary.created[channel] = _insert_rows(campaign.id, incident_id, channel, chosen,
                                                version_expr, now, anyone_notified)
        summary.skipped[channel] = skipped[channel]
    if not any(summary.created.values()):
        # A campaign that tells nobody would only say on the incident's page that the
        # people were notified: refused, nothing kept.
        db.session.rollback()
        raise CampaignError(_nobody_to_tell())
    audit.record("campaign.launched", actor_type="staff" if actor_id else "system",
                 actor_id=actor_id, incident_id=incident_id, campaign_id=campaign.id,
                 details={"channels": chosen, "created": summary.created,
                          "skipped": summary.skipped, "again": again,
                          "notice_version": number})
    db.session.commit()
    # Every row just created is due: the counts are known without counting them again.
    summary.queued = queue_campaign(campaign.id, due=summary.created)
    finish_if_done(campaign.id)
    return campaign, summary


# --- queueing chunk jobs ----------------------------------------------------------------------


def _chunk_size() -> int:
    return int(current_app.config["DISPATCH_CHUNK_SIZE"])


def due_pending(campaign_id: int, channel: str) -> int:
    """Rows of a campaign's channel that a chunk job could claim now."""
    return db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.campaign_id == campaign_id, Notification.channel == channel,
            Notification.status == "pending",
            (Notification.next_attempt_at.is_(None)) | (Notification.next_attempt_at <= utcnow()),
        )
    ).scalar_one()


def queue_campaign(campaign_id: int, channels=SENT_CHANNELS,
                   due: dict[str, int] | None = None) -> bool:
    """Queue chunk jobs for every due pending row of the campaign's sent channels.

    ``due`` gives a channel's count of due rows when the caller knows it (the launch
    that just created them); the others are counted.

    Returns False when Redis could not be reached (the rows stay pending; the
    periodic recovery or ``campaigns recover`` queues them later).
    """
    from portal.dispatch import chunks

    try:
        for channel in channels:
            known = (due or {}).get(channel)
            pending = due_pending(campaign_id, channel) if known is None else known
            db.session.commit()  # no transaction held while jobs run or Redis is asked
            if pending:
                chunks.queue_chunks(campaign_id, channel, pending)
    except chunks.QueueUnavailable as exc:
        db.session.rollback()
        log.warning("campaign %s: could not queue chunk jobs (%s); rows stay pending",
                    campaign_id, exc)
        audit.record("campaign.queue_failed", actor_type="system", campaign_id=campaign_id,
                     details={"error": exc.__class__.__name__})
        db.session.commit()
        return False
    return True


def finish_if_done(campaign_id: int) -> bool:
    """Mark a running campaign completed when no message (letters too) is left to go.

    The chunk jobs call it after each chunk; the print runs call it after taking
    letters, since a campaign with letters completes when they are printed.
    """
    left = db.session.execute(
        select(Notification.id).where(
            Notification.campaign_id == campaign_id,
            Notification.status.in_(OPEN_STATUSES)).limit(1)
    ).first()
    if left is not None:
        db.session.commit()
        return False
    now = utcnow()
    done = db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "running")
        .values(status="completed", completed_at=now)
    ).rowcount
    if done:
        incident_id = db.session.execute(
            select(Campaign.incident_id).where(Campaign.id == campaign_id)).scalar_one()
        audit.record("campaign.completed", actor_type="system", incident_id=incident_id,
                     campaign_id=campaign_id, details={"counts": counts(campaign_id)})
    db.session.commit()
    return bool(done)


# --- controls ---------------------------------------------------------------------------------


def get(campaign_id: int) -> Campaign | None:
    return db.session.get(Campaign, campaign_id)


def _require(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError("no such campaign")
    return campaign


def _actor(actor_id: int | None) -> dict:
    return {"actor_type": "staff" if actor_id else "system", "actor_id": actor_id}


def pause(campaign_id: int, actor_id: int | None = None) -> bool:
    """Stop new claims: chunk jobs that start from now on claim nothing. Commits."""
    campaign = _require(campaign_id)
    if campaign.status != "running":
        return False
    campaign.status, campaign.paused_at = "paused", utcnow()
    audit.record("campaign.paused", incident_id=campaign.incident_id, campaign_id=campaign.id,
                 details={}, **_actor(actor_id))
    db.session.commit()
    return True


def resume(campaign_id: int, actor_id: int | None = None) -> bool:
    """Resume a paused campaign and queue its pending rows again. Commits."""
    campaign = _require(campaign_id)
    if campaign.status != "paused":
        return False
    campaign.status, campaign.paused_at = "running", None
    audit.record("campaign.resumed", incident_id=campaign.incident_id, campaign_id=campaign.id,
                 details={}, **_actor(actor_id))
    db.session.commit()
    queue_campaign(campaign_id)
    finish_if_done(campaign_id)
    return True


def cancel(campaign_id: int, actor_id: int | None = None) -> int | None:
    """Cancel: every pending row (letters included) becomes cancelled, and is counted.

    Rows being sent right now finish. Returns the number of rows cancelled, or
    ``None`` when the campaign was already finished or cancelled. Commits.
    """
    campaign = _require(campaign_id)
    if campaign.status not in ACTIVE_CAMPAIGN:
        return None
    now = utcnow()
    campaign.status, campaign.cancelled_at = "cancelled", now
    cancelled = db.session.execute(
        update(Notification).where(Notification.campaign_id == campaign_id,
                                   Notification.status == "pending")
        .values(status="cancelled", cancelled_at=now, updated_at=now)
    ).rowcount
    audit.record("campaign.cancelled", incident_id=campaign.incident_id,
                 campaign_id=campaign.id, details={"cancelled": cancelled}, **_actor(actor_id))
    db.session.commit()
    return cancelled


# --- progress ---------------------------------------------------------------------------------


def counts(campaign_id: int) -> dict[str, dict[str, int]]:
    """``{channel: {status: n}}`` for every channel that has rows (zeros included)."""
    rows = db.session.execute(
        select(Notification.channel, Notification.status, func.count(Notification.id))
        .where(Notification.campaign_id == campaign_id)
        .group_by(Notification.channel, Notification.status)
    ).all()
    result: dict[str, dict[str, int]] = {}
    for channel, status, number in rows:
        result.setdefault(channel, dict.fromkeys(SHOWN_STATUSES, 0))[status] = number
    return result


RATE_WINDOW_SECONDS = 60


def rate(campaign_id: int, window: int = RATE_WINDOW_SECONDS) -> float:
    """Messages per second handed to a provider over the last ``window`` seconds."""
    since = utcnow() - timedelta(seconds=window)
    sent = db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.campaign_id == campaign_id,
            Notification.channel.in_(SENT_CHANNELS),
            Notification.sent_at >= since)
    ).scalar_one()
    return sent / window


def eta_seconds(campaign_id: int) -> int | None:
    """Seconds until the SMS and e-mail still to send are out at the recent rate.

    0 when nothing is left; ``None`` when unknown (nothing sent recently).
    """
    left = db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.campaign_id == campaign_id,
            Notification.channel.in_(SENT_CHANNELS),
            Notification.status.in_(OPEN_STATUSES))
    ).scalar_one()
    if not left:
        return 0
    per_second = rate(campaign_id)
    return math.ceil(left / per_second) if per_second > 0 else None


def campaigns_of(incident_id: int) -> list[Campaign]:
    """The incident's campaigns, newest first."""
    return list(db.session.execute(
        select(Campaign).where(Campaign.incident_id == incident_id)
        .order_by(Campaign.id.desc())
    ).scalars())


def totals(campaign_ids: list[int]) -> dict[int, int]:
    """Number of notification rows per campaign."""
    if not campaign_ids:
        return {}
    return dict(db.session.execute(
        select(Notification.campaign_id, func.count(Notification.id))
        .where(Notification.campaign_id.in_(campaign_ids))
        .group_by(Notification.campaign_id)).all())


def with_due_rows() -> list[tuple[int, str]]:
    """(campaign, channel) pairs with SMS or e-mail rows a chunk job could claim now."""
    now = utcnow()
    found = []
    for channel in SENT_CHANNELS:
        due = exists().where(
            Notification.campaign_id == Campaign.id, Notification.channel == channel,
            Notification.status == "pending",
            (Notification.next_attempt_at.is_(None)) | (Notification.next_attempt_at <= now))
        found += [(campaign_id, channel) for campaign_id in db.session.execute(
            select(Campaign.id).where(Campaign.status.in_(("running", "completed")), due)
        ).scalars()]
    return found


__all__ = ["CampaignError", "LaunchSummary", "cancel", "counts", "eta_seconds", "launch",
           "pause", "preview", "rate", "resume"]
