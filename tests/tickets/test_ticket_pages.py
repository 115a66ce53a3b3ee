"""The agents' ticket page: masking and reveals, replies from approved answers,
deviations, free text, collisions, notes, status and assignment.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import Interaction, OutboxMessage, TicketMessage
from tests.support import STAFF_PASSWORD, csrf_token

BASE = "/helpdesk/tickets"


def actions(db, action):
    return list(db.session.execute(
        select(Interaction).where(Interaction.action == action)).scalars())


def signed_in(app, user):
    """A second browser, signed in as ``user``."""
    other = app.test_client()
    token = csrf_token(other, "/staff/login")
    other.post("/staff/login", data={"email": user.email, "csrf_token": token,
                                     "password": STAFF_PASSWORD})
    return other


@pytest.fixture
def ticket(make_ticket, make_incident):
    incident = make_incident(title="Claims system breach", contact_hours="Mon-Fri 9-17")
    return make_ticket(incident=incident, first_name="Jamie", last_name="Secretname",
                       phone="+14155550199", email="jamie@customer.example")


def test_page_masks_personal_data_until_revealed_with_a_reason(app, db, client, agent, ticket):
    page = client.get(f"{BASE}/{ticket.id}")
    assert page.status_code == 200
    assert "Jamie" in page.text  # the first name shows, to greet
    assert "Secretname" not in page.text
    assert "+14155550199" not in page.text and "jamie@customer.example" not in page.text
    assert "99" in page.text  # the phone's last two digits hint
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    no_reason = client.post(f"{BASE}/{ticket.id}/reveal",
                            data={"csrf_token": token, "field": "phone", "reason": ""})
    assert no_reason.status_code == 302
    assert actions(db, "pii.revealed") == []
    shown = client.post(f"{BASE}/{ticket.id}/reveal", data={
        "csrf_token": token, "field": "phone", "reason": "verify_identity"})
    assert shown.status_code == 200
    assert "+14155550199" in shown.text and "Secretname" not in shown.text
    [logged] = actions(db, "pii.revealed")
    assert logged.details == {"field": "phone", "reason": "verify_identity"}
    assert logged.ticket_id == ticket.id and logged.actor_id == agent.id
    # for that view only: the next load is masked again
    assert "+14155550199" not in client.get(f"{BASE}/{ticket.id}").text


def test_reply_with_an_approved_answer_fills_placeholders_and_tells_the_customer(
        app, db, client, agent, ticket, make_answers):
    versions = make_answers()
    chosen = versions["what-happened", "en"]
    page = client.get(f"{BASE}/{ticket.id}?use={chosen.id}")
    assert "Hello Jamie," in page.text and "Claims system breach" in page.text
    assert "Mon-Fri 9-17" in page.text and "{{" not in page.text.split("<textarea")[1][:400]
    body = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page.text, re.S).group(1)
    import html

    body = html.unescape(body)
    seen = re.search(r'name="seen_message_id" type="hidden" value="(\d+)"', page.text).group(1)
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    sent = client.post(f"{BASE}/{ticket.id}/reply", data={
        "csrf_token": token, "body": body, "answer_version_id": str(chosen.id),
        "seen_message_id": seen, "status": "pending_customer"})
    assert sent.status_code == 302
    message = db.session.execute(select(TicketMessage).where(
        TicketMessage.author_type == "staff")).scalar_one()
    assert message.answer_version_id == chosen.id and not message.deviated
    [logged] = actions(db, "ticket.replied")
    assert logged.details["answer_version_id"] == chosen.id
    assert logged.details["free_text"] is False and logged.details["deviated"] is False
    db.session.refresh(ticket)
    assert ticket.status == "pending_customer" and ticket.first_response_at is not None
    # told by the preferred channel, without the reply's text
    [outbox] = db.session.execute(select(OutboxMessage)).scalars().all()
    assert "Jamie" not in (outbox.body or "") and "Claims" not in (outbox.body or "")
    assert actions(db, "ticket.reply_notified")


def test_searching_the_answers_keeps_the_draft_and_use_replaces_it_only_when_pressed(
        app, db, client, agent, ticket, make_answers):
    """The answer search and "Use" post with the reply box (their buttons belong to the
    reply form): a search shows the answers found and the draft as typed; "Use" fills the
    box with the chosen answer; neither sends anything."""
    import html

    versions = make_answers()
    chosen = versions["what-happened", "en"]
    page = client.get(f"{BASE}/{ticket.id}").text
    # Without JavaScript: the buttons post the reply form to the compose address.
    assert 'id="reply-form"' in page
    assert page.count('form="reply-form"') >= 4  # the box, the list, both buttons
    compose = f"{BASE}/{ticket.id}/compose"
    assert f'formaction="{compose}#reply-heading"' in page
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    seen = re.search(r'name="seen_message_id" type="hidden" value="(\d+)"', page).group(1)
    draft = "Dear Jamie, I am still checking <this> for you."
    form = {"csrf_token": token, "body": draft, "answer_version_id": "",
            "seen_message_id": seen, "status": "open", "use": str(chosen.id)}
    searched = client.post(compose, data={**form, "compose": "search", "aq": "monitoring"})
    assert searched.status_code == 200
    box = re.search(r"<textarea[^>]*>\r?\n?(.*?)</textarea>", searched.text, re.S).group(1)
    assert html.unescape(box) == draft and "&lt;this&gt;" in box  # kept, escaped
    assert 'value="monitoring"' in searched.text  # the search box keeps the words
    assert "Filled from an approved answer" not in searched.text
    used = client.post(compose, data={**form, "compose": "use", "aq": ""})
    box = html.unescape(re.search(r"<textarea[^>]*>\r?\n?(.*?)</textarea>", used.text,
                                  re.S).group(1))
    assert "Hello Jamie," in box and draft not in box
    assert f'name="answer_version_id" type="hidden" value="{chosen.id}"' in used.text
    assert "Filled from an approved answer" in used.text
    assert db.session.execute(select(TicketMessage).where(
        TicketMessage.author_type == "staff")).first() is None  # nothing was sent
    assert not actions(db, "ticket.replied")
    assert client.post(compose, data={**form, "csrf_token": "x"}).status_code == 400


def test_an_edited_answer_is_a_deviation_with_the_diff_for_managers(
        app, db, client, agent, ticket, make_answers, make_staff):
    chosen = make_answers()["monitoring", "en"]
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    client.post(f"{BASE}/{ticket.id}/reply", data={
        "csrf_token": token, "body": "Enrol soon, and ignore the date.",
        "answer_version_id": str(chosen.id), "seen_message_id": "999999",
        "status": "open"})
    message = db.session.execute(select(TicketMessage).where(
        TicketMessage.author_type == "staff")).scalar_one()
    assert message.deviated and "+Enrol soon, and ignore the date." in message.deviation_diff
    assert actions(db, "ticket.replied")[0].details["deviated"] is True
    assert "Changes from the approved answer" not in client.get(f"{BASE}/{ticket.id}").text
    manager = signed_in(app, make_staff("manager"))
    assert "Changes from the approved answer" in manager.get(f"{BASE}/{ticket.id}").text


def test_a_free_text_reply_is_allowed_and_counted(app, db, client, agent, ticket):
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    response = client.post(f"{BASE}/{ticket.id}/reply", data={
        "csrf_token": token, "body": "We are looking into it.", "answer_version_id": "",
        "seen_message_id": "999999", "status": "open"})
    assert response.status_code == 302
    assert actions(db, "ticket.replied")[0].details["free_text"] is True


def test_a_new_customer_message_holds_the_reply_until_confirmed(
        app, db, client, agent, ticket):
    from portal.models import Person
    from portal.tickets.operations import add_customer_reply

    page = client.get(f"{BASE}/{ticket.id}")
    seen = re.search(r'name="seen_message_id" type="hidden" value="(\d+)"', page.text).group(1)
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    add_customer_reply(ticket, db.session.get(Person, ticket.person_id), "Also, my card <b>?")
    db.session.commit()
    data = {"csrf_token": token, "body": "Here is our answer.", "seen_message_id": seen,
            "status": "pending_customer"}
    held = client.post(f"{BASE}/{ticket.id}/reply", data=data)
    assert held.status_code == 409
    assert "The customer wrote again" in held.text
    assert "Also, my card &lt;b&gt;?" in held.text  # the new message shows, escaped
    assert actions(db, "ticket.replied") == []
    new_seen = re.search(r'name="seen_message_id" type="hidden" value="(\d+)"',
                         held.text).group(1)
    sent = client.post(f"{BASE}/{ticket.id}/reply",
                       data=dict(data, seen_message_id=new_seen, confirm_stale="y"))
    assert sent.status_code == 302
    assert len(actions(db, "ticket.replied")) == 1


def test_a_second_agent_sees_who_else_has_the_ticket_open(
        app, client, agent, ticket, make_staff):
    client.get(f"{BASE}/{ticket.id}")
    other = signed_in(app, make_staff("agent", name="Bea Second"))
    page = other.get(f"{BASE}/{ticket.id}")
    assert "Also on this ticket:" in page.text and "Alex Agent" in page.text
    assert "Bea Second" in client.get(f"{BASE}/{ticket.id}").text


def test_notes_status_take_and_assign_are_logged(app, db, client, agent, ticket, make_staff):
    other = make_staff("agent", name="Other Agent")
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    client.post(f"{BASE}/{ticket.id}/take", data={"csrf_token": token})
    client.post(f"{BASE}/{ticket.id}/note", data={"csrf_token": token, "body": "Called back"})
    client.post(f"{BASE}/{ticket.id}/status", data={"csrf_token": token, "status": "resolved"})
    client.post(f"{BASE}/{ticket.id}/assign", data={"csrf_token": token,
                                                    "assignee": str(other.id)})
    db.session.refresh(ticket)
    assert ticket.assignee_id == other.id and ticket.status == "resolved"
    assert [row.action for row in db.session.execute(select(Interaction).where(
        Interaction.ticket_id == ticket.id).order_by(Interaction.id)).scalars()
        if row.action != "ticket.created"] == [
        "ticket.viewed", "ticket.assigned", "ticket.note_added", "ticket.status_changed",
        "ticket.assigned"]
    # the customer never sees the note
    from portal.tickets.operations import visible_messages

    assert all(not m.internal for m in visible_messages(ticket.id))


def test_a_status_or_assignee_already_set_says_nothing_changed(
        app, db, client, agent, ticket, make_staff):
    """Another agent may have done it first: the page says so, and nothing is logged."""
    other = make_staff("agent", name="Other Agent")
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    same = client.post(f"{BASE}/{ticket.id}/status", data={"csrf_token": token,
                                                          "status": ticket.status},
                       follow_redirects=True).text
    assert "The status is already" in same and "nothing changed" in same
    client.post(f"{BASE}/{ticket.id}/take", data={"csrf_token": token})
    again = client.post(f"{BASE}/{ticket.id}/take", data={"csrf_token": token},
                        follow_redirects=True).text
    assert f"Ticket {ticket.id} is already yours." in again
    client.post(f"{BASE}/{ticket.id}/assign", data={"csrf_token": token,
                                                    "assignee": str(other.id)})
    twice = client.post(f"{BASE}/{ticket.id}/assign", data={
        "csrf_token": token, "assignee": str(other.id)}, follow_redirects=True).text
    assert "The ticket is already assigned to Other Agent; nothing changed." in twice
    client.post(f"{BASE}/{ticket.id}/assign", data={"csrf_token": token, "assignee": ""})
    nobody = client.post(f"{BASE}/{ticket.id}/assign", data={
        "csrf_token": token, "assignee": ""}, follow_redirects=True).text
    assert "already assigned to nobody" in nobody
    german = client.post(f"{BASE}/{ticket.id}/status?lang=de", data={
        "csrf_token": token, "status": "open"}, follow_redirects=True).text
    assert "Der Status ist bereits" in german
    actions = [row.action for row in db.session.execute(select(Interaction).where(
        Interaction.ticket_id == ticket.id)).scalars()]
    assert "ticket.status_changed" not in actions
    assert actions.count("ticket.assigned") == 3  # take, to Other Agent, to nobody


def test_unknown_ticket_is_404_and_bad_input_is_refused(app, client, agent, ticket):
    assert client.get(f"{BASE}/999999").status_code == 404
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    empty = client.post(f"{BASE}/{ticket.id}/reply", data={
        "csrf_token": token, "body": "", "seen_message_id": "0", "status": "open"})
    assert empty.status_code == 400 and "Write a reply." in empty.text
    bad_status = client.post(f"{BASE}/{ticket.id}/reply", data={
        "csrf_token": token, "body": "Kept text", "seen_message_id": "0", "status": "nope"})
    assert bad_status.status_code == 400 and "Kept text" in bad_status.text


def test_every_id_on_the_ticket_page_is_unique_and_each_label_reaches_its_field(
        app, db, client, agent, ticket, make_answers):
    """A shared id="body" sent the note's label, and what was typed after clicking it, to
    the reply to the customer."""
    from collections import Counter

    make_answers()
    page = client.get(f"{BASE}/{ticket.id}").text
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    # (each form's hidden CSRF input shares its id, as Flask-WTF writes it: no label uses it)
    assert [name for name, seen in ids.items() if seen > 1 and name != "csrf_token"] == []
    for target in re.findall(r'<label[^>]*\sfor="([^"]+)"', page):
        assert ids[target] == 1, target
    assert '<label class="label" for="note-body">New internal note</label>' in page
    assert re.search(r'<textarea[^>]*id="note-body"[^>]*name="body"', page)


def test_the_language_switch_keeps_a_pages_query_and_reaches_a_posted_page(
        app, db, client, agent, ticket):
    """A filtered list stays filtered in another language; the address of a page a form
    answered (the composer, a reveal) leads back to the ticket, not to a 405."""
    queue = client.get(f"{BASE}/?status=open&sla=breached").text
    assert 'href="?status=open&amp;sla=breached&amp;lang=de"' in queue
    plain = client.get(f"{BASE}/{ticket.id}").text
    assert 'href="?lang=de"' in plain  # no query: the cached switcher
    for posted in ("compose", "reveal", "reply"):
        again = client.get(f"{BASE}/{ticket.id}/{posted}?lang=de")
        assert again.status_code == 303, posted
        assert again.location.endswith(f"{BASE}/{ticket.id}?lang=de")
