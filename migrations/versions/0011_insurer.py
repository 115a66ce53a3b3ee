"""incident.insurer_name and the insurer's optional logo

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-30 10:00:00

The name is nullable in the database (incidents created before it, and by
``flask incidents create``); the managers' form requires it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("insurer_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("insurer_logo", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("insurer_logo_type", sa.String(16), nullable=True))
        batch.add_column(sa.Column("insurer_logo_digest", sa.String(64), nullable=True))
    op.create_index("ix_incident_insurer_logo_digest", "incident", ["insurer_logo_digest"])


def downgrade():
    op.drop_index("ix_incident_insurer_logo_digest", table_name="incident")
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("insurer_logo_digest")
        batch.drop_column("insurer_logo_type")
        batch.drop_column("insurer_logo")
        batch.drop_column("insurer_name")
