"""E-mail through SMTP (STARTTLS by default), or the outbox on the embedded default.

``send`` opens one connection per message (reminders, reply notices); a chunk of a
campaign opens one ``Connection`` and sends every message of the chunk through it.
"""

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
    # A notice, not a conversation: auto-responders should not answer it (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def classify(exc: Exception) -> ChannelError:
    """The ``ChannelError`` for an SMTP failure: 5xx is permanent, the rest transient."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        code = codes[0] if codes else 550
        return ChannelError(f"recipient refused: {code}", code=str(code),
                            permanent=500 <= code < 600)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return ChannelError(f"SMTP answered {code}", code=str(code), permanent=500 <= code < 600)
    return ChannelError(f"SMTP failed: {exc.__class__.__name__}", code="network")


class Connection:
    """One SMTP connection for many messages (a chunk); reconnects once if dropped.

    ``send`` raises ``ChannelError`` for one message; the connection stays usable
    for the next (after a reset, or a new connection if the server hung up).
    """

    def __init__(self):
        config = current_app.config
        self.outbox = bool(config["OUTBOX_ENABLED"])
        self.host = config["SMTP_HOST"]
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open(self) -> smtplib.SMTP:
        config = current_app.config
        if not self.host:
            raise ChannelError("SMTP is not configured (SMTP_HOST)", permanent=True)
        try:
            smtp = smtplib.SMTP(self.host, int(config["SMTP_PORT"]),
                                timeout=float(config["DISPATCH_SMTP_TIMEOUT_SECONDS"]))
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc) from exc
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def send(self, to: str, body: str, *, subject: str, html: str | None = None) -> str:
        """Send one message; return its Message-ID (the provider id)."""
        if not to:
            raise ChannelError("no e-mail address", permanent=True)
        if self.outbox:
            return outbox.store("email", to, body, subject=subject)
        message = _message(to, subject, body, html)
        for again in (False, True):
            if self._smtp is None:
                self._smtp = self._open()
            try:
                self._smtp.send_message(message)
                return message["Message-ID"]
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if again:
                    raise classify(exc) from exc
            except (smtplib.SMTPException, OSError) as exc:
                self._reset()
                raise classify(exc) from exc
        raise AssertionError("unreachable")

    def _reset(self) -> None:
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError, AttributeError):
            if self._smtp is not None:
                self._smtp.close()
            self._smtp = None


def send(to: str, body: str, *, subject: str, html: str | None = None) -> str:
    """Send an e-mail over a connection of its own; return its Message-ID."""
    with Connection() as connection:
        return connection.send(to, body, subject=subject, html=html)
