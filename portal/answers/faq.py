"""The public FAQ: approved public answers in the reader's language, filled in and searched.

Answer texts may hold placeholders (``{{ hotline }}``, ``{{ incident_reference }}``…),
filled from the answer's incident, else the reader's, in a Jinja sandbox: an answer
can name a value, never run code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from jinja2.sandbox import SandboxedEnvironment

from portal.answers.queries import public_approved
from portal.core.i18n import format_when
from portal.extensions import db
from portal.incidents.contacts import contact_text
from portal.models.answer import Answer, AnswerVersion
from portal.models.incident import Incident
from portal.notices.build import paragraphs

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal.answers.sandbox"
MAX_QUERY = 100  # characters of a search kept


@dataclass
class FaqEntry:
    key: str
    category: str
    title: str
    paragraphs: list[str]
    language: str


def _sandbox() -> SandboxedEnvironment:
    """This application's sandbox for answer texts (created on first use)."""
    found = current_app.extensions.get(EXTENSION_KEY)
    if found is None:
        found = current_app.extensions.setdefault(EXTENSION_KEY,
                                                  SandboxedEnvironment(autoescape=False))
    return found


def placeholders(incident: Incident | None, language: str = "en") -> dict:
    """The values an answer text may name, from ``incident`` (none without one).

    The contact texts are in ``language``, else English. The library's
    placeholders (``portal.answers.library.PLACEHOLDERS``) that concern no one
    person are filled as in a reply; ``first_name`` and ``categories`` are empty
    on this public page.
    """
    if incident is None:
        return {}
    return {
        "first_name": "",
        "categories": "",
        "incident": incident.title,
        "enroll_by": (format_when(incident.monitoring_enroll_by, "long")
                      if incident.monitoring_enroll_by else ""),
        "portal_url": current_app.config["PORTAL_BASE_URL"],
        "hotline": incident.contact_hotline or "",
        "hours": contact_text(incident, "contact_hours", language) or "",
        "postal_address": contact_text(incident, "contact_postal_address", language) or "",
        "dpo": contact_text(incident, "dpo_contact", language) or "",
        "monitoring_description": contact_text(incident, "monitoring_description",
                                               language) or "",
        "email": incident.contact_email or "",
        "incident_reference": incident.reference,
        "monitoring_provider": incident.monitoring_provider or "",
        "enroll_url": incident.monitoring_enroll_url or "",
    }


def render(body: str, context: dict) -> str:
    """Fill placeholders in a sandbox; a template that fails shows its raw text (and is logged)."""
    try:
        return _sandbox().from_string(body).render(**context)
    except Exception:  # noqa: BLE001 - an approved answer must still show
        log.warning("an approved answer's text could not be filled in; showing it as written",
                    exc_info=True)
        return body


def faq_entries(language: str, incident_id: int | None) -> list[FaqEntry]:
    """Newest approved public answer texts in ``language`` (English where missing).

    A verified person (``incident_id`` given) sees general answers and those of
    their own incident; a visitor sees every public answer. Placeholders are
    filled from the answer's incident, else the reader's.
    """
    chosen: dict[int, tuple[Answer, AnswerVersion]] = {}
    for answer, version in public_approved({language, "en"}, incident_id):
        current = chosen.get(answer.id)
        if current is None or (version.language == language, version.version) > (
            current[1].language == language, current[1].version
        ):
            chosen[answer.id] = (answer, version)
    contexts: dict[int | None, dict] = {}
    entries = []
    for answer, version in chosen.values():
        source = answer.incident_id or incident_id
        if source not in contexts:
            contexts[source] = placeholders(db.session.get(Incident, source) if source else None,
                                            language)
        context = contexts[source]
        entries.append(FaqEntry(answer.key, answer.category, render(version.title, context),
                                paragraphs(render(version.body, context)), version.language))
    return sorted(entries, key=lambda entry: (entry.category, entry.key))


def clean_query(text: str | None) -> str:
    """A search as typed, trimmed to ``MAX_QUERY`` characters."""
    return (text or "").strip()[:MAX_QUERY]


def search(entries: list[FaqEntry], query: str) -> list[FaqEntry]:
    """The entries whose title or text holds every word of ``query`` (case-insensitive)."""
    words = query.casefold().split()
    if not words:
        return entries
    return [entry for entry in entries if _matches(entry, words)]


def _matches(entry: FaqEntry, words: list[str]) -> bool:
    text = " ".join([entry.title, *entry.paragraphs]).casefold()
    return all(word in text for word in words)
