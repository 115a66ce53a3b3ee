"""Posting a date to a three-part date field (portal.customer.dates.MemorableDateField)."""

from __future__ import annotations


def dob_fields(iso: str, name: str = "date_of_birth") -> dict[str, str]:
    """Form values for an ISO date typed as day, month and year."""
    year, month, day = iso.split("-")
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}
