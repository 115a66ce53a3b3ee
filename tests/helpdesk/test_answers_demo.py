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


def test_demo_tickets_make_a_working_queue(app, db, make_staff):
    from portal.demo import seed
    from portal.models import Ticket, TicketMessage
    from portal.models.base import utcnow
    from tests.support import csrf_token

    seed(people=40)
    assert seed(people=40)["people_added"] == 0  # idempotent, tickets included
    tickets = db.session.execute(select(Ticket)).scalars().all()
    assert len(tickets) == 36
    assert {t.status for t in tickets} == {"new", "open", "pending_customer", "resolved",
                                           "closed"}
    assert {t.channel for t in tickets} == {"web", "sms", "email", "phone"}
    assert {t.language for t in tickets} == {"en", "es", "fr", "de"}
    assert len({t.assignee_id for t in tickets if t.assignee_id}) == 2  # both demo agents
    now = utcnow()
    assert any(t.first_response_at is None and t.first_response_due < now for t in tickets)
    replies = db.session.execute(select(TicketMessage).where(
        TicketMessage.answer_version_id.is_not(None))).scalars().all()
    assert replies and any(r.deviated for r in replies)
    assert all("{{" not in r.body for r in replies)
    client = app.test_client()
    client.post("/staff/login", data={"email": "agent2@demo.example",
                                      "password": "demo-agent2-pass",
                                      "csrf_token": csrf_token(client, "/staff/login")})
    queue = client.get("/helpdesk/tickets/")
    assert queue.status_code == 200 and f"/helpdesk/tickets/{tickets[0].id}" in queue.text
