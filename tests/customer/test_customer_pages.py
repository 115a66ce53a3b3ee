"""Preferences, FAQ, "I did not get a letter" and the development outbox."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from portal.models import Answer, AnswerVersion, Person
from portal.models.base import utcnow
from portal.people import verification
from tests.support import csrf_token
from tests.support.customer import (
    actions,
    approve_notice,
    interactions,
    main_html,
    outbox,
    personal_values,
    sign_in,
)
from tests.support.dates import dob_fields


@pytest.fixture
def incident(db, make_incident):
    incident = make_incident(contact_hotline="+1 800 555 0111")
    approve_notice(db, incident)
    return incident


# --- preferences ------------------------------------------------------------------------------


def save_preferences(client, **data):
    data["csrf_token"] = csrf_token(client, "/preferences")
    return client.post("/preferences", data=data)


def test_preferences_change_each_field_logged(client, db, incident, make_person):
    record, plain = make_person(incident)
    sign_in(client, plain)
    page = client.get("/preferences")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert '<label class="label" for="preferred_channel">' in page.text
    response = save_preferences(client, language="de", preferred_channel="sms")
    assert response.status_code == 302
    db.session.refresh(record)
    assert (record.language, record.preferred_channel, record.sms_opt_out) == ("de", "sms",
                                                                               False)
    changed = interactions(db, "preferences.changed")
    assert sorted(row.details["field"] for row in changed) == ["language", "preferred_channel"]
    assert all(row.actor_type == "customer" and row.person_id == record.id for row in changed)
    assert '<html lang="de">' in client.get("/preferences").text
    save_preferences(client, language="de", preferred_channel="email", sms_opt_out="y")
    db.session.refresh(record)
    assert record.sms_opt_out is True and record.preferred_channel == "email"
    assert len(interactions(db, "preferences.changed")) == 4


def test_preferences_refuse_sms_when_opted_out_or_without_phone(client, db, incident,
                                                                make_person):
    record, plain = make_person(incident)
    sign_in(client, plain)
    response = save_preferences(client, language="en", preferred_channel="sms", sms_opt_out="y")
    assert response.status_code == 400
    assert "You chose not to receive text messages" in response.text
    assert 'aria-describedby="preferred_channel-hint preferred_channel-error"' in response.text
    record.phone = None
    db.session.commit()
    response = save_preferences(client, language="en", preferred_channel="sms")
    assert response.status_code == 400 and "do not hold a mobile number" in response.text
    assert interactions(db, "preferences.changed") == []


def test_unknown_language_is_refused(client, incident, make_person):
    _record, plain = make_person(incident)
    sign_in(client, plain)
    response = save_preferences(client, language="xx", preferred_channel="email")
    assert response.status_code == 400


# --- FAQ ---------------------------------------------------------------------------------------


def add_answer(db, key, texts, public=True, state="approved", incident_id=None):
    answer = Answer(key=key, category="general", public=public, incident_id=incident_id)
    db.session.add(answer)
    db.session.flush()
    for language, (title, body) in texts.items():
        db.session.add(AnswerVersion(answer_id=answer.id, language=language, version=1,
                                     title=title, body=body, state=state,
                                     approved_at=utcnow() if state == "approved" else None))
    db.session.commit()
    return answer


def test_faq_shows_approved_public_answers_in_the_language(client, db, incident, make_person):
    add_answer(db, "a.freeze", {"en": ("Should I freeze my credit?", "Yes, it is free."),
                                "es": ("¿Debo congelar mi crédito?", "Sí, es gratis.")})
    add_answer(db, "a.only_en", {"en": ("Only in English", "Call {{ hotline }} any time.")},
               incident_id=incident.id)
    add_answer(db, "a.private", {"en": ("Internal only", "Not for customers")}, public=False)
    add_answer(db, "a.draft", {"en": ("Draft answer", "Not approved")}, state="draft")
    page = client.get("/faq")
    assert page.status_code == 200
    assert "Should I freeze my credit?" in page.text and "Only in English" in page.text
    # The helpline is a number to tap on a phone, kept on one line.
    assert ('Call <a class="phone-link" href="tel:+18005550111">+1 800 555 0111</a> any time.'
            in page.text)
    assert "Internal only" not in page.text and "Draft answer" not in page.text
    _record, plain = make_person(incident, language="es")
    sign_in(client, plain)
    page = client.get("/faq").text
    assert "¿Debo congelar mi crédito?" in page
    assert "Only in English" in page and 'lang="en"' in page  # English fallback, marked
    assert page.count("<h1") == 1


def test_faq_search(client, db):
    add_answer(db, "a.freeze", {"en": ("Should I freeze my credit?", "It is free.")})
    add_answer(db, "a.phone", {"en": ("Someone called me", "Hang up and call us back.")})
    page = client.get("/faq?q=FREEZE").text
    assert "Should I freeze" in page and "Someone called me" not in page
    assert "1 answer found" in page
    page = client.get("/faq?q=call+back").text
    assert "Someone called me" in page and "Should I freeze" not in page
    assert "0 answers found" in client.get("/faq?q=zebra").text


def test_faq_search_ignores_accents_both_ways(client, db):
    """Customers type on phones without accents: 'credito' finds 'crédito', and back."""
    add_answer(db, "a.credito", {"es": ("¿Debo congelar mi crédito?", "Es gratis y rápido.")})
    for q in ("credito", "CRÉDITO", "rapido"):
        page = client.get(f"/faq?lang=es&q={q}").text
        assert "congelar mi crédito" in page, q
    add_answer(db, "a.plain", {"es": ("Sobre el credito", "Sin acento.")})
    assert "Sobre el credito" in client.get("/faq?lang=es&q=crédito").text


def test_faq_hides_other_incidents_answers_from_verified_people(client, db, incident,
                                                                make_incident, make_person):
    other = make_incident()
    add_answer(db, "a.other", {"en": ("Other incident answer", "Body")}, incident_id=other.id)
    _record, plain = make_person(incident)
    sign_in(client, plain)
    assert "Other incident answer" not in client.get("/faq").text


# --- "I did not get a letter" ---------------------------------------------------------------


def ask_for_code(client, **values):
    values["csrf_token"] = csrf_token(client, "/no-letter")
    started = time.monotonic()
    response = client.post("/no-letter", data=values)
    return response, time.monotonic() - started


class TestNoLetter:
    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["CUSTOMER_RESEND_MIN_SECONDS"] = 0.3
        return app_settings

    def test_same_response_whether_or_not_a_record_matched(self, client, db, incident,
                                                           make_person):
        record, plain = make_person(incident, first_name="Zoë", last_name="Müller-Lüdenscheidt")
        record.preferred_channel = "sms"
        db.session.commit()
        good = {"first_name": "Zoe", "last_name": "muller ludenscheidt",
                **dob_fields(plain["date_of_birth"]), "postcode": plain["postcode"],
                "policy_number": plain["policy_number"]}
        matched, matched_time = ask_for_code(client, **good)
        missed, missed_time = ask_for_code(client, **dict(good, policy_number="POL00000000"))
        nobody, nobody_time = ask_for_code(client, **dict(good, last_name="Nobody"))
        assert matched.status_code == missed.status_code == nobody.status_code == 200
        assert main_html(matched) == main_html(missed) == main_html(nobody)
        assert "If our records match" in matched.text
        assert min(matched_time, missed_time, nobody_time) >= 0.3
        assert matched.headers["Cache-Control"] == "no-store"
        # Only the match sent anything: an SMS with a link, no personal data.
        [sms] = outbox(db, "sms")
        assert sms.recipient == plain["phone"]
        assert f"/n/{plain['notice_code']}" in sms.body
        for value in personal_values(plain) + ["Zoë", "Müller"]:
            assert value not in sms.body
        requested = interactions(db, "code_resend.requested")
        assert [row.details["matched"] for row in requested] == [True, False, False]
        for row in requested:
            assert not any(v in json.dumps(row.details) for v in personal_values(plain))
        assert actions(db, "code_resend.sent") == ["code_resend.sent"]

    def test_email_carries_the_code(self, client, db, incident, make_person):
        _record, plain = make_person(incident)
        ask_for_code(client, first_name="Jamie", last_name=plain["last_name"],
                     **dob_fields(plain["date_of_birth"]), postcode=plain["postcode"],
                     policy_number=plain["policy_number"])
        [mail] = outbox(db, "email")
        assert mail.recipient == plain["email"] and plain["notice_code"] in mail.body

    def test_form_errors_are_named(self, client):
        response, _elapsed = ask_for_code(client, first_name="", last_name="X",
                                          **dob_fields("2999-01-01"), postcode="",
                                          policy_number="")
        assert response.status_code == 400
        for message in ("Enter your first name.", "Date of birth must be in the past.",
                        "Enter your postcode or ZIP code."):
            assert message in response.text
        # The policy number is optional (issue 13 item 4): leaving it empty is no error.
        assert "Enter your policy number." not in response.text


def test_no_sms_body_ever_contains_personal_data(client, db, incident, make_person):
    """Every SMS the customer side sends: code reminders and reply notices."""
    from portal.dispatch.replies import notify_reply
    from portal.models import Ticket, TicketMessage

    people = [make_person(incident, first_name=f"Name{n}") for n in range(3)]
    for record, _plain in people:
        record.preferred_channel = "sms"
        db.session.add(Ticket(incident_id=incident.id, person_id=record.id, topic="other"))
    db.session.commit()
    for record, plain in people:
        values = {"csrf_token": csrf_token(client, "/no-letter"), "first_name": "x",
                  "last_name": plain["last_name"], **dob_fields(plain["date_of_birth"]),
                  "postcode": plain["postcode"], "policy_number": plain["policy_number"]}
        client.post("/no-letter", data=values)
        ticket = db.session.execute(select(Ticket).where(Ticket.person_id == record.id)).scalar()
        db.session.add(TicketMessage(ticket_id=ticket.id, author_type="staff", body="secret"))
        db.session.commit()
        notify_reply(ticket.id)
    messages = outbox(db, "sms")
    assert len(messages) == 6
    for message in messages:
        assert len(message.body) <= 160
        for _record, plain in people:
            for value in personal_values(plain) + [plain["first_name"], "secret"]:
                assert value not in message.body


# --- development outbox -----------------------------------------------------------------------


def test_dev_outbox_lists_messages(client, db, make_staff, login):
    from portal.dispatch.channels import email, sms

    login(make_staff("manager"))  # the outbox is for managers and admins only

    sms.send("+14155550100", "Hello from the outbox")
    email.send("someone@example.com", "Body text", subject="Subject line")
    db.session.commit()
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    assert "Hello from the outbox" in page.text and "Subject line" in page.text
    assert page.headers["Cache-Control"] == "no-store"


class TestDevPagesOff:
    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["DEV_PAGES"] = False
        return app_settings

    def test_no_outbox_page(self, client):
        assert client.get("/dev/outbox").status_code == 404


class TestProduction:
    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["ENV_NAME"] = "production"
        return app_settings

    def test_no_outbox_page_in_production_even_if_asked(self, client):
        assert client.get("/dev/outbox").status_code == 404


def test_person_is_untouched_by_anonymous_pages(client, db, incident, make_person):
    record, _plain = make_person(incident)
    client.get("/faq?lang=de")
    db.session.refresh(record)
    assert record.language == "en"
    assert verification.failures(db.session.get(Person, record.id)).failures == 0


# --- L4: at most CUSTOMER_RESEND_PER_DAY code reminders per person in 24 hours ----------------


class TestResendLimit:
    def test_at_most_three_reminders_a_day_and_the_page_never_tells(self, client, db, incident,
                                                                    make_person):
        _record, plain = make_person(incident)
        values = {"first_name": "Jamie", "last_name": plain["last_name"],
                  **dob_fields(plain["date_of_birth"]), "postcode": plain["postcode"],
                  "policy_number": plain["policy_number"]}
        pages = [ask_for_code(client, **values)[0] for _ in range(5)]
        assert {page.status_code for page in pages} == {200}
        assert len({main_html(page) for page in pages}) == 1
        assert len(outbox(db, "email")) == 3
        assert actions(db, "code_resend.") == (["code_resend.requested", "code_resend.sent"] * 3
                                               + ["code_resend.requested",
                                                  "code_resend.throttled"] * 2)
        throttled = interactions(db, "code_resend.throttled")
        assert throttled[0].details == {"sent_last_day": 3}


def test_customer_settings_have_class_defaults_and_are_documented(app):
    from pathlib import Path

    from portal.config import Config

    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    expected = {"CUSTOMER_IDLE_MINUTES": 30, "CUSTOMER_MAX_HOURS": 12,
                "CUSTOMER_LOCKOUT_ATTEMPTS": 5, "CUSTOMER_LOCKOUT_MINUTES": 30,
                "CUSTOMER_RESEND_MIN_SECONDS": 0.5, "CUSTOMER_RESEND_PER_DAY": 3,
                "CUSTOMER_TICKETS_PER_DAY": 10,
                "CUSTOMER_DEFAULT_VERIFICATION_METHOD": "postcode",
                "CUSTOMER_LOCK_HOTLINE": None, "CUSTOMER_LOCK_HOTLINE_HOURS": None,
                "TICKET_FIRST_RESPONSE_HOURS": 24, "TICKET_RESOLUTION_HOURS": 120}
    for name, value in expected.items():
        assert getattr(Config, name) == value, name
        assert f"`{name}`" in docs, name


def test_faq_answer_that_fails_to_fill_in_shows_as_written_and_is_logged(client, db, caplog):
    add_answer(db, "a.broken", {"en": ("Broken answer", "Call {{ hotline( }} any time.")})
    with caplog.at_level("WARNING", logger="portal.answers.faq"):
        page = client.get("/faq")
    assert page.status_code == 200
    assert "Call {{ hotline( }} any time." in page.text
    assert [record.name for record in caplog.records] == ["portal.answers.faq"]


def test_faq_fills_placeholders_like_a_reply_without_personal_ones(app, client, db, incident):
    """One sandbox and one set of values for the FAQ and the reply composer."""
    from portal.answers.render import values_for

    add_answer(db, "a.visit", {"en": ("Where do I look?",
                                      "Hello {{ first_name }}, visit {{ portal_url }} or call "
                                      "{{ hotline }} ({{ categories }}).")},
               incident_id=incident.id)
    page = client.get("/faq").text
    with app.test_request_context():
        expected = values_for(incident, None, "en", public=True)
    assert expected["first_name"] == "" and expected["categories"] == ""
    hotline = incident.contact_hotline
    link = f'<a class="phone-link" href="tel:{hotline.replace(" ", "")}">{hotline}</a>'
    assert f"Hello , visit {expected['portal_url']} or call {link} ()." in page
    # A text that tries to reach Python objects is refused by the sandbox and shown as written.
    add_answer(db, "a.escape", {"en": ("Escape", "{{ hotline.__class__.__mro__ }}")})
    assert "{{ hotline.__class__.__mro__ }}" in client.get("/faq").text
