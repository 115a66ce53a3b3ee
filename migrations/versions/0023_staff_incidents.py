"""Staff: agents assigned to incidents (none assigned: every incident)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29 01:25:00

An administrator may restrict an agent to some incidents; the tickets and people of
other incidents are then out of the agent's reach. Agents with no row work every
incident, as before. ``staff_user.incidents_limited`` says whether an agent has rows, so
the pages of the (usual) unlimited agent read nothing more than the signed-in account.
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_incident",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("staff_id", "incident_id"),
    )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incidents_limited", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("incidents_limited")
    op.drop_table("staff_incident")
