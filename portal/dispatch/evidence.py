"""The evidence of a campaign: one CSV row per message, streamed.

What a regulator asks: who was told (the person's reference, never their contact
details), by which channel, when each step happened, what the provider called
the message, and what was said (the notice version and the content's digest).
Rows are read in id order a page at a time, so a campaign of millions streams
in constant memory; every cell is formula-safe (``portal.core.csv_cells``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from portal.audit import log as audit
from portal.core.csv_cells import safe_row
from portal.extensions import db
from portal.models import Campaign, Letter, LetterBatch, NoticeVersion, Notification, Person

PAGE = 2000
COLUMNS = ("message_id", "person_reference", "channel", "status", "status_history",
           "attempts", "resends", "provider_id", "notice_version", "notice_language",
           "content_digest", "error_code", "fallback_of", "created_at", "sending_at", "sent_at",
           "delivered_at", "failed_at", "cancelled_at", "letter_batch", "letter_pages",
           "letter_mailed_at", "letter_returned_at")
# Steps of the status history, in the order they happen.
STEPS = (("created", "created_at"), ("sending", "sending_at"), ("sent", "sent_at"),
         ("mailed", "mailed_at"), ("delivered", "delivered_at"), ("returned", "returned_at"),
         ("failed", "failed_at"), ("cancelled", "cancelled_at"))


def _when(value) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""


def _history(row) -> str:
    """``created 2026-11-28T15:00:00+00:00; sent …; delivered …`` in time order."""
    steps = [(getattr(row, column), name) for name, column in STEPS
             if getattr(row, column, None) is not None]
    if row.status == "undelivered" and row.returned_at is None and row.failed_at is not None:
        steps = [(when, "undelivered" if name == "failed" else name) for when, name in steps]
    steps.sort(key=lambda step: step[0])
    return "; ".join(f"{name} {_when(when)}" for when, name in steps)


def _query(campaign_id: int, after_id: int):
    return (
        select(Notification.id, Person.external_ref, Notification.channel, Notification.status,
               Notification.attempts, Notification.resend_count, Notification.provider_id,
               NoticeVersion.version, NoticeVersion.language, Notification.content_digest,
               Notification.error_code, Notification.fallback_of_id, Notification.created_at,
               Notification.sending_at, Notification.sent_at, Notification.delivered_at,
               Notification.failed_at, Notification.cancelled_at, LetterBatch.number,
               Letter.first_page, Letter.last_page, Letter.mailed_at, Letter.returned_at)
        .join(Person, Person.id == Notification.person_id)
        .outerjoin(NoticeVersion, NoticeVersion.id == Notification.notice_version_id)
        .outerjoin(Letter, Letter.notification_id == Notification.id)
        .outerjoin(LetterBatch, LetterBatch.id == Letter.batch_id)
        .where(Notification.campaign_id == campaign_id, Notification.id > after_id)
        .order_by(Notification.id)
        .limit(PAGE)
    )


def rows(campaign_id: int) -> Iterator[list]:
    """The campaign's evidence rows (plain values, before CSV quoting)."""
    after_id = 0
    while True:
        page = db.session.execute(_query(campaign_id, after_id)).all()
        if not page:
            return
        for row in page:
            yield [
                row.id, row.external_ref, row.channel, row.status, _history(row),
                row.attempts, row.resend_count, row.provider_id or "", row.version or "",
                row.language or "", row.content_digest or "", row.error_code or "",
                row.fallback_of_id or "", _when(row.created_at), _when(row.sending_at),
                _when(row.sent_at), _when(row.delivered_at), _when(row.failed_at),
                _when(row.cancelled_at), row.number or "",
                f"{row.first_page}-{row.last_page}" if row.first_page else "",
                _when(row.mailed_at), _when(row.returned_at),
            ]
        after_id = page[-1].id


def csv_lines(campaign_id: int) -> Iterator[str]:
    """The evidence as CSV text, a header and then one formula-safe line per message."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield take()
    for count, row in enumerate(rows(campaign_id), start=1):
        writer.writerow(safe_row(row))
        if count % 500 == 0:
            yield take()
    rest = take()
    if rest:
        yield rest


def record_export(campaign_id: int, *, actor_id: int | None = None, via: str = "web") -> None:
    """Log the export (before it streams): who took the campaign's evidence, and how."""
    campaign = db.session.get(Campaign, campaign_id)
    audit.record("campaign.evidence_exported", actor_type="staff" if actor_id else None,
                 actor_id=actor_id, incident_id=campaign.incident_id, campaign_id=campaign_id,
                 details={"via": via})
