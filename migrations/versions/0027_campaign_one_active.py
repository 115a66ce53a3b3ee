"""Campaigns: at most one running or paused campaign per incident, enforced by the database

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-29 09:00:00

The launch refuses a second active campaign of an incident, but it checked and then
inserted: two launches at the same moment (a double-clicked button, two managers) both
passed the check and every person was told twice. A partial unique index makes the
second launch fail instead (``campaigns.launch`` turns that into its usual refusal).
"""
import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('running', 'paused')"


def upgrade():
    connection = op.get_bind()
    doubled = connection.execute(sa.text(
        f"SELECT incident_id FROM campaign WHERE {ACTIVE} "  # noqa: S608 - constant
        "GROUP BY incident_id HAVING count(*) > 1")).scalars().all()
    if doubled:
        raise RuntimeError(
            "incidents with more than one running or paused campaign (ids "
            f"{', '.join(map(str, doubled))}): cancel all but one, then upgrade again")
    op.create_index("uq_campaign_one_active", "campaign", ["incident_id"], unique=True,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))


def downgrade():
    op.drop_index("uq_campaign_one_active", table_name="campaign")
