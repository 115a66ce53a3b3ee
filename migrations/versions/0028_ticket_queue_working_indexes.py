"""Queue filters by assignee and incident: partial indexes on the working queue (issue 10)

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-29 12:00:00

"My tickets" walked ``ix_ticket_queue_assignee`` (every ticket ever assigned to the agent,
in due order) and dropped the resolved and closed ones one by one: 25 ms of PostgreSQL
CPU a page for an agent with 43,000 closed tickets and no working one, at 1,000,000
tickets, and it grows with every ticket the agent closes. The same holds for an incident
whose tickets are mostly closed. As in 0022, these hold only working tickets (new, open,
waiting for the customer), so such a page is one short range scan. The full indexes stay
for the views that include resolved and closed tickets.
"""
import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

WORKING = sa.text("status IN ('new', 'open', 'pending_customer')")


def upgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_working_assignee", ["assignee_id", "next_due_at", "id"],
                              unique=False, postgresql_where=WORKING, sqlite_where=WORKING)
        batch_op.create_index("ix_ticket_working_incident", ["incident_id", "next_due_at", "id"],
                              unique=False, postgresql_where=WORKING, sqlite_where=WORKING)


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_working_incident")
        batch_op.drop_index("ix_ticket_working_assignee")
