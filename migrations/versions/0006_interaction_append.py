"""interaction_append(): append to the interaction log in one round trip

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:20:00

Appending to the hash-chained interaction log holds a global, transaction-scoped
advisory lock until commit. The lock, the read of the newest hash, this row's
hash and the INSERT were three round trips under it; this function does them in
one, so the lock is held for little more than the COMMIT. In READ COMMITTED each
statement of a VOLATILE PL/pgSQL function takes a fresh snapshot, so the SELECT
sees every row committed before the lock was granted. The row hash is SHA-256 of
the same canonical JSON portal.audit.log computes (the caller passes everything after
the previous hash). PostgreSQL only; SQLite serialises writers itself.
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
CREATE OR REPLACE FUNCTION interaction_append(
    lock_key bigint, genesis text, tail text,
    p_at timestamptz, p_actor_type varchar, p_actor_id integer, p_action varchar,
    p_incident_id integer, p_person_id integer, p_ticket_id integer, p_campaign_id integer,
    p_details json, p_details_digest varchar, p_ip varchar,
    OUT new_id bigint, OUT new_prev text, OUT new_hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT hash INTO new_prev FROM interaction ORDER BY id DESC LIMIT 1;
    new_prev := coalesce(new_prev, genesis);
    new_hash := encode(sha256(convert_to('["' || new_prev || '",' || tail, 'UTF8')), 'hex');
    INSERT INTO interaction (at, actor_type, actor_id, action, incident_id, person_id,
                             ticket_id, campaign_id, details, details_digest, ip,
                             prev_hash, hash)
    VALUES (p_at, p_actor_type, p_actor_id, p_action, p_incident_id, p_person_id,
            p_ticket_id, p_campaign_id, p_details, p_details_digest, p_ip,
            new_prev, new_hash)
    RETURNING id INTO new_id;
END
$$
""")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS interaction_append(bigint, text, text, timestamptz, "
               "varchar, integer, varchar, integer, integer, integer, integer, json, varchar, "
               "varchar)")
