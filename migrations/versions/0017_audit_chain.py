"""Keyed audit chain: rows sealed under PORTAL_AUDIT_KEY, in place order (issue 11)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 15:30:00

Each interaction's hash becomes an HMAC-SHA256 under PORTAL_AUDIT_KEY, and rows get
their place in the chain (``seq``) when they are sealed: at once on SQLite, by the
sealer shortly after commit on PostgreSQL (appends no longer take a global lock, so
``interaction_append`` goes). The append-only trigger now allows exactly two updates:
sealing (place and hashes set once, from NULL, nothing else changed) and the GDPR
redaction (details replaced once, every chained field unchanged).

The existing log is re-sealed under the key in its id order, after its old unkeyed
SHA-256 chain is checked; an ``audit.resealed`` row records that and the check's result.
"""
import hashlib
import importlib.util
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

OLD_GENESIS = "0" * 64
ROW_FIELDS = ("id", "at", "actor_type", "actor_id", "action", "incident_id", "person_id",
              "ticket_id", "campaign_id", "details_digest", "ip")


def _postgres():
    return op.get_bind().dialect.name == "postgresql"


def _trigger_function(allow_sealing: bool) -> str:
    fixed = ROW_FIELDS if allow_sealing else (*ROW_FIELDS, "prev_hash", "hash")
    new = ", ".join(f"NEW.{name}" for name in fixed)
    old = ", ".join(f"OLD.{name}" for name in fixed)
    sealing = """
            IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
               AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
               AND NEW.redacted_at IS NOT DISTINCT FROM OLD.redacted_at
               AND NEW.details::text = OLD.details::text THEN
                RETURN NEW;  -- sealing, once
            END IF;
            IF OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
               AND ROW(NEW.seq, NEW.prev_hash, NEW.hash)
                   IS NOT DISTINCT FROM ROW(OLD.seq, OLD.prev_hash, OLD.hash) THEN
                RETURN NEW;  -- GDPR redaction, once
            END IF;""" if allow_sealing else """
            IF OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL THEN
                RETURN NEW;
            END IF;"""
    return f"""
        CREATE OR REPLACE FUNCTION interaction_append_only() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND ROW({new}) IS NOT DISTINCT FROM ROW({old}) THEN{sealing}
            END IF;
            RAISE EXCEPTION 'the interaction log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$ LANGUAGE plpgsql
    """


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def _interaction():
    from portal.models.base import UTCDateTime

    return sa.table(
        "interaction", sa.column("id", sa.BigInteger), sa.column("at", UTCDateTime()),
        *(sa.column(name) for name in ROW_FIELDS[2:]), sa.column("details", sa.JSON),
        sa.column("seq", sa.BigInteger), sa.column("prev_hash"), sa.column("hash"),
        sa.column("redacted_at", UTCDateTime()),
    )


def _digest(details) -> str:
    return hashlib.sha256(_canonical(details).encode()).hexdigest()


def _canonical_details_text(connection) -> None:
    """PostgreSQL: store every unredacted row's details as canonical JSON text.

    Verification checks the digest of the stored text inside the database; rows written
    before 0006 (by the ORM) have the same JSON with other spacing or key order.
    """
    last = 0
    while True:
        rows = connection.execute(sa.text(
            "SELECT id, details::text AS stored FROM interaction WHERE id > :last "
            "AND redacted_at IS NULL ORDER BY id LIMIT 5000"), {"last": last}).all()
        if not rows:
            return
        changed = [{"id": row.id, "text": _canonical(json.loads(row.stored))}
                   for row in rows if _canonical(json.loads(row.stored)) != row.stored]
        if changed:
            connection.execute(sa.text(
                "UPDATE interaction SET details = CAST(:text AS json) WHERE id = :id"), changed)
        last = rows[-1].id


def _old_hash(prev: str, row) -> str:
    fields = [prev, row.at.isoformat(timespec="microseconds"),
              *(getattr(row, name) for name in ROW_FIELDS[2:])]
    return hashlib.sha256(_canonical(fields).encode()).hexdigest()


