"""Attempt windows and keyed attempt counters

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28 04:10:00

Failures now expire after the lock's window on every counter (before, a real
code's count never expired while an unknown code's did): person and staff_user
get the window's start. attempt_counter holds the counters that belong to no
row of their own: unknown notice codes (so their counts survive restarts without
Redis) and staff sign-in per account and source address.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verification_failures_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failures_since", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "attempt_counter",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failures_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade():
    op.drop_table("attempt_counter")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("failures_since")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("verification_failures_since")
