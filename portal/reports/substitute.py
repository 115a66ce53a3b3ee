"""The substitute notice: write, publish and unpublish an incident's public page.

Every change is logged (``substitute_notice.saved``, ``.published``,
``.unpublished``). Bad input raises ``IncidentError`` naming the field, so the
managers' ``saving`` block shows it on the form and keeps what was typed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.audit import log as audit
from portal.extensions import db
from portal.incidents.operations import IncidentError
from portal.models import Incident, SubstituteNotice
from portal.models.base import utcnow

SUMMARY_MAX = 4000


def min_days() -> int:
    """How many days from publication the page must at least stay up."""
    return int(current_app.config["SUBSTITUTE_NOTICE_MIN_DAYS"])


def notice_of(incident_id: int) -> SubstituteNotice | None:
    """The incident's substitute notice, published or not."""
    return db.session.execute(
        select(SubstituteNotice).where(SubstituteNotice.incident_id == incident_id)
    ).scalar_one_or_none()


def published(reference: str) -> tuple[Incident, SubstituteNotice] | None:
    """The incident and its substitute notice when published; None otherwise (unknown too)."""
    found = db.session.execute(
        select(Incident, SubstituteNotice)
        .join(SubstituteNotice, SubstituteNotice.incident_id == Incident.id)
        .where(func.lower(Incident.reference) == reference.strip().lower(),
               SubstituteNotice.published_at.is_not(None))
    ).first()
    return (found[0], found[1]) if found else None


def summary_in(notice: SubstituteNotice, language: str, fallback: str) -> tuple[str, str]:
    """The summary in ``language``, else in ``fallback``, else any; with its language."""
    summaries = notice.summaries or {}
    for code in (language, fallback, "en", *sorted(summaries)):
        if summaries.get(code):
            return summaries[code], code
    return "", language


def earliest_end(start: datetime | None = None) -> date:
    """The first allowed stay-up date for a page first published at ``start`` (now)."""
    return ((start or utcnow()) + timedelta(days=min_days())).date()


def save(incident: Incident, summaries: dict[str, str], hotline: str, stay_up_until: date,
         staff_id: int | None) -> tuple[SubstituteNotice, bool]:
    """Create or change the incident's substitute notice; returns it and whether it changed."""
    languages = tuple(current_app.config["LANGUAGES"])
    clean = {code: (summaries.get(code) or "").strip() for code in languages}
    clean = {code: text for code, text in clean.items() if text}
    if not clean.get(incident.default_language) and not clean.get("en"):
        raise IncidentError("summary_" + (incident.default_language or "en"),
                            _("Write the summary at least in the incident's default language."))
    for code, text in clean.items():
        if len(text) > SUMMARY_MAX:
            raise IncidentError(f"summary_{code}",
                                _("At most %(num)d characters.", num=SUMMARY_MAX))
    hotline = (hotline or "").strip()
    if not hotline:
        raise IncidentError("hotline", _("Give the toll-free number people can call."))
    if len(hotline) > 40:
        raise IncidentError("hotline", _("At most %(num)d characters.", num=40))
    row = notice_of(incident.id)
    start = row.first_published_at if row is not None and row.first_published_at else None
    if stay_up_until is None or stay_up_until < earliest_end(start):
        raise IncidentError("stay_up_until", _(
            "The page must stay up at least %(days)d days after it is first published: "
            "choose %(date)s or later.", days=min_days(), date=earliest_end(start).isoformat()))
    values = {"summaries": clean, "hotline": hotline, "stay_up_until": stay_up_until}
    if row is None:
        row = SubstituteNotice(incident_id=incident.id, **values, updated_by_id=staff_id)
        db.session.add(row)
        changes = {name: [None, _loggable(value)] for name, value in values.items()}
    else:
        changes = {name: [_loggable(getattr(row, name)), _loggable(value)]
                   for name, value in values.items() if getattr(row, name) != value}
        if not changes:
            return row, False
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_by_id = staff_id
    db.session.flush()
    audit.record("substitute_notice.saved", incident_id=incident.id,
                 details={"reference": incident.reference, "published": row.published_at
                          is not None, "changes": changes})
    return row, True


def _loggable(value):
    if isinstance(value, date):
        return value.isoformat()
    return value


def publish(incident: Incident, staff_id: int | None) -> bool:
    """Make the page public; False when it already is. Its end date must still be far enough."""
    row = notice_of(incident.id)
    if row is None:
        raise IncidentError("", _("Write the substitute notice before publishing it."))
    if row.published_at is not None:
        return False
    start = row.first_published_at or utcnow()
    if row.stay_up_until < earliest_end(start):
        raise IncidentError("stay_up_until", _(
            "The page must stay up at least %(days)d days after it is first published: "
            "choose %(date)s or later.", days=min_days(), date=earliest_end(start).isoformat()))
    now = utcnow()
    row.published_at = now
    row.first_published_at = row.first_published_at or now
    row.unpublished_at = None
    row.updated_by_id = staff_id
    db.session.flush()
    audit.record("substitute_notice.published", incident_id=incident.id,
                 details={"reference": incident.reference,
                          "stay_up_until": row.stay_up_until.isoformat()})
    return True


def unpublish(incident: Incident, staff_id: int | None, reason: str = "") -> bool:
    """Take the page down; False when it is not public.

    Before its stay-up date a reason is required (and logged): the 90 days are a legal
    minimum, so taking it down early must be a decision someone can account for.
    """
    row = notice_of(incident.id)
    if row is None or row.published_at is None:
        return False
    reason = (reason or "").strip()
    early = utcnow().date() < row.stay_up_until
    if early and not reason:
        raise IncidentError("reason", _(
            "The page should stay up until %(date)s. Give the reason for taking it down "
            "early.", date=row.stay_up_until.isoformat()))
    row.published_at = None
    row.unpublished_at = utcnow()
    row.updated_by_id = staff_id
    db.session.flush()
    audit.record("substitute_notice.unpublished", incident_id=incident.id,
                 details={"reference": incident.reference, "early": early,
                          "reason": reason[:500] or None})
    return True


def events_of(incident_id: int) -> list[dict]:
    """The substitute notice's publication, for the regulator report's timeline."""
    row = notice_of(incident_id)
    if row is None or row.first_published_at is None:
        return []
    events = [{"at": row.first_published_at, "event": "substitute_notice_published",
               "stay_up_until": row.stay_up_until.isoformat()}]
    if row.published_at is None and row.unpublished_at is not None:
        events.append({"at": row.unpublished_at, "event": "substitute_notice_unpublished"})
    return events
