"""The approved answers an agent may send, in one language, searchable."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, func, or_, select

from portal.core import lists
from portal.extensions import db
from portal.models.answer import Answer, AnswerVersion


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class AnswerChoice(NamedTuple):
    """An approved version as the composer lists it."""

    id: int
    title: str
    key: str


# The approved answers without a search, kept per process (portal.core.lists).
ANSWERS = lists.KeptList("answers", frozenset({Answer.__tablename__,
                                               AnswerVersion.__tablename__}))
_APPROVED = (select(AnswerVersion).join(Answer, Answer.id == AnswerVersion.answer_id)
             .where(AnswerVersion.state == "approved",
                    AnswerVersion.language == bindparam("language")))
_FOR_INCIDENT = _APPROVED.where(or_(Answer.incident_id.is_(None),
                                    Answer.incident_id == bindparam("incident_id")))
_ORDER = (Answer.category, Answer.key, AnswerVersion.version.desc())
# The composer's list: the id, title and answer key in one statement (the versions' own
# rows, read as objects, made one more statement per answer for its key).
_CHOICES = _APPROVED.with_only_columns(AnswerVersion.id, AnswerVersion.title, Answer.key)
_CHOICES_FOR_INCIDENT = _FOR_INCIDENT.with_only_columns(
    AnswerVersion.id, AnswerVersion.title, Answer.key)
# Built once, for the list without a search: building a statement and its cache key cost
# more Python than executing a cached one.
_ALL_IN_ORDER = _CHOICES.order_by(*_ORDER)
_FOR_INCIDENT_IN_ORDER = _CHOICES_FOR_INCIDENT.order_by(*_ORDER)


def answer_choices(language: str, q: str | None = None,
                   incident_id: int | None = None) -> list[AnswerChoice]:
    """Approved answer versions in ``language``, by category then key.

    ``q`` matches the answer's key, its category or the version's title (any
    case). With ``incident_id``, answers for another incident are left out
    (answers for no particular incident always show). The list without ``q`` is kept
    per process for ``LIST_CACHE_SECONDS`` (``portal.core.lists``): a reply checks
    again that its answer is approved (``approved_one``).
    """
    params = {"language": language}
    if incident_id is None:
        query, ordered = _CHOICES, _ALL_IN_ORDER
    else:
        query, ordered = _CHOICES_FOR_INCIDENT, _FOR_INCIDENT_IN_ORDER
        params["incident_id"] = incident_id
    if not (q and q.strip()):
        return lists.kept(ANSWERS, (language, incident_id),
                          lambda: _read(ordered, params))
    pattern = _like(q.strip())
    query = query.where(or_(func.lower(Answer.key).like(pattern, escape="\\"),
                            func.lower(Answer.category).like(pattern, escape="\\"),
                            func.lower(AnswerVersion.title).like(pattern, escape="\\")))
    return _read(query.order_by(*_ORDER), params)


def _read(statement, params: dict) -> list[AnswerChoice]:
    return [AnswerChoice(*row) for row in db.session.execute(statement, params)]


_ONE_FOR_INCIDENT = _FOR_INCIDENT.where(AnswerVersion.id == bindparam("version_id"))


def approved_one(version_id: int, language: str, incident_id: int | None) -> AnswerVersion | None:
    """The version if ``answer_choices(language, incident_id=incident_id)`` would list it: what
    a reply may use, whatever id was typed into the address bar or the form."""
    return db.session.execute(_ONE_FOR_INCIDENT, {
        "version_id": version_id, "language": language, "incident_id": incident_id,
    }).scalar_one_or_none()
