"""Declarative base, shared column types and helpers for every model module."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime
from sqlalchemy.types import TypeDecorator

from portal.extensions import Base

__all__ = ["Base", "UTCDateTime", "one_of", "utcnow"]


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """Check that ``column`` holds one of ``values`` (or NULL): ``ck_<table>_<column>``.

    The model modules build every state, status, role and channel constraint from
    their tuples with this, so the tuple is the one list of allowed values.
    """
    if not values or any("'" in value for value in values):
        raise ValueError(f"unusable values for {column}: {values!r}")
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite drops the offset; this type puts UTC back on the way out and
    refuses naive datetimes on the way in, so no code mixes the two.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
