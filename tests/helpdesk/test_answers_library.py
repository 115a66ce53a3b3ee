"""The answer library: drafts per language, four-eyes review, immutability, the public FAQ."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import Answer, AnswerVersion, Interaction, Ticket, TicketMessage
from tests.support import STAFF_PASSWORD, csrf_token

BASE = "/helpdesk/answers"


def signed_in(app, user):
    """A client of its own, signed in as ``user`` through the real form."""
    client = app.test_client()
    response = client.post("/staff/login", data={
        "email": user.email, "password": STAFF_PASSWORD,
        "csrf_token": csrf_token(client, "/staff/login")})
    assert response.status_code == 302, response.text
    return client


def post(client, url, data=None, form_url=None):
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, form_url or url)
    return client.post(url, data=data)


def new_answer(client, **fields):
    data = {"key": "faq.freeze", "category": "protection", "incident_id": "", "public": "y",
            "language": "en", "title": "Should I freeze my credit?",
            "body": "Yes. Call {{ hotline }} if unsure."}
    data.update(fields)
    if not data.get("public"):
        data.pop("public")
    return post(client, f"{BASE}/new", data)


def version(db, key, language, number) -> AnswerVersion:
    db.session.expire_all()
    return db.session.execute(
        select(AnswerVersion).join(Answer).where(Answer.key == key,
                                                 AnswerVersion.language == language,
                                                 AnswerVersion.version == number)
    ).scalar_one()


def actions(db) -> list[str]:
    return list(db.session.execute(
        select(Interaction.action).where(Interaction.action.like("answer.%"))
        .order_by(Interaction.id)).scalars())


@pytest.fixture
def incident(make_incident):
    return make_incident(contact_hotline="+1 800 555 0111")


@pytest.fixture
def people(app, make_staff):
    author, reviewer, agent = make_staff("manager"), make_staff("manager"), make_staff("agent")
    return (signed_in(app, author), signed_in(app, reviewer), signed_in(app, agent),
            author, reviewer)


def test_four_eyes_workflow_versions_and_the_public_faq(app, db, client, incident, people):
    author, reviewer, agent, author_user, reviewer_user = people
    response = new_answer(author, incident_id=str(incident.id))
    assert response.status_code == 302
    answer_id = int(re.search(r"/answers/(\d+)", response.location).group(1))
    page = f"{BASE}/{answer_id}"
    assert "Should I freeze" not in client.get("/faq").text  # a draft is not public yet
    assert agent.get(page).status_code == 404  # agents see approved answers only

    assert post(author, f"{page}/en/1/submit", form_url=page).status_code == 302
    assert version(db, "faq.freeze", "en", 1).state == "in_review"
    text = author.get(page).text
    assert "another manager or an admin must approve it" in text.replace("\n", " ")
    post(author, f"{page}/en/1/approve", form_url=page)  # the author cannot approve
    assert version(db, "faq.freeze", "en", 1).state == "in_review"
    post(author, f"{page}/en/1/send-back", form_url=page)  # nor send it back
    assert version(db, "faq.freeze", "en", 1).state == "in_review"

    assert post(reviewer, f"{page}/en/1/send-back", {"note": "Say it is free."},
                form_url=page).status_code == 302
    assert version(db, "faq.freeze", "en", 1).state == "draft"
    post(author, f"{page}/en/edit", {"title": "Should I freeze my credit?",
                                     "body": "Yes, it is free. Call {{ hotline }}."})
    post(author, f"{page}/en/1/submit", form_url=page)
    post(reviewer, f"{page}/en/1/approve", form_url=page)
    first = version(db, "faq.freeze", "en", 1)
    assert first.state == "approved" and first.approved_by_id == reviewer_user.id
    assert first.author_id == author_user.id

    faq = client.get("/faq").text
    assert "Should I freeze my credit?" in faq
    assert 'Yes, it is free. Call <a class="phone-link" href="tel:+1' in faq
    listing = agent.get(f"{BASE}/").text
    assert "Should I freeze my credit?" in listing and "Missing: ES, FR, DE" in listing
    shown = agent.get(page).text
    assert "Yes, it is free." in shown and "Send for review" not in shown
    assert "No approved text in: Español, Français, Deutsch" in shown

    # A change is a new version; the approved one stays as it was until the new one is approved.
    post(author, f"{page}/en/edit", {"title": "Should I freeze my credit?",
                                     "body": "Yes: it is free and quick."})
    assert version(db, "faq.freeze", "en", 2).state == "draft"
    assert version(db, "faq.freeze", "en", 1).body == "Yes, it is free. Call {{ hotline }}."
    assert 'Yes, it is free. Call <a class="phone-link"' in client.get("/faq").text
    post(author, f"{page}/en/2/submit", form_url=page)
    post(reviewer, f"{page}/en/2/approve", form_url=page)
    assert version(db, "faq.freeze", "en", 1).state == "retired"
    assert "Yes: it is free and quick." in client.get("/faq").text

    # Retiring withdraws it from the FAQ and from agents; the page says so and asks twice.
    shown = reviewer.get(page).text
    confirm = shown.split('class="confirm-step"', 1)[1].split("</details>", 1)[0]
    assert "Retire version 2" in confirm and "customers will no longer see it" in confirm
    assert "Yes, retire version 2" in confirm and f"{page}/en/2/retire" in confirm
    post(reviewer, f"{page}/en/2/retire", form_url=page)
    assert "Should I freeze" not in client.get("/faq").text
    assert agent.get(page).status_code == 404
    assert actions(db) == [
        "answer.created", "answer.draft_created", "answer.submitted", "answer.sent_back",
        "answer.draft_saved", "answer.submitted", "answer.approved", "answer.draft_created",
        "answer.submitted", "answer.approved", "answer.retired"]
    sent_back = db.session.execute(select(Interaction).where(
        Interaction.action == "answer.sent_back")).scalar_one()
    assert sent_back.actor_id == reviewer_user.id and sent_back.details["note"] == "Say it is free."


def test_approved_versions_cannot_change_in_the_database(db, people):
    author, reviewer, _agent, _a, _r = people
    new_answer(author)
    answer_id = db.session.execute(select(Answer.id)).scalar_one()
    page = f"{BASE}/{answer_id}"
    post(author, f"{page}/en/1/submit", form_url=page)
    post(reviewer, f"{page}/en/1/approve", form_url=page)
    approved = version(db, "faq.freeze", "en", 1)
    approved.body = "Changed behind the library's back"
    from portal.core.approval import ImmutableVersionError

    with pytest.raises(ImmutableVersionError):
        db.session.flush()
    db.session.rollback()


def test_a_version_in_review_is_not_edited(db, people):
    author, _reviewer, _agent, _a, _r = people
    new_answer(author)
    answer_id = db.session.execute(select(Answer.id)).scalar_one()
    page = f"{BASE}/{answer_id}"
    post(author, f"{page}/en/1/submit", form_url=page)
    response = author.get(f"{page}/en/edit")
    assert response.status_code == 302
    assert "waiting for review" in author.get(page).text


@pytest.mark.parametrize(("body", "message"), [
    ("Call {{ email }} now", "Unknown placeholder: email."),
    ("Call {{ hotline( }} now", "A placeholder is written wrongly"),
    ("{{ ''.__class__ }}", "Only plain placeholders"),
    ("{{ hotline|upper }}", "Only plain placeholders"),
    ("{% for x in hours %}{{ x }}{% endfor %}", "Only plain placeholders"),
])
def test_bad_texts_are_refused_and_nothing_is_lost(db, people, body, message):
    author, *_rest = people
    response = new_answer(author, body=body)
    assert response.status_code == 400
    assert message in response.text
    assert body.replace("'", "&#39;") in response.text  # the text typed is kept in the form
    assert db.session.execute(select(Answer)).first() is None


def test_bad_key_category_and_duplicate_key(db, people):
    author, *_rest = people
    assert "A key is 2 to 80" in new_answer(author, key="Bad Key!").text
    assert new_answer(author, category="nonsense").status_code == 400
    assert new_answer(author).status_code == 302
    response = new_answer(author)
    assert response.status_code == 400 and "An answer with this key exists." in response.text


def test_settings_change_the_public_flag_and_are_logged(db, client, incident, people):
    author, reviewer, agent, *_ = people
    new_answer(author, public="", incident_id=str(incident.id))
    answer_id = db.session.execute(select(Answer.id)).scalar_one()
    page = f"{BASE}/{answer_id}"
    post(author, f"{page}/en/1/submit", form_url=page)
    post(reviewer, f"{page}/en/1/approve", form_url=page)
    assert "Should I freeze" not in client.get("/faq").text
    assert agent.post(f"{page}/settings", data={}).status_code in (400, 403)
    response = post(reviewer, f"{page}/settings", {"category": "protection",
                                                    "incident_id": str(incident.id),
                                                    "public": "y"})
    assert response.status_code == 302
    assert "Should I freeze" in client.get("/faq").text
    logged = db.session.execute(select(Interaction).where(
        Interaction.action == "answer.settings_changed")).scalar_one()
    assert logged.details["changes"] == {"public": [False, True]}


def test_agents_cannot_take_manager_steps(db, people):
    author, _reviewer, agent, *_ = people
    new_answer(author)
    answer_id = db.session.execute(select(Answer.id)).scalar_one()
    page = f"{BASE}/{answer_id}"
    token = csrf_token(agent, f"{BASE}/")
    for step in ("submit", "approve", "send-back", "retire"):
        assert agent.post(f"{page}/en/1/{step}", data={"csrf_token": token}).status_code == 403
    assert agent.get(f"{page}/en/edit").status_code == 403
    assert agent.get(f"{BASE}/new").status_code == 403
    assert version(db, "faq.freeze", "en", 1).state == "draft"


def test_usage_and_deviation_counts(db, incident, people):
    author, reviewer, agent, *_ = people
    new_answer(author)
    answer_id = db.session.execute(select(Answer.id)).scalar_one()
    page = f"{BASE}/{answer_id}"
    post(author, f"{page}/en/1/submit", form_url=page)
    post(reviewer, f"{page}/en/1/approve", form_url=page)
    used = version(db, "faq.freeze", "en", 1)
    ticket = Ticket(incident_id=incident.id, topic="other")
    db.session.add(ticket)
    db.session.flush()
    for deviated in (False, False, True):
        db.session.add(TicketMessage(ticket_id=ticket.id, author_type="staff", body="Reply",
                                     answer_version_id=used.id, deviated=deviated))
    db.session.commit()
    listing = agent.get(f"{BASE}/").text
    assert re.search(r'data-label="Used">3</td>\s*<td class="num" data-label="Deviated">1<',
                     listing)
    assert "3 times, 1 with changes" in agent.get(page).text


def test_search_and_category_filter(db, people):
    author, *_ = people
    new_answer(author)
    new_answer(author, key="reply.hello", category="other", title="Hello there", public="")
    both = author.get(f"{BASE}/").text
    assert "Should I freeze" in both and "Hello there" in both
    only = author.get(f"{BASE}/?q=FREEZE").text
    assert "Should I freeze" in only and "Hello there" not in only
    assert "Hello there" in author.get(f"{BASE}/?q=reply.").text
    by_category = author.get(f"{BASE}/?category=other").text
    assert "Hello there" in by_category and "Should I freeze" not in by_category
    assert "No answer matches." in author.get(f"{BASE}/?q=zebra").text


def test_a_new_language_starts_from_the_english_text(db, people):
    author, reviewer, *_ = people
    new_answer(author)
    answer_id = db.session.execute(select(Answer.id)).scalar_one()
    page = f"{BASE}/{answer_id}"
    post(author, f"{page}/en/1/submit", form_url=page)
    post(reviewer, f"{page}/en/1/approve", form_url=page)
    assert "Yes. Call {{ hotline }} if unsure." in author.get(f"{page}/de/edit").text
    assert author.get(f"{page}/xx/edit").status_code == 404
    post(author, f"{page}/de/edit", {"title": "Soll ich sperren?", "body": "Ja."})
    assert version(db, "faq.freeze", "de", 1).state == "draft"


def test_an_answers_page_is_headed_in_the_readers_language(app, db, client, make_staff,
                                                           login, make_answers):
    """The library lists an answer under its German title; its page had an English heading."""
    made = make_answers()
    key, _language = next(iter(made))
    german, english = made[key, "de"], made[key, "en"]
    login(make_staff("agent"))
    page = client.get(f"/helpdesk/answers/{german.answer_id}?lang=de").text
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert heading == german.title != english.title
