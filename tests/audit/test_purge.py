"""Retention: ``flask data purge`` anonymises an incident's people and keeps the log verifiable."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from portal.audit import log as audit
from portal.models import Interaction, Person, Ticket, TicketMessage


@pytest.fixture
def purge_case(db, make_incident, make_person):
    incident, other_incident = make_incident(), make_incident()
    people = [make_person(incident) for _ in range(2)]
    bystander, bystander_plain = make_person(other_incident)
    person, plain = people[0]
    ticket = Ticket(incident_id=incident.id, person_id=person.id, topic="other")
    db.session.add(ticket)
    db.session.flush()
    db.session.add_all([
        TicketMessage(ticket_id=ticket.id, author_type="customer",
                      body=f"I am {plain['first_name']} {plain['last_name']}, write to "
                           f"{plain['email']} or call {plain['phone']}. Policy "
                           f"{plain['policy_number']}."),
        TicketMessage(ticket_id=ticket.id, author_type="staff", body="We have answered you."),
    ])
    audit.record("notice.viewed", actor_type="customer", actor_id=person.id,
                 incident_id=incident.id, person_id=person.id, details={"language": "en"})
    audit.record("ticket.opened", actor_type="customer", ticket_id=ticket.id,
                 incident_id=incident.id, details={"topic": "other"})
    audit.record("person.searched", actor_type="staff", incident_id=incident.id,
                 details={"query": people[1][1]["email"]})
    audit.record("incident.updated", actor_type="staff", incident_id=incident.id,
                 details={"fields": ["title"]})
    audit.record("notice.viewed", actor_type="customer", person_id=bystander.id,
                 incident_id=other_incident.id, details={"language": "en"})
    db.session.commit()
    return {"incident": incident, "people": people, "ticket": ticket,
            "bystander": (bystander, bystander_plain)}


def _snapshot(db) -> dict:
    """Every row of the tables a purge touches, raw (ciphertext as stored)."""
    return {table: db.session.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()  # noqa: S608
            for table in ("person", "ticket_message", "interaction", "activation_code",
                          "notification")}


def _personal_values(plain: dict) -> list[str]:
    return [plain[name] for name in ("first_name", "last_name", "email", "phone", "postcode",
                                     "policy_number", "date_of_birth", "notice_code",
                                     "external_ref")]


def test_a_dry_run_changes_nothing(db, runner, purge_case):
    before = _snapshot(db)
    result = runner.invoke(args=["data", "purge", "--incident",
                                 purge_case["incident"].reference, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "(would)" in result.output and "2 people anonymised" in result.output
    assert "dry run: nothing was changed" in result.output
    db.session.expire_all()
    assert _snapshot(db) == before


def test_without_yes_it_asks_and_no_means_nothing(db, runner, purge_case):
    before = _snapshot(db)
    result = runner.invoke(args=["data", "purge", "--incident",
                                 purge_case["incident"].reference], input="n\n")
    assert result.exit_code == 1 and "Erase these people's personal data" in result.output
    assert "nothing done" in result.output
    db.session.expire_all()
    assert _snapshot(db) == before


def test_an_unknown_incident_is_named(runner, db):
    result = runner.invoke(args=["data", "purge", "--incident", "NOPE", "--yes"])
    assert result.exit_code == 1 and "no incident with reference 'NOPE'" in result.output


def test_purge_leaves_no_personal_value_and_a_verifiable_log(db, runner, purge_case):
    incident = purge_case["incident"]
    result = runner.invoke(args=["data", "purge", "--incident", incident.reference, "--yes"])
    assert result.exit_code == 0, result.output
    assert "2 people anonymised" in result.output
    db.session.expire_all()

    people = db.session.execute(
        select(Person).where(Person.incident_id == incident.id)).scalars().all()
    for person in people:
        assert person.anonymised_at is not None
        for name in ("first_name", "last_name", "email", "phone", "postcode", "policy_number",
                     "date_of_birth", "notice_code", "email_index", "phone_index",
                     "policy_index", "postcode_digest", "dob_digest", "name_dob_index"):
            assert getattr(person, name) is None, name
        assert person.categories == ["contact_details", "date_of_birth"]  # kept
        assert person.language == "en"
    values = [value for _, plain in purge_case["people"] for value in _personal_values(plain)]
    texts = [message.body for message in db.session.execute(select(TicketMessage)).scalars()]
    rows = db.session.execute(
        select(Interaction).where(Interaction.incident_id == incident.id)).scalars().all()
    texts += [audit.canonical_json(row.details) for row in rows]
    texts += [person.external_ref for person in people]
    for value in values:
        assert not any(value.lower() in found.lower() for found in texts), value
    assert "We have answered you." in texts  # a message without personal values stays

    (purged,) = [row for row in rows if row.action == "data.purged"]
    assert purged.details["people"] == 2 and purged.details["log_rows"] == 3
    untouched = {row.action: row for row in rows}["incident.updated"]
    assert untouched.redacted_at is None  # nothing personal in it

    bystander, bystander_plain = purge_case["bystander"]
    db.session.refresh(bystander)
    assert bystander.anonymised_at is None and bystander.email == bystander_plain["email"]

    assert audit.verify().ok
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_the_incident_page_shows_the_retention_date_and_command(client, db, make_staff, login,
                                                                 purge_case):
    incident = purge_case["incident"]
    login(make_staff("manager"))
    page = client.get(f"/helpdesk/incidents/{incident.reference}")
    assert page.status_code == 200
    assert 'id="retention"' in page.text
    assert f"flask --app wsgi data purge --incident {incident.reference} --dry-run" in page.text
    assert "days after the breach was contained" in page.text


def test_a_second_purge_changes_nothing_more(db, runner, purge_case):
    reference = purge_case["incident"].reference
    assert runner.invoke(args=["data", "purge", "--incident", reference, "--yes"]).exit_code == 0
    again = runner.invoke(args=["data", "purge", "--incident", reference, "--yes"])
    assert again.exit_code == 0, again.output
    assert "0 people anonymised (2 were already)" in again.output
    assert "0 log rows redacted" in again.output
    assert audit.verify().ok
