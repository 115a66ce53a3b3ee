"""Imports: why a file could not be read, kept so its page can say it in any language

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30 02:40:00

A failed upload kept only the English text of its reason (``error_message``), which a
manager reading the helpdesk in German, Spanish or French saw untranslated. The reason's
message id and values (``ImportFileError.record``) are kept beside it. Runs that failed
before keep their English text.
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_run") as batch:
        batch.add_column(sa.Column("error_reason", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("import_run") as batch:
        batch.drop_column("error_reason")
