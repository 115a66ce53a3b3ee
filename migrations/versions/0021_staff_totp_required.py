"""Staff: two-factor set-up required at next sign-in (after an administrator's reset)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 01:15:00

An administrator who resets a member's two-factor sign-in (a lost phone) makes them set
up an authenticator app again at their next sign-in, whatever their role: the flag says
so until they have.
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_required", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("totp_required")
