"""The public FAQ: approved public answers in the reader's language, filled in and searched.

Answer texts may hold placeholders (``{{ hotline }}``, ``{{ portal_url }}``…), filled
from the answer's incident, else the reader's, by the same sandbox and values as a
reply (``portal.answers.render``): an answer can name a value, never run code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from markupsafe import Markup, escape

from portal.answers.queries import public_approved
from portal.answers.render import RenderError, fill, values_for
from portal.core.folding import folded
from portal.extensions import db
from portal.models.answer import Answer, AnswerVersion
from portal.models.incident import Incident
from portal.notices.build import paragraphs

log = logging.getLogger(__name__)

MAX_QUERY = 100  # characters of a search kept


@dataclass
class FaqEntry:
    key: str
    category: str
    title: str
    paragraphs: list[str]
    language: str
    hotline: str = ""  # the helpline the text names, if any: shown as a link to call


def with_phone_link(text: str, hotline: str) -> Markup:
    """``text`` escaped, with the helpline number made a link to call, kept on one line.

    A caller on a phone taps the number instead of copying it; the link is built from
    the incident's configured number only, never from anything the text itself holds.
    """
    escaped = escape(text)
    if not hotline or str(escape(hotline)) not in escaped:
        return escaped
    link = Markup('<a class="phone-link" href="tel:{}">{}</a>').format(
        "".join(hotline.split()), hotline)
    return escaped.replace(escape(hotline), link)  # both Markup: nothing is unescaped


def placeholders(incident: Incident | None, language: str = "en") -> dict:
    """The values an answer text may name on the public FAQ (none without an incident)."""
    if incident is None:
        return {}
    return values_for(incident, None, language, public=True)


def render(body: str, context: dict) -> str:
    """Fill placeholders like a reply does; a text that fails shows as written (and is logged)."""
    try:
        return fill(body, context)
    except RenderError:
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
                                paragraphs(render(version.body, context)), version.language,
                                str(context.get("hotline") or "")))
    return sorted(entries, key=lambda entry: (entry.category, entry.key))


def clean_query(text: str | None) -> str:
    """A search as typed, trimmed to ``MAX_QUERY`` characters."""
    return (text or "").strip()[:MAX_QUERY]


def search(entries: list[FaqEntry], query: str) -> list[FaqEntry]:
    """The entries whose title or text holds every word of ``query``, whatever the case
    and accents ('credito' finds 'crédito': customers type on phones without accents)."""
    words = folded(query).split()
    if not words:
        return entries
    return [entry for entry in entries if _matches(entry, words)]


def _matches(entry: FaqEntry, words: list[str]) -> bool:
    text = folded(" ".join([entry.title, *entry.paragraphs]))
    return all(word in text for word in words)
