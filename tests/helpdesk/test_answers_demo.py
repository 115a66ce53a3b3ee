"""The demo's answer library: realistic, complete in four languages, approved by four eyes."""

from __future__ import annotations

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select

from portal.answers.library import PLACEHOLDERS, placeholders_in
from portal.models import Answer, AnswerVersion, Interaction


def test_demo_answers_are_approved_in_every_language_and_render(app, db, make_staff,
                                                               make_incident):
    from portal.demo.answers import ANSWERS, seed_answers

    author = make_staff("manager", email="manager@demo.example")
    approver = make_staff("admin", email="admin@demo.example")
    incident = make_incident()
    assert len(ANSWERS) >= 12
    assert seed_answers(incident.id) == len(ANSWERS)
    assert seed_answers(incident.id) == 0  # idempotent
    versions = db.session.execute(select(AnswerVersion)).scalars().all()
    assert len(versions) == 4 * len(ANSWERS)
    assert all(v.state == "approved" and v.author_id == author.id
               and v.approved_by_id == approver.id for v in versions)
    public = db.session.scalar(select(func.count()).where(Answer.public.is_(True)))
    assert 3 <= public < len(ANSWERS)
    values = {name: f"<{name}>" for name in PLACEHOLDERS}
    sandbox = SandboxedEnvironment(undefined=StrictUndefined)
    for version in versions:
        for text in (version.title, version.body):
            assert placeholders_in(text) <= set(PLACEHOLDERS)
            filled = sandbox.from_string(text).render(**values)
            assert "{" not in filled and "}" not in filled
    steps = db.session.scalar(select(func.count()).where(
        Interaction.action == "answer.approved"))
    assert steps == len(versions)  # every approval went through the workflow and is logged
