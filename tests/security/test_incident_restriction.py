"""Issue 10 item 9: an agent an administrator assigned to incidents reaches no ticket and no
person of any other incident, on any route (the one check in ``portal.tickets.access``).

Every helpdesk route with a ``<ticket_id>`` or ``<person_id>`` is tried with the ids of
another incident: each answers 404 and changes nothing; the same routes with the ids of
the agent's own incident work, and an agent with no incident assigned sees every one.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

FORM = {"message": "A reply long enough to send", "body": "A note", "status": "open",
        "reason": "caller_request", "field": "phone", "assignee": "1", "direction": "inbound",
        "duration_minutes": "3", "summary": "Asked about the letter", "outcome": "answered",
        "topic": "notice", "text": "Hello"}


def _snapshot(db) -> dict:
    db.session.expire_all()
    return {table.name: sorted(map(repr, db.session.execute(select(table)).all()))
            for table in db.metadata.sorted_tables}


def _ticket(db, incident, person, body: str):
    from portal.models import Ticket, TicketMessage

    ticket = Ticket(incident_id=incident.id, person_id=person.id, channel="web",
                    topic="notice", status="open")
    db.session.add(ticket)
    db.session.flush()
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                 author_id=person.id, channel="web", body=body,
                                 internal=False))
    db.session.commit()
    return ticket


@pytest.fixture
def two_incidents(app, db, approved_incident, make_person, make_staff):
    from portal.models import StaffUser
    from portal.security import staff_accounts

    mine, theirs = approved_incident(reference="INC-MINE"), approved_incident(
        reference="INC-THEIRS")
    my_person, my_plain = make_person(mine)
    their_person, their_plain = make_person(theirs)
    my_ticket = _ticket(db, mine, my_person, "Question in my incident")
    their_ticket = _ticket(db, theirs, their_person, "Question in their incident")
    agent = make_staff("agent")
    with app.test_request_context():
        assert staff_accounts.set_incidents(db.session.get(StaffUser, agent.id), [mine.id])
        db.session.commit()
    return {"agent": agent, "mine": (my_person, my_plain, my_ticket),
            "theirs": (their_person, their_plain, their_ticket)}


def _rules(app):
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/helpdesk")
                   and {"ticket_id", "person_id"} & set(rule.arguments)),
                  key=lambda rule: rule.rule)


def _url(rule, person, ticket) -> str:
    values = {"ticket_id": ticket.id, "person_id": person.id}
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), url)
    return url


def test_every_ticket_and_person_route_refuses_another_incidents_ids(
        app, db, two_incidents, staff_client, form_token):
    client = staff_client(two_incidents["agent"])
    token = form_token(client, "/staff/account")
    person, _plain, ticket = two_incidents["theirs"]
    rules = _rules(app)
    assert len(rules) >= 10  # tickets and people: show, reply, note, reveal, unlock, call...
    before = _snapshot(db)
    tried = []
    for rule in rules:
        url = _url(rule, person, ticket)
        # A person route also tried naming their ticket, as the ticket page's links do.
        urls = [url, f"{url}?ticket_id={ticket.id}"] if "person_id" in rule.arguments else [url]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = dict(FORM, csrf_token=token) if method == "POST" else None
            for tried_url in urls:
                response = client.open(tried_url, method=method, data=data)
                assert response.status_code == 404, (tried_url, method, response.status_code)
                assert "Question in their incident" not in response.text
            tried.append((rule.endpoint, method))
    assert _snapshot(db) == before, "a refused request changed something"
    assert ("tickets.reply_to", "POST") in tried and ("people.show", "GET") in tried


def test_the_agents_own_incident_works_and_lists_show_only_it(app, db, two_incidents,
                                                             staff_client):
    client = staff_client(two_incidents["agent"])
    my_person, _my_plain, my_ticket = two_incidents["mine"]
    their_person, their_plain, their_ticket = two_incidents["theirs"]
    page = client.get(f"/helpdesk/tickets/{my_ticket.id}")
    assert page.status_code == 200 and "Question in my incident" in page.text
    assert client.get(f"/helpdesk/people/{my_person.id}").status_code == 404  # not yet
    # The ticket page's links name the ticket: that reaches its person, and grants them.
    assert client.get(f"/helpdesk/people/{my_person.id}?ticket_id={my_ticket.id}"
                      ).status_code == 200
    assert client.get(f"/helpdesk/people/{my_person.id}").status_code == 200
    queue = client.get("/helpdesk/tickets/").text
    assert f"/helpdesk/tickets/{my_ticket.id}" in queue
    assert f"/helpdesk/tickets/{their_ticket.id}" not in queue
    # Even asking for the other incident by name in the queue shows none of its tickets.
    filtered = client.get("/helpdesk/tickets/?incident=INC-THEIRS").text
    assert f"/helpdesk/tickets/{their_ticket.id}" not in filtered
    found = client.get(f"/helpdesk/people/?q={their_plain['external_ref']}")
    assert f"/helpdesk/people/{their_person.id}" not in found.text
    # Nor a queue search by their reference: nothing shown, nobody of theirs logged as
    # looked up.
    from portal.models import Interaction

    searched = client.get("/helpdesk/tickets/", query_string={"q": their_plain["phone"]})
    assert f"/helpdesk/tickets/{their_ticket.id}" not in searched.text
    logged = db.session.execute(select(Interaction).where(
        Interaction.action == "person.searched").order_by(Interaction.id.desc())).scalar()
    assert logged.details == {"matches": 0, "in": "tickets"} and logged.person_id is None


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_staff_without_assignments_see_every_incident(app, db, two_incidents, make_staff,
                                                      staff_client, role):
    client = staff_client(make_staff(role))
    for key in ("mine", "theirs"):
        person, _plain, ticket = two_incidents[key]
        assert client.get(f"/helpdesk/tickets/{ticket.id}").status_code == 200
        assert client.get(f"/helpdesk/people/{person.id}?ticket_id={ticket.id}"
                          ).status_code == 200


def test_admin_assigns_an_agent_to_incidents_on_the_staff_page(app, db, two_incidents,
                                                               make_staff):
    import pyotp

    from portal.models import Incident, Interaction, StaffIncident
    from tests.support import STAFF_PASSWORD, csrf_token

    admin = make_staff("admin", totp_secret=pyotp.random_base32())
    client = app.test_client()
    client.post("/staff/login", data={"email": admin.email, "password": STAFF_PASSWORD,
                                      "csrf_token": csrf_token(client, "/staff/login")})
    client.post("/staff/login/code", data={"code": pyotp.TOTP(admin.totp_secret).now(),
                                           "csrf_token": csrf_token(client, "/staff/login/code")})
    agent = two_incidents["agent"]
    page = client.get(f"/helpdesk/staff/{agent.id}")
    assert "INC-THEIRS" in page.text and "Incidents this agent works" in page.text
    theirs = db.session.execute(select(Incident.id).where(
        Incident.reference == "INC-THEIRS")).scalar_one()
    token = csrf_token(client, f"/helpdesk/staff/{agent.id}")
    saved = client.post(f"/helpdesk/staff/{agent.id}/incidents",
                        data={"incidents": [str(theirs)], "csrf_token": token})
    assert saved.status_code == 302
    db.session.expire_all()
    assert list(db.session.execute(select(StaffIncident.incident_id).where(
        StaffIncident.staff_id == agent.id)).scalars()) == [theirs]
    logged = db.session.execute(select(Interaction).where(
        Interaction.action == "staff.incidents_changed").order_by(Interaction.id.desc())
    ).scalars().first()
    assert logged.details == {"staff_id": agent.id, "from": ["INC-MINE"], "to": ["INC-THEIRS"]}
    # An unknown incident id is refused and nothing changes.
    refused = client.post(f"/helpdesk/staff/{agent.id}/incidents",
                          data={"incidents": ["999999"], "csrf_token": token})
    assert refused.status_code == 400 and "Choose incidents from the list." in refused.text
    # None ticked: every incident again.
    assert client.post(f"/helpdesk/staff/{agent.id}/incidents",
                       data={"csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(StaffIncident)) == 0
    # Managers are not limited: the page says so and offers no form.
    manager = make_staff("manager")
    assert "Managers and administrators see every incident." in client.get(
        f"/helpdesk/staff/{manager.id}").text


def test_another_incidents_answers_and_overview_stay_out_of_reach(
        app, db, two_incidents, staff_client, form_token, make_answers):
    """An agent limited to INC-MINE neither reads nor sends the wording another
    insurer's incident approved (not by typing its id into ``?use=`` or the reply's
    hidden field), and the overview names only their incidents."""
    from portal.models import Incident, TicketMessage

    their_incident = db.session.execute(
        select(Incident).where(Incident.reference == "INC-THEIRS")).scalar_one()
    theirs = make_answers({"their.secret": ("general", {
        "en": ("Their wording", "Confidential text of the other insurer.")})},
        incident_id=their_incident.id)["their.secret", "en"]
    shared = make_answers({"shared.hello": ("general", {
        "en": ("Hello", "Hello from every incident.")})})["shared.hello", "en"]
    client = staff_client(two_incidents["agent"])
    _person, _plain, my_ticket = two_incidents["mine"]
    library = client.get("/helpdesk/answers/").text
    assert "shared.hello" in library and "their.secret" not in library
    assert client.get(f"/helpdesk/answers/{theirs.answer_id}").status_code == 404
    used = client.get(f"/helpdesk/tickets/{my_ticket.id}?use={theirs.id}")
    assert "Confidential text" not in used.text and "not approved any more" in used.text
    assert "Hello from every incident." in client.get(
        f"/helpdesk/tickets/{my_ticket.id}?use={shared.id}").text
    before = db.session.scalar(select(func.count(TicketMessage.id)))
    sent = client.post(f"/helpdesk/tickets/{my_ticket.id}/reply", data={
        "body": "Confidential text of the other insurer.", "answer_version_id": str(theirs.id),
        "status": "pending_customer", "seen_message_id": "999999999",
        "csrf_token": form_token(client, f"/helpdesk/tickets/{my_ticket.id}")})
    assert sent.status_code == 409  # refused with the page (the stale check first), not stored
    assert db.session.scalar(select(func.count(TicketMessage.id))) == before
    home = client.get("/helpdesk/").text
    assert "INC-MINE" in home and "INC-THEIRS" not in home
