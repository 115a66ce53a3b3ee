"""person.session_nonce: the current verified session, so sign-out ends it on the server

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 06:40:00

Customer sessions are signed cookies; a copy taken before sign-out stayed valid
until its clocks ran out. The session now carries a random nonce that must match
this column; sign-out clears it, and a new verification replaces it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_nonce", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("session_nonce")
