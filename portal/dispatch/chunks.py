"""Chunk jobs: claim a few hundred rows with a lease, send them, record the outcomes.

``send_chunk(campaign_id, channel)`` is the rq job (ids ``<queue>-campaign-<id>-<channel>-<n>``).
It claims up to ``DISPATCH_CHUNK_SIZE`` due pending rows in id order
(``UPDATE … SET status='sending', lease_until=… RETURNING``; on PostgreSQL the rows
are picked in a MATERIALIZED CTE with ``FOR UPDATE SKIP LOCKED``, so two workers
never claim the same row and a chunk is never more than its size), commits, reads
the people's contact data, then sends with no transaction open, over
``DISPATCH_SEND_CONCURRENCY`` connections at once (threads, each with its own SMTP
connection or Twilio session; one token bucket): a message is only ever sent from a
row this job claimed. The outcomes are written in one batch
(``executemany``), never one ORM object per message.

Transient failures go back to ``pending`` with ``next_attempt_at`` doubling from
``DISPATCH_RETRY_BASE_SECONDS``, up to ``DISPATCH_MAX_ATTEMPTS``; permanent ones
(and exhausted retries) are ``failed`` and fall back: SMS → e-mail → letter, at
most once per person and campaign (the unique row). A row whose lease expired
(its worker died) is released by ``recover`` and sent again: ``resend_count``
counts it and the log names it (``campaign.leases_recovered``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, literal_column, select, text, update

from portal.audit import log as audit
from portal.core import jobs
from portal.dispatch import campaigns, ratelimit
from portal.dispatch.channels import ChannelError, email, sms
from portal.dispatch.notice_messages import Wording, digest, link_base, wording
from portal.extensions import db
from portal.models import Campaign, Notification, Person
from portal.models.base import UTCDateTime, utcnow

log = logging.getLogger(__name__)

FALLBACK = {"sms": "email", "email": "letter"}
SENDABLE_CAMPAIGN = ("running", "completed")  # completed: fallback rows may still arrive
JOB_KEEP_FAILED_SECONDS = 7 * 24 * 3600
# The literal the partial index ix_notification_lease is defined on (see release_expired_leases).
LEASED = literal_column("'sending'")


class QueueUnavailable(RuntimeError):
    """Redis could not be reached to queue chunk jobs."""


@dataclass
class Claimed:
    id: int
    person_id: int
    attempts: int
    notice_version_id: int | None


# --- queueing ---------------------------------------------------------------------------------


def _counter_key(campaign_id: int, channel: str) -> str:
    return f"{current_app.config['PORTAL_RQ_QUEUE']}:chunks:{campaign_id}:{channel}"


def job_prefix(campaign_id: int, channel: str) -> str:
    """``<queue>-campaign-<id>-<channel>-``: rq's job keys are global to a Redis
    database, so two deployments (or test runs) sharing one must not share ids."""
    return jobs.scoped_id(current_app.config["PORTAL_RQ_QUEUE"],
                          f"campaign-{campaign_id}-{channel}-")


def job_id(campaign_id: int, channel: str, number: int) -> str:
    """The deterministic id of a campaign's chunk job: ``portal-campaign-7-sms-12``."""
    return f"{job_prefix(campaign_id, channel)}{number}"


def _job_options() -> dict:
    lease = int(current_app.config["DISPATCH_LEASE_SECONDS"])
    # A job never outlives its lease: rq stops it first, and the rows go back by recover.
    return {"result_ttl": 0, "failure_ttl": JOB_KEEP_FAILED_SECONDS,
            "job_timeout": max(lease - 5, 10)}


def outstanding(campaign_id: int, channel: str) -> int:
    """Chunk jobs of this campaign and channel waiting in the queue (0 inline).

    Running jobs do not count: a job claims its rows as it starts, so they are no
    longer among the due rows; and a job whose worker was killed stays "started"
    in rq's registry until rq notices, while its rows come back through recover.
    """
    queue = jobs.queue()
    if queue is None:
        return 0
    prefix = job_prefix(campaign_id, channel)
    return sum(1 for value in queue.get_job_ids()
               if value.startswith(prefix) and "retry" not in value)


