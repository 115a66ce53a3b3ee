"""Migration 0017 re-seals an existing log under PORTAL_AUDIT_KEY and logs that it did."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import JSON, column, insert, select, table

from portal import create_app
from portal.audit import log as audit
from portal.models.base import UTCDateTime
from tests.support import make_settings


def _old_chain_rows(n: int, tamper: bool = False) -> list[dict]:
    """Rows as 0001–0016 wrote them: an unkeyed SHA-256 chain."""
    rows, prev = [], "0" * 64
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for i in range(n):
        details = {"i": i, "name": "Zoë"}
        row = {"at": start + timedelta(seconds=i, microseconds=7), "actor_type": "system",
               "actor_id": None, "action": f"test.old{i}", "incident_id": None,
               "person_id": None, "ticket_id": None, "campaign_id": None,
               "details": details, "details_digest": audit.digest_details(details), "ip": None}
        fields = [prev, row["at"].isoformat(timespec="microseconds"), *(
            row[name] for name in ("actor_type", "actor_id", "action", "incident_id",
                                   "person_id", "ticket_id", "campaign_id", "details_digest",
                                   "ip"))]
        digest = hashlib.sha256(audit.canonical_json(fields).encode()).hexdigest()
        rows.append({**row, "prev_hash": prev, "hash": digest})
        prev = digest
    if tamper:
        rows[1]["action"] = "test.rewritten"
    return rows


def _reseal(url: str, data_keys, tamper: bool) -> None:
    from portal.extensions import db
    from portal.models import Interaction

    app = create_app(make_settings(url, data_keys))
    with app.app_context():
        upgrade(revision="0016")
        rows = _old_chain_rows(4, tamper)
        plain = (column(name) for name in rows[0] if name not in {"at", "details"})
        old = table("interaction", *plain, column("at", UTCDateTime()),
                    column("details", JSON()))  # as 0016 left it: no seq
        with db.engine.begin() as connection:
            connection.execute(insert(old), rows)
        db.session.remove()
        upgrade()
        rows = db.session.execute(select(Interaction).order_by(Interaction.seq)).scalars().all()
        assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
        resealed = rows[-1]
        assert resealed.action == "audit.resealed"
        assert resealed.details["rows"] == (1 if tamper else 4)
        expected = "broken at row 2: fields changed" if tamper else "intact"
        assert resealed.details["previous_chain"] == expected
        report = audit.verify()
        assert report.ok and report.checked == 5, report
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("tamper", [False, True], ids=["intact", "tampered-before"])
def test_migration_reseals_the_log_on_sqlite(tmp_path, data_keys, tamper):
    _reseal(f"sqlite:///{tmp_path / 'reseal.sqlite3'}", data_keys, tamper)


@pytest.mark.postgres
def test_migration_reseals_the_log_on_postgresql(postgres_server, data_keys):
    url = postgres_server.create("portal_reseal")
    try:
        _reseal(url, data_keys, tamper=False)
    finally:
        postgres_server.drop(url)
