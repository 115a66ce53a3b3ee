"""Helpdesk: answer library, calls, look-up limits (issue 10)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 15:30:00

A logged phone call's outcome on its ticket message, and the index the answer
library's usage and deviation counts read replies by. The look-up limits count
the interaction log (``ix_interaction_person``) and need no table.
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CALL_OUTCOMES = ("answered", "callback_promised", "escalated", "no_answer", "voicemail")


def upgrade():
    with op.batch_alter_table("ticket_message") as batch_op:
        batch_op.add_column(sa.Column("call_outcome", sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_ticket_message_call_outcome"),
            f"call_outcome IN ({', '.join(repr(value) for value in CALL_OUTCOMES)})")
    op.create_index("ix_ticket_message_answer_version", "ticket_message",
                    ["answer_version_id", "deviated"])


def downgrade():
    op.drop_index("ix_ticket_message_answer_version", table_name="ticket_message")
    with op.batch_alter_table("ticket_message") as batch_op:
        batch_op.drop_constraint(op.f("ck_ticket_message_call_outcome"), type_="check")
        batch_op.drop_column("call_outcome")
