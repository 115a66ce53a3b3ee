"""Build one person's tailored notice as a structure every renderer shares.

HTML pages, PDFs, emails and letters all render a ``Notice``: the title "Notice
of Data Breach", the five headings in the required order, the person's data
categories by name (never the values), advice per category, the credit bureaus
when an identity number was exposed, the contact block and the monitoring offer.

The notice is built in the language of the approved version used: the requested
language when a version was approved in it, else the incident's default
language, else English, so a notice never mixes languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from babel.lists import format_list
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.i18n import format_when
from portal.extensions import db
from portal.incidents.brand import Brand, brand_of
from portal.incidents.contacts import contact_text
from portal.models import Incident, IncidentAdvice, NoticeVersion
from portal.notices.advice import (
    CREDIT_BUREAUS,
    category_advice,
    category_name,
    is_category,
    needs_bureaus,
)

SECTION_KEYS = (
    "what_happened",
    "what_information",
    "what_we_are_doing",
    "what_you_can_do",
    "more_information",
)


@dataclass
class Section:
    key: str
    heading: str
    paragraphs: list[str]


@dataclass
class CategoryAdvice:
    key: str
    name: str
    advice: list[str]  # catalog advice, then the incident's own advice


@dataclass
class Bureau:
    name: str
    phone: str
    url: str


@dataclass
class ContactBlock:
    hotline: str | None
    hours: str | None
    email: str | None
    postal_address: str | None
    dpo: str | None


@dataclass
class MonitoringOffer:
    provider: str
    enroll_url: str | None
    enroll_by: date | None
    description: str | None = None


@dataclass
class Notice:
    language: str
    title: str
    incident_reference: str
    version: int
    notice_version_id: int
    approved_at: datetime | None
    sections: list[Section]
    categories: list[CategoryAdvice]
    bureaus: list[Bureau]
    contact: ContactBlock
    monitoring: MonitoringOffer | None
    newer_version: int | None = None
    what_changed: str | None = None
    brand: Brand | None = None  # who is writing: the insurer's name and logo
    page_title: str = ""  # "<Insurer> — Notice of Data Breach", or the title alone
    time_zone: str = "UTC"  # the incident's: dates are the reader's calendar days

    def section(self, key: str) -> Section | None:
        """The section with this key, if any."""
        return next((item for item in self.sections if item.key == key), None)


def paragraphs(text: str | None) -> list[str]:
    """Split narrative text into paragraphs at blank lines."""
    if not text:
        return []
    parts = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return [" ".join(line.strip() for line in part.strip().splitlines()) for part in parts
            if part.strip()]


def _newest_approved(incident_id: int, language: str) -> NoticeVersion | None:
    return db.session.execute(
        select(NoticeVersion)
        .where(
            NoticeVersion.incident_id == incident_id,
            NoticeVersion.language == language,
            NoticeVersion.state == "approved",
        )
        .order_by(NoticeVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def approved_version(incident_id: int, language: str) -> NoticeVersion | None:
    """The newest approved version in ``language``.

    Falls back to the incident's default language, then English.
    """
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        return None
    tried: list[str] = []
    for candidate in (language, incident.default_language, "en"):
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        version = _newest_approved(incident_id, candidate)
        if version is not None:
            return version
    return None


def _known_categories(categories) -> list[str]:
    seen: list[str] = []
    for key in categories or ():
        if is_category(key) and key not in seen:
            seen.append(key)
    return seen


def _incident_advice(incident_id: int, language: str) -> dict[str, list[str]]:
    rows = db.session.execute(
        select(IncidentAdvice.category, IncidentAdvice.text).where(
            IncidentAdvice.incident_id == incident_id, IncidentAdvice.language == language
        )
    ).all()
    return {category: paragraphs(text) for category, text in rows}


def _date_paragraph(incident: Incident) -> str | None:
    start, end, found = incident.occurred_from, incident.occurred_to, incident.discovered_at

    def day(value):
        return format_when(value, "long", incident.time_zone, date_only=True)

    when = None
    if start and end and day(start) != day(end):
        when = _("The breach took place between %(start)s and %(end)s.",
                 start=day(start), end=day(end))
    elif start or end:
        when = _("The breach took place on %(date)s.", date=day(start or end))
    found_text = _("We discovered it on %(date)s.", date=day(found)) if found else None
    parts = [part for part in (when, found_text) if part]
    return " ".join(parts) or None


def _monitoring(incident: Incident, language: str) -> MonitoringOffer | None:
    if not incident.monitoring_provider:
        return None
    return MonitoringOffer(
        provider=incident.monitoring_provider,
        enroll_url=incident.monitoring_enroll_url,
        enroll_by=incident.monitoring_enroll_by,
        description=contact_text(incident, "monitoring_description", language),
    )


def _sections(incident, version, names, monitoring, bureaus) -> list[Section]:
    happened = paragraphs(version.what_happened)
    dates = _date_paragraph(incident)
    if dates:
        happened.append(dates)

    information = []
    if names:
        listed = format_list(names, locale=version.language)
        information.append(_("The following types of your information were involved: "
                             "%(categories)s.", categories=listed))
        information.append(_("This notice names the types of information only. It never "
                             "repeats the information itself."))
    consequences = paragraphs(version.likely_consequences)
    if consequences:
        information.append(_("What this could mean for you:"))
        information.extend(consequences)

    doing = paragraphs(version.what_we_are_doing)
    if monitoring:
        doing.append(_("We are offering you credit monitoring from %(provider)s free of charge.",
                       provider=monitoring.provider))
        doing.extend(paragraphs(monitoring.description))

    can_do = [_("Below you will find advice for each type of information involved.")]
    if monitoring:
        if monitoring.enroll_by:
            can_do.append(_("Enrol in the credit monitoring we offer by %(date)s.",
                            date=format_when(monitoring.enroll_by, "long")))
        else:
            can_do.append(_("Enrol in the credit monitoring we offer."))
    if bureaus:
        can_do.append(_("You can contact the credit bureaus listed below to order your credit "
                        "reports, place a fraud alert or freeze your credit."))

    more = [_("If you have questions, please contact us using the details below.")]
    more.extend(paragraphs(version.other_information))

    return [
        Section("what_happened", _("What Happened"), happened),
        Section("what_information", _("What Information Was Involved"), information),
        Section("what_we_are_doing", _("What We Are Doing"), doing),
        Section("what_you_can_do", _("What You Can Do"), can_do),
        Section("more_information", _("For More Information"), more),
    ]


def build_notice(
    incident: Incident,
    categories: list[str],
    language: str,
    version: NoticeVersion | None = None,
    *,
    seen_version: int | None = None,
) -> Notice | None:
    """Build the notice for someone with ``categories`` exposed; None when nothing is approved.

    ``version`` picks a specific approved (or superseded) version, else the newest
    approved one (with the language fallback). ``newer_version``/``what_changed``
    are set when a newer approved version exists than the one built, or when the
    one built is newer than ``seen_version`` (the version the reader saw before).
    """
    latest = approved_version(incident.id, version.language if version else language)
    version = version or latest
    if version is None:
        return None
    newer_version = what_changed = None
    same_language = latest is not None and latest.language == version.language
    if same_language and latest.version > version.version:
        newer_version, what_changed = latest.version, latest.what_changed
    elif seen_version is not None and version.version > seen_version:
        newer_version, what_changed = version.version, version.what_changed

    keys = _known_categories(categories)
    own_advice = _incident_advice(incident.id, version.language)
    monitoring = _monitoring(incident, version.language)
    with force_locale(version.language):
        advice = [
            CategoryAdvice(key, category_name(key), category_advice(key) + own_advice.get(key, []))
            for key in keys
        ]
        bureaus = (
            [Bureau(item.name, item.phone, item.url) for item in CREDIT_BUREAUS]
            if needs_bureaus(keys) else []
        )
        sections = _sections(incident, version, [item.name for item in advice], monitoring, bureaus)
        title = _("Notice of Data Breach")
        brand = brand_of(incident)
        page_title = (_("%(insurer)s — Notice of Data Breach", insurer=brand.name)
                      if brand else title)
    return Notice(
        language=version.language,
        title=title,
        incident_reference=incident.reference,
        version=version.version,
        notice_version_id=version.id,
        approved_at=version.approved_at,
        sections=sections,
        categories=advice,
        bureaus=bureaus,
        contact=ContactBlock(
            hotline=incident.contact_hotline,
            hours=contact_text(incident, "contact_hours", version.language),
            email=incident.contact_email,
            postal_address=contact_text(incident, "contact_postal_address", version.language),
            dpo=contact_text(incident, "dpo_contact", version.language),
        ),
        monitoring=monitoring,
        newer_version=newer_version,
        what_changed=what_changed,
        brand=brand,
        page_title=page_title,
        time_zone=incident.time_zone or "UTC",
    )


def build_for_person(person, language: str | None = None, *,
                     seen_version: int | None = None) -> Notice | None:
    """Build ``person``'s notice in ``language`` (default: theirs); None if nothing is approved."""
    incident = db.session.get(Incident, person.incident_id)
    if incident is None:
        return None
    return build_notice(incident, list(person.categories or ()), language or person.language,
                        seen_version=seen_version)
