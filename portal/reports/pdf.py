"""The regulator report as a PDF (fpdf2, the notices' DejaVu font): the JSON's facts, readable.

It prints what ``portal.reports.regulator.build`` returned and nothing else, so the
PDF holds no more personal data than the JSON (none).
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from fpdf import FPDF

from portal.notices.pdf import FONT, NEXT_LINE, add_fonts
from portal.people.residence import residence_name
from portal.reports.regulator import UNKNOWN_RESIDENCE


class _ReportPDF(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self.footer_text = footer_text

    def footer(self):
        self.set_y(-15)
        self.set_font(FONT, "", 8)
        self.set_text_color(80, 85, 96)
        self.cell(0, 8, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(0, 7, text, **NEXT_LINE)
    pdf.set_font(FONT, "", 10)


def _line(pdf: FPDF, label: str, value) -> None:
    if value in (None, "", [], {}):
        value = "—"
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(0, 5.5, label, **NEXT_LINE)
    pdf.set_font(FONT, "", 10)
    pdf.set_x(pdf.l_margin + 4)
    pdf.multi_cell(0, 5.5, str(value), **NEXT_LINE)


def _table(pdf: FPDF, headers: list[str], rows: list[list]) -> None:
    if not rows:
        pdf.multi_cell(0, 5.5, _("None."), **NEXT_LINE)
        return
    pdf.set_font(FONT, "", 9)
    with pdf.table(text_align="LEFT", line_height=5) as table:
        head = table.row()
        for header in headers:
            head.cell(header)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell("—" if value in (None, "") else str(value))
    pdf.set_font(FONT, "", 10)


def report_pdf(report: dict) -> bytes:
    """Render a built regulator report to PDF bytes."""
    facts = report["incident"]
    title = _("Regulator report: %(reference)s", reference=facts["reference"])
    pdf = _ReportPDF(title)
    add_fonts(pdf)
    pdf.set_title(title)
    locale = get_locale()
    pdf.set_lang(locale.language if locale else "en")  # screen readers pick the voice
    pdf.set_creator("Breach notification portal")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_text_color(27, 31, 36)
    pdf.set_font(FONT, "B", 17)
    pdf.multi_cell(0, 9, title, **NEXT_LINE)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5.5, _("Generated %(when)s (UTC).", when=facts["report_generated_at"]),
                   **NEXT_LINE)

    _heading(pdf, _("Incident"))
    contacts = facts["contacts"]
    for label, value in (
        (_("Title"), facts["title"]), (_("Insurer"), facts["insurer"]),
        (_("Status"), facts["status"]), (_("Summary"), facts["summary"]),
        (_("Breach started"), facts["occurred_from"]), (_("Breach ended"), facts["occurred_to"]),
        (_("Discovered"), facts["discovered_at"]), (_("Determined"), facts["determined_at"]),
        (_("Contained"), facts["contained_at"]),
        (_("Jurisdictions"), ", ".join(facts["jurisdictions"])),
        (_("Data categories involved"), ", ".join(facts["categories"])),
        (_("Affected people"), facts["people_affected"]),
        (_("Hotline"), " ".join(filter(None, (contacts["hotline"], contacts["hours"])))),
        (_("Email"), contacts["email"]), (_("Postal address"), contacts["postal_address"]),
        (_("Data protection officer"), contacts["dpo"]),
        (_("Monitoring"), (facts["monitoring"] or {}).get("provider")),
    ):
        _line(pdf, label, value)
    _table(pdf, [_("Data category"), _("People")],
           [[name, number] for name, number in facts["people_by_category"].items()])

    _heading(pdf, _("Timeline"))
    _table(pdf, [_("When (UTC)"), _("Event"), _("Details")],
           [[event["at"], event["event"],
             ", ".join(f"{key}: {value}" for key, value in event.items()
                       if key not in ("at", "event") and value not in (None, "", []))]
            for event in report["timeline"]])

    _heading(pdf, _("Deadlines"))
    _table(pdf, [_("Rule"), _("Due (UTC)"), _("State"), _("Met (UTC)"), _("Met by")],
           [[row["name"], row["due_at"], row["state"], row["met_at"],
             " ".join(filter(None, (row["met_by"], row["met_reference"])))]
            for row in report["deadlines"]])

    notes = report["notifications"]
    _heading(pdf, _("Notifications"))
    _line(pdf, _("Messages"), _("%(total)d in all, %(sent)d sent; first %(first)s, last %(last)s",
                                total=notes["total"], sent=notes["sent"],
                                first=notes["first_sent_at"] or "—",
                                last=notes["last_sent_at"] or "—"))
    _table(pdf, [_("Channel"), _("Status"), _("Count")],
           [[channel, status, number] for channel, entry in notes["by_channel"].items()
            for status, number in sorted(entry["by_status"].items())])
    _table(pdf, [_("Jurisdiction"), _("People"), _("Reached")],
           [[_("Unknown") if code == UNKNOWN_RESIDENCE else residence_name(code, str(get_locale())),
             entry["people"], entry["reached"]]
            for code, entry in notes["by_jurisdiction"].items()])

    tickets = report["tickets"]
    _heading(pdf, _("Tickets"))
    first = tickets["first_response"]
    _line(pdf, _("First response"), _(
        "target %(hours)d hours: %(met)d met, %(missed)d missed, %(waiting)d waiting "
        "(%(overdue)d overdue)", hours=first["sla_hours"], met=first["met"],
        missed=first["missed"], waiting=first["waiting_within_sla"] + first["waiting_overdue"],
        overdue=first["waiting_overdue"]))
    _table(pdf, [_("Topic"), _("Status"), _("Count")],
           [[topic, status, number] for topic, statuses in tickets["by_topic"].items()
            for status, number in sorted(statuses.items())])

    log = report["interactions"]
    chain = log["chain"]
    _heading(pdf, _("Interaction log"))
    _line(pdf, _("Entries about this incident"), log["count"])
    _line(pdf, _("Chain verification"),
          ", ".join(f"{key}: {value}" for key, value in chain.items()))

    _heading(pdf, _("Approved notice text"))
    for language, text in report["sample_notice"].items():
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(0, 6, f"{language} · v{text['version']} · {text['approved_at']}",
                       **NEXT_LINE)
        pdf.set_font(FONT, "", 10)
        for key, value in text.items():
            if key not in ("version", "approved_at"):
                pdf.multi_cell(0, 5.5, str(value), **NEXT_LINE)
                pdf.ln(1)
    return bytes(pdf.output())
