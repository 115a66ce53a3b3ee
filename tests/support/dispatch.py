"""Helpers for the campaign tests (plain functions, no fixtures)."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import Notification
from tests.support import REDIS_URL
from tests.support.customer import approve_notice

# What must never appear in an SMS: a person's name, a date, a data category.
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")
CATEGORY_WORDS = ("contact_details", "date_of_birth", "contact details", "date of birth",
                  "national", "health", "financial", "policy")


def dispatch_redis_url() -> str:
    """A Redis database of the campaign tests' own, one per xdist worker (away from the
    other areas' keys in database 0; queue names keep parallel runs apart)."""
    import os

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = 11 + int(re.sub(r"\D", "", worker) or 0) % 4
    return re.sub(r"/\d*$", "", REDIS_URL.rstrip("/")) + f"/{number}"


def incident_with_people(db, make_incident, make_person, count: int, *, languages=("en",),
                         **incident_fields):
    """An incident with an approved notice (per language) and ``count`` people.

    Returns ``(incident, [(person, plain), ...])``; person ``n`` speaks
    ``languages[n % len(languages)]`` and has a phone, an e-mail and an address.
    """
    incident_fields.setdefault("insurer_name", "Demo Mutual")
    incident = make_incident(**incident_fields)
    for language in languages:
        approve_notice(db, incident, language=language)
    people = [make_person(incident, language=languages[n % len(languages)],
                          address_line1=f"{n} Example Street")
              for n in range(count)]
    return incident, people


def assert_sms_carries_no_personal_data(body: str, plain: dict | None = None) -> None:
    """An SMS names the insurer and links to /n/<code>; no name, date or category."""
    assert "/n/" in body, body
    assert not _DATE.search(body), body
    lowered = body.lower()
    for word in CATEGORY_WORDS:
        assert word not in lowered, body
    if plain:
        for key in ("first_name", "last_name", "date_of_birth", "postcode", "policy_number",
                    "email"):
            value = plain.get(key)
            if value:
                assert value.lower() not in lowered, (key, body)
        assert plain["phone"] not in body


def rows(db, campaign_id: int) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.execute(
        select(Notification).where(Notification.campaign_id == campaign_id)
        .order_by(Notification.id)).scalars())
