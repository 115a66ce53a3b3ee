"""The job behind "I did not get a letter": send the code to the contact details on file."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.audit import log as audit
from portal.dispatch import messages
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.interaction import Interaction
from portal.models.person import Person


def resends_per_day() -> int:
    return int(current_app.config["CUSTOMER_RESEND_PER_DAY"])


def sent_last_day(person_id: int) -> int:
    """How many code reminders went to this person in the last 24 hours."""
    return db.session.execute(
        select(func.count(Interaction.id)).where(
            Interaction.person_id == person_id,
            Interaction.action == "code_resend.sent",
            Interaction.at >= utcnow() - timedelta(hours=24),
        )
    ).scalar_one()


def send_code_reminder(person_id: int | None) -> str | None:
    """Send a person their notice code by their channel; ``None`` does nothing.

    Never raises: a failure is logged as an interaction, so the web response
    (which may run this inline) is the same whatever happened. At most
    ``CUSTOMER_RESEND_PER_DAY`` (3) reminders go to one person in 24 hours; more
    requests are logged as ``code_resend.throttled`` and send nothing.
    """
    if person_id is None:
        return None
    person = db.session.get(Person, person_id)
    if person is None or person.anonymised_at is not None:
        return None
    sent = sent_last_day(person.id)
    if sent >= resends_per_day():
        audit.record("code_resend.throttled", actor_type="system", incident_id=person.incident_id,
                     person_id=person.id, details={"sent_last_day": sent})
        db.session.commit()
        return None
    return messages.deliver(person, messages.code_reminder, "code_resend.sent|code_resend.failed")