def queue_chunks(campaign_id: int, channel: str, rows: int) -> int:
    """Queue enough chunk jobs for ``rows`` due rows, minus those already queued.

    Inline (no Redis) the jobs run now, one after the other. Returns how many
    jobs were queued or run.
    """
    size = int(current_app.config["DISPATCH_CHUNK_SIZE"])
    wanted = -(-rows // size)
    queue = jobs.queue()
    if queue is None:
        for _number in range(wanted):
            if not send_chunk(campaign_id, channel):
                break
        return wanted
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        wanted -= outstanding(campaign_id, channel)
        if wanted <= 0:
            return 0
        key = _counter_key(campaign_id, channel)
        last = queue.connection.incrby(key, wanted)
        queue.connection.expire(key, JOB_KEEP_FAILED_SECONDS)
        options = _job_options()
        options["timeout"] = options.pop("job_timeout")
        queue.enqueue_many([
            Queue.prepare_data(send_chunk, (campaign_id, channel),
                               job_id=job_id(campaign_id, channel, number), **options)
            for number in range(last - wanted, last)
        ])
    except RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc
    return wanted


def _schedule_retry(campaign_id: int, channel: str, delay: float) -> None:
    """Queue a chunk job for rows that are due again in ``delay`` seconds.

    A delay of a second or more goes through rq's scheduler (every ``flask worker``
    runs one), which keeps whole seconds and queues a job once its second has come:
    the time is rounded *up*, or the job could run before its rows are due and
    claim nothing. The id names the second, so the chunk jobs of one failing batch
    schedule one retry, not one each.
    """
    queue = jobs.queue()
    if queue is None:
        return  # inline: recover (or the next launch's jobs) picks the rows up
    from redis.exceptions import RedisError

    try:
        if delay < 1:
            number = queue.connection.incr(_counter_key(campaign_id, channel))
            queue.enqueue(send_chunk, campaign_id, channel, **_job_options(),
                          job_id=f"{job_prefix(campaign_id, channel)}retry-{number}")
        else:
            due = math.ceil(time.time() + delay)
            queue.enqueue_at(datetime.fromtimestamp(due, UTC), send_chunk, campaign_id,
                             channel, job_id=f"{job_prefix(campaign_id, channel)}retry-at-{due}",
                             **_job_options())
    except RedisError:
        log.warning("campaign %s: could not schedule a retry; recover will", campaign_id)


def _retry_later(campaign_id: int, channel: str) -> None:
    """A job that found nothing due: if rows wait for a later retry, schedule it.

    Covers a retry job run early (another worker's clock, a lost schedule) so
    that waiting rows never depend on ``recover`` alone.
    """
    now = utcnow()
    waiting = db.session.execute(
        select(func.min(Notification.next_attempt_at)).where(
            Notification.campaign_id == campaign_id, Notification.channel == channel,
            Notification.status == "pending", Notification.next_attempt_at > now)
    ).scalar_one()
    db.session.commit()
    if waiting is not None:
        _schedule_retry(campaign_id, channel, max((waiting - now).total_seconds(), 1.0))


# --- claim ------------------------------------------------------------------------------------

_PG_CLAIM = text("""
WITH picked AS MATERIALIZED (
    SELECT id FROM notification
    WHERE campaign_id = :campaign AND channel = :channel AND status = 'pending'
      AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
    ORDER BY id LIMIT :size
    FOR UPDATE SKIP LOCKED
)
UPDATE notification AS n
SET status = 'sending', lease_until = :lease, sending_at = :now, updated_at = :now,
    attempts = n.attempts + 1
FROM picked WHERE n.id = picked.id
RETURNING n.id, n.person_id, n.attempts, n.notice_version_id
""").bindparams(bindparam("now", type_=UTCDateTime()), bindparam("lease", type_=UTCDateTime()))

# SQLite serialises writers, so the sub-select cannot race another claim.
_SQLITE_CLAIM = text("""
UPDATE notification
SET status = 'sending', lease_until = :lease, sending_at = :now, updated_at = :now,
    attempts = attempts + 1
WHERE id IN (
    SELECT id FROM notification
    WHERE campaign_id = :campaign AND channel = :channel AND status = 'pending'
      AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
    ORDER BY id LIMIT :size
)
RETURNING id, person_id, attempts, notice_version_id
""").bindparams(bindparam("now", type_=UTCDateTime()), bindparam("lease", type_=UTCDateTime()))


def claim(campaign_id: int, channel: str, size: int) -> list[Claimed]:
    """Lease up to ``size`` due pending rows to this job; commits."""
    now = utcnow()
    lease = now + timedelta(seconds=int(current_app.config["DISPATCH_LEASE_SECONDS"]))
    statement = _PG_CLAIM if db.session.get_bind().dialect.name == "postgresql" else _SQLITE_CLAIM
    rows = db.session.execute(statement, {"campaign": campaign_id, "channel": channel,
                                          "size": size, "now": now, "lease": lease}).all()
    db.session.commit()
    return sorted((Claimed(*row) for row in rows), key=lambda row: row.id)


# --- the job ----------------------------------------------------------------------------------


def _contacts(channel: str, person_ids: list[int]) -> dict[int, tuple]:
    """{person id: (address, language, notice code)} for the claimed rows."""
    address = Person.phone if channel == "sms" else Person.email
    rows = db.session.execute(
        select(Person.id, address, Person.language, Person.notice_code)
        .where(Person.id.in_(person_ids))
    ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def status_callback_url() -> str:
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + "/hooks/twilio/status"


class Outcomes:
    """What happened to each message of a chunk, written in one batch."""

    def __init__(self):
        self.sent: list[dict] = []
        self.retry: list[dict] = []
        self.failed: list[dict] = []
        self.opted_out: list[int] = []  # person ids (Twilio 21610)


def send_chunk(campaign_id: int, channel: str) -> int:
    """Claim, send and record one chunk of a campaign's channel; return rows claimed."""
    if channel not in campaigns.SENT_CHANNELS:
        raise ValueError(f"chunk jobs send SMS and e-mail, not {channel!r}")
    state = db.session.execute(
        select(Campaign.status, Campaign.incident_id).where(Campaign.id == campaign_id)
    ).first()
    if state is None or state.status not in SENDABLE_CAMPAIGN:
        db.session.commit()
        return 0  # paused or cancelled: claim nothing
    rows = claim(campaign_id, channel, int(current_app.config["DISPATCH_CHUNK_SIZE"]))
    if not rows:
        if not campaigns.finish_if_done(campaign_id) and jobs.queue() is not None:
            _retry_later(campaign_id, channel)
        return 0
    contacts = _contacts(channel, [row.person_id for row in rows])
    wordings: dict[tuple, Wording] = {}
    for row in rows:
        language = (contacts.get(row.person_id) or (None, "en", None))[1] or "en"
        if (language, row.notice_version_id) not in wordings:
            wordings[language, row.notice_version_id] = wording(
                state.incident_id, language, row.notice_version_id)
    db.session.commit()  # nothing held open while the provider is called
    outcomes = _send_all(channel, rows, contacts, wordings)
    _record(campaign_id, state.incident_id, channel, rows, outcomes)
    campaigns.finish_if_done(campaign_id)
    return len(rows)


def send_concurrency() -> int:
    """Connections a worker sends a chunk over at once (``DISPATCH_SEND_CONCURRENCY``).

    The development outbox writes to the job's own database session, so it sends
    one message at a time.
    """
    config = current_app.config
    if config["OUTBOX_ENABLED"]:
        return 1
    return max(1, int(config["DISPATCH_SEND_CONCURRENCY"]))


class _Tokens:
    """The chunk's share of the channel's rate limit, taken from the shared bucket
    (``ratelimit``, in Redis) in batches and handed to the sending threads one by one."""

    def __init__(self, channel: str):
        self.channel = channel
        self.left = 0
        self.lock = threading.Lock()

    def take(self) -> None:
        with self.lock:  # one thread asks Redis (and waits) while the others queue here
            if self.left == 0:
                self.left = ratelimit.acquire(self.channel, ratelimit.batch_size(self.channel))
            self.left -= 1


def _send_all(channel, rows, contacts, wordings) -> Outcomes:
    """Send the claimed rows over ``send_concurrency()`` connections at once.

    Each thread has its own SMTP connection or Twilio client and its own outcomes;
    they are merged for ``_record``. The rows stay ``sending`` (leased) until then,
    so a worker killed mid-chunk leaves them to ``recover`` as before.
    """
    threads = min(send_concurrency(), len(rows))
    if threads <= 1:
        return _send_some(channel, iter(rows), contacts, wordings, _Tokens(channel))
    app = current_app._get_current_object()
    todo = iter(rows)
    lock = threading.Lock()

    def next_row():
        with lock:
            return next(todo, None)

    tokens = _Tokens(channel)

    def run() -> Outcomes:
        with app.app_context():
            return _send_some(channel, iter(next_row, None), contacts, wordings, tokens)

    with ThreadPoolExecutor(threads, thread_name_prefix="dispatch-send") as pool:
        parts = [future.result() for future in [pool.submit(run) for _n in range(threads)]]
    merged = Outcomes()
    for part in parts:
        merged.sent += part.sent
        merged.retry += part.retry
        merged.failed += part.failed
        merged.opted_out += part.opted_out
    return merged


def _send_some(channel, rows, contacts, wordings, tokens: _Tokens) -> Outcomes:
    """Send ``rows`` (an iterator, shared with other threads) one after the other."""
    outcomes = Outcomes()
    config = current_app.config
    base = link_base()
    callback = status_callback_url()
    max_attempts = int(config["DISPATCH_MAX_ATTEMPTS"])
    retry_base = float(config["DISPATCH_RETRY_BASE_SECONDS"])
    connection = email.Connection() if channel == "email" else sms.Sender()
    try:
        for row in rows:
            address, language, code = contacts.get(row.person_id) or (None, "en", None)
            words = wordings[language or "en", row.notice_version_id]
            link = base + (code or "")
            tokens.take()
            try:
                if channel == "sms":
                    body = words.render_sms(link)
                    provider_id = connection.send(address, body, status_callback=callback)
                else:
                    subject, body, html = words.render_email(link, code or "")
                    provider_id = connection.send(address, body, subject=subject, html=html)
            except ChannelError as exc:
                failure = {"nid": row.id, "code": exc.code, "error": str(exc)[:500]}
                if exc.permanent or row.attempts >= max_attempts:
                    outcomes.failed.append(failure)
                    if channel == "sms" and exc.code == str(sms.OPTED_OUT_ERROR):
                        outcomes.opted_out.append(row.person_id)
                else:
                    failure["delay"] = retry_base * 2 ** (row.attempts - 1)
                    outcomes.retry.append(failure)
                continue
            except Exception as exc:  # noqa: BLE001 - one bad message must not lose the chunk
                log.exception("campaign message %s could not be sent", row.id)
                failure = {"nid": row.id, "code": "error", "error": exc.__class__.__name__,
                           "delay": retry_base * 2 ** (row.attempts - 1)}
                (outcomes.failed if row.attempts >= max_attempts else outcomes.retry).append(
                    failure)
                continue
            outcomes.sent.append({"nid": row.id, "provider_id": provider_id,
                                  "digest": digest(body)})
    finally:
        if channel == "email":
            connection.close()
    return outcomes


# Core (not ORM) statements: executemany over plain parameter dicts.
_TABLE = Notification.__table__
_WHERE_MINE = (_TABLE.c.id == bindparam("nid"), _TABLE.c.status == "sending")


def _record(campaign_id: int, incident_id: int, channel: str, rows, outcomes: Outcomes) -> None:
    now = utcnow()
    session = db.session
    if outcomes.sent:
        session.execute(
            update(_TABLE).where(*_WHERE_MINE).values(
                status="sent", provider_id=bindparam("provider_id"),
                content_digest=bindparam("digest"), sent_at=now, lease_until=None,
                last_error=None, error_code=None, updated_at=now,
            ),
            outcomes.sent)
    if outcomes.retry:
        for item in outcomes.retry:
            item["next_attempt_at"] = now + timedelta(seconds=item.pop("delay"))
        session.execute(
            update(_TABLE).where(*_WHERE_MINE).values(
                status="pending", next_attempt_at=bindparam("next_attempt_at"),
                last_error=bindparam("error"), error_code=bindparam("code"),
                lease_until=None, updated_at=now,
            ),
            outcomes.retry)
    if outcomes.failed:
        for item in outcomes.failed:
            item.pop("delay", None)
        session.execute(
            update(_TABLE).where(*_WHERE_MINE).values(
                status="failed", last_error=bindparam("error"), error_code=bindparam("code"),
                failed_at=now, lease_until=None, updated_at=now,
            ),
            outcomes.failed)
    if outcomes.opted_out:
        record_sms_opt_out(outcomes.opted_out, source="provider")
    fallbacks = 0
    if outcomes.failed:
        fallbacks = fall_back([item["nid"] for item in outcomes.failed], channel)
    session.commit()
    if outcomes.retry:
        _schedule_retry(campaign_id, channel,
                        min((item["next_attempt_at"] - now).total_seconds()
                            for item in outcomes.retry))
    if fallbacks and FALLBACK[channel] in campaigns.SENT_CHANNELS:
        campaigns.queue_campaign(campaign_id, channels=(FALLBACK[channel],))


# --- fallback and opt-out ---------------------------------------------------------------------


def fall_back(notification_ids: list[int], channel: str) -> int:
    """Create the next channel's row for failed rows whose person can get it.

    SMS falls back to e-mail and e-mail to a letter, once per person and campaign
    (the unique row); the new row points at the failed one (``fallback_of_id``).
    The caller commits. Returns rows created.
    """
    target = FALLBACK.get(channel)
    if target is None or not notification_ids:
        return 0
    now = utcnow()
    from sqlalchemy import literal

    from portal.models.base import UTCDateTime as UTC

    failed = select(
        Notification.campaign_id, Notification.person_id, literal(target), literal("pending"),
        literal(0), literal(0), Notification.notice_version_id, Notification.id,
        literal(now, UTC()), literal(now, UTC()),
    ).join(Person, Person.id == Notification.person_id).join(
        Campaign, Campaign.id == Notification.campaign_id
    ).where(Notification.id.in_(notification_ids), Notification.channel == channel,
            Campaign.fallback.is_(True), Person.anonymised_at.is_(None),
            campaigns.eligible(target))
    statement = campaigns.dialect_insert(Notification.__table__).from_select(
        ["campaign_id", "person_id", "channel", "status", "attempts", "resend_count",
         "notice_version_id", "fallback_of_id", "created_at", "updated_at"], failed)
    return db.session.execute(statement.on_conflict_do_nothing(
        index_elements=["person_id", "campaign_id", "channel"])
        .execution_options(preserve_rowcount=True)).rowcount


def record_sms_opt_out(person_ids: list[int], *, source: str, opted_out: bool = True) -> int:
    """Set (or clear) the SMS opt-out of these people, one log entry each; caller commits."""
    if not person_ids:
        return 0
    rows = db.session.execute(
        select(Person.id, Person.incident_id).where(Person.id.in_(person_ids),
                                                     Person.sms_opt_out.is_(not opted_out))
    ).all()
    if not rows:
        return 0
    db.session.execute(update(Person).where(Person.id.in_([row.id for row in rows]))
                       .values(sms_opt_out=opted_out, updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    action = "sms.opted_out" if opted_out else "sms.opted_in"
    for row in rows:
        # A STOP the customer texted is the customer's act; a provider's report is ours.
        actor = ({"actor_type": "customer", "actor_id": row.id} if source == "inbound"
                 else {"actor_type": "system"})
        audit.record(action, incident_id=row.incident_id, person_id=row.id,
                     details={"source": source}, **actor)
    return len(rows)


# --- recovery ---------------------------------------------------------------------------------


def release_expired_leases() -> dict[int, list[int]]:
    """Send rows whose lease expired back to pending, counting a possible resend.

    Their worker died or hung after claiming them: the provider may or may not have
    taken the message, so the next send is counted on the row (``resend_count``)
    and logged per campaign. Commits. Returns {campaign id: row ids}.
    """
    now = utcnow()
    # ``status = 'sending'`` written out, not bound: it is the predicate of the partial
    # index ix_notification_lease, so even a prepared statement's generic plan (which
    # knows no bound value) can use it.
    expired = db.session.execute(
        select(Notification.id, Notification.campaign_id).where(
            Notification.status == LEASED, Notification.lease_until < now)
        .with_for_update(skip_locked=True)
    ).all()
    if not expired:
        db.session.commit()
        return {}
    ids = [row.id for row in expired]
    for start in range(0, len(ids), 1000):
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids[start:start + 1000]),
                                       Notification.status == "sending")
            .values(status="pending", lease_until=None, next_attempt_at=None,
                    resend_count=Notification.resend_count + 1, updated_at=now)
            .execution_options(synchronize_session=False))
    by_campaign: dict[int, list[int]] = {}
    for row in expired:
        by_campaign.setdefault(row.campaign_id, []).append(row.id)
    incidents = dict(db.session.execute(
        select(Campaign.id, Campaign.incident_id).where(Campaign.id.in_(list(by_campaign)))
    ).all())
    for campaign_id, rows in by_campaign.items():
        log.warning("campaign %s: %d expired leases released; they will be sent again",
                    campaign_id, len(rows))
        audit.record("campaign.leases_recovered", actor_type="system",
                     incident_id=incidents.get(campaign_id), campaign_id=campaign_id,
                     details={"rows": len(rows), "notification_ids": rows[:1000]})
    db.session.commit()
    return by_campaign


def recover() -> dict:
    """Release expired leases, then queue every due pending SMS and e-mail row.

    The periodic job (``DISPATCH_RECOVER_EVERY_SECONDS``) and ``campaigns recover``
    run this; it also queues the rows of a launch that found Redis down, and
    retries whose scheduled job was lost.
    """
    released = release_expired_leases()
    queued = {}
    for campaign_id, channel in campaigns.with_due_rows():
        db.session.commit()
        if campaigns.queue_campaign(campaign_id, channels=(channel,)):
            queued.setdefault(campaign_id, []).append(channel)
    for campaign_id in {*released, *queued}:
        campaigns.finish_if_done(campaign_id)
    return {"released": sum(len(rows) for rows in released.values()),
            "campaigns": sorted(queued)}


def periodic_recover() -> None:
    """The periodic job: ``recover`` (registered by ``portal.dispatch.init_app``)."""
    result = recover()
    if result["released"]:
        log.info("dispatch recovery: %s", result)


def pending_count(campaign_id: int) -> int:
    return db.session.execute(
        select(func.count(Notification.id)).where(Notification.campaign_id == campaign_id,
                                                  Notification.status == "pending")
    ).scalar_one()
