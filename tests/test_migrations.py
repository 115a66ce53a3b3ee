"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal import create_app
from tests.conftest import make_settings


def _diff(app):
    from portal.extensions import db

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": True},
        )
        return compare_metadata(context, db.metadata)


def _upgrade_and_compare(url: str, data_keys) -> None:
    app = create_app(make_settings(url, data_keys))
    with app.app_context():
        upgrade()
        differences = _diff(app)
        assert differences == [], f"models and migrations differ: {differences}"
        downgrade(revision="base")
        from portal.extensions import db

        db.engine.dispose()


def test_migrations_match_models_on_sqlite(tmp_path, data_keys):
    _upgrade_and_compare(f"sqlite:///{tmp_path / 'migrated.sqlite3'}", data_keys)


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql(postgres_server, data_keys):
    url = postgres_server.create("portal_migrations")
    try:
        _upgrade_and_compare(url, data_keys)
    finally:
        postgres_server.drop(url)
