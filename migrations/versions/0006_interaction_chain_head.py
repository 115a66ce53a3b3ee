"""interaction_chain_head(): take the log's lock and read the newest hash in one round trip

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:20:00

Appending to the hash-chained interaction log takes a transaction-scoped advisory
lock, reads the newest row's hash, inserts and commits, all while holding the
lock. Doing the first two in one call shortens every hold of this global lock by
a round trip. In READ COMMITTED each statement of a VOLATILE PL/pgSQL function
takes a fresh snapshot, so the SELECT sees every row committed before the lock
was granted. PostgreSQL only; SQLite serialises writers itself.
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION interaction_chain_head(lock_key bigint) RETURNS text
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(lock_key);
            RETURN (SELECT hash FROM interaction ORDER BY id DESC LIMIT 1);
        END
        $$
    """)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS interaction_chain_head(bigint)")
