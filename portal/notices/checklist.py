"""The checklist of notice elements an incident's jurisdictions require.

Each element is checked against the notice version's text and the incident's
fields. A required element that is missing blocks approval unless a manager
recorded a reason for going ahead without it (``checklist_overrides``).
Elements that software cannot judge (plain language) are left to the approver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from portal.models import Incident, NoticeVersion
from portal.rules import notice_elements

# Words that show the narrative says whether law enforcement delayed the notice.
LAW_ENFORCEMENT_WORDS = {
    "en": ("law enforcement", "law-enforcement", "police"),
    "es": ("fuerzas del orden", "fuerzas de seguridad", "policía", "policial"),
    "fr": ("forces de l'ordre", "forces de l’ordre", "police", "policière"),
    "de": ("strafverfolgung", "polizei"),
}

STATUSES = ("ok", "missing", "overridden", "review")

_WHY = {
    "what_happened": (_l("Written under What Happened."), _l("What Happened is empty.")),
    "date_of_breach": (
        _l("Added from the incident's breach and discovery dates."),
        _l("Set when the breach took place and when it was discovered on the incident."),
    ),
    "information_involved": (
        _l("Each person's categories are named from the incident's categories."),
        _l("Choose the data categories involved on the incident."),
    ),
    "likely_consequences": (_l("Written under Likely consequences."),
                            _l("Likely consequences is empty.")),
    "what_we_are_doing": (_l("Written under What We Are Doing."),
                          _l("What We Are Doing is empty.")),
    "what_you_can_do": (
        _l("Advice for each category comes from the advice catalog."),
        _l("Choose the data categories involved, so advice can be given."),
    ),
    "contact_information": (_l("The incident has a contact block."),
                            _l("Add a hotline, email or postal address to the incident.")),
    "toll_free_contact": (
        _l("The incident has a hotline and an email or postal address (check the hotline is "
           "toll-free)."),
        _l("Add a toll-free hotline and an email or postal address to the incident."),
    ),
    "dpo_contact": (_l("The incident names the data protection officer."),
                    _l("Add the data protection officer's contact to the incident.")),
    "law_enforcement_delay": (
        _l("The text says whether law enforcement delayed the notice."),
        _l("Say in the text whether law enforcement delayed this notice (for example under "
           "Other information)."),
    ),
    "credit_bureaus": (
        _l("Added automatically for people whose identity numbers were exposed."),
        _l("Added automatically for people whose identity numbers were exposed."),
    ),
    "identity_theft_protection": (
        _l("The incident offers monitoring with an enrolment address (check it lasts at least "
           "12 months)."),
        _l("Add the monitoring offer (provider and enrolment address) to the incident."),
    ),
    "notice_format": (_l("The notice is built with this title and these headings."),
                      _l("The notice is built with this title and these headings.")),
    "plain_language": (_l("The approver judges this when reading the preview."),
                       _l("The approver judges this when reading the preview.")),
}


@dataclass
class ChecklistItem:
    key: str
    label: str
    required: bool
    rules: list[str]  # names of the rules asking for the element
    status: str  # one of STATUSES
    explanation: str
    override: dict | None = field(default=None)  # {"reason", "by", "at"} when overridden

    @property
    def blocking(self) -> bool:
        return self.required and self.status == "missing"


def _has_text(value: str | None) -> bool:
    return bool(value and value.strip())


def mentions_law_enforcement(version: NoticeVersion) -> bool:
    """Tell whether the version's text mentions law enforcement in its language (or English)."""
    text = " ".join(
        part or "" for part in (version.what_happened, version.what_we_are_doing,
                                version.likely_consequences, version.other_information)
    ).lower()
    words = LAW_ENFORCEMENT_WORDS.get(version.language, ()) + LAW_ENFORCEMENT_WORDS["en"]
    return any(word in text for word in words)


def _present(key: str, incident: Incident, version: NoticeVersion) -> bool | None:
    """Whether the element is present; None when only a person can judge."""
    contact = any(_has_text(value) for value in (
        incident.contact_hotline, incident.contact_email, incident.contact_postal_address))
    checks = {
        "what_happened": lambda: _has_text(version.what_happened),
        "date_of_breach": lambda: bool(
            (incident.occurred_from or incident.occurred_to) and incident.discovered_at),
        "information_involved": lambda: bool(incident.categories),
        "likely_consequences": lambda: _has_text(version.likely_consequences),
        "what_we_are_doing": lambda: _has_text(version.what_we_are_doing),
        "what_you_can_do": lambda: bool(incident.categories),
        "contact_information": lambda: contact,
        "toll_free_contact": lambda: _has_text(incident.contact_hotline) and (
            _has_text(incident.contact_email) or _has_text(incident.contact_postal_address)),
        "dpo_contact": lambda: _has_text(incident.dpo_contact),
        "law_enforcement_delay": lambda: mentions_law_enforcement(version),
        "credit_bureaus": lambda: True,
        "identity_theft_protection": lambda: _has_text(incident.monitoring_provider)
        and _has_text(incident.monitoring_enroll_url),
        "notice_format": lambda: True,
    }
    check = checks.get(key)
    return check() if check else None


def checklist(incident: Incident, version: NoticeVersion) -> list[ChecklistItem]:
    """The elements the incident's jurisdictions require, each checked against ``version``."""
    overrides = version.checklist_overrides or {}
    items = []
    for element, rules in notice_elements(incident.jurisdictions, incident.categories or []):
        present = _present(element.key, incident, version)
        ok_text, missing_text = _WHY.get(element.key, ("", ""))
        override = overrides.get(element.key)
        if present is None:
            status, why = "review", ok_text
        elif present:
            status, why = "ok", ok_text
        elif override:
            status, why = "overridden", missing_text
        else:
            status, why = "missing", missing_text
        items.append(ChecklistItem(
            key=element.key, label=element.label, required=element.required,
            rules=[rule.name for rule in rules], status=status, explanation=str(why),
            override=override if status == "overridden" else None,
        ))
    return items


def blocking_items(items: list[ChecklistItem]) -> list[ChecklistItem]:
    """The required elements that are missing without a recorded reason."""
    return [item for item in items if item.blocking]
