"""portal.core.cursors: PostgreSQL result descriptions made only when read (issue 10, Speed).

docs/benchmarks.md (helpdesk, ninth round): psycopg made a ``Column`` per column of every
result, which SQLAlchemy reads only the first time a statement runs; a ticket page spent a
tenth of its Python calls there.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import bindparam, select

from portal.core.cursors import LazyDescriptionCursor
from portal.models import Person
from tests.support.calls import CallCounter


@pytest.fixture
def pg(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's cursors: PostgreSQL only")
    return db


def test_a_statement_run_again_makes_no_column_objects(pg, make_incident, make_person,
                                                       monkeypatch):
    person, _plain = make_person(make_incident())
    pg.session.commit()
    statement = select(Person).where(Person.id == bindparam("id"))
    assert pg.session.execute(statement, {"id": person.id}).scalar_one().id == person.id
    columns = CallCounter(monkeypatch, psycopg.Column, "__init__")
    pg.session.expunge_all()
    loaded = pg.session.execute(statement, {"id": person.id}).scalar_one()
    assert loaded.id == person.id and loaded.first_name == person.first_name
    assert columns.calls == 0
    connection = pg.session.connection().connection.dbapi_connection
    assert connection.cursor_factory is LazyDescriptionCursor


def test_the_description_is_what_psycopg_describes(pg):
    raw = pg.engine.raw_connection()
    try:
        connection = raw.dbapi_connection
        queries = ["SELECT 1 AS a, 'x'::text AS b, now() AS c, NULL::numeric(5, 2) AS d",
                   "SELECT", "SELECT 1 WHERE false", "SET search_path TO public"]
        for query in queries:
            lazy = connection.cursor()
            plain = psycopg.Cursor(connection)
            assert type(lazy) is LazyDescriptionCursor
            lazy.execute(query)
            plain.execute(query)
            if plain.description is None:
                assert lazy.description is None, query
                continue
            described = lazy.description
            assert len(described) == len(plain.description)
            assert [tuple(column) for column in described] == \
                [tuple(column) for column in plain.description], query
            assert [column.name for column in described] == \
                [column.name for column in plain.description]
            assert bool(described) == bool(plain.description)
        # Read after the cursor ran something else: refused, never another result's columns.
        lazy = connection.cursor()
        lazy.execute("SELECT 1 AS a")
        stale = lazy.description
        lazy.execute("SELECT 2 AS b, 3 AS c")
        with pytest.raises(psycopg.InterfaceError):
            list(stale)
        assert [column.name for column in lazy.description] == ["b", "c"]
        connection.rollback()
    finally:
        raw.close()
