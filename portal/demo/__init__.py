"""The demo seed for the embedded default.

Idempotent: running it again changes nothing that exists. Each part of the demo
lives in its own module here; ``seed`` runs them in order.
"""

from __future__ import annotations

from portal.demo.answers import seed_answers
from portal.demo.base import DEMO_STAFF, sample_person, seed_base
from portal.demo.brand import seed_brand
from portal.demo.campaigns import seed_campaign
from portal.demo.codes import seed_codes
from portal.demo.notices import seed_notices
from portal.demo.oversight import seed_oversight
from portal.demo.tickets import seed_tickets
from portal.extensions import db


def seed(people: int = 50) -> dict:
    """Create the demo data that is missing; return what a newcomer needs to know."""
    incident, added = seed_base(people)
    # Further demo parts (notices, activation codes, the answer library) are seeded here.
    seed_brand(incident)
    seed_answers(incident.id)
    seed_notices(incident)
    seed_codes(incident)
    seed_tickets(incident.id)
    db.session.commit()
    seed_campaign(incident)
    seed_oversight()  # last: the checkpoint signs the log as seeded
    sample = sample_person(incident)
    return {
        "incident": incident.reference,
        "people_added": added,
        "staff": [(email, role, password) for email, _name, role, password in DEMO_STAFF],
        "sample": {
            "notice_code": sample.notice_code,
            "date_of_birth": sample.date_of_birth,
            "postcode": sample.postcode,
            "policy_last4": (sample.policy_number or "")[-4:],
        },
    }
