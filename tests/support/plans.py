"""PostgreSQL query plans of the statements a call runs (the index tests of pages)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event


def statements_of(db, call: Callable[[], object], needle: str) -> list[tuple[str, object]]:
    """The statements (with their parameters) that ``call()`` runs whose SQL has ``needle``."""
    found = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if needle in statement:
            found.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    return found


def plan_without_seqscan(db, statement: str, parameters) -> str:
    """``EXPLAIN`` of the statement with sequential scans off: which index it can use,
    whatever the few rows of a test database would make cheapest."""
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())
