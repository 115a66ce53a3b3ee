"""Twilio's status callbacks: a message's status moves only forward, once.

``apply_status`` locks the row (found by its provider id), and changes it only when
the reported status ranks above the stored one (``STATUS_RANK``): a late ``sent``
after ``delivered``, or the same callback replayed, changes nothing and logs
nothing. ``undelivered`` and ``failed`` trigger the fallback to e-mail.
"""

from __future__ import annotations

from sqlalchemy import select, update

from portal.audit import log as audit
from portal.extensions import db
from portal.models import Campaign, Notification
from portal.models.base import utcnow
from portal.models.campaign import STATUS_RANK

# Twilio's MessageStatus values and what they mean for a row; the rest (queued,
# accepted, scheduled, sending, read...) tell nothing the row does not know.
TWILIO_STATUSES = {"sent": "sent", "delivered": "delivered", "undelivered": "undelivered",
                   "failed": "failed"}
TIMESTAMP = {"sent": "sent_at", "delivered": "delivered_at", "undelivered": "failed_at",
             "failed": "failed_at"}


def apply_status(provider_id: str, reported: str, error_code: str | None = None) -> str:
    """Record a status callback; returns ``updated``, ``unchanged`` or ``unknown``. Commits."""
    status = TWILIO_STATUSES.get((reported or "").lower())
    if not provider_id or status is None:
        return "unchanged"
    row = db.session.execute(
        select(Notification.id, Notification.status, Notification.campaign_id,
               Notification.person_id, Notification.channel)
        .where(Notification.provider_id == provider_id).with_for_update()
    ).first()
    if row is None:
        db.session.rollback()
        return "unknown"
    if STATUS_RANK[status] <= STATUS_RANK[row.status]:
        db.session.rollback()
        return "unchanged"
    now = utcnow()
    values = {"status": status, TIMESTAMP[status]: now, "updated_at": now, "lease_until": None}
    if error_code and status in ("undelivered", "failed"):
        values["error_code"] = str(error_code)[:32]
    db.session.execute(update(Notification).where(Notification.id == row.id).values(**values)
                       .execution_options(synchronize_session=False))
    incident_id = db.session.execute(
        select(Campaign.incident_id).where(Campaign.id == row.campaign_id)).scalar_one()
    audit.record(f"sms.{status}", actor_type="system", incident_id=incident_id,
                 person_id=row.person_id, campaign_id=row.campaign_id,
                 details={"notification_id": row.id, "error_code": values.get("error_code")})
    fallbacks = 0
    if status in ("undelivered", "failed"):
        from portal.dispatch.chunks import fall_back

        fallbacks = fall_back([row.id], row.channel)
    db.session.commit()
    if fallbacks:
        from portal.dispatch.campaigns import queue_campaign

        queue_campaign(row.campaign_id, channels=("email",))
    return "updated"
