"""Log review at 10,000,000 rows: staff actors' index, incident-and-action statistics (issue 11)

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29 06:00:00

``/helpdesk/log?actor=<staff e-mail>`` had no index to use: PostgreSQL read the whole
log backwards by id (a sequential scan of 10,000,000 rows when the person had few
entries). ``ix_interaction_staff_actor`` holds only staff members' rows, by actor then
id, so that page is one short range scan and customers' appends (most of the log) do
not pay for it. The incident and the action of a row are strongly related (an incident
without lockouts has no ``verify.locked`` rows); without statistics on the pair,
PostgreSQL assumed a combination rare in fact was common and walked the whole log
backwards hoping to meet 50 of them. ``interaction_incident_action`` (an MCV list of
the pair) lets it choose the incident-and-action index instead. See docs/benchmarks.md.
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

STAFF = sa.text("actor_type = 'staff'")


def upgrade():
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index("ix_interaction_staff_actor", ["actor_id", "id"], unique=False,
                              postgresql_where=STAFF, sqlite_where=STAFF)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE STATISTICS IF NOT EXISTS interaction_incident_action (mcv) "
                   "ON incident_id, action FROM interaction")
        op.execute("ANALYZE interaction")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS interaction_incident_action")
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_staff_actor")
