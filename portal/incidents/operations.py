"""Creating and changing incidents, their filings and their own advice, with the log.

Shared by the managers' pages and ``flask incidents``. Each function validates,
changes the rows and records the interaction in the caller's transaction; the
caller commits. Bad input raises ``IncidentError`` naming the field and the
problem, before anything is written.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select

from portal.audit import log as audit
from portal.core.i18n import is_time_zone
from portal.extensions import db
from portal.incidents.contacts import clean_translations
from portal.incidents.queries import find_advice
from portal.incidents.time_zones import default_time_zone
from portal.models import Incident, IncidentAdvice, RegulatorFiling
from portal.models.incident import INCIDENT_STATUSES, VERIFICATION_METHODS
from portal.notices.advice import is_category
from portal.rules import get_rule

REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")

# The editable fields, in the order forms and logs show them.
FIELDS = (
    "reference", "title", "insurer_name", "status", "summary",
    "occurred_from", "occurred_to", "discovered_at", "determined_at", "contained_at",
    "categories", "jurisdictions", "default_language", "verification_method",
    "contact_hotline", "contact_hours", "contact_email", "contact_postal_address", "dpo_contact",
    "monitoring_provider", "monitoring_enroll_url", "monitoring_enroll_by",
    "monitoring_description", "time_zone", "contact_translations",
)
DATETIME_FIELDS = ("occurred_from", "occurred_to", "discovered_at", "determined_at",
                   "contained_at")
TEXT_LIMITS = {
    "title": 200, "insurer_name": 200, "contact_hotline": 40, "contact_hours": 200,
    "contact_email": 254, "monitoring_provider": 200, "monitoring_enroll_url": 500,
    "monitoring_description": 2000, "time_zone": 64,
}


class IncidentError(ValueError):
    """Bad input for an incident; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def find_incident(reference: str) -> Incident | None:
    """The incident with this reference (case-insensitive), or None."""
    return db.session.execute(
        select(Incident).where(func.lower(Incident.reference) == reference.strip().lower())
    ).scalar_one_or_none()


def _loggable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return list(value)
    return value


def _clean_text(name: str, value):
    if value is None:
        return None
    value = str(value).strip()
    limit = TEXT_LIMITS.get(name)
    if limit and len(value) > limit:
        raise IncidentError(name, f"at most {limit} characters")
    return value or None


