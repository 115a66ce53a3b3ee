"""The job behind "I did not get a letter": send the code to the contact details on file."""

from __future__ import annotations

from portal import audit
from portal.customer import messages
from portal.extensions import db
from portal.models.person import Person


def send_code_reminder(person_id: int | None) -> str | None:
    """Send a person their notice code by their channel; ``None`` does nothing.

    Never raises: a failure is logged as an interaction, so the web response
    (which may run this inline) is the same whatever happened.
    """
    if person_id is None:
        return None
    person = db.session.get(Person, person_id)
    if person is None or person.anonymised_at is not None:
        return None
    channel = messages.channel_for(person)
    if channel is None:
        audit.record("code_resend.failed", actor_type="system", incident_id=person.incident_id,
                     person_id=person.id, details={"reason": "no_channel"})
        db.session.commit()
        return None
    subject, sms_body, email_body = messages.code_reminder(person)
    try:
        provider_id = messages.send(person, channel, subject, sms_body, email_body)
    except messages.ChannelError as exc:
        db.session.rollback()
        audit.record("code_resend.failed", actor_type="system", incident_id=person.incident_id,
                     person_id=person.id,
                     details={"channel": channel, "reason": exc.code or "error",
                              "permanent": exc.permanent})
        db.session.commit()
        return None
    audit.record("code_resend.sent", actor_type="system", incident_id=person.incident_id,
                 person_id=person.id, details={"channel": channel, "provider_id": provider_id})
    db.session.commit()
    return provider_id
