"""The customer's notice: content, activation code, PDF, update banner, language switch."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from portal.models import ActivationCode
from tests.support import csrf_token
from tests.support.customer import (
    FULL_CONTACT,
    actions,
    add_activation_codes,
    approve_notice,
    interactions,
    sign_in,
)


@pytest.fixture
def incident(db, make_incident):
    hours = {"contact_hours": "Monday to Friday, 8:00 to 20:00"}
    incident = make_incident(**{**FULL_CONTACT, **hours})
    approve_notice(db, incident)
    return incident


def test_notice_has_the_model_form_and_this_persons_categories(client, db, incident,
                                                              make_person):
    record, plain = make_person(incident, categories=["national_id", "health"])
    sign_in(client, plain)
    response = client.get("/notice")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = response.text
    assert text.count("<h1") == 1 and "Notice of Data Breach" in text
    headings = ["What Happened", "What Information Was Involved", "What We Are Doing",
                "What You Can Do", "For More Information"]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert "National identification or Social Security number" in text
    assert "Place a credit freeze with each credit bureau" in text
    assert "Equifax" in text  # bureaus because a national id was exposed
    for value in ("+1 800 555 0199", "Monday to Friday", "help@insurer.example",
                  "1 Example Plaza", "dpo@insurer.example"):
        assert value in text
    assert "Someone accessed our policy system" in text
    # Never the values themselves, and not other categories.
    assert plain["date_of_birth"] not in text and plain["policy_number"] not in text
    assert "Payment card" not in text
    viewed = interactions(db, "notice.viewed")
    assert len(viewed) == 1 and viewed[0].details["version"] == 1


def test_no_bureaus_without_identity_numbers(client, incident, make_person):
    _record, plain = make_person(incident, categories=["contact_details"])
    sign_in(client, plain)
    assert "Equifax" not in client.get("/notice").text


def test_notice_not_ready_without_an_approved_version(client, make_incident, make_person):
    _record, plain = make_person(make_incident())
    sign_in(client, plain)
    response = client.get("/notice")
    assert response.status_code == 200
    assert "not ready yet" in response.text
    assert client.get("/notice.pdf").status_code == 404


def test_activation_code_is_revealed_on_request_and_stays_the_same(client, db, incident,
                                                                   make_person):
    record, plain = make_person(incident)
    codes = add_activation_codes(db, incident, 2)
    sign_in(client, plain)
    page = client.get("/notice")
    assert "Show my activation code" in page.text
    assert not any(code in page.text for code in codes)
    token = csrf_token(client, "/notice")
    response = client.post("/notice/activation-code", data={"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/notice#activation")
    first = client.get("/notice")
    assert first.headers["Cache-Control"] == "no-store"
    shown = [code for code in codes if code in first.text]
    assert len(shown) == 1
    assert "March 1, 2027" in first.text
    assert "https://monitoring.example/enrol" in first.text
    second = client.post("/notice/activation-code", data={"csrf_token": token},
                         follow_redirects=True)
    assert shown[0] in second.text
    assert shown[0] in client.get("/notice?lang=en").text
    assigned = db.session.execute(
        __import__("sqlalchemy").select(ActivationCode).where(
            ActivationCode.person_id == record.id)).scalars().all()
    assert len(assigned) == 1
    assert "activation_code.assigned" in actions(db)


def test_activation_code_pool_empty_gives_a_clear_message(client, incident, make_person):
    _record, plain = make_person(incident)
    sign_in(client, plain)
    token = csrf_token(client, "/notice")
    response = client.post("/notice/activation-code", data={"csrf_token": token},
                           follow_redirects=True)
    assert "could not give you an activation code" in response.text


def test_activation_code_needs_csrf_and_verification(client, incident, make_person):
    assert client.post("/notice/activation-code").status_code == 400
    _record, plain = make_person(incident)
    sign_in(client, plain)
    assert client.post("/notice/activation-code", data={}).status_code == 400


def test_pdf_has_the_same_notice(client, db, incident, make_person):
    _record, plain = make_person(incident, categories=["national_id"])
    sign_in(client, plain)
    response = client.get("/notice.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"%PDF")
    assert actions(db, "notice.pdf") == ["notice.pdf_downloaded"]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=response.data,
                              capture_output=True, check=True).stdout.decode()
        for heading in ("Notice of Data Breach", "What Happened", "For More Information",
                        "National identification", "+1 800 555 0199", "Equifax"):
            assert heading in text


def test_pdf_in_spanish_embeds_unicode(client, db, incident, make_person):
    approve_notice(db, incident, language="es")
    _record, plain = make_person(incident, language="es")
    sign_in(client, plain)
    response = client.get("/notice.pdf")
    assert response.status_code == 200
    assert b"DejaVu" in response.data
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=response.data,
                              capture_output=True, check=True).stdout.decode()
        assert "pólizas" in text


def test_banner_when_a_newer_version_exists(client, db, incident, make_person):
    _record, plain = make_person(incident)
    sign_in(client, plain)
    assert "has been updated" not in client.get("/notice").text
    approve_notice(db, incident, version=2, what_changed="We added the date we found it.")
    page = client.get("/notice").text
    assert "has been updated since you last read it" in page
    assert "We added the date we found it." in page
    # Seen now: no banner on the next visit.
    assert "has been updated" not in client.get("/notice").text


def test_language_switch_saves_the_preference(client, db, incident, make_person):
    approve_notice(db, incident, language="es")
    record, plain = make_person(incident)
    sign_in(client, plain)
    response = client.get("/notice?lang=es")
    assert response.status_code == 200
    assert '<html lang="es">' in response.text
    assert "Alguien accedió sin permiso" in response.text
    db.session.refresh(record)
    assert record.language == "es"
    changed = interactions(db, "preferences.changed")
    assert changed[-1].details == {"field": "language", "from": "en", "to": "es",
                                   "via": "switcher"}
    # The saved language wins over the browser's.
    page = client.get("/notice", headers={"Accept-Language": "de"})
    assert '<html lang="es">' in page.text


def test_saved_language_becomes_the_interface_language(client, db, incident, make_person):
    approve_notice(db, incident, language="es")
    _record, plain = make_person(incident, language="es")
    sign_in(client, plain)
    page = client.get("/notice")
    assert '<html lang="es">' in page.text
    assert "Alguien accedió sin permiso" in page.text


def test_print_stylesheet_hides_navigation(app):
    from pathlib import Path

    css = (Path(app.static_folder) / "css" / "site.css").read_text()
    assert "@media print" in css and ".customer-nav" in css.split("customer portal")[1]


def test_notice_view_is_logged_once_per_session_and_version(client, db, incident, make_person):
    _record, plain = make_person(incident)
    sign_in(client, plain)
    for _ in range(3):
        assert client.get("/notice").status_code == 200
    assert len(interactions(db, "notice.viewed")) == 1
    approve_notice(db, incident, version=2, what_changed="Updated.")
    assert "Updated." in client.get("/notice").text
    client.get("/notice")
    assert [row.details["version"] for row in interactions(db, "notice.viewed")] == [1, 2]


def test_saving_a_new_language_confirms_in_that_language(client, db, incident, make_person):
    """The confirmation shows on the next page, which is in the language just chosen."""
    from tests.support import csrf_token

    approve_notice(db, incident, language="de")
    _record, plain = make_person(incident, language="en", email="pat@example.org")
    sign_in(client, plain)
    token = csrf_token(client, "/preferences")
    saved = client.post("/preferences", data={
        "csrf_token": token, "language": "de", "preferred_channel": "email"},
        follow_redirects=True)
    assert '<html lang="de">' in saved.text
    assert "Ihre Einstellungen wurden gespeichert." in saved.text
    assert "Your preferences were saved." not in saved.text
