"""Demo campaign: the demo incident's notice sent once by SMS and e-mail.

A newcomer then finds a finished campaign (counts per channel, the evidence export),
the messages in the outbox, a funnel on the reports page and the notification
deadline met, and can still launch the next campaign (letters, say: their print run
lays out a PDF page per person, too slow to do for every demo seed). Launched through
the engine as the demo manager would (inline jobs on the embedded default); seeded once.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.demo.base import DEMO_STAFF
from portal.dispatch import campaigns
from portal.extensions import db
from portal.models import Campaign, StaffUser

MANAGER = next(email for email, _name, role, _password in DEMO_STAFF if role == "manager")


def seed_campaign(incident) -> None:
    """Launch and print the demo incident's first campaign, unless it has one."""
    if db.session.execute(select(Campaign.id).where(
            Campaign.incident_id == incident.id).limit(1)).first() is not None:
        return
    manager_id = db.session.execute(
        select(StaffUser.id).where(StaffUser.email == MANAGER)).scalar_one_or_none()
    campaigns.launch(incident.id, ["sms", "email"], actor_id=manager_id)
