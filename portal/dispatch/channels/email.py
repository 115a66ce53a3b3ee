"""E-mail through SMTP (STARTTLS by default), or the outbox on the embedded default.

``send`` opens one connection per message (reminders, reply notices); a chunk of a
campaign opens one ``Connection`` per sending thread and sends its share of the chunk
through it. The bytes are written by ``_Composer`` (the same headers and MIME structure
as ``EmailMessage``, at a fraction of the cost); an unusual recipient goes the stdlib way.
"""

from __future__ import annotations

import binascii
import re
import smtplib
import ssl
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

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


# A plain ASCII address (no display name, no quoting, no line break): written as it is.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _qp(text: str) -> bytes:
    """``text`` as UTF-8 quoted-printable with CRLF line ends (binascii, in C)."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    # Hard and soft line breaks come out as LF: SMTP wants CRLF.
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(
        b"\n", b"\r\n")


def _fold(name: str, value: str) -> bytes:
    """One header line as ``EmailMessage`` writes it: RFC 2047 words for non-ASCII,
    folded at 78; a value with a line break is refused, as there (ValueError)."""
    _name, header = policy.SMTP.header_store_parse(name, value)
    return header.fold(policy=policy.SMTP).encode("ascii")


class _Composer:
    """Writes a message's bytes directly: the same headers and MIME structure as
    ``_message`` (multipart/alternative, text then HTML, UTF-8 quoted-printable),
    without the header registry parsing and folding each header of every message.

    The From and each distinct Subject are folded once (by the stdlib's SMTP
    policy) and reused; the recipient is written as it is when it is a plain ASCII
    address, and ``None`` is returned otherwise (the caller builds it the stdlib
    way).
    """

    def __init__(self, sender: str):
        self.sender = sender
        self.envelope_from = parseaddr(sender)[1] or sender
        self.domain = sender.rpartition("@")[2].strip(">") or None
        self.from_line = _fold("From", sender)
        self.subjects: dict[str, bytes] = {}

    def compose(self, to: str, subject: str, body: str, html: str | None):
        """``(bytes, Message-ID)``, or ``None`` for a recipient to leave to the stdlib."""
        if not _PLAIN_ADDRESS.fullmatch(to):
            return None
        folded = self.subjects.get(subject)
        if folded is None:
            folded = self.subjects[subject] = _fold("Subject", subject)
        message_id = make_msgid(domain=self.domain)
        head = [self.from_line, b"To: ", to.encode("ascii"), b"\r\n", folded,
                b"Message-ID: ", message_id.encode("ascii"), b"\r\n",
                b"Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"]
        text_part = (b'Content-Type: text/plain; charset="utf-8"\r\n'
                     b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(body))
        if not html:
            return b"".join(head) + text_part + b"\r\n", message_id
        boundary = f"================{uuid.uuid4().hex}==".encode("ascii")
        return b"".join([
            *head, b'Content-Type: multipart/alternative;\r\n boundary="', boundary, b'"\r\n',
            b"\r\n--", boundary, b"\r\n", text_part,
            b"\r\n--", boundary, b"\r\n",
            b'Content-Type: text/html; charset="utf-8"\r\n'
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n", _qp(html),
            b"\r\n--", boundary, b"--\r\n"]), message_id


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
        self._composer = _Composer(config["MAIL_FROM"])

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
        composed = self._composer.compose(to, subject, body, html)
        message = _message(to, subject, body, html) if composed is None else None
        for again in (False, True):
            if self._smtp is None:
                self._smtp = self._open()
            try:
                if message is not None:
                    self._smtp.send_message(message)
                    return message["Message-ID"]
                self._smtp.sendmail(self._composer.envelope_from, [to], composed[0])
                return composed[1]
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
