"""interaction log is append-only in PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 06:05:00

A trigger refuses DELETE on the interaction log and any UPDATE except a GDPR
redaction (setting redacted_at once and replacing details, every chained field
unchanged). The hash chain detects tampering; this stops it at the door for the
application's own database role. SQLite (the embedded default) has no trigger.
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHAINED = (
    "id", "at", "actor_type", "actor_id", "action", "incident_id", "person_id",
    "ticket_id", "campaign_id", "details_digest", "ip", "prev_hash", "hash",
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    new = ", ".join(f"NEW.{name}" for name in CHAINED)
    old = ", ".join(f"OLD.{name}" for name in CHAINED)
    op.execute(f"""
        CREATE OR REPLACE FUNCTION interaction_append_only() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE'
               AND OLD.redacted_at IS NULL
               AND NEW.redacted_at IS NOT NULL
               AND ROW({new}) IS NOT DISTINCT FROM ROW({old}) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'the interaction log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER interaction_append_only
        BEFORE UPDATE OR DELETE ON interaction
        FOR EACH ROW EXECUTE FUNCTION interaction_append_only()
    """)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS interaction_append_only ON interaction")
    op.execute("DROP FUNCTION IF EXISTS interaction_append_only()")
