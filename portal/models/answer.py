"""The approved-answer library: answers and their versions per language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import approval
from portal.extensions import db
from portal.models.base import UTCDateTime, one_of, utcnow
from portal.models.ticket import TicketMessage

ANSWER_STATES = ("draft", "in_review", "approved", "retired")
ANSWER_TEXT_FIELDS = ("title", "body")


class Answer(db.Model):
    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(60))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[AnswerVersion]] = relationship(
        back_populates="answer", order_by="AnswerVersion.version"
    )


class AnswerVersion(db.Model):
    """One language's text of an answer; the approver is never the author."""

    __tablename__ = "answer_version"
    __table_args__ = (
        UniqueConstraint("answer_id", "language", "version"),
        one_of("state", ANSWER_STATES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answer: Mapped[Answer] = relationship(back_populates="versions")


# draft -> in_review -> approved -> retired, with the notices' four-eyes rule.
ANSWER_WORKFLOW = approval.Workflow(
    model=AnswerVersion,
    kind="answer",
    states=ANSWER_STATES,
    transitions={"draft": ("in_review",), "in_review": ("draft", "approved"),
                 "approved": ("retired",)},
    group=("answer_id", "language"),
    frozen=(*ANSWER_TEXT_FIELDS, "language", "version", "answer_id", "author_id"),
    review="in_review",
    replaced="retired",
    stamps={"in_review": "submitted_at", "retired": "retired_at"},
)
approval.guard(ANSWER_WORKFLOW)

# The library's usage and deviation counts per answer read replies by the version they used.
Index("ix_ticket_message_answer_version", TicketMessage.answer_version_id, TicketMessage.deviated)
