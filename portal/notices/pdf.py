"""The notice as a PDF (fpdf2 with the vendored DejaVu Sans, so every language prints)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from portal.core.i18n import format_when
from portal.notices.build import Notice

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT = "DejaVu"
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT, "align": "L"}


def add_fonts(pdf: FPDF) -> None:
    """Register the Unicode font family (regular and bold) on a document."""
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))


class _NoticePDF(FPDF):
    """A document of one notice, or of many letters one after another (``add_notice``).

    The footer names the notice on its page; in a file of letters it also gives the
    letter's id and the page number within that letter.
    """

    def __init__(self, footer_text: str = ""):
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.letter_label: str | None = None
        self.first_page = 1

    def footer(self):
        self.set_y(-15)
        self.set_font(FONT, "", 8)
        self.set_text_color(80, 85, 96)
        if self.letter_label is None:
            self.cell(0, 8, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")
        else:
            page = self.page_no() - self.first_page + 1
            self.cell(0, 8, f"{self.footer_text} · {self.letter_label} · {page}", align="C")


@dataclass
class Recipient:
    """The printed letter's addressee block and the customer's way into the portal."""

    letter_id: int
    name: str
    address_lines: list[str]
    notice_code: str | None
    portal_url: str


def _heading(pdf: FPDF, text: str, size: int = 13) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, 7, text, **NEXT_LINE)
    pdf.set_font(FONT, "", 10.5)


def _para(pdf: FPDF, text: str) -> None:
    pdf.multi_cell(0, 5.5, text, **NEXT_LINE)
    pdf.ln(1.5)


def _bullet(pdf: FPDF, text: str) -> None:
    pdf.set_x(pdf.l_margin + 4)
    pdf.multi_cell(0, 5.5, f"• {text}", **NEXT_LINE)


def _letterhead(pdf: FPDF, notice: Notice, logo: bytes | None) -> None:
    """The insurer's logo (when given) and name above the title: who is writing."""
    if notice.brand is None:
        return
    if logo:
        from PIL import Image

        with Image.open(io.BytesIO(logo)) as image:
            ratio = image.width / image.height
        # At most 14 mm high and 60 mm wide, left-aligned, in the image's proportions.
        width = min(60.0, 14.0 * ratio)
        pdf.image(io.BytesIO(logo), w=width, h=width / ratio, alt_text=notice.brand.name)
        pdf.ln(2)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 6, notice.brand.name, **NEXT_LINE)
    pdf.ln(2)


def new_document(footer_text: str = "") -> _NoticePDF:
    """An empty A4 document set up for notices (fonts, margins, page breaks)."""
    pdf = _NoticePDF(footer_text)
    add_fonts(pdf)
    pdf.set_creator("Breach notification portal")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=20)
    return pdf


def notice_pdf(notice: Notice, activation_code: str | None = None,
               logo: bytes | None = None) -> bytes:
    """Render a built notice to PDF bytes, in the notice's language.

    ``logo``: the insurer's logo (``portal.incidents.brand.logo_bytes``), printed with
    the insurer's name above the title.
    """
    pdf = new_document()
    with force_locale(notice.language):
        title = notice.page_title or notice.title
        pdf.set_title(title)
        if notice.brand is not None:
            pdf.set_author(notice.brand.name)
        pdf.set_lang(notice.language)
    add_notice(pdf, notice, activation_code, logo)
    return bytes(pdf.output())


