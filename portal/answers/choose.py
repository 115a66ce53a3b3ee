"""The approved answers an agent may send, in one language, searchable."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from portal.extensions import db
from portal.models.answer import Answer, AnswerVersion


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def approved_for(language: str, q: str | None = None,
                 incident_id: int | None = None) -> list[AnswerVersion]:
    """Approved answer versions in ``language``, by category then key.

    ``q`` matches the answer's key, its category or the version's title (any
    case). With ``incident_id``, answers for another incident are left out
    (answers for no particular incident always show).
    """
    query = (select(AnswerVersion).join(Answer, Answer.id == AnswerVersion.answer_id)
             .where(AnswerVersion.state == "approved", AnswerVersion.language == language))
    if incident_id is not None:
        query = query.where(or_(Answer.incident_id.is_(None), Answer.incident_id == incident_id))
    if q and q.strip():
        pattern = _like(q.strip())
        query = query.where(or_(func.lower(Answer.key).like(pattern, escape="\\"),
                                func.lower(Answer.category).like(pattern, escape="\\"),
                                func.lower(AnswerVersion.title).like(pattern, escape="\\")))
    return list(db.session.execute(
        query.order_by(Answer.category, Answer.key, AnswerVersion.version.desc())).scalars())