def validate(values: dict, incident: Incident | None = None) -> dict:
    """Check and normalise ``values`` (a subset of ``FIELDS``); return the cleaned values."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise IncidentError(sorted(unknown)[0], "not an incident field")
    clean: dict = {}
    for name, value in values.items():
        if name in DATETIME_FIELDS:
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise IncidentError(name, "must be a timezone-aware date and time")
            clean[name] = value
        elif name == "monitoring_enroll_by":
            if value is not None and not isinstance(value, date):
                raise IncidentError(name, "must be a date")
            clean[name] = value
        elif name in ("categories", "jurisdictions"):
            items = [str(item).strip() for item in value or () if str(item).strip()]
            known = is_category if name == "categories" else (lambda key: get_rule(key) is not None)
            bad = [item for item in items if not known(item)]
            if bad:
                raise IncidentError(name, f"unknown: {', '.join(bad)}")
            clean[name] = list(dict.fromkeys(items))
        elif name == "contact_translations":
            try:
                clean[name] = clean_translations(value)
            except ValueError as exc:
                raise IncidentError(name, str(exc)) from exc
        else:
            clean[name] = _clean_text(name, value)
    _check_values(clean, incident)
    return clean


def _check_values(clean: dict, incident: Incident | None) -> None:
    if "reference" in clean:
        reference = clean["reference"]
        if not reference or not REFERENCE_PATTERN.match(reference):
            raise IncidentError("reference", "1 to 40 letters, digits, dots, dashes or "
                                "underscores, starting with a letter or digit")
        other = find_incident(reference)
        if other is not None and other is not incident:
            raise IncidentError("reference", f"{reference} is already used by another incident")
    if "title" in clean and not clean["title"]:
        raise IncidentError("title", "must not be empty")
    if "status" in clean and clean["status"] not in INCIDENT_STATUSES:
        raise IncidentError("status", f"must be one of {', '.join(INCIDENT_STATUSES)}")
    if "verification_method" in clean and clean["verification_method"] not in VERIFICATION_METHODS:
        raise IncidentError("verification_method",
                            f"must be one of {', '.join(VERIFICATION_METHODS)}")
    if "default_language" in clean:
        languages = tuple(current_app.config["LANGUAGES"])
        if clean["default_language"] not in languages:
            raise IncidentError("default_language", f"must be one of {', '.join(languages)}")
    if clean.get("contact_email"):
        from email_validator import EmailNotValidError, validate_email

        try:
            validate_email(clean["contact_email"], check_deliverability=False)
        except EmailNotValidError as exc:
            raise IncidentError("contact_email", f"not a valid email address ({exc})") from exc
    if clean.get("time_zone") and not is_time_zone(clean["time_zone"]):
        raise IncidentError("time_zone", "not an IANA time zone (e.g. America/Los_Angeles)")
    url = clean.get("monitoring_enroll_url")
    if url and not re.match(r"^https?://[^\s/]+\S*$", url):
        raise IncidentError("monitoring_enroll_url", "must be an http or https address")

    def current(name):
        return clean[name] if name in clean else getattr(incident, name, None)

    if "time_zone" in clean and not clean["time_zone"]:  # cleared: back to the guess
        clean["time_zone"] = default_time_zone(current("contact_postal_address"))
    start, end = current("occurred_from"), current("occurred_to")
    if start and end and start > end:
        raise IncidentError("occurred_to", "must not be before the start of the breach")


def _changes(incident: Incident, clean: dict) -> dict:
    changes = {}
    for name in FIELDS:
        if name not in clean:
            continue
        before = getattr(incident, name)
        if name in ("categories", "jurisdictions"):
            before = list(before or [])
        if name == "contact_translations":
            before = dict(before or {})
        # Sets, whatever order the form sent them in: the same ones are no change.
        if name in ("categories", "jurisdictions") and sorted(before) == sorted(clean[name]):
            continue
        if before != clean[name]:
            changes[name] = [_loggable(before), _loggable(clean[name])]
    return changes


def create_incident(values: dict, *, created_by_id: int | None = None, via: str = "web",
                    actor_type: str | None = None) -> Incident:
    """Create an incident from ``values`` and log ``incident.created`` with every value set."""
    if not values.get("reference"):
        raise IncidentError("reference", "is required")
    if not values.get("title"):
        raise IncidentError("title", "is required")
    clean = validate(values)
    clean.setdefault("categories", [])
    clean.setdefault("jurisdictions", [])
    clean.setdefault("status", "draft")
    clean.setdefault("default_language", "en")
    clean.setdefault("verification_method", "postcode")
    if not clean.get("time_zone"):  # a chosen zone, else the contact address's, else UTC
        clean["time_zone"] = default_time_zone(clean.get("contact_postal_address"))
    clean.setdefault("contact_translations", {})
    incident = Incident(created_by_id=created_by_id)
    changes = {name: [None, _loggable(value)] for name, value in clean.items()
               if value not in (None, [], {})}
    for name, value in clean.items():
        setattr(incident, name, value)
    db.session.add(incident)
    db.session.flush()
    audit.record("incident.created", actor_type=actor_type, incident_id=incident.id,
                 details={"reference": incident.reference, "via": via, "changes": changes})
    return incident


def update_incident(incident: Incident, values: dict, *, via: str = "web") -> dict:
    """Apply ``values``; log ``incident.updated`` with before/after of what changed."""
    clean = validate(values, incident)
    changes = _changes(incident, clean)
    if not changes:
        return {}
    for name in changes:
        setattr(incident, name, clean[name])
    db.session.flush()
    audit.record("incident.updated", incident_id=incident.id,
                 details={"reference": incident.reference, "via": via, "changes": changes})
    return changes


def add_filing(incident: Incident, *, authority: str, filed_at: datetime,
               rule_id: str | None = None, reference: str | None = None,
               notes: str | None = None, created_by_id: int | None = None) -> RegulatorFiling:
    """Record a filing with a regulator (it may meet a rule's deadline) and log it."""
    authority = (authority or "").strip()
    if not authority:
        raise IncidentError("authority", "is required")
    if len(authority) > 200:
        raise IncidentError("authority", "at most 200 characters")
    if filed_at is None or filed_at.tzinfo is None:
        raise IncidentError("filed_at", "must be a timezone-aware date and time")
    rule_id = rule_id or None
    if rule_id is not None and get_rule(rule_id) is None:
        raise IncidentError("rule_id", f"unknown rule {rule_id}")
    reference = (reference or "").strip() or None
    if reference and len(reference) > 200:
        raise IncidentError("reference", "at most 200 characters")
    filing = RegulatorFiling(
        incident_id=incident.id, rule_id=rule_id, authority=authority, filed_at=filed_at,
        reference=reference, notes=(notes or "").strip() or None, created_by_id=created_by_id,
    )
    db.session.add(filing)
    db.session.flush()
    audit.record("filing.added", incident_id=incident.id, details={
        "filing_id": filing.id, "rule_id": rule_id, "authority": authority,
        "filed_at": filed_at.isoformat(), "reference": reference,
    })
    return filing


def save_advice(incident: Incident, category: str, language: str, text: str) -> bool:
    """Set (or with empty text, remove) the incident's own advice; log before/after.

    Returns whether anything changed.
    """
    if not is_category(category):
        raise IncidentError("category", f"unknown category {category}")
    if language not in tuple(current_app.config["LANGUAGES"]):
        raise IncidentError("language", f"unsupported language {language}")
    text = (text or "").strip()
    if len(text) > 5000:
        raise IncidentError("text", "at most 5000 characters")
    row = find_advice(incident.id, category, language)
    before = row.text if row else None
    if (before or "") == text:
        return False
    if row is None:
        db.session.add(IncidentAdvice(incident_id=incident.id, category=category,
                                      language=language, text=text))
    elif text:
        row.text = text
    else:
        db.session.delete(row)
    db.session.flush()
    audit.record("incident_advice.saved", incident_id=incident.id, details={
        "category": category, "language": language, "changes": {"text": [before, text or None]},
    })
    return True
