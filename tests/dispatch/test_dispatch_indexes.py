"""The indexes of ``notification``: few enough for a fast launch, and each still used.

A launch creates a million rows at a time, and each index is maintained for every
one of them (docs/benchmarks.md, "Row creation"). The partial indexes hold no entry
for a new row, and the unique index leads with the person so no separate person
index is needed. These tests fail if an index comes back, loses its predicate, or if
a query it serves stops using it: they ask the database's own planner for the plan
of the statements the code really issues.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, text, update

from portal.dispatch import callbacks, campaigns, chunks
from portal.models import Notification
from portal.models.base import utcnow
from portal.tickets.page import person_context
from tests.support.dispatch import incident_with_people, rows

# Name -> (columns, partial predicate or None). SQLite names the unique index itself.
EXPECTED = {
    "ix_notification_claim": ("campaign_id, channel, status, id", None),
    "ix_notification_lease": ("lease_until", "status = 'sending'"),
    "ix_notification_provider_id": ("provider_id", "provider_id IS NOT NULL"),
    "uq_notification_person_id_campaign_id_channel": ("person_id, campaign_id, channel", None),
}


def _normalise(sql: str) -> str:
    sql = re.sub(r"::[a-z ]+", "", sql)  # PostgreSQL's casts
    return re.sub(r"[\s()\"]+", " ", sql).strip().lower()


def _index_definitions(db) -> dict[str, str]:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        found = connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'notification' "
            "AND indexname <> 'pk_notification'")).all()
    else:
        found = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'notification'")).all()
        # SQLite's own index for the unique constraint has no SQL: name it as PostgreSQL does.
        found = [(name if sql else "uq_notification_person_id_campaign_id_channel",
                  sql or "(person_id, campaign_id, channel)") for name, sql in found]
    return {name: _normalise(sql) for name, sql in found}


def test_notification_has_only_the_lean_indexes(db):
    definitions = _index_definitions(db)
    assert set(definitions) == set(EXPECTED), (
        "an index on notification costs every launch a write per row: "
        "see docs/benchmarks.md, Row creation")
    if db.session.connection().dialect.name == "postgresql":  # SQLite keeps no text for uq
        for name, (columns, predicate) in EXPECTED.items():
            definition = definitions[name]
            assert _normalise(columns) in definition, (name, definition)
            if predicate is None:
                assert " where " not in definition, (name, definition)
            else:
                assert definition.endswith("where " + _normalise(predicate)), (name, definition)
    else:
        for name in ("ix_notification_lease", "ix_notification_provider_id"):
            columns, predicate = EXPECTED[name]
            assert definitions[name].endswith("where " + _normalise(predicate)), definitions[name]


@contextmanager
def _captured(db, pattern: str):
    """Record the statements (and parameters) matching ``pattern`` run in the block."""
    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if re.search(pattern, statement, re.S | re.I):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _plan(db, statement: str, parameters) -> str:
    """The plan the database chooses for ``statement`` (PostgreSQL: as if the table were
    large, i.e. with sequential scans priced out, since the test's table is tiny)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        lines = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars()
    else:
        lines = (row[-1] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters))
    plan = "\n".join(lines)
    db.session.rollback()
    return plan


@pytest.fixture
def launched(db, make_incident, make_person):
    incident, _people = incident_with_people(db, make_incident, make_person, 3)
    campaign, summary = campaigns.launch(incident.id, ["sms", "email"])
    assert summary.created == {"sms": 3, "email": 3}
    return campaign


def test_a_status_callback_finds_its_row_through_the_partial_provider_index(db, launched):
    row = next(row for row in rows(db, launched.id) if row.channel == "sms")
    assert row.provider_id and row.status == "sent"
    with _captured(db, r"^\s*SELECT\s.*\sFROM notification\s.*provider_id") as seen:
        assert callbacks.apply_status(row.provider_id, "delivered") == "updated"
    assert len(seen) == 1
    assert "ix_notification_provider_id" in _plan(db, *seen[0])
    db.session.expire_all()
    assert db.session.get(Notification, row.id).status == "delivered"


def test_lease_recovery_reads_only_the_partial_lease_index(db, launched):
    leased = [row.id for row in rows(db, launched.id) if row.channel == "email"][:2]
    db.session.execute(update(Notification).where(Notification.id.in_(leased)).values(
        status="sending", lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    with _captured(db, r"^\s*SELECT\s.*\sFROM notification\s.*lease_until <") as seen:
        released = chunks.release_expired_leases()
    assert released == {launched.id: leased}
    assert len(seen) == 1
    assert "ix_notification_lease" in _plan(db, *seen[0])


def test_a_persons_history_is_read_through_the_unique_index(db, launched):
    person_id = rows(db, launched.id)[0].person_id
    with _captured(db, r"^\s*SELECT\s.*\sFROM notification\s.*person_id = ") as seen:
        context = person_context(SimpleNamespace(person_id=person_id, incident_id=None))
    assert sorted(n.channel for n in context.notifications) == ["email", "sms"]
    assert len(seen) == 1
    plan = _plan(db, *seen[0])
    unique = ("uq_notification_person_id_campaign_id_channel"
              if db.session.connection().dialect.name == "postgresql"
              else "sqlite_autoindex_notification_1")
    assert unique in plan, plan


def test_a_new_row_has_nothing_the_partial_indexes_hold(db, make_incident, make_person,
                                                        monkeypatch):
    """A launch's rows are pending with no provider id: outside both predicates."""
    from portal.dispatch import campaigns as module

    incident, _people = incident_with_people(db, make_incident, make_person, 2)
    monkeypatch.setattr(module, "queue_campaign", lambda *_args, **_kwargs: True)
    campaign, _summary = campaigns.launch(incident.id, ["sms", "email"])
    created = db.session.execute(
        select(Notification.status, Notification.provider_id)
        .where(Notification.campaign_id == campaign.id)).all()
    assert len(created) == 4
    assert all(status != "sending" and provider_id is None for status, provider_id in created)
