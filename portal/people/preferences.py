"""A person's own contact preferences, changed with one log entry per field."""

from __future__ import annotations

from portal.audit import log as audit
from portal.models.person import Person

FIELDS = ("language", "preferred_channel", "sms_opt_out")


def update_preferences(person: Person, values: dict) -> bool:
    """Apply ``values`` (a subset of ``FIELDS``), logging each change; the caller commits.

    Returns whether anything changed.
    """
    changed = False
    for field in FIELDS:
        if field not in values:
            continue
        before, value = getattr(person, field), values[field]
        if before != value:
            audit.record("preferences.changed", incident_id=person.incident_id,
                         person_id=person.id, details={"field": field, "from": before, "to": value})
            setattr(person, field, value)
            changed = True
    return changed
