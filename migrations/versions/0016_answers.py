"""Helpdesk: answer library, calls, look-up limits (issue 10)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 15:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
