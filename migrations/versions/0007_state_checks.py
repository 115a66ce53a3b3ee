"""state checks: CHECK constraints on every state, status, role and channel column

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 04:30:00

Each constraint allows exactly the values of the model module's tuple (see
portal.models.base.one_of), named ck_<table>_<column>. The values are written
out here, as they stand at this revision: a later change to a tuple needs its
own migration (tests/test_migrations.py compares the migrated constraints with
the models'). answer_version.approver_id becomes approved_by_id, the name every
other approved version uses. SQLite cannot add a constraint to a table, so
batch mode rebuilds each table there; existing rows must already hold allowed
values on either database.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CHANNELS = ("sms", "email", "letter")
TICKET_CHANNELS = ("web", "sms", "email", "phone")

CHECKS = {
    "staff_user": {"role": ("agent", "manager", "admin")},
    "incident": {
        "status": ("draft", "active", "closed"),
        "verification_method": ("postcode", "policy_last4"),
    },
    "notice_version": {"state": ("draft", "approved", "superseded")},
    "person": {"preferred_channel": CHANNELS},
    "campaign": {"status": ("draft", "running", "paused", "completed", "cancelled")},
    "notification": {
        "status": ("pending", "sending", "sent", "delivered", "undelivered", "failed"),
        "channel": CHANNELS,
    },
    "outbox_message": {"channel": CHANNELS},
    "ticket": {
        "status": ("new", "open", "pending_customer", "resolved", "closed"),
        "channel": TICKET_CHANNELS,
    },
    "ticket_message": {
        "author_type": ("customer", "staff", "system"),
        "channel": TICKET_CHANNELS,
        "call_direction": ("inbound", "outbound"),
    },
    "answer_version": {"state": ("draft", "in_review", "approved", "retired")},
    "interaction": {"actor_type": ("staff", "customer", "system")},
    "import_run": {"status": ("queued", "running", "finished", "failed")},
}


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade():
    with op.batch_alter_table("answer_version") as batch_op:
        batch_op.drop_constraint(op.f("fk_answer_version_approver_id_staff_user"), type_="foreignkey")
        batch_op.alter_column("approver_id", new_column_name="approved_by_id",
                              existing_type=sa.Integer(), existing_nullable=True)
    with op.batch_alter_table("answer_version") as batch_op:  # after the rename (SQLite)
        batch_op.create_foreign_key(op.f("fk_answer_version_approved_by_id_staff_user"),
                                    "staff_user", ["approved_by_id"], ["id"])
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"),
                                                 _condition(column, values))


def downgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
    with op.batch_alter_table("answer_version") as batch_op:
        batch_op.drop_constraint(op.f("fk_answer_version_approved_by_id_staff_user"),
                                 type_="foreignkey")
        batch_op.alter_column("approved_by_id", new_column_name="approver_id",
                              existing_type=sa.Integer(), existing_nullable=True)
    with op.batch_alter_table("answer_version") as batch_op:
        batch_op.create_foreign_key(op.f("fk_answer_version_approver_id_staff_user"),
                                    "staff_user", ["approver_id"], ["id"])