def _check_old_chain(connection) -> tuple[int, str]:
    """Walk the unkeyed SHA-256 chain of 0001–0016: (rows, "intact" or what is wrong)."""
    table = _interaction()
    columns = [table.c[name] for name in (*ROW_FIELDS, "details", "redacted_at", "prev_hash",
                                          "hash")]
    prev, count, last = OLD_GENESIS, 0, 0
    while True:
        rows = connection.execute(
            sa.select(*columns).where(table.c.id > last).order_by(table.c.id).limit(5000)
        ).all()
        if not rows:
            return count, "intact"
        for row in rows:
            if row.prev_hash != prev:
                return count, f"broken at row {row.id}: does not follow the previous row"
            if _old_hash(prev, row) != row.hash:
                return count, f"broken at row {row.id}: fields changed"
            if row.redacted_at is None and _digest(row.details) != row.details_digest:
                return count, f"broken at row {row.id}: details changed"
            prev = row.hash
            count += 1
        last = rows[-1].id


def upgrade():
    from flask import current_app

    from portal.audit import log as audit

    postgres = _postgres()
    connection = op.get_bind()
    if postgres:
        op.execute("ALTER TABLE interaction DISABLE TRIGGER interaction_append_only")
    rows, old_chain = _check_old_chain(connection)
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_interaction_seq"), ["seq"])
        batch_op.create_index("ix_interaction_unsealed", ["id"], unique=False,
                              postgresql_where=sa.text("seq IS NULL"),
                              sqlite_where=sa.text("seq IS NULL"))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS interaction_append(bigint, text, text, timestamptz, "
                   "varchar, integer, varchar, integer, integer, integer, integer, json, "
                   "varchar, varchar)")
        op.execute(_trigger_function(allow_sealing=True))
    if rows or old_chain != "intact":
        key = current_app.config["PORTAL_AUDIT_KEY"].encode()
        if postgres:
            _canonical_details_text(connection)
        connection.execute(sa.text("UPDATE interaction SET seq = NULL, prev_hash = NULL, "
                                   "hash = NULL"))
        if postgres:
            # Fresh statistics: every row is now unsealed, so the sealer's query reads
            # the unsealed index in id order instead of sorting the whole table per batch.
            connection.execute(sa.text("ANALYZE interaction"))
        details = {"rows": rows, "previous_chain": old_chain, "algorithm": "HMAC-SHA256"}
        values = {"at": audit.utcnow(), "actor_type": "system", "action": "audit.resealed",
                  "details_digest": audit.digest_details(details), "ip": None}
        if postgres:
            connection.execute(sa.text(
                "INSERT INTO interaction (at, actor_type, action, details, details_digest) "
                "VALUES (:at, :actor_type, :action, CAST(:details AS json), :details_digest)"
            ).bindparams(sa.bindparam("at", type_=_interaction().c.at.type)),
                {**values, "details": audit.canonical_json(details)})
        else:
            connection.execute(sa.insert(_interaction()).values(**values, details=details))
        while audit.seal_batch(connection, key, 5000):
            pass
    if postgres:
        op.execute("ALTER TABLE interaction ENABLE TRIGGER interaction_append_only")


def _load_0006():
    path = Path(__file__).with_name("0006_interaction_append.py")
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade():
    postgres = _postgres()
    connection = op.get_bind()
    if postgres:
        op.execute("ALTER TABLE interaction DISABLE TRIGGER interaction_append_only")
    # Back to the unkeyed chain, in the keyed chain's order (then the unsealed rows).
    table = _interaction()
    ordered = connection.execute(
        sa.select(table).order_by(table.c.seq.is_(None), table.c.seq, table.c.id)).all()
    connection.execute(sa.text("UPDATE interaction SET prev_hash = NULL, hash = NULL"))
    prev = OLD_GENESIS
    for row in ordered:
        digest = _old_hash(prev, row)
        connection.execute(sa.update(table).where(table.c.id == row.id)
                           .values(prev_hash=prev, hash=digest))
        prev = digest
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_unsealed",
                            postgresql_where=sa.text("seq IS NULL"),
                            sqlite_where=sa.text("seq IS NULL"))
        batch_op.drop_constraint(batch_op.f("uq_interaction_seq"), type_="unique")
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("seq")
    if postgres:
        op.execute(_trigger_function(allow_sealing=False))
        _load_0006().upgrade()
        op.execute("ALTER TABLE interaction ENABLE TRIGGER interaction_append_only")
