"""Demo tickets: a working queue for a newcomer.

Three dozen tickets from the demo incident's people, in their own languages, over
every channel and status; some assigned to the two demo agents, some overdue
(opened days ago and never answered), some answered from the library (one with a
deviation), some with logged phone calls. Generated from a fixed seed; times are
relative to now so the queue always has something late and something due soon.
Tickets are written directly (not through the customer pages' daily caps) and the
seeding is logged once.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from portal.answers import render
from portal.audit import log as audit
from portal.demo.base import DEMO_STAFF
from portal.extensions import db
from portal.models import Answer, AnswerVersion, Person, StaffUser, Ticket, TicketMessage
from portal.models.base import utcnow
from portal.tickets import sla

TICKETS = 36
QUESTIONS = {
    "en": ("I got a text about a data breach. Is it genuine?",
           "Which of my details were taken?",
           "My activation code does not work on the monitoring site.",
           "Someone phoned me claiming to be from you and asked for my bank details.",
           "Please update my phone number."),
    "es": ("He recibido un SMS sobre una filtración de datos. ¿Es auténtico?",
           "¿Qué datos míos se han visto afectados?",
           "Mi código de activación no funciona en la web de supervisión.",
           "Alguien me llamó diciendo ser de ustedes y me pidió mis datos bancarios.",
           "Por favor, actualicen mi número de teléfono."),
    "fr": ("J'ai reçu un SMS au sujet d'une fuite de données. Est-il authentique ?",
           "Quelles données me concernant ont été prises ?",
           "Mon code d'activation ne fonctionne pas sur le site de surveillance.",
           "Quelqu'un m'a appelé en se présentant comme votre service et m'a demandé mes "
           "coordonnées bancaires.",
           "Merci de mettre à jour mon numéro de téléphone."),
    "de": ("Ich habe eine SMS zu einem Datenleck bekommen. Ist sie echt?",
           "Welche meiner Daten wurden entwendet?",
           "Mein Aktivierungscode funktioniert auf der Überwachungsseite nicht.",
           "Jemand hat mich angerufen, sich als Ihr Mitarbeiter ausgegeben und nach meinen "
           "Bankdaten gefragt.",
           "Bitte aktualisieren Sie meine Telefonnummer."),
}
TOPICS = ("notice", "data", "monitoring", "fraud", "contact_details")
ANSWER_FOR_TOPIC = {"notice": "faq.is_this_real", "data": "reply.your_data",
                    "monitoring": "reply.monitoring_deadline", "fraud": "faq.phishing",
                    "contact_details": "reply.anything_else"}
# (status, channel, hours ago opened, agent index or None, answered)
SHAPES = (
    ("new", "web", 40, None, False),  # overdue: no first response after a day and more
    ("new", "sms", 3, None, False),
    ("new", "email", 20, None, False),
    ("open", "web", 30, 0, False),  # overdue and assigned
    ("open", "phone", 2, 1, True),
    ("open", "email", 6, 0, False),
    ("pending_customer", "web", 50, 1, True),
    ("pending_customer", "sms", 26, 0, True),
    ("resolved", "web", 90, 1, True),
    ("closed", "email", 200, 0, True),
    ("open", "web", 130, None, True),  # resolution overdue
    ("new", "web", 1, None, False),
)


def _staff_ids() -> list[int]:
    emails = [email for email, _name, role, _pw in DEMO_STAFF if role == "agent"]
    found = dict(db.session.execute(
        select(StaffUser.email, StaffUser.id).where(StaffUser.email.in_(emails))).all())
    return [found[email] for email in emails if email in found]


def _approved(key: str, language: str) -> AnswerVersion | None:
    return db.session.execute(
        select(AnswerVersion).join(Answer).where(
            Answer.key == key, AnswerVersion.language == language,
            AnswerVersion.state == "approved")).scalar_one_or_none()


def seed_tickets(incident_id: int) -> int:
    """Add the demo tickets unless the incident has tickets already; return how many."""
    if db.session.scalar(select(func.count(Ticket.id)).where(Ticket.incident_id == incident_id)):
        return 0
    agents = _staff_ids()
    people = list(db.session.execute(
        select(Person).where(Person.incident_id == incident_id).order_by(Person.id)
        .limit(TICKETS)).scalars())
    rng = random.Random(20261128)  # noqa: S311 - synthetic demo data
    now = utcnow()
    added = 0
    for index, person in enumerate(people):
        status, channel, hours, agent, answered = SHAPES[index % len(SHAPES)]
        topic = TOPICS[index % len(TOPICS)]
        opened = now - timedelta(hours=hours, minutes=rng.randrange(0, 50))
        language = person.language or "en"
        ticket = Ticket(incident_id=incident_id, person_id=person.id, channel=channel,
                        status="new", topic=topic, language=language, created_at=opened,
                        assignee_id=agents[agent % len(agents)] if agent is not None and agents
                        else None, last_customer_message_at=opened)
        sla.start_clocks(ticket, opened)
        db.session.add(ticket)
        db.session.flush()
        question = QUESTIONS.get(language, QUESTIONS["en"])[index % len(TOPICS)]
        db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                     author_id=person.id, channel=channel, body=question,
                                     created_at=opened))
        if channel == "phone":
            db.session.add(TicketMessage(
                ticket_id=ticket.id, author_type="staff", author_id=ticket.assignee_id,
                channel="phone", body="Caller asked about the notice; explained next steps.",
                internal=True, call_direction="inbound", call_seconds=60 * rng.randint(2, 12),
                call_outcome="answered", created_at=opened + timedelta(minutes=5)))
            ticket.first_response_at = opened + timedelta(minutes=5)
        version = _approved(ANSWER_FOR_TOPIC[topic], language)
        if answered and version is not None:
            replied = opened + timedelta(hours=min(hours / 2, 20))
            filled = render.fill_for_ticket(version, ticket)
            deviated = index % 5 == 1
            sent = filled + ("\n\nKind regards, the helpdesk" if deviated else "")
            db.session.add(TicketMessage(
                ticket_id=ticket.id, author_type="staff",
                author_id=ticket.assignee_id or (agents[0] if agents else None),
                channel="web", body=sent, answer_version_id=version.id, deviated=deviated,
                deviation_diff=render.deviation(filled, sent) if deviated else None,
                created_at=replied))
            ticket.first_response_at = replied
        ticket.status = status
        if status in ("pending_customer", "resolved", "closed"):
            ticket.paused_at = opened + timedelta(hours=min(hours / 2, 20))
        if status == "resolved":
            ticket.resolved_at = ticket.paused_at
        if status == "closed":
            ticket.closed_at = ticket.resolved_at = ticket.paused_at
        sla.refresh_due(ticket)
        added += 1
    if added:
        audit.record("tickets.seeded", actor_type="system", incident_id=incident_id,
                     details={"added": added, "via": "demo"})
    db.session.flush()
    return added
