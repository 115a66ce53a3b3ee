"""Personal data on the ticket page: masked until an agent reveals a field with a reason.

The first name always shows (agents greet the customer). Each reveal is logged as
``pii.revealed`` with the field and the reason, and the value shows for that one
page view only: nothing about a reveal is kept in the session.
"""

from __future__ import annotations

from portal.audit import log as audit
from portal.models.person import Person

REVEALABLE = ("last_name", "date_of_birth", "email", "phone", "postal_address",
              "policy_number")
REVEAL_REASONS = ("verify_identity", "customer_request", "contact_customer",
                  "correct_record", "suspected_fraud")
MASK = "•••"


def _postal_address(person: Person) -> str | None:
    parts = [person.address_line1, person.address_line2, person.city, person.region,
             person.postcode, person.country]
    text = ", ".join(part for part in parts if part)
    return text or None


def plain_value(person: Person, field: str) -> str | None:
    """A personal field's plain value (None when not on file)."""
    if field == "postal_address":
        return _postal_address(person)
    if field not in REVEALABLE:
        raise ValueError(f"not a revealable field: {field!r}")
    return getattr(person, field)


def mask(field: str, value: str | None) -> str | None:
    """A hint that is not the value: the phone's last two digits, the e-mail's first
    letter and top-level domain; everything else fully hidden. None when not on file.
    """
    if not value:
        return None
    if field == "phone":
        return MASK + " " + MASK + " " + value[-2:]
    if field == "email" and "@" in value:
        local, _at, domain = value.partition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        return f"{local[:1]}{MASK}@{MASK}" + (f".{tld}" if tld else "")
    return MASK * 2


def masked(person: Person) -> dict[str, str | None]:
    """Every revealable field, masked (None: not on file)."""
    return {field: mask(field, plain_value(person, field)) for field in REVEALABLE}


def reveal(person: Person, field: str, reason: str, *, ticket_id: int | None = None) -> str | None:
    """Return one field's plain value and log ``pii.revealed`` with the field and reason."""
    if field not in REVEALABLE:
        raise ValueError(f"not a revealable field: {field!r}")
    if reason not in REVEAL_REASONS:
        raise ValueError(f"not a reveal reason: {reason!r}")
    audit.record("pii.revealed", incident_id=person.incident_id, person_id=person.id,
                 ticket_id=ticket_id, details={"field": field, "reason": reason})
    return plain_value(person, field)
