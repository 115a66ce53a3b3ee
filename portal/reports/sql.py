"""The few expressions whose SQL differs between PostgreSQL and SQLite."""

from __future__ import annotations

from sqlalchemy import func, literal_column
from sqlalchemy.sql.elements import ColumnElement

from portal.extensions import db


def dialect() -> str:
    """The name of the database the session talks to."""
    return db.session.get_bind().dialect.name


def utc_day(column) -> ColumnElement:
    """The UTC calendar day of a timestamp column, as an ISO ``YYYY-MM-DD`` text."""
    if dialect() == "postgresql":
        return func.to_char(func.timezone("UTC", column), literal_column("'YYYY-MM-DD'"))
    return func.date(column)


def seconds_between(later, earlier) -> ColumnElement:
    """``later - earlier`` in seconds (a float)."""
    if dialect() == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0



def plus_hours(column, hours: int) -> ColumnElement:
    """A timestamp column plus a whole number of hours."""
    if dialect() == "postgresql":
        return column + func.make_interval(0, 0, 0, 0, hours)
    return func.strftime("%Y-%m-%d %H:%M:%f", column, f"+{int(hours)} hours")
