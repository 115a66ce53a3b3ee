"""Notification rows: less work per row a launch creates (issue 9, row creation)

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29 05:30:00

A launch to 1,000,000 people by SMS and e-mail inserts 2,000,000 rows in two
``INSERT … SELECT``; every index on ``notification`` is maintained for each of them.
Three of the six held nothing a new row needs:

- the unique (campaign, person, channel) becomes (person, campaign, channel): it still
  makes a repeated launch insert nothing (``ON CONFLICT`` names the columns, in any
  order), and as it now leads with the person it serves every look-up by person, so
  ``ix_notification_person_id`` goes;
- ``ix_notification_provider_id`` holds only rows with a provider id (none at launch);
  a status callback's ``provider_id = :id`` implies it, so it still finds its row by it;
- ``ix_notification_due`` (status, next_attempt_at) served one query, the lease
  recovery (``status = 'sending' AND lease_until < now``): ``ix_notification_lease``
  holds only leased rows, by lease expiry.

And its four foreign keys go (campaign, person, notice version, fallback_of): PostgreSQL
checks each one with a query per inserted row, and with the indexes above trimmed those
checks were two thirds of the launch's database CPU (docs/benchmarks.md). The ids a row
holds come from the rows themselves (the launch's and the fallback's ``INSERT … SELECT``
select them), and nothing deletes a campaign, a notice version or a person (people are
anonymised in place). SQLite never enforced them (``foreign_keys`` is off).
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

LEASED = sa.text("status = 'sending'")
HAS_PROVIDER_ID = sa.text("provider_id IS NOT NULL")
FOREIGN_KEYS = (("campaign_id", "campaign"), ("person_id", "person"),
                ("notice_version_id", "notice_version"), ("fallback_of_id", "notification"))


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        for column, table in FOREIGN_KEYS:
            batch_op.drop_constraint(f"fk_notification_{column}_{table}", type_="foreignkey")
        batch_op.drop_constraint("uq_notification_campaign_id_person_id_channel", type_="unique")
        batch_op.create_unique_constraint("uq_notification_person_id_campaign_id_channel",
                                          ["person_id", "campaign_id", "channel"])
        batch_op.drop_index("ix_notification_person_id")
        batch_op.drop_index("ix_notification_provider_id")
        batch_op.create_index("ix_notification_provider_id", ["provider_id"], unique=False,
                              postgresql_where=HAS_PROVIDER_ID, sqlite_where=HAS_PROVIDER_ID)
        batch_op.drop_index("ix_notification_due")
        batch_op.create_index("ix_notification_lease", ["lease_until"], unique=False,
                              postgresql_where=LEASED, sqlite_where=LEASED)


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_lease")
        batch_op.create_index("ix_notification_due", ["status", "next_attempt_at"], unique=False)
        batch_op.drop_index("ix_notification_provider_id")
        batch_op.create_index("ix_notification_provider_id", ["provider_id"], unique=False)
        batch_op.create_index("ix_notification_person_id", ["person_id"], unique=False)
        batch_op.drop_constraint("uq_notification_person_id_campaign_id_channel", type_="unique")
        batch_op.create_unique_constraint("uq_notification_campaign_id_person_id_channel",
                                          ["campaign_id", "person_id", "channel"])
        for column, table in FOREIGN_KEYS:
            batch_op.create_foreign_key(f"fk_notification_{column}_{table}", table, [column],
                                        ["id"])
