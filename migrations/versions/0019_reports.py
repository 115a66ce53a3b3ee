"""Reports: dashboards' indexes, substitute notice (issue 11)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 15:30:00

The dashboards count per incident and day: three indexes that lead with the
incident (interaction by action and time, tickets by creation and resolution).
The substitute notice is the public incident page a manager publishes;
report_snapshot keeps each incident's dashboards as last computed.
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "substitute_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("summaries", sa.JSON(), nullable=False),
        sa.Column("hotline", sa.String(length=40), nullable=False),
        sa.Column("stay_up_until", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unpublished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id"),
    )
    op.create_table(
        "report_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compute_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "days"),
    )
    op.create_index("ix_interaction_incident_action_at", "interaction",
                    ["incident_id", "action", "at", "person_id"])
    op.create_index("ix_ticket_incident_created", "ticket", ["incident_id", "created_at"])
    op.create_index("ix_ticket_incident_resolved", "ticket", ["incident_id", "resolved_at"])


def downgrade():
    op.drop_index("ix_ticket_incident_resolved", table_name="ticket")
    op.drop_index("ix_ticket_incident_created", table_name="ticket")
    op.drop_index("ix_interaction_incident_action_at", table_name="interaction")
    op.drop_table("report_snapshot")
    op.drop_table("substitute_notice")
