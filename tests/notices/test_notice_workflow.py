"""Notice versions at the model level: immutability, four eyes, and the demo's notices."""

from __future__ import annotations

from functools import partial

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.models import NoticeVersion
from portal.notices.build import build_for_person
from portal.notices.checklist import blocking_items, checklist
from portal.notices.workflow import ImmutableNoticeError, NoticeError, approve, save_draft
from tests.support.race import run_together


def test_approved_versions_cannot_change_or_be_deleted(app, db, make_incident, make_staff):
    incident = make_incident(jurisdictions=[])
    author, approver = make_staff("manager"), make_staff("manager")
    with force_locale("en"):
        draft = save_draft(incident, "en", {"what_happened": "It happened."}, author.id)
        with pytest.raises(NoticeError):
            approve(draft, author.id)  # four eyes
        approve(draft, approver.id)
    db.session.commit()
    draft.what_happened = "Rewritten history."
    with pytest.raises(ImmutableNoticeError):
        db.session.flush()
    db.session.rollback()
    version = db.session.execute(select(NoticeVersion)).scalar_one()
    assert version.what_happened == "It happened."
    db.session.delete(version)
    with pytest.raises(ImmutableNoticeError):
        db.session.flush()
    db.session.rollback()


def test_demo_notices_are_approved_and_complete(app, db):
    from portal.demo.base import sample_person, seed_base
    from portal.demo.notices import seed_notices

    incident, _added = seed_base(8)
    assert seed_notices(incident) == 4
    db.session.commit()
    assert seed_notices(incident) == 0  # idempotent
    versions = db.session.execute(select(NoticeVersion)).scalars().all()
    assert sorted(version.language for version in versions) == ["de", "en", "es", "fr"]
    with force_locale("en"):
        for version in versions:
            assert version.state == "approved"
            assert version.approved_by_id != version.author_id
            assert blocking_items(checklist(incident, version)) == []
    person = sample_person(incident)
    notice = build_for_person(person)
    assert notice is not None and notice.language == person.language


def test_two_managers_approving_at_once_cannot_both_succeed(app, db, make_incident, make_staff):
    """On PostgreSQL the version row is locked while approving; the second one finds it done."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers anyway)")
    incident = make_incident(jurisdictions=[])
    author = make_staff("manager")
    approvers = [make_staff("manager").id, make_staff("manager").id]
    with force_locale("en"):
        draft = save_draft(incident, "en", {"what_happened": "It happened."}, author.id)
    db.session.commit()
    version_id = draft.id
    outcomes: list[str] = []

    def run(approver_id: int) -> None:
        with app.app_context(), force_locale("en"):
            version = db.session.get(NoticeVersion, version_id)
            try:
                approve(version, approver_id)
                db.session.commit()
                outcomes.append("approved")
            except NoticeError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    run_together([partial(run, approver) for approver in approvers], timeout=30)
    assert sorted(outcomes) == ["approved", "refused"]
    db.session.expire_all()
    assert db.session.get(NoticeVersion, version_id).approved_by_id in approvers
