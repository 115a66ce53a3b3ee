"""The queue: default order by next due time, each filter, keyset pages, search through
the blind indexes, and bad parameters.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.models.base import utcnow

BASE = "/helpdesk/tickets/"


def ids_on(page_text: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/helpdesk/tickets/(\d+)"', page_text)]


@pytest.fixture
def agent(make_staff, login):
    user = make_staff("agent", name="Queue Agent")
    login(user)
    return user


@pytest.fixture
def tickets(db, make_ticket, make_person, make_incident):
    """Five tickets of two incidents with known due times (oldest due first)."""
    from portal.tickets import sla

    first, second = make_incident(reference="INC-A"), make_incident(reference="INC-B")
    made = []
    now = utcnow()
    for n, (incident, language, hours) in enumerate(
            [(first, "en", -2), (second, "es", 1), (first, "de", 30), (second, "en", 5),
             (first, "fr", 10)]):
        person, _plain = make_person(incident=incident, language=language)
        ticket = make_ticket(person=person, topic="monitoring" if n == 3 else "notice")
        ticket.first_response_due = now + timedelta(hours=hours)
        sla.refresh_due(ticket)
        made.append(ticket)
    db.session.commit()
    return made


def test_default_view_sorts_by_next_due_and_marks_overdue(app, client, agent, tickets):
    page = client.get(BASE)
    assert page.status_code == 200
    expected = [t.id for t in sorted(tickets, key=lambda t: t.next_due_at)]
    assert ids_on(page.text) == expected
    assert page.text.count("queue-overdue") == 1 and "late" in page.text


def test_keyset_pages_cover_every_ticket_once(app, client, agent, tickets):
    app.config["TICKET_QUEUE_PAGE_SIZE"] = 2
    seen, url = [], BASE
    while url:
        page = client.get(url)
        seen += ids_on(page.text)
        found = re.search(r'href="(/helpdesk/tickets/\?[^"]*after=[^"]+)"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [t.id for t in sorted(tickets, key=lambda t: t.next_due_at)]


def test_filters(app, db, client, agent, tickets, make_staff):
    from portal.tickets.operations import assign, set_status

    assign(tickets[0], agent.id)
    other = make_staff("agent")
    assign(tickets[1], other.id)
    set_status(tickets[4], "closed")
    db.session.commit()
    assert set(ids_on(client.get(BASE + "?assignee=me").text)) == {tickets[0].id}
    assert set(ids_on(client.get(BASE + f"?assignee={other.id}").text)) == {tickets[1].id}
    assert set(ids_on(client.get(BASE + "?assignee=none").text)) == {tickets[2].id,
                                                                      tickets[3].id}
    assert tickets[4].id not in ids_on(client.get(BASE).text)
    assert ids_on(client.get(BASE + "?status=closed").text) == [tickets[4].id]
    assert set(ids_on(client.get(BASE + "?language=en").text)) == {tickets[0].id,
                                                                    tickets[3].id}
    assert set(ids_on(client.get(BASE + "?incident=INC-B").text)) == {tickets[1].id,
                                                                       tickets[3].id}
    assert ids_on(client.get(BASE + "?sla=breached").text) == [tickets[0].id]
    assert ids_on(client.get(BASE + "?channel=phone").text) == []
    assert ids_on(client.get(BASE + "?incident=NOPE").text) == []


def test_due_today_uses_the_staff_members_day(app, client, agent, tickets):
    due_today = ids_on(client.get(BASE + "?sla=due_today").text)
    assert tickets[0].id not in due_today and tickets[2].id not in due_today  # late / 30 h


def test_search_by_phone_email_reference_policy_and_topic(app, db, client, agent, tickets):
    from portal.models import Person

    person = db.session.get(Person, tickets[2].person_id)
    for q in (person.phone, person.email.upper(), person.external_ref, person.policy_number):
        assert ids_on(client.get(BASE, query_string={"q": q}).text) == [tickets[2].id], q
    assert ids_on(client.get(BASE, query_string={"q": "credit monitoring"}).text) == [
        tickets[3].id]
    assert ids_on(client.get(BASE, query_string={"q": "nobody@nowhere.example"}).text) == []
    # References as typed on the phone: in small letters; ticket numbers as pages write them.
    for q in (person.external_ref.lower(), f"#{tickets[2].id}", f"# {tickets[2].id}"):
        assert tickets[2].id in ids_on(client.get(BASE, query_string={"q": q}).text), q
    assert tickets[1].id in ids_on(client.get(BASE + "?incident=inc-b").text)


def test_a_search_logs_the_people_it_found_never_what_was_typed(app, db, client, agent,
                                                               tickets):
    """Like the people search: the look-up is on each found person's timeline."""
    from sqlalchemy import select

    from portal.models import Interaction, Person

    person = db.session.get(Person, tickets[2].person_id)

    def last_search():
        return db.session.execute(select(Interaction).where(
            Interaction.action == "person.searched").order_by(Interaction.id.desc())).scalar()

    client.get(BASE, query_string={"q": person.phone})
    logged = last_search()
    assert logged.person_id == person.id and logged.actor_id == agent.id
    assert logged.details == {"matches": 1, "in": "tickets", "person_ids": [person.id]}
    client.get(BASE, query_string={"q": "credit monitoring"})  # words of a topic: nobody
    logged = last_search()
    assert logged.person_id is None and logged.details == {"matches": 1, "in": "tickets"}
    assert person.phone not in repr(logged.details)


def test_bad_parameters_are_named_and_dropped(app, client, agent, tickets):
    page = client.get(BASE + "?status=bogus&after=xyz&sla=soon")
    assert page.status_code == 400
    assert "Status" in page.text and "SLA" in page.text
    assert len(ids_on(page.text)) == len(tickets)


def test_take_from_the_queue(app, db, client, agent, tickets):
    from tests.support import csrf_token

    token = csrf_token(client, BASE)
    response = client.post(f"/helpdesk/tickets/{tickets[1].id}/take",
                           data={"csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(tickets[1])
    assert tickets[1].assignee_id == agent.id and tickets[1].status == "open"
