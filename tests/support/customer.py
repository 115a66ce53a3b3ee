"""Helpers shared by the customer-portal tests (plain functions, no fixtures)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from portal.models import ActivationCode, Interaction, NoticeVersion, OutboxMessage
from portal.models.base import utcnow
from portal.security.crypto import code_index, generate_code
from tests.support import csrf_token
from tests.support.dates import dob_fields

NARRATIVE = {
    "en": ("Someone accessed our policy system without permission.",
           "We closed the access and called in specialists.",
           "Criminals may try to trick you with convincing messages."),
    "es": ("Alguien accedió sin permiso a nuestro sistema de pólizas.",
           "Cerramos el acceso y llamamos a especialistas.",
           "Los delincuentes pueden intentar engañarle con mensajes convincentes."),
}


# An incident's full contact block and monitoring offer, for notice tests.
FULL_CONTACT = {
    "contact_hotline": "+1 800 555 0199",
    "contact_hours": "Monday to Saturday, 8:00 to 20:00",
    "contact_email": "incident-help@insurer.example",
    "contact_postal_address": "Demo Mutual Insurance, 1 Example Plaza, Sacramento, CA 95814",
    "dpo_contact": "Data Protection Officer, dpo@insurer.example",
    "monitoring_provider": "Example Credit Monitoring",
    "monitoring_enroll_url": "https://monitoring.example/enrol",
    "monitoring_enroll_by": date(2027, 3, 1),
}


def approve_notice(db, incident, language: str = "en", version: int = 1,
                   what_changed: str | None = None) -> NoticeVersion:
    """Add an approved notice version (superseding the previous one in that language)."""
    for older in db.session.execute(select(NoticeVersion).where(
            NoticeVersion.incident_id == incident.id, NoticeVersion.language == language,
            NoticeVersion.state == "approved")).scalars():
        older.state = "superseded"
    happened, doing, consequences = NARRATIVE.get(language, NARRATIVE["en"])
    row = NoticeVersion(incident_id=incident.id, version=version, language=language,
                        state="approved", what_happened=happened, what_we_are_doing=doing,
                        likely_consequences=consequences, other_information="",
                        what_changed=what_changed, approved_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


def add_activation_codes(db, incident, count: int = 3) -> list[str]:
    codes = []
    for _ in range(count):
        code = generate_code()
        db.session.add(ActivationCode(incident_id=incident.id, code=code,
                                      code_index=code_index(code)))
        codes.append(code)
    db.session.commit()
    return codes


def enter_code(client, code: str):
    token = csrf_token(client, "/")
    return client.post("/", data={"code": code, "csrf_token": token})


def answer(client, dob: str, postcode: str | None = None, policy_last4: str | None = None):
    token = csrf_token(client, "/")  # one token per session; /verify may show the lock page
    data = {**dob_fields(dob), "csrf_token": token}
    if postcode is not None:
        data["postcode"] = postcode
    if policy_last4 is not None:
        data["policy_last4"] = policy_last4
    return client.post("/verify", data=data)


def sign_in(client, plain: dict):
    """Verify as a person through the real forms; returns the final response."""
    response = enter_code(client, plain["notice_code"])
    assert response.status_code == 302, response.text
    response = answer(client, plain["date_of_birth"], postcode=plain["postcode"])
    assert response.status_code == 302, response.text
    assert response.location.endswith("/notice")
    return response


def actions(db, prefix: str = "") -> list[str]:
    return [a for a in db.session.execute(
        select(Interaction.action).order_by(Interaction.id)).scalars() if a.startswith(prefix)]


def interactions(db, action: str) -> list[Interaction]:
    return list(db.session.execute(
        select(Interaction).where(Interaction.action == action).order_by(Interaction.id)
    ).scalars())


def outbox(db, channel: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    db.session.expire_all()
    return list(db.session.execute(query).scalars())


def main_html(response) -> str:
    """The page's <main> content, without per-request tokens."""
    match = re.search(r"<main.*?</main>", response.text, re.S)
    assert match, "no <main> in page"
    return re.sub(r'name="csrf_token"[^>]*', "", match.group(0))


def personal_values(plain: dict) -> list[str]:
    """Values that must never appear in an SMS or a log entry."""
    keys = ("first_name", "last_name", "date_of_birth", "postcode", "policy_number", "email",
            "phone")
    return [str(plain[key]) for key in keys if plain.get(key)]
