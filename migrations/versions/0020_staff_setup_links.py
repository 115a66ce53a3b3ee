"""Staff set-up links: an admin creates an account, the person sets their own password

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 00:45:00

One row per link an admin issued. Only the SHA-256 of the token is kept (the token
is shown to the admin once and e-mailed); a link is used once and expires.
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_setup_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
    )
    op.create_index("ix_staff_setup_link_staff", "staff_setup_link", ["staff_id"])


def downgrade():
    op.drop_index("ix_staff_setup_link_staff", table_name="staff_setup_link")
    op.drop_table("staff_setup_link")
