"""Queue filters by language and channel: partial indexes on the working queue (issue 10)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 01:20:00

The queue's default view is the working queue (new, open, waiting for the customer) by
next due time. Filtered by a language or channel that few working tickets have,
PostgreSQL walked ``ix_ticket_queue`` through every ticket, resolved and closed ones
included (1.2 s at 1,000,000 tickets for a language no working ticket had). These
indexes hold only working tickets, by language or channel then due time, so such a page
is one short range scan, whatever the filter matches.
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

WORKING = sa.text("status IN ('new', 'open', 'pending_customer')")


def upgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_queue_language", ["language", "next_due_at", "id"],
                              unique=False, postgresql_where=WORKING, sqlite_where=WORKING)
        batch_op.create_index("ix_ticket_queue_channel", ["channel", "next_due_at", "id"],
                              unique=False, postgresql_where=WORKING, sqlite_where=WORKING)


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_queue_channel")
        batch_op.drop_index("ix_ticket_queue_language")
