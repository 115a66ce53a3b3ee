"""Helpdesk: ticket SLA due times, presence, replies (issue 10)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 15:30:00

``ticket.next_due_at`` is the due time the queue sorts by (never NULL: far-future
sentinels for paused and stopped clocks, see portal.models.ticket), with one index
per common filter so every queue page is an index range scan. ``ticket_sla`` holds an
incident's targets and business hours; a reply that departs from its approved answer
keeps the diff (encrypted) for managers.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PAUSED_DUE = datetime(9000, 1, 1, tzinfo=UTC)
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)


def upgrade():
    op.create_table(
        "ticket_sla",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("first_response_hours", sa.Integer(), nullable=True),
        sa.Column("resolution_hours", sa.Integer(), nullable=True),
        sa.Column("business_days", sa.String(length=20), nullable=True),
        sa.Column("day_start", sa.String(length=5), nullable=True),
        sa.Column("day_end", sa.String(length=5), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"],
                                name=op.f("fk_ticket_sla_incident_id_incident")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_sla")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_ticket_sla_incident_id")),
    )
    with op.batch_alter_table("ticket_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deviation_diff", sa.Text(), nullable=True))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    ticket = sa.table(
        "ticket", sa.column("status"), sa.column("first_response_at", UTCDateTime()),
        sa.column("first_response_due", UTCDateTime()), sa.column("resolution_due", UTCDateTime()),
        sa.column("next_due_at", UTCDateTime()))
    op.execute(ticket.update().values(next_due_at=sa.case(
        (ticket.c.status.in_(("resolved", "closed")), sa.literal(NO_DUE, UTCDateTime())),
        (ticket.c.status == "pending_customer", sa.literal(PAUSED_DUE, UTCDateTime())),
        (sa.and_(ticket.c.first_response_at.is_(None), ticket.c.first_response_due.isnot(None)),
         ticket.c.first_response_due),
        (ticket.c.resolution_due.isnot(None), ticket.c.resolution_due),
        else_=sa.literal(NO_DUE, UTCDateTime()),
    )))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.alter_column("next_due_at", existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.create_index("ix_ticket_queue", ["next_due_at", "id"], unique=False)
        batch_op.create_index("ix_ticket_queue_status", ["status", "next_due_at", "id"],
                              unique=False)
        batch_op.create_index("ix_ticket_queue_assignee", ["assignee_id", "next_due_at", "id"],
                              unique=False)
        batch_op.create_index("ix_ticket_queue_incident", ["incident_id", "next_due_at", "id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_queue_incident")
        batch_op.drop_index("ix_ticket_queue_assignee")
        batch_op.drop_index("ix_ticket_queue_status")
        batch_op.drop_index("ix_ticket_queue")
        batch_op.drop_column("next_due_at")
    with op.batch_alter_table("ticket_message", schema=None) as batch_op:
        batch_op.drop_column("deviation_diff")
    op.drop_table("ticket_sla")
