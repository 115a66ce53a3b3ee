"""Person look-up by blind index, grants, unlock and resend limits, calls and agent tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import AttemptCounter, Interaction, OutboxMessage, Ticket, TicketMessage
from portal.models.base import utcnow
from tests.support import STAFF_PASSWORD, csrf_token

BASE = "/helpdesk/people"
PHONE = "+14155552671"


def signed_in(app, user):
    client = app.test_client()
    response = client.post("/staff/login", data={
        "email": user.email, "password": STAFF_PASSWORD,
        "csrf_token": csrf_token(client, "/staff/login")})
    assert response.status_code == 302, response.text
    return client


def logged(db, action):
    db.session.expire_all()
    return list(db.session.execute(select(Interaction).where(Interaction.action == action)
                                   .order_by(Interaction.id)).scalars())


def lock(db, person):
    from portal.people.unknown_codes import row_key

    db.session.merge(AttemptCounter(key=row_key(person.code_index), failures=5,
                                    failures_since=utcnow(),
                                    locked_until=utcnow() + timedelta(minutes=30)))
    db.session.commit()


@pytest.fixture
def found(db, make_person, make_incident):
    incident = make_incident(reference="INC-LOOK")
    person, plain = make_person(incident, phone=PHONE, email="Jamie.Doe@Example.org",
                                external_ref="REF-77")
    other, _ = make_person(make_incident(reference="INC-OTHER"))
    return person, plain, other


@pytest.fixture
def agent(app, make_staff):
    return signed_in(app, make_staff("agent"))


@pytest.mark.parametrize("typed", [
    "REF-77", "ref-77", "jamie.doe@example.org", " +1 (415) 555-2671 ", "pol", "code"])
def test_search_by_each_blind_index_masks_and_logs_no_value(db, agent, found, typed):
    person, plain, _other = found
    typed = {"pol": plain["policy_number"].lower(), "code": plain["notice_code"].lower()}.get(
        typed, typed)
    page = agent.post(f"{BASE}/", data={"q": typed, "csrf_token": csrf_token(agent, BASE + "/")})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    results = page.text.split('role="search"', 1)[1].split("</form>", 1)[1]
    assert "1 person found." in results and f"/helpdesk/people/{person.id}" in results
    assert "REF-77" in results and "Jamie" in results
    for secret in (PHONE, "jamie.doe@example.org", "Jamie.Doe", plain["policy_number"],
                   plain["last_name"], plain["date_of_birth"]):
        assert secret not in results
    assert "J•••@E•••" in results
    entry = logged(db, "person.searched")[-1]
    assert entry.details == {"matches": 1, "person_ids": [person.id]}
    assert entry.person_id == person.id  # on the person's timeline


def test_unknown_values_say_no_match_with_the_same_statements(db, agent, found,
                                                              count_queries):
    page = agent.get(f"{BASE}/?q=REF-00")
    assert "No match." in page.text
    agent.get(f"{BASE}/?q=REF-77")  # warm up both paths
    with count_queries as counted:
        agent.get(f"{BASE}/?q=REF-78")
    unknown = [statement for statement in counted.statements if "person" in statement]
    with count_queries as counted:
        agent.get(f"{BASE}/?q=REF-77")
    known = [statement for statement in counted.statements if "person" in statement]
    # The look-up itself is one statement of the same shape; a match only adds reading
    # the found people's incidents and locks for the (masked) list.
    assert known[0] == unknown[0] and "FROM person" in unknown[0]
    assert logged(db, "person.searched")[-1].details == {"matches": 1, "person_ids": [found[0].id]}
    unknown_entry = logged(db, "person.searched")[-2]  # REF-78: nobody shown, nobody named
    assert unknown_entry.details == {"matches": 0} and unknown_entry.person_id is None


def test_person_routes_need_a_grant_from_search(app, db, agent, make_staff, found):
    person, _plain, other = found
    token = csrf_token(agent, f"{BASE}/")
    for url in (f"{BASE}/{person.id}", f"{BASE}/{person.id}/call"):
        assert agent.get(url).status_code == 404
    for url in ("unlock", "resend", "tickets", "call"):
        assert agent.post(f"{BASE}/{person.id}/{url}",
                          data={"csrf_token": token}).status_code == 404
    agent.get(f"{BASE}/?q=REF-77")
    assert agent.get(f"{BASE}/{person.id}").status_code == 200
    assert logged(db, "person.viewed")[-1].person_id == person.id
    # a grant is for this person only, and for this session only
    assert agent.get(f"{BASE}/{other.id}").status_code == 404
    colleague = signed_in(app, make_staff("agent"))
    assert colleague.get(f"{BASE}/{person.id}").status_code == 404


def test_grants_lapse(app, db, agent, found, monkeypatch):
    from helpdesk.people import grants

    person, *_ = found
    agent.get(f"{BASE}/?q=REF-77")
    later = grants.clock() + app.config["HELPDESK_PERSON_GRANT_MINUTES"] * 60 + 1
    monkeypatch.setattr(grants, "clock", lambda: later)
    assert agent.get(f"{BASE}/{person.id}").status_code == 404


def test_grants_are_kept_compact_newest_fifty_and_read_from_earlier_sessions(app):
    """The grants are one string in the session (no per-entry JSON tags to walk on every
    request); the newest ``MAX_GRANTS`` stay; a session signed before this format (a
    dictionary) still grants, and stray values are ignored, never trusted."""
    from flask import session

    from helpdesk.people import grants

    with app.test_request_context():
        for person_id in range(1, grants.MAX_GRANTS + 11):
            grants.remember(person_id)
        stored = session[grants.SESSION_KEY]
        assert isinstance(stored, str) and len(stored) < 50 * 20
        assert not grants.allowed(10) and grants.allowed(11) and grants.allowed(60)
        assert len(grants.parse(stored)) == grants.MAX_GRANTS

    with app.test_request_context():
        later = grants.clock() + 600
        session[grants.SESSION_KEY] = {"7": later, "8": "soon", "x": later}
        assert grants.allowed(7)
        assert not grants.allowed(8)
        assert grants.parse("7:99999999999,8:abc,:5,9:,-1:5") == {"7": 99999999999}


def test_unlock_is_logged_and_limited_per_day(app, db, agent, found):
    from portal.people import verification

    person, *_ = found
    agent.get(f"{BASE}/?q=REF-77")
    page = f"{BASE}/{person.id}"
    assert "Unlock the notice code" not in agent.get(page).text
    for _round in range(app.config["HELPDESK_UNLOCKS_PER_PERSON_PER_DAY"]):
        lock(db, person)
        assert "Locked" in agent.get(page).text
        response = agent.post(f"{page}/unlock", data={"csrf_token": csrf_token(agent, page)})
        assert response.status_code == 302
        assert verification.failures(person).locked_until is None
        # The failures go with the lock: the person page does not show a stale count.
        assert verification.failures(person).failures == 0
    lock(db, person)
    agent.post(f"{page}/unlock", data={"csrf_token": csrf_token(agent, page)})
    assert verification.failures(person).locked_until is not None
    assert "the most allowed" in agent.get(page).text
    assert len(logged(db, "person.unlocked")) == app.config["HELPDESK_UNLOCKS_PER_PERSON_PER_DAY"]
    assert logged(db, "person.unlocked_refused")[0].details["reason"] == "daily_limit"


def test_a_form_address_asked_for_again_leads_to_the_person_and_changes_nothing(
        db, agent, found):
    """The language switcher on a page a form answered (a refused unlock, say) asks for
    the form's address with GET: it leads to the person page in that language, and the
    lock stays."""
    from portal.people import verification

    person, *_ = found
    agent.get(f"{BASE}/?q=REF-77")
    page = f"{BASE}/{person.id}"
    lock(db, person)
    for form in ("unlock", "resend", "tickets"):
        again = agent.get(f"{page}/{form}?lang=de&x=1")
        assert again.status_code == 303, form
        assert again.location == f"{page}?lang=de"
    assert verification.failures(person).locked_until is not None
    assert not logged(db, "person.unlocked")
    assert "Gesperrt" in agent.get(f"{page}?lang=de").text


def test_resend_sends_to_the_contact_details_on_file_and_is_limited(app, db, agent, found):
    person, *_ = found
    agent.get(f"{BASE}/?q=REF-77")
    page = f"{BASE}/{person.id}"
    limit = app.config["HELPDESK_RESENDS_PER_PERSON_PER_DAY"]
    for _round in range(limit + 1):
        agent.post(f"{page}/resend", data={"csrf_token": csrf_token(agent, page)})
    assert len(logged(db, "person.code_resend")) == limit
    assert len(logged(db, "person.code_resend_refused")) == 1
    sent = logged(db, "code_resend.sent")
    assert len(sent) == limit and all(entry.person_id == person.id for entry in sent)
    assert db.session.execute(select(OutboxMessage)).first() is not None


def test_log_a_call_opens_or_extends_a_phone_ticket(db, agent, found, make_person):
    person, _plain, other = found
    agent.get(f"{BASE}/?q=REF-77")
    url = f"{BASE}/{person.id}/call"
    call = {"direction": "inbound", "minutes": "7", "outcome": "answered", "topic": "monitoring",
            "summary": "Asked how to enrol; walked through the steps."}
    response = agent.post(url, data={**call, "csrf_token": csrf_token(agent, url)})
    assert response.status_code == 302
    ticket = db.session.execute(select(Ticket).where(Ticket.person_id == person.id)).scalar_one()
    assert (ticket.channel, ticket.status, ticket.topic) == ("phone", "open", "monitoring")
    assert ticket.first_response_at is not None and ticket.first_response_due is not None
    message = db.session.execute(select(TicketMessage)).scalar_one()
    assert (message.call_direction, message.call_seconds, message.call_outcome,
            message.internal) == ("inbound", 420, "answered", True)
    entry = logged(db, "call.logged")[0]
    assert entry.details == {"direction": "inbound", "minutes": 7, "outcome": "answered",
                             "new_ticket": True}
    assert "walked" not in str(entry.details)
    # The ticket's thread shows it as a call, with its facts, for the next agent.
    thread = agent.get(f"/helpdesk/tickets/{ticket.id}").text
    assert "Phone call" in thread and "The customer called us · 7 minutes · Answered" in thread

    # The call page offers the open ticket rather than a second one.
    offered = agent.get(url).text
    assert f"{url}?ticket_id={ticket.id}".replace("&", "&amp;") in offered
    extend = f"{url}?ticket_id={ticket.id}"
    form = agent.get(extend).text
    assert 'name="topic"' not in form  # the ticket has its topic
    # As a browser posts it: no topic field on this page.
    extended = {key: value for key, value in call.items() if key != "topic"}
    response = agent.post(extend, data={**extended, "direction": "outbound",
                                        "outcome": "voicemail",
                                        "csrf_token": csrf_token(agent, extend)})
    assert response.status_code == 302, response.text
    assert db.session.execute(select(Ticket)).scalars().all() == [ticket]
    assert len(db.session.execute(select(TicketMessage)).scalars().all()) == 2

    # another person's ticket cannot be named, nor can bad input get through
    theirs = Ticket(incident_id=other.incident_id, person_id=other.id, topic="other")
    db.session.add(theirs)
    db.session.commit()
    assert agent.get(f"{url}?ticket_id={theirs.id}").status_code == 404
    bad = agent.post(url, data={**call, "minutes": "-3", "summary": "",
                                "csrf_token": csrf_token(agent, url)})
    assert bad.status_code == 400 and "Summarise the call" in bad.text
    assert len(logged(db, "call.logged")) == 2


def test_open_a_ticket_for_a_person(db, agent, found):
    person, *_ = found
    agent.get(f"{BASE}/?q=REF-77")
    page = f"{BASE}/{person.id}"
    response = agent.post(f"{page}/tickets", data={
        "channel": "email", "topic": "notice", "note": "Wrote in asking about the notice.",
        "csrf_token": csrf_token(agent, page)})
    assert response.status_code == 302
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert (ticket.channel, ticket.status, ticket.person_id) == ("email", "open", person.id)
    assert logged(db, "ticket.created")[-1].details["by"] == "agent"
    bad = agent.post(f"{page}/tickets", data={"channel": "fax", "topic": "notice", "note": "x",
                                              "csrf_token": csrf_token(agent, page)})
    assert bad.status_code == 400


def test_a_ticket_reaches_its_person_and_offers_log_a_call(app, db, agent, found,
                                                          make_staff):
    """The ticket page's links name the ticket: a ticket the agent may work reaches its
    person (and grants them, for the person page's forms); viewing the ticket itself
    writes nothing to the session. Another person's ticket reaches nobody."""
    person, _plain, other = found
    ticket = Ticket(incident_id=person.incident_id, person_id=person.id, topic="notice",
                    channel="web", status="pending_customer")
    db.session.add(ticket)
    db.session.commit()
    call_url = f"{BASE}/{person.id}/call?ticket_id={ticket.id}"
    page = agent.get(f"/helpdesk/tickets/{ticket.id}").text
    assert call_url.replace("&", "&amp;") in page and "Log a call" in page
    assert f"{BASE}/{person.id}?ticket_id={ticket.id}" in page
    assert agent.get(f"{BASE}/{person.id}").status_code == 404  # the view granted nothing
    for url in (f"{BASE}/{other.id}?ticket_id={ticket.id}",
                f"{BASE}/{other.id}/call?ticket_id={ticket.id}",
                f"{BASE}/{person.id}?ticket_id={ticket.id + 1000}"):
        assert agent.get(url).status_code == 404, url
    assert agent.get(f"{BASE}/{person.id}?ticket_id={ticket.id}").status_code == 200
    assert agent.get(f"{BASE}/{person.id}").status_code == 200  # granted from then on
    assert agent.get(f"{BASE}/{other.id}").status_code == 404
    # A customer has no ticket route to a person; a colleague reaches them through the
    # same ticket only because they may work it.
    colleague = signed_in(app, make_staff("agent"))
    assert colleague.get(f"{BASE}/{person.id}").status_code == 404
    response = agent.post(call_url, data={
        "direction": "inbound", "minutes": "3", "outcome": "answered",
        "summary": "Called back about the reply.", "csrf_token": csrf_token(agent, call_url)})
    assert response.location.endswith(f"/helpdesk/tickets/{ticket.id}")
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "open"  # the customer's call reopens a waiting ticket
    assert logged(db, "ticket.status_changed")[-1].details == {"from": "pending_customer",
                                                               "to": "open"}


def test_an_empty_search_says_what_to_type(db, agent):
    page = agent.post(f"{BASE}/", data={"q": "  ", "csrf_token": csrf_token(agent, BASE + "/")})
    assert page.status_code == 400
    assert 'aria-invalid="true"' in page.text and 'href="#q"' in page.text
    assert "Type a reference, notice code, phone number" in page.text
    assert logged(db, "person.searched") == []  # nothing was looked up


def test_people_and_queue_searches_share_one_budget_per_staff_member(app, db, agent, make_staff):
    """STAFF_LOOKUP_RATE_LIMIT: a curious insider or stolen credentials cannot walk the
    people of an incident at machine speed; another staff member keeps their own budget."""
    app.config["STAFF_LOOKUP_RATE_LIMIT"] = "4 per minute"
    token = csrf_token(agent, BASE + "/")
    codes = [agent.post(f"{BASE}/", data={"q": f"REF-{n}", "csrf_token": token}).status_code
             for n in range(2)]
    codes.append(agent.get(f"{BASE}/?q=REF-2").status_code)  # by address: counted as well
    codes.append(agent.post("/helpdesk/tickets/", data={"q": "REF-9",
                                                        "csrf_token": token}).status_code)
    codes.append(agent.post(f"{BASE}/", data={"q": "REF-10", "csrf_token": token}).status_code)
    assert codes == [200, 200, 200, 200, 429]
    assert len(logged(db, "person.searched")) == 4  # the refused one looked nothing up
    # A search by address counts too (``?q=`` works for links); browsing does not.
    assert agent.get(f"{BASE}/?q=REF-12").status_code == 429
    assert agent.get("/helpdesk/tickets/?q=REF-12").status_code == 429
    assert agent.get("/helpdesk/tickets/?status=open").status_code == 200
    assert agent.get(f"{BASE}/").status_code == 200
    other = signed_in(app, make_staff("agent"))
    assert other.post(f"{BASE}/", data={
        "q": "REF-11", "csrf_token": csrf_token(other, BASE + "/")}).status_code == 200


@pytest.mark.parametrize("started", ["cross-site", "same-site"])
def test_a_search_another_site_links_to_is_held_until_the_button_is_pressed(
        app, db, agent, found, started):
    """A link on another site (the staff session cookie goes with it) would otherwise look
    a person up in the staff member's name and spend their budget: shown, not run."""
    person, plain, _other = found
    app.config["STAFF_LOOKUP_RATE_LIMIT"] = "3 per minute"
    elsewhere = {"Sec-Fetch-Site": started}
    for url in (f"{BASE}/?q=REF-77", "/helpdesk/tickets/?q=REF-77", f"{BASE}/?q=REF-77"):
        page = agent.get(url, headers=elsewhere)
        assert page.status_code == 200, url
        assert 'id="q-held"' in page.text and 'value="REF-77"' in page.text
        assert f"/helpdesk/people/{person.id}" not in page.text
    assert logged(db, "person.searched") == []  # nothing looked up, nothing logged
    assert agent.get(f"{BASE}/{person.id}").status_code == 404  # and nobody granted
    # The budget is untouched: typed (none), from the portal's own pages, or from a client
    # that is no browser, the same address runs.
    for headers in ({"Sec-Fetch-Site": "none"}, {"Sec-Fetch-Site": "same-origin"}):
        page = agent.get(f"{BASE}/?q=REF-77", headers=headers)
        assert page.status_code == 200 and 'id="q-held"' not in page.text
        assert f"/helpdesk/people/{person.id}" in page.text
    # Pressing the held page's button posts the value (CSRF-checked): it runs.
    held = agent.get(f"{BASE}/?q=REF-77", headers=elsewhere)
    token = csrf_token(agent, BASE + "/")
    pressed = agent.post(f"{BASE}/", data={"q": "REF-77", "csrf_token": token},
                         headers={"Sec-Fetch-Site": "same-origin"})
    assert held.status_code == pressed.status_code == 200
    assert f"/helpdesk/people/{person.id}" in pressed.text
    assert len(logged(db, "person.searched")) == 3
    assert agent.get(f"{BASE}/?q=REF-77").status_code == 429  # three: the budget is spent


def test_ticket_and_person_pages_share_a_page_budget_per_staff_member(app, db, agent, found,
                                                                      make_staff):
    """STAFF_PAGE_RATE_LIMIT: opening ticket after ticket by its number shows a first name,
    a reference and contact hints each time; a script walking the ids is stopped, a person
    reading is not (presence pings and the queue do not count)."""
    person, plain, _other = found
    app.config["STAFF_PAGE_RATE_LIMIT"] = "3 per minute"
    ticket = Ticket(incident_id=person.incident_id, person_id=person.id, topic="notice",
                    channel="web", status="open")
    db.session.add(ticket)
    db.session.commit()
    url = f"/helpdesk/tickets/{ticket.id}"
    token = csrf_token(agent, BASE + "/")
    codes = [agent.get(url).status_code,
             agent.post(f"{url}/presence", headers={"X-CSRFToken": token}).status_code,
             agent.get(f"{BASE}/{person.id}?ticket_id={ticket.id}").status_code,
             agent.get("/helpdesk/tickets/").status_code,
             agent.get(url).status_code,
             agent.get(url).status_code,
             agent.get(f"{BASE}/{person.id}").status_code]
    assert codes == [200, 200, 200, 200, 200, 429, 429]
    refused = agent.get(url)
    assert refused.status_code == 429 and person.external_ref not in refused.text
    assert plain["first_name"] not in refused.text
    other = signed_in(app, make_staff("agent"))
    assert other.get(url).status_code == 200  # a colleague keeps their own budget
    # Every way to a rendered ticket page or person counts, not only the page's address.
    fresh = signed_in(app, make_staff("agent"))
    token = csrf_token(fresh, BASE + "/")
    form = {"csrf_token": token, "body": "", "status": "open", "seen_message_id": "0"}
    codes = [fresh.post(f"{url}/compose", data={**form, "compose": "search"}).status_code,
             fresh.get(f"{BASE}/{person.id}/call?ticket_id={ticket.id}").status_code,
             fresh.post(f"{url}/reply", data=form).status_code,  # shown again: no reply
             fresh.post(f"{url}/compose", data={**form, "compose": "search"}).status_code,
             fresh.post(f"{url}/reply", data=form).status_code,
             fresh.get(f"{BASE}/{person.id}/call?ticket_id={ticket.id}").status_code]
    assert codes == [200, 200, 400, 429, 429, 429]


def test_the_person_page_shows_times_in_the_incidents_zone_as_the_ticket_page_does(
        app, db, agent, make_person, make_incident):
    incident = make_incident(reference="INC-ZONE", time_zone="America/Los_Angeles")
    person, _plain = make_person(incident)
    ticket = Ticket(incident_id=incident.id, person_id=person.id, topic="notice",
                    channel="web", status="open")
    db.session.add(ticket)
    db.session.commit()
    ticket_page = agent.get(f"/helpdesk/tickets/{ticket.id}").text
    person_page = agent.get(f"{BASE}/{person.id}?ticket_id={ticket.id}").text
    call_page = agent.get(f"{BASE}/{person.id}/call").text
    for page in (ticket_page, person_page):
        assert "(PST)" in page or "(PDT)" in page
        assert "(UTC)" not in page
    assert "(UTC)" not in call_page
