"""People: the state or country they live in, for counts by jurisdiction

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29 05:10:00

The regulator report counts affected and notified people per jurisdiction (a US state,
or a country). The address stays encrypted; ``person.residence`` holds only the coarse
code computed from its country and region (``portal.people.residence``). Existing people
get theirs from their decrypted country and region, in batches.
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("residence", sa.String(length=8), nullable=True))
    _backfill(op.get_bind())


def _backfill(connection):
    from portal.people.residence import residence_code
    from portal.security.crypto import column_context, keyring

    last = 0
    ring = None
    while True:
        rows = connection.execute(sa.text(
            "SELECT id, country, region FROM person WHERE id > :last AND country IS NOT NULL "
            "ORDER BY id LIMIT :batch"), {"last": last, "batch": _BATCH}).all()
        if not rows:
            return
        ring = ring or keyring()
        updates = []
        for person_id, country, region in rows:
            code = residence_code(
                ring.decrypt(country, column_context("person", "country")),
                ring.decrypt(region, column_context("person", "region")) if region else None)
            if code:
                updates.append({"id": person_id, "code": code})
        if updates:
            connection.execute(sa.text("UPDATE person SET residence = :code WHERE id = :id"),
                               updates)
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("residence")
