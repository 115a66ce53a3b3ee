"""Reading the answer library: the overview with its gaps and counts, the FAQ's versions.

The library is small (hundreds of answers at most), so the overview loads the
answers and their versions in two queries and counts the replies that used them
in one grouped query on ``ix_ticket_message_answer_version``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Integer, cast, func, or_, select

from portal.extensions import db
from portal.models import Answer, AnswerVersion, TicketMessage

MAX_QUERY = 100


@dataclass
class LanguageState:
    """One language of an answer: its approved version and the one in the works."""

    language: str
    approved: AnswerVersion | None = None
    pending: AnswerVersion | None = None


@dataclass
class AnswerRow:
    answer: Answer
    languages: dict[str, LanguageState]
    uses: int = 0
    deviations: int = 0
    title: str = ""
    missing: list[str] = field(default_factory=list)

    @property
    def approved_any(self) -> bool:
        return any(state.approved for state in self.languages.values())

    @property
    def in_review(self) -> bool:
        return any(state.pending is not None and state.pending.state == "in_review"
                   for state in self.languages.values())


def usage_counts(answer_ids: list[int] | None = None) -> dict[int, tuple[int, int]]:
    """Replies that used each answer and how many of them deviated: ``{id: (uses, dev)}``."""
    query = (
        select(AnswerVersion.answer_id, func.count(TicketMessage.id),
               func.coalesce(func.sum(cast(TicketMessage.deviated, Integer)), 0))
        .join(TicketMessage, TicketMessage.answer_version_id == AnswerVersion.id)
        .group_by(AnswerVersion.answer_id)
    )
    if answer_ids is not None:
        query = query.where(AnswerVersion.answer_id.in_(answer_ids))
    return {answer_id: (int(uses), int(deviations))
            for answer_id, uses, deviations in db.session.execute(query).all()}


def version_usage(answer_id: int) -> dict[int, tuple[int, int]]:
    """Uses and deviations per version id of one answer."""
    query = (
        select(TicketMessage.answer_version_id, func.count(TicketMessage.id),
               func.coalesce(func.sum(cast(TicketMessage.deviated, Integer)), 0))
        .join(AnswerVersion, TicketMessage.answer_version_id == AnswerVersion.id)
        .where(AnswerVersion.answer_id == answer_id)
        .group_by(TicketMessage.answer_version_id)
    )
    return {version_id: (int(uses), int(deviations))
            for version_id, uses, deviations in db.session.execute(query).all()}


def overview(languages: tuple[str, ...], reader_language: str, q: str = "",
             category: str = "", approved_only: bool = False,
             incident_ids: list[int] | None = None) -> list[AnswerRow]:
    """The library's answers with each language's state, gaps and usage, by category and key.

    ``q`` matches the key, the category or any version's title (case-insensitive);
    ``approved_only`` (agents) keeps answers with an approved text and hides the rest;
    ``incident_ids`` (an agent limited to some incidents) keeps the answers for no
    particular incident and for those.
    """
    query = select(Answer).order_by(Answer.category, Answer.key)
    if incident_ids is not None:
        query = query.where(or_(Answer.incident_id.is_(None),
                                Answer.incident_id.in_(incident_ids)))
    q = (q or "").strip()[:MAX_QUERY]
    if q:
        like = f"%{q.lower()}%"
        titled = select(AnswerVersion.answer_id).where(func.lower(AnswerVersion.title).like(like))
        if approved_only:
            titled = titled.where(AnswerVersion.state == "approved")
        query = query.where(or_(func.lower(Answer.key).like(like),
                                func.lower(Answer.category).like(like),
                                Answer.id.in_(titled)))
    if category:
        query = query.where(Answer.category == category)
    answers = list(db.session.execute(query).scalars())
    if not answers:
        return []
    ids = [answer.id for answer in answers]
    versions = db.session.execute(
        select(AnswerVersion).where(AnswerVersion.answer_id.in_(ids))
        .order_by(AnswerVersion.version)
    ).scalars()
    states: dict[int, dict[str, LanguageState]] = {
        answer.id: {language: LanguageState(language) for language in languages}
        for answer in answers}
    for version in versions:
        state = states[version.answer_id].setdefault(version.language,
                                                     LanguageState(version.language))
        if version.state == "approved":
            state.approved = version
        elif version.state in ("draft", "in_review"):
            state.pending = version
    counts = usage_counts(ids)
    rows = []
    for answer in answers:
        row = AnswerRow(answer, states[answer.id], *counts.get(answer.id, (0, 0)))
        if approved_only and not row.approved_any:
            continue
        row.missing = [language for language in languages
                       if row.languages[language].approved is None]
        row.title = _title(row.languages, reader_language, approved_only)
        rows.append(row)
    return rows


def _title(states: dict[str, LanguageState], language: str, approved_only: bool) -> str:
    order = [states[language]] if language in states else []
    order += [state for code, state in states.items() if code != language]
    for state in order:
        if state.approved is not None:
            return state.approved.title
    if not approved_only:
        for state in order:
            if state.pending is not None:
                return state.pending.title
    return ""


def public_approved(languages: set[str], incident_id: int | None):
    """Approved public versions in ``languages`` (general and, given one, the incident's)."""
    query = (
        select(Answer, AnswerVersion)
        .join(AnswerVersion, AnswerVersion.answer_id == Answer.id)
        .where(Answer.public.is_(True), AnswerVersion.state == "approved",
               AnswerVersion.language.in_(languages))
        .order_by(Answer.category, Answer.key, AnswerVersion.version)
    )
    if incident_id is not None:
        query = query.where(or_(Answer.incident_id.is_(None), Answer.incident_id == incident_id))
    return db.session.execute(query).all()


def incident_choices() -> list[tuple[int, str]]:
    """(id, "reference: title") of every incident, newest first, for an answer's scope."""
    from portal.models import Incident

    return [(incident_id, f"{reference}: {title}") for incident_id, reference, title in
            db.session.execute(select(Incident.id, Incident.reference, Incident.title)
                               .order_by(Incident.id.desc())).all()]
