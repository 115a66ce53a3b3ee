"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal import create_app
from tests.support import make_settings


def _diff(app):
    from portal.extensions import db

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": True},
        )
        return compare_metadata(context, db.metadata)


def _upgrade_and_compare(url: str, data_keys, check=None) -> None:
    app = create_app(make_settings(url, data_keys))
    with app.app_context():
        upgrade()
        differences = _diff(app)
        assert differences == [], f"models and migrations differ: {differences}"
        _checks_match_models()
        if check:
            check()
        downgrade(revision="base")
        from portal.extensions import db

        db.engine.dispose()


def _allowed(sqltext: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", sqltext))


def _declared_checks() -> dict[tuple[str, str], set[str]]:
    from sqlalchemy import CheckConstraint

    from portal.extensions import db

    return {(table.name, check.name): _allowed(str(check.sqltext))
            for table in db.metadata.sorted_tables for check in table.constraints
            if isinstance(check, CheckConstraint)}


def _checks_match_models():
    """Autogenerate ignores CHECK constraints: compare names and allowed values here."""
    from sqlalchemy import inspect

    from portal.extensions import db

    inspector = inspect(db.engine)
    migrated = {(table.name, check["name"]): _allowed(check["sqltext"])
                for table in db.metadata.sorted_tables
                for check in inspector.get_check_constraints(table.name)}
    assert migrated == _declared_checks()


def test_migrations_match_models_on_sqlite(tmp_path, data_keys):
    _upgrade_and_compare(f"sqlite:///{tmp_path / 'migrated.sqlite3'}", data_keys)


def _interaction_log_is_append_only():
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    from portal.audit import log as audit
    from portal.extensions import db
    from portal.models import Interaction

    row_id = audit.record("test.event", details={"secret": "value"}).id
    db.session.commit()
    for statement in (
        update(Interaction).where(Interaction.id == row_id).values(action="forged"),
        delete(Interaction).where(Interaction.id == row_id),
        # A "redaction" that also rewrites a chained field is refused too.
        update(Interaction)
        .where(Interaction.id == row_id)
        .values(redacted_at=audit.utcnow(), details={}, ip="10.0.0.1"),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    # GDPR redaction is the one update allowed, and the chain still verifies.
    person_rows = update(Interaction).where(Interaction.id == row_id).values(
        redacted_at=audit.utcnow(), details={audit.REDACTED_KEY: ["secret"]}
    )
    db.session.execute(person_rows)
    db.session.commit()
    assert audit.verify().ok  # seals the row: sealing, once, is the other update allowed
    for statement in (  # a sealed row cannot be unsealed, re-sealed or redacted again
        update(Interaction).where(Interaction.id == row_id)
        .values(seq=None, prev_hash=None, hash=None),
        update(Interaction).where(Interaction.id == row_id).values(hash="f" * 64),
        update(Interaction).where(Interaction.id == row_id)
        .values(redacted_at=audit.utcnow(), details={}),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    db.session.remove()


def _person_rows_stay_inline():
    from sqlalchemy import text

    from portal.extensions import db

    options = db.session.execute(
        text("SELECT reloptions FROM pg_class WHERE relname = 'person'")
    ).scalar_one()
    assert "toast_tuple_target=8160" in options
    db.session.remove()


def _postgresql_checks():
    _interaction_log_is_append_only()
    _person_rows_stay_inline()


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql(postgres_server, data_keys):
    url = postgres_server.create("portal_migrations")
    try:
        _upgrade_and_compare(url, data_keys, check=_postgresql_checks)
    finally:
        postgres_server.drop(url)


# Every state, status, role and channel column, and a value none of them allows.
CHECKED = {
    ("staff_user", "role"), ("incident", "status"), ("incident", "verification_method"),
    ("notice_version", "state"), ("person", "preferred_channel"), ("campaign", "status"),
    ("notification", "status"), ("notification", "channel"), ("outbox_message", "channel"),
    ("ticket", "status"), ("ticket", "channel"), ("ticket_message", "author_type"),
    ("ticket_message", "channel"), ("ticket_message", "call_direction"),
    ("answer_version", "state"), ("interaction", "actor_type"), ("import_run", "status"),
    ("ticket_message", "call_outcome"),  # helpdesk calls (issue 10)
}


def _one_row_per_checked_table(db, make_staff, make_incident, make_person) -> dict[str, int]:
    from portal.audit import log as audit
    from portal.models import (
        Answer,
        AnswerVersion,
        Campaign,
        ImportRun,
        NoticeVersion,
        Notification,
        OutboxMessage,
        Ticket,
        TicketMessage,
    )

    staff, incident = make_staff("manager"), make_incident()
    person, _plain = make_person(incident)
    answer = Answer(key="checked", category="general")
    campaign = Campaign(incident_id=incident.id, name="Checked", notice_version=1)
    ticket = Ticket(incident_id=incident.id, person_id=person.id, topic="other")
    db.session.add_all([answer, campaign, ticket])
    db.session.flush()
    rows = {
        "staff_user": staff, "incident": incident, "person": person, "campaign": campaign,
        "ticket": ticket,
        "notice_version": NoticeVersion(incident_id=incident.id, language="en", version=1),
        "notification": Notification(campaign_id=campaign.id, person_id=person.id,
                                     channel="sms"),
        "outbox_message": OutboxMessage(channel="sms", recipient="+15550100", body="Hi",
                                        provider_id="outbox-checked"),
        "ticket_message": TicketMessage(ticket_id=ticket.id, author_type="staff", body="Hi"),
        "answer_version": AnswerVersion(answer_id=answer.id, language="en", version=1,
                                        title="Checked", body="Checked"),
        "import_run": ImportRun(incident_id=incident.id, filename="people.csv"),
        "interaction": audit.record("test.checked", actor_type="system"),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    return {table: row.id for table, row in rows.items()}


def test_state_columns_refuse_unknown_values(db, make_staff, make_incident, make_person):
    """Every such column has its CHECK, and the database refuses a value outside the tuple."""
    from sqlalchemy import insert, select, update
    from sqlalchemy.exc import IntegrityError

    declared = _declared_checks()
    assert {(table, name.removeprefix(f"ck_{table}_")) for table, name in declared} == CHECKED
    ids = _one_row_per_checked_table(db, make_staff, make_incident, make_person)
    tables = db.metadata.tables
    for table_name, column in sorted(CHECKED):
        table = tables[table_name]
        if table_name == "interaction":  # append-only: a new row, not a changed one
            row = db.session.execute(select(table).where(table.c.id == ids[table_name])).one()
            values = {**row._asdict(), column: "nobody", "prev_hash": "p" * 64, "hash": "h" * 64}
            del values["id"]
            statement = insert(table).values(values)
        else:
            statement = (update(table).where(table.c.id == ids[table_name])
                         .values({column: "nonsense"}))
        with pytest.raises(IntegrityError, match=f"ck_{table_name}_{column}"):
            db.session.execute(statement)
        db.session.rollback()
