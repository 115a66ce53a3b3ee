"""E-mail through SMTP (STARTTLS by default), or the outbox on the embedded default."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

from portal.dispatch.channels import ChannelError, outbox


def _message(to: str, subject: str, body: str, html: str | None) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    domain = message["From"].rpartition("@")[2].strip(">") or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def send(to: str, body: str, *, subject: str, html: str | None = None) -> str:
    """Send an e-mail; return its Message-ID (the provider id)."""
    if not to:
        raise ChannelError("no e-mail address", permanent=True)
    config = current_app.config
    if config["OUTBOX_ENABLED"]:
        return outbox.store("email", to, body, subject=subject)
    host = config["SMTP_HOST"]
    if not host:
        raise ChannelError("SMTP is not configured (SMTP_HOST)", permanent=True)
    message = _message(to, subject, body, html)
    try:
        with smtplib.SMTP(host, int(config["SMTP_PORT"]), timeout=30) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise ChannelError("recipient refused", code="recipient", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"SMTP failed: {exc.__class__.__name__}") from exc
    return message["Message-ID"]
