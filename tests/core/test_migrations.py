"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

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
        if check:
            check()
        downgrade(revision="base")
        from portal.extensions import db

        db.engine.dispose()


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
    assert audit.verify().ok
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
