"""Choosing a person's channel and wording the short messages sent to them.

Shared by the code reminder and the reply notification. An SMS carries the
insurer's name (not personal data), a short message and a portal link only: no
person's name, no reply text, no personal data. Every message names the insurer
(``portal.incidents.brand``) so a wary customer can tell who is writing.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.dispatch.channels import ChannelError, email, sms
from portal.incidents.brand import incident_face
from portal.models.person import Person

# An insurer's name longer than this is shortened in an SMS, which must stay short.
SMS_NAME_LIMIT = 40


def portal_link(person: Person) -> str:
    """The link that takes a person to their verification page."""
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    if person.notice_code:
        return f"{base}/n/{person.notice_code}"
    return f"{base}/"


def channel_for(person: Person) -> str | None:
    """The preferred channel when usable, else e-mail, else SMS; ``None`` if neither.

    Usable as for a campaign (``campaigns.eligible``): the contact detail, consent and
    no opt-out. A preference for letters falls to e-mail (these messages are not posted).
    """
    usable = []
    if person.email and person.consent_email and not person.email_opt_out:
        usable.append("email")
    if person.phone and not person.sms_opt_out and person.consent_sms:
        usable.append("sms")
    if person.preferred_channel in usable:
        return person.preferred_channel
    return usable[0] if usable else None


def send(person: Person, channel: str, subject: str, sms_body: str, email_body: str) -> str:
    """Send through one channel; return the provider id (raises ``ChannelError``)."""
    if channel == "sms":
        return sms.send(person.phone, sms_body)
    return email.send(person.email, email_body, subject=subject)


def insurer_name(person: Person) -> str | None:
    """The display name of the person's insurer, if the incident has one."""
    brand = incident_face(person.incident_id)[0]
    return brand.name if brand else None


def signed(person: Person, subject: str, sms_body: str, email_body: str) -> tuple[str, str, str]:
    """Name the insurer in the subject, at the start of the SMS and under the e-mail.

    Call inside the ``force_locale`` of the message.
    """
    name = insurer_name(person)
    if not name:
        return subject, sms_body, email_body
    short = name if len(name) <= SMS_NAME_LIMIT else name[:SMS_NAME_LIMIT - 1].rstrip() + "…"
    return (
        _("%(insurer)s: %(message)s", insurer=name, message=subject),
        _("%(insurer)s: %(message)s", insurer=short, message=sms_body),
        email_body + "\n\n" + name,
    )


def code_reminder(person: Person) -> tuple[str, str, str]:
    """Subject, SMS text and e-mail text for a code reminder, in the person's language."""
    link = portal_link(person)
    with force_locale(person.language or "en"):
        subject = _("Your notice code")
        sms_body = _("You asked for your notice code. Open your notice here: %(link)s",
                     link=link)
        email_body = _(
            "You asked us to send your notice code again.\n\n"
            "Your notice code: %(code)s\n\n"
            "Open your notice here: %(link)s\n\n"
            "You will be asked to confirm your date of birth. If you did not ask for this "
            "message, you can ignore it.",
            code=person.notice_code or "", link=link,
        )
        return signed(person, subject, sms_body, email_body)


def reply_notice(person: Person) -> tuple[str, str, str]:
    """Subject, SMS text and e-mail text telling a person there is a reply to read."""
    link = portal_link(person)
    with force_locale(person.language or "en"):
        subject = _("There is a reply to your question")
        sms_body = _("There is a reply to your question. Read it here: %(link)s", link=link)
        email_body = _(
            "There is a new reply to the question you sent us.\n\n"
            "For your security we do not send the reply by email. Read it on the portal: "
            "%(link)s\n\nYou will be asked to confirm your date of birth.",
            link=link,
        )
        return signed(person, subject, sms_body, email_body)


__all__ = ["ChannelError", "channel_for", "code_reminder", "reply_notice", "send"]


def deliver(person: Person, compose, actions: str, **ids) -> str | None:
    """Send what ``compose(person)`` writes by the person's channel, and log the outcome.

    ``actions`` is ``"success.action|failure.action"``: the failure is logged when
    the person has no usable channel or the channel refused, with the ids given
    (ticket_id, ...). Commits; never raises for a channel failure. Returns the
    provider id, or ``None``.
    """
    from portal.audit import log as audit
    from portal.extensions import db

    success, failure = actions.split("|")

    def log(name: str, details: dict) -> None:
        audit.record(name, actor_type="system", incident_id=person.incident_id,
                     person_id=person.id, details=details, **ids)
        db.session.commit()

    channel = channel_for(person)
    if channel is None:
        log(failure, {"reason": "no_channel"})
        return None
    subject, sms_body, email_body = compose(person)
    try:
        provider_id = send(person, channel, subject, sms_body, email_body)
    except ChannelError as exc:
        db.session.rollback()
        log(failure, {"channel": channel, "reason": exc.code or "error",
                      "permanent": exc.permanent})
        return None
    log(success, {"channel": channel, "provider_id": provider_id})
    return provider_id
