"""The one four-eyes workflow, through the answer library (draft -> in review -> approved)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.core import approval
from portal.core.approval import ApprovalError, ImmutableVersionError
from portal.models import Answer, AnswerVersion, Interaction
from portal.models.answer import ANSWER_WORKFLOW as ANSWERS


@pytest.fixture
def answer(db):
    row = Answer(key="freeze-credit", category="general", public=True)
    db.session.add(row)
    db.session.commit()
    return row


def _draft(answer, author_id: int, title: str = "Should I freeze my credit?"):
    return approval.save_draft(ANSWERS, {"answer_id": answer.id, "language": "en"},
                               {"title": title, "body": "Yes, call {{ hotline }}."}, author_id)


def _log(db) -> list[tuple[str, int | None, dict]]:
    rows = db.session.execute(select(Interaction).order_by(Interaction.id)).scalars()
    return [(row.action, row.actor_id, row.details) for row in rows]


def test_answer_goes_draft_review_approved_with_four_eyes(db, answer, make_staff):
    author, editor, approver = (make_staff("manager") for _ in range(3))
    with force_locale("en"):
        version = _draft(answer, author.id)
        _draft(answer, editor.id, title="Should I freeze my credit file?")
        with pytest.raises(ApprovalError, match="not waiting for review"):
            approval.approve(ANSWERS, version, approver.id)  # a draft is sent for review first
        approval.submit(ANSWERS, version, author.id)
        assert version.state == "in_review" and version.submitted_at is not None
        for own in (author, editor):
            with pytest.raises(ApprovalError, match="another manager or an admin must approve it"):
                approval.approve(ANSWERS, version, own.id)
        assert approval.approve(ANSWERS, version, approver.id) is None
    db.session.commit()
    assert (version.state, version.approved_by_id) == ("approved", approver.id)
    assert version.approved_at is not None
    assert [(action, actor) for action, actor, _details in _log(db)] == [
        ("answer.draft_created", author.id), ("answer.draft_saved", editor.id),
        ("answer.submitted", author.id), ("answer.approved", approver.id),
    ]
    details = _log(db)[-1][2]
    assert details["answer_version_id"] == version.id and details["author_id"] == author.id
    assert details["retired_version"] is None


def test_approving_the_next_version_retires_the_previous(db, answer, make_staff):
    author, approver = make_staff("manager"), make_staff("manager")
    with force_locale("en"):
        first = _draft(answer, author.id)
        approval.submit(ANSWERS, first, author.id)
        approval.approve(ANSWERS, first, approver.id)
        second = _draft(answer, author.id, title="Freezing your credit")
        assert second.version == 2
        approval.submit(ANSWERS, second, author.id)
        approval.send_back(ANSWERS, second, approver.id)
        assert second.state == "draft"
        approval.submit(ANSWERS, second, author.id)
        assert approval.approve(ANSWERS, second, approver.id) is first
    db.session.commit()
    assert (first.state, second.state) == ("retired", "approved")
    assert first.retired_at is not None
    assert _log(db)[-1][2]["retired_version"] == 1
    with force_locale("en"):
        approval.retire(ANSWERS, second, approver.id)
        with pytest.raises(ApprovalError, match="Only an approved version"):
            approval.retire(ANSWERS, second, approver.id)
    db.session.commit()
    assert second.state == "retired"


def test_approved_answer_cannot_change_go_back_or_be_deleted(db, answer, make_staff):
    author, approver = make_staff("manager"), make_staff("manager")
    with force_locale("en"):
        version = _draft(answer, author.id)
        approval.submit(ANSWERS, version, author.id)
        db.session.commit()
        version.body = "Changed while in review."
        with pytest.raises(ImmutableVersionError, match="in_review; its body cannot change"):
            db.session.flush()
        db.session.rollback()
        version = db.session.get(AnswerVersion, version.id)
        approval.approve(ANSWERS, version, approver.id)
    db.session.commit()
    version.title = "Rewritten"
    with pytest.raises(ImmutableVersionError, match="approved; its title cannot change"):
        db.session.flush()
    db.session.rollback()
    version.state = "draft"
    with pytest.raises(ImmutableVersionError, match="cannot go from approved to draft"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(version)
    with pytest.raises(ImmutableVersionError, match="kept forever"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AnswerVersion, version.id).title == "Should I freeze my credit?"


def test_saving_an_unchanged_draft_logs_nothing(db, answer, make_staff):
    author = make_staff("manager")
    with force_locale("en"):
        version = _draft(answer, author.id)
        assert _draft(answer, author.id) is version
    assert [action for action, _actor, _details in _log(db)] == ["answer.draft_created"]


def test_a_workflow_names_only_its_own_states():
    with pytest.raises(ValueError, match="unknown states"):
        approval.Workflow(model=AnswerVersion, kind="answer", states=("draft", "approved"),
                          transitions={"draft": ("published",)}, group=("answer_id",),
                          frozen=("title",), replaced="approved")
