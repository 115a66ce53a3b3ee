"""The public FAQ: approved answers flagged public, in the reader's language, searchable."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import request
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import or_, select

from portal.core.i18n import current_language
from portal.customer import bp
from portal.customer.session import current_person
from portal.customer.views.notice import page
from portal.extensions import db
from portal.models.answer import Answer, AnswerVersion
from portal.models.incident import Incident
from portal.notices.build import paragraphs

log = logging.getLogger(__name__)

_sandbox = SandboxedEnvironment(autoescape=False)
MAX_QUERY = 100


@dataclass
class FaqEntry:
    key: str
    category: str
    title: str
    paragraphs: list[str]
    language: str


def _placeholders(incident: Incident | None) -> dict:
    if incident is None:
        return {}
    return {
        "hotline": incident.contact_hotline or "",
        "hours": incident.contact_hours or "",
        "email": incident.contact_email or "",
        "incident_reference": incident.reference,
        "monitoring_provider": incident.monitoring_provider or "",
        "enroll_url": incident.monitoring_enroll_url or "",
    }


def _render(body: str, context: dict) -> str:
    """Fill placeholders in a sandbox; a template that fails shows its raw text."""
    try:
        return _sandbox.from_string(body).render(**context)
    except Exception:  # noqa: BLE001 - an approved answer must still show
        log.warning("FAQ answer template failed; showing its raw text", exc_info=True)
        return body


def faq_entries(language: str, incident_id: int | None) -> list[FaqEntry]:
    """Newest approved public answer texts in ``language`` (English where missing).

    A verified person (``incident_id`` given) sees general answers and those of
    their own incident; a visitor sees every public answer. Placeholders are
    filled from the answer's incident, else the reader's.
    """
    query = (
        select(Answer, AnswerVersion)
        .join(AnswerVersion, AnswerVersion.answer_id == Answer.id)
        .where(Answer.public.is_(True), AnswerVersion.state == "approved",
               AnswerVersion.language.in_({language, "en"}))
        .order_by(Answer.category, Answer.key, AnswerVersion.version)
    )
    if incident_id is not None:
        query = query.where(or_(Answer.incident_id.is_(None), Answer.incident_id == incident_id))
    chosen: dict[int, tuple[Answer, AnswerVersion]] = {}
    for answer, version in db.session.execute(query).all():
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
            contexts[source] = _placeholders(db.session.get(Incident, source) if source else None)
        context = contexts[source]
        entries.append(FaqEntry(answer.key, answer.category, _render(version.title, context),
                                paragraphs(_render(version.body, context)), version.language))
    return sorted(entries, key=lambda entry: (entry.category, entry.key))


def _matches(entry: FaqEntry, words: list[str]) -> bool:
    text = " ".join([entry.title, *entry.paragraphs]).casefold()
    return all(word in text for word in words)


@bp.get("/faq")
def faq():
    """Frequently asked questions; ``?q=`` searches titles and answers."""
    person = current_person()
    language = person.language if person else current_language()
    entries = faq_entries(language, person.incident_id if person else None)
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    if query:
        words = query.casefold().split()
        entries = [entry for entry in entries if _matches(entry, words)]
    return page("customer/faq.html", entries=entries, query=query, language=language)


__all__ = ["faq", "faq_entries"]
