"""Single statements outside the request's transaction, on PostgreSQL.

A statement that needs no transaction of its own (reading one row, or an
UPDATE that must be committed at once anyway) costs one round trip in
autocommit mode, against three (BEGIN, the statement, COMMIT or ROLLBACK) in
the request's session. The autocommit engine shares the application's
connection pool. Other databases (SQLite, the embedded default) run the same
statements in the request's session; callers commit there as they need.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from portal.extensions import db

EXTENSION_KEY = "portal.autocommit_engines"


def available() -> bool:
    """Whether statements here run outside the request's transaction."""
    return db.engine.dialect.name == "postgresql"


def engine():
    """The application's engine in autocommit mode (same pool)."""
    engines = current_app.extensions.setdefault(EXTENSION_KEY, {})
    found = engines.get(db.engine)
    if found is None:
        found = engines.setdefault(db.engine,
                                   db.engine.execution_options(isolation_level="AUTOCOMMIT"))
    return found


def read_row(statement, params: dict) -> tuple | None:
    """The statement's only row, or ``None``; ORM objects in it join the request's session.

    The objects are attached without being read again, so attributes the
    statement deferred still load (in the request's transaction) when used.
    """
    if not available():
        row = db.session.execute(statement, params).one_or_none()
        return tuple(row) if row is not None else None
    with Session(engine()) as reader:
        row = reader.execute(statement, params).one_or_none()
        if row is None:
            return None
        values = []
        for value in row:
            if isinstance(value, db.Model):
                reader.expunge(value)
                value = db.session.merge(value, load=False)
            values.append(value)
    return tuple(values)


def scalar_now(statement, params: dict):
    """Run a statement committed on its own, immediately; its scalar result (or ``None``).

    Without autocommit it runs in the request's session, whose caller commits.
    """
    if not available():
        return db.session.execute(statement, params).scalar_one_or_none()
    with engine().connect() as connection:
        return connection.execute(statement, params).scalar_one_or_none()
