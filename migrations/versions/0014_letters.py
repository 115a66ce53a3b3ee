"""Campaigns: print runs of letters, evidence (issue 9)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 15:30:00

A print run puts pending letter notifications into numbered batches (one PDF and
one manifest each); ``letter`` keeps each letter's batch, print position, page
range, and when it was mailed or came back.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("letter_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("pages", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("mailed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_letter_batch_created_by_id_staff_user"),
                                    "staff_user", ["created_by_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_letter_batch_mailed_by_id_staff_user"),
                                    "staff_user", ["mailed_by_id"], ["id"])
    op.create_table(
        "letter",
        sa.Column("notification_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("first_page", sa.Integer(), nullable=False),
        sa.Column("last_page", sa.Integer(), nullable=False),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["letter_batch.id"],
                                name=op.f("fk_letter_batch_id_letter_batch")),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"],
                                name=op.f("fk_letter_notification_id_notification")),
        sa.ForeignKeyConstraint(["returned_by_id"], ["staff_user.id"],
                                name=op.f("fk_letter_returned_by_id_staff_user")),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_letter")),
    )
    op.create_index("ix_letter_batch_position", "letter", ["batch_id", "position"], unique=False)


def downgrade():
    op.drop_index("ix_letter_batch_position", table_name="letter")
    op.drop_table("letter")
    with op.batch_alter_table("letter_batch", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_letter_batch_mailed_by_id_staff_user"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_letter_batch_created_by_id_staff_user"),
                                 type_="foreignkey")
        batch_op.drop_column("mailed_by_id")
        batch_op.drop_column("mailed_at")
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("pages")
        batch_op.drop_column("number")
