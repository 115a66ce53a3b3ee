"""The wording of a campaign's SMS and e-mail, prepared once per language and chunk.

A ``Wording`` is rendered once per (incident, language, notice version) with
placeholders for the person's link and code; each message is then a couple of
string replacements, so rendering costs microseconds (bench/dispatch.py measures
it). An SMS names the insurer and carries the ``/n/<code>`` link and nothing else:
no name, no date, no data category. It stays within 160 GSM-7 characters in
every language we translate it to (tests/dispatch/test_wording.py checks each
rendering); it is never longer than ``MAX_SMS``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.extensions import db
from portal.incidents.brand import incident_face
from portal.models import Incident, NoticeVersion
from portal.notices.build import paragraphs

LINK = "\x00link\x00"
CODE = "\x00code\x00"
MAX_SMS = 320
SMS_NAME_LIMIT = 40
SUMMARY_LIMIT = 700
# The GSM 03.38 default alphabet; "^{}\\[~]|€" take two septets (the extension table).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def gsm7_length(text: str) -> int | None:
    """Septets ``text`` takes in GSM-7, or ``None`` if it needs UCS-2."""
    length = 0
    for char in text:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` costs (GSM-7 160/153, else UCS-2 70/67)."""
    septets = gsm7_length(text)
    if septets is not None:
        return 1 if septets <= 160 else -(-septets // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def digest(text: str) -> str:
    """The content digest kept as evidence of what was sent."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Wording:
    """One language's campaign messages, with ``LINK`` and ``CODE`` placeholders."""

    language: str
    sms: str
    subject: str
    text: str
    html: str

    def render_sms(self, link: str) -> str:
        return self.sms.replace(LINK, link)

    def render_email(self, link: str, code: str) -> tuple[str, str, str]:
        """(subject, text body, HTML body) for one person."""
        return (self.subject, self.text.replace(LINK, link).replace(CODE, code),
                self.html.replace(LINK, escape(link)).replace(CODE, escape(code)))


def insurer_name(incident_id: int) -> str | None:
    """Who is writing: the incident's insurer, else the portal's operator."""
    brand = incident_face(incident_id)[0]
    return brand.name if brand else current_app.config["PORTAL_OPERATOR_NAME"]


def link_base() -> str:
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + "/n/"


def _summary(incident: Incident, version: NoticeVersion | None) -> str:
    text = (version.what_happened if version is not None else "") or incident.summary or ""
    first = " ".join(paragraphs(text)[:2])
    if len(first) > SUMMARY_LIMIT:
        first = first[:SUMMARY_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return first


def wording(incident_id: int, language: str, version_id: int | None) -> Wording:
    """The campaign's messages in ``language`` for one notice version."""
    incident = db.session.get(Incident, incident_id)
    version = db.session.get(NoticeVersion, version_id) if version_id else None
    name = insurer_name(incident_id)
    hotline = incident.contact_hotline
    summary = _summary(incident, version)
    with force_locale(language or "en"):
        sms_text = _("Important notice about your personal data. Read it here: %(link)s",
                     link=LINK)
        subject = _("Notice of Data Breach")
        if name:
            short = name if len(name) <= SMS_NAME_LIMIT else (
                name[:SMS_NAME_LIMIT - 1].rstrip() + "…")
            sms_text = _("%(insurer)s: %(message)s", insurer=short, message=sms_text)
            subject = _("%(insurer)s: %(message)s", insurer=name, message=subject)
        intro = _("We are writing to tell you about a data breach that may involve "
                  "your personal information.")
        read = _("Read your full notice, with what you can do to protect yourself, on our "
                 "secure portal:")
        code_line = _("Notice code: %(code)s", code=CODE)
        confirm = _("You will be asked to confirm your date of birth.")
        call = (_("Call our incident helpline free of charge on %(hotline)s.", hotline=hotline)
                if hotline else "")
    blocks = [intro, summary, f"{read} {LINK}", code_line, confirm, call, name or ""]
    text = "\n\n".join(block for block in blocks if block)
    html_blocks = [escape(intro), escape(summary),
                   f'{escape(read)} <a href="{LINK}">{LINK}</a>',
                   escape(code_line).replace(escape(CODE), CODE), escape(confirm),
                   escape(call), escape(name or "")]
    html = ('<!DOCTYPE html><html lang="' + escape(language or "en") + '"><body>'
            + "".join(f"<p>{block}</p>" for block in html_blocks if block)
            + "</body></html>")
    return Wording(language or "en", sms_text, subject, text, html)
