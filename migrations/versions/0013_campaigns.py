"""Campaigns: the notification engine (issue 9)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 15:30:00

Notifications may end cancelled (a cancelled campaign's pending rows) or skipped;
the chunk jobs claim rows through (campaign, channel, status, id), which also
serves the progress counts, so it replaces the (campaign, status) index. A
campaign remembers whether it was launched ``--again``, how many people it
skipped per channel, and when it was paused or cancelled.
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_STATUSES = ("pending", "sending", "sent", "delivered", "undelivered", "failed")
STATUSES = OLD_STATUSES + ("cancelled", "skipped")


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade():
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.add_column(sa.Column("again", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("skipped", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.drop_constraint(op.f("ck_notification_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_status"),
                                         _condition("status", STATUSES))
        batch_op.drop_index("ix_notification_campaign_status")
        batch_op.create_index("ix_notification_claim",
                              ["campaign_id", "channel", "status", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_index("ix_notification_claim")
        batch_op.create_index("ix_notification_campaign_status", ["campaign_id", "status"],
                              unique=False)
        batch_op.drop_constraint(op.f("ck_notification_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_status"),
                                         _condition("status", OLD_STATUSES))
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("paused_at")
        batch_op.drop_column("skipped")
        batch_op.drop_column("again")
