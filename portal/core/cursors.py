"""PostgreSQL cursors whose description is made only when something reads it.

SQLAlchemy asks every result's ``cursor.description``; for a statement it has run before
(every statement of a page, after the first page) it only tells from it that rows came
back, the result's columns being cached with the compiled statement. psycopg makes a
``Column`` object per column each time it is asked, about eight Python calls each: a
ticket page reads about 150 columns in all, a thousand-odd calls for nothing.
``LazyDescriptionCursor.description`` is a sequence of the same ``Column`` objects,
made on first use, for the result it was asked about.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import event

_ROWS = frozenset({ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK})


class _Description(Sequence):
    """psycopg's description of one result (``Cursor.description``), made when read."""

    __slots__ = ("_columns", "_cursor", "_result")

    def __init__(self, cursor: psycopg.Cursor, result) -> None:
        self._cursor, self._result, self._columns = cursor, result, None

    def _made(self) -> list[psycopg.Column]:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:
                # psycopg's own would now describe another result: never answer for it.
                raise psycopg.InterfaceError("the cursor has moved on to another result")
            self._columns = [psycopg.Column(self._cursor, index)
                             for index in range(self._result.nfields)]
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index):
        return self._made()[index]

    def __iter__(self):
        return iter(self._made())


class LazyDescriptionCursor(psycopg.Cursor):
    """psycopg's cursor, with ``description`` made when read (see the module docstring)."""

    @property
    def description(self):
        result = self.pgresult
        # As psycopg answers: columns when the result has some or said it returns rows.
        if result and (result.nfields or result.status in _ROWS):
            return _Description(self, result)
        return None


def _use_lazy_description(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, psycopg.Connection):
        dbapi_connection.cursor_factory = LazyDescriptionCursor


def init_app(app, db) -> None:
    """Every PostgreSQL connection of the application's engine uses the cursor above."""
    with app.app_context():
        engine = db.engine
    if not event.contains(engine, "connect", _use_lazy_description):
        event.listen(engine, "connect", _use_lazy_description)
