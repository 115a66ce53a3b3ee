"""An incident with a little of everything the reports count: campaigns, tickets, the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

# Values that must never appear in a report: the fixture people's personal data.
SECRET_NAMES = ("Zebulon", "Quixotica")


@pytest.fixture
def reports_incident(db, make_incident, make_person, make_staff):
    """An incident with four people, two channels, tickets and log rows; returns a dict."""
    from portal.audit import log as audit
    from portal.models import (
        ActivationCode,
        Answer,
        AnswerVersion,
        Campaign,
        Notification,
        Ticket,
        TicketMessage,
    )
    from portal.security.crypto import code_index

    now = datetime.now(UTC)
    incident = make_incident(insurer_name="Example Mutual")
    people = [make_person(incident, first_name=SECRET_NAMES[n % 2], last_name=f"Secretson{n}",
                          email=f"hidden{n}@private.example")[0] for n in range(4)]
    agent = make_staff("agent", name="Agent Alpha")
    campaign = Campaign(incident_id=incident.id, name="First wave", notice_version=1,
                        channels=["sms", "email"], status="running", launched_at=now)
    db.session.add(campaign)
    db.session.flush()
    statuses = {  # person index -> (sms status, email status)
        0: ("delivered", "delivered"), 1: ("delivered", "failed"),
        2: ("undelivered", "sent"), 3: ("pending", None),
    }
    for index, (sms, email) in statuses.items():
        for channel, status in (("sms", sms), ("email", email)):
            if status is None:
                continue
            sent = now - timedelta(hours=5) if status not in ("pending", "failed") else None
            db.session.add(Notification(campaign_id=campaign.id, person_id=people[index].id,
                                        channel=channel, status=status, sent_at=sent))
    people[0].last_verified_at = now
    people[1].last_verified_at = now
    audit.record("notice.viewed", actor_type="customer", incident_id=incident.id,
                 person_id=people[0].id, details={"version": 1})
    audit.record("notice.viewed", actor_type="customer", incident_id=incident.id,
                 person_id=people[0].id, details={"version": 1})  # a second view counts once
    audit.record("notice.viewed", actor_type="customer", incident_id=incident.id,
                 person_id=people[1].id, details={"version": 1})
    db.session.add(ActivationCode(incident_id=incident.id, code="ACT-0001",
                                  code_index=code_index("ACT0-0001-AAAA"),
                                  person_id=people[0].id, assigned_at=now))
    for _ in range(3):
        audit.record("verify.failed", actor_type="customer", incident_id=incident.id,
                     person_id=people[2].id, details={"reason": "mismatch"})
    audit.record("verify.locked", actor_type="customer", incident_id=incident.id,
                 person_id=people[2].id, details={"minutes": 30})

    answer = Answer(key="what-happened", category="general")
    db.session.add(answer)
    db.session.flush()
    version = AnswerVersion(answer_id=answer.id, language="en", version=1, title="What happened",
                            body="We are sorry.", state="approved")
    db.session.add(version)
    db.session.flush()
    yesterday = now - timedelta(days=1)
    fast = Ticket(incident_id=incident.id, person_id=people[0].id, topic="general",
                  status="resolved", created_at=yesterday,
                  first_response_due=yesterday + timedelta(hours=24),
                  first_response_at=yesterday + timedelta(minutes=30),
                  resolved_at=now - timedelta(hours=1))
    slow = Ticket(incident_id=incident.id, person_id=people[1].id, topic="monitoring",
                  status="open", created_at=yesterday - timedelta(hours=30),
                  first_response_due=yesterday - timedelta(hours=6),
                  first_response_at=yesterday)
    waiting = Ticket(incident_id=incident.id, person_id=people[2].id, topic="general",
                     status="new", created_at=now - timedelta(hours=2),
                     first_response_due=now + timedelta(hours=22))
    db.session.add_all([fast, slow, waiting])
    db.session.flush()
    db.session.add_all([
        TicketMessage(ticket_id=fast.id, author_type="customer", body="Zebulon asks"),
        TicketMessage(ticket_id=fast.id, author_type="staff", author_id=agent.id,
                      body="Reply", answer_version_id=version.id),
        TicketMessage(ticket_id=slow.id, author_type="staff", author_id=agent.id,
                      body="Edited reply", answer_version_id=version.id, deviated=True),
        TicketMessage(ticket_id=slow.id, author_type="staff", author_id=agent.id,
                      body="note", internal=True),
    ])
    db.session.commit()
    return {"incident": incident, "people": people, "agent": agent, "campaign": campaign}