def add_notice(pdf: _NoticePDF, notice: Notice, activation_code: str | None = None,
               logo: bytes | None = None, recipient: Recipient | None = None,
               even_pages: bool = False) -> tuple[int, int]:
    """Append one notice on new pages of ``pdf``; return its (first, last) page numbers.

    With a ``recipient`` it is a printed letter: the address block and the
    customer's notice code come first, the footer carries the letter's id, and
    ``even_pages`` pads it with a blank page so duplex printing never puts two
    letters on one sheet.
    """
    with force_locale(notice.language):
        title = notice.page_title or notice.title
        pdf.add_page()  # closes the previous letter's last page with its own footer
        pdf.footer_text = _("%(title)s · reference %(reference)s, version %(version)s",
                            title=title, reference=notice.incident_reference,
                            version=notice.version)
        pdf.first_page = pdf.page_no()
        pdf.letter_label = (_("letter %(id)s", id=recipient.letter_id)
                            if recipient is not None else None)
        pdf.set_text_color(27, 31, 36)
        _letterhead(pdf, notice, logo)
        if recipient is not None:
            _address_block(pdf, recipient)
        pdf.set_font(FONT, "B", 18)
        pdf.multi_cell(0, 9, notice.title, **NEXT_LINE)
        pdf.set_font(FONT, "", 9)
        if notice.approved_at:
            pdf.multi_cell(0, 5, _("Reference %(reference)s, version %(version)s",
                                   reference=notice.incident_reference,
                                   version=notice.version)
                           + " · " + format_when(notice.approved_at, "long", notice.time_zone,
                                                 date_only=True), **NEXT_LINE)
        pdf.set_font(FONT, "", 10.5)
        if notice.newer_version and notice.what_changed:
            _para(pdf, _("What changed:") + " " + notice.what_changed)
        for section in notice.sections:
            _heading(pdf, section.heading)
            for paragraph in section.paragraphs:
                _para(pdf, paragraph)
            if section.key == "what_you_can_do":
                _can_do(pdf, notice, activation_code)
            if section.key == "more_information":
                _contact(pdf, notice)
        if even_pages and (pdf.page_no() - pdf.first_page) % 2 == 0:
            pdf.add_page()
        return pdf.first_page, pdf.page_no()


def _address_block(pdf: FPDF, recipient: Recipient) -> None:
    """The addressee (for a window envelope), the letter's id and the way online."""
    pdf.set_font(FONT, "", 11)
    for line in [recipient.name, *recipient.address_lines]:
        if line:
            pdf.multi_cell(95, 5.5, line, **NEXT_LINE)
    pdf.ln(3)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 5, _("Letter %(id)s", id=recipient.letter_id), **NEXT_LINE)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 10.5)
    if recipient.notice_code:
        pdf.multi_cell(0, 5.5, _("Your notice code: %(code)s", code=recipient.notice_code),
                       **NEXT_LINE)
    pdf.set_font(FONT, "", 10.5)
    _para(pdf, _("Read this notice online, in your language, and ask us questions at "
                 "%(url)s", url=recipient.portal_url))
    pdf.ln(2)


def _can_do(pdf: FPDF, notice: Notice, activation_code: str | None) -> None:
    for item in notice.categories:
        _heading(pdf, item.name, size=11)
        for advice in item.advice:
            _bullet(pdf, advice)
    if notice.monitoring:
        monitoring = notice.monitoring
        _heading(pdf, _("Free credit monitoring from %(provider)s",
                        provider=monitoring.provider), size=11)
        if activation_code:
            _para(pdf, _("Your activation code:") + " " + activation_code)
        else:
            _para(pdf, _("Your personal activation code is shown on the portal when you ask "
                         "for it."))
        if monitoring.enroll_by:
            _para(pdf, _("Enrol by %(date)s.", date=format_when(monitoring.enroll_by, "long")))
        if monitoring.enroll_url:
            _para(pdf, _("Enrol at:") + " " + monitoring.enroll_url)
    if notice.bureaus:
        _heading(pdf, _("Credit bureaus"), size=11)
        for bureau in notice.bureaus:
            _bullet(pdf, f"{bureau.name}: {bureau.phone}, {bureau.url}")


def _contact(pdf: FPDF, notice: Notice) -> None:
    contact = notice.contact
    rows = [
        (_("Toll-free helpline"), contact.hotline),
        (_("Opening hours"), contact.hours),
        (_("Email"), contact.email),
        (_("Postal address"), contact.postal_address),
        (_("Data protection officer"), contact.dpo),
    ]
    for label, value in rows:
        if value:
            pdf.set_font(FONT, "B", 10.5)
            pdf.multi_cell(0, 5.5, label, **NEXT_LINE)
            pdf.set_font(FONT, "", 10.5)
            _para(pdf, value)
