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


# Run in a fresh interpreter: nothing but the models and the customer blueprint is imported.
ONLY_CUSTOMER = """
import sys

from flask import Flask

import portal.models  # noqa: F401
from portal.extensions import db
from portal.models import Incident, NoticeVersion

assert "portal.notices.workflow" not in sys.modules and "helpdesk" not in sys.modules
from portal.customer import bp

app = Flask("only_customer")
app.config["SQLALCHEMY_DATABASE_URI"] = sys.argv[1]
db.init_app(app)
app.register_blueprint(bp)
with app.app_context():
    db.create_all()
    incident = Incident(reference="ONLY-1", title="Only the customer side")
    db.session.add(incident)
    db.session.flush()
    version = NoticeVersion(incident_id=incident.id, language="en", version=1,
                            state="approved", what_happened="It happened.")
    db.session.add(version)
    db.session.commit()
    version.what_happened = "Rewritten history."
    try:
        db.session.flush()
    except Exception as error:  # noqa: BLE001 - the test reads the name
        print("refused:", type(error).__name__)
    else:
        print("changed")
    db.session.rollback()
    print("helpdesk imported:", "helpdesk" in sys.modules)
"""


def test_approved_version_is_guarded_without_the_helpdesk(tmp_path):
    """The guard is registered with the model, not by importing the helpdesk's workflow."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    url = f"sqlite:///{tmp_path / 'only_customer.sqlite3'}"
    done = subprocess.run([sys.executable, "-W", "error", "-c", ONLY_CUSTOMER, url],
                          cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["refused: ImmutableVersionError",
                                          "helpdesk imported: False"]
