"""incident.time_zone, contact texts per language, staff_user.time_zone

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-28 04:50:00

Customers read times in their incident's zone, staff in their own; the contact
block (hours, DPO, postal address, monitoring description) is entered per
language with the existing columns as the English text. Existing incidents get
UTC, which is what they showed before.
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=False,
                                      server_default="UTC"))
        batch_op.add_column(sa.Column("monitoring_description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("contact_translations", sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("contact_translations")
        batch_op.drop_column("monitoring_description")
        batch_op.drop_column("time_zone")
