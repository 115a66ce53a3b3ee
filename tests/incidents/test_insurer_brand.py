"""Issue 13 item 1: who is writing. The insurer's name and logo on the customer pages after
verification (never before), the notice's title, the PDF and every message; the logo upload."""

from __future__ import annotations

import hashlib
import io
import os
import re

import pytest
from PIL import Image
from sqlalchemy import select

from portal.models import Interaction, NoticeVersion
from portal.models.base import utcnow
from tests.support.dates import dob_fields

INSURER = "Acme Mutual Assurance"


def png(size=(120, 40), color=(20, 60, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def token_of(client, url: str) -> str:
    page = client.get(url)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def header(response) -> str:
    match = re.search(r'<header class="site-header">.*?</header>', response.text, re.S)
    assert match
    return match.group(0)


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.text, re.S).group(1)


@pytest.fixture
def branded(db, make_incident, make_person):
    """An incident naming its insurer, with a logo and an approved English notice."""
    from portal.incidents.brand import set_logo

    incident = make_incident(insurer_name=INSURER)
    set_logo(incident, png())
    db.session.add(NoticeVersion(incident_id=incident.id, version=1, language="en",
                                 state="approved", what_happened="Someone got in.",
                                 approved_at=utcnow()))
    db.session.commit()
    person, plain = make_person(incident)
    return incident, person, plain


def verify(client, plain):
    response = client.post("/", data={"code": plain["notice_code"],
                                      "csrf_token": token_of(client, "/")})
    assert response.status_code == 302
    verify_page = client.get("/verify")
    response = client.post("/verify", data={
        **dob_fields(plain["date_of_birth"]), "postcode": plain["postcode"],
        "csrf_token": token_of(client, "/"),
    })
    assert response.status_code == 302 and response.location.endswith("/notice")
    return verify_page


# --- customer pages ---------------------------------------------------------------------------


def test_verified_pages_name_the_insurer_and_the_entry_pages_do_not(client, branded):
    incident, _person, plain = branded
    entry = client.get("/")
    assert INSURER not in entry.text and "/logo/" not in entry.text
    assert "Breach notification portal" in header(entry)
    verify_page = verify(client, plain)
    # The verification page knows the code but must not tell whose it is.
    assert INSURER not in verify_page.text and "/logo/" not in verify_page.text

    notice = client.get("/notice")
    assert notice.status_code == 200
    assert title(notice) == f"{INSURER} — Notice of Data Breach"
    logo_url = f"/logo/{incident.insurer_logo_digest}.png"
    assert INSURER in header(notice) and logo_url in header(notice)
    for url in ("/faq", "/tickets", "/tickets/new", "/preferences"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert INSURER in header(page) and logo_url in header(page), url
        assert title(page).endswith(f" · {INSURER}"), url


def test_a_renamed_insurer_shows_at_once_in_the_process_that_renamed_it(app, db, client,
                                                                       branded):
    """The incident's face is a kept list (``portal.core.lists``): kept for
    ``NOTICE_STAMP_SECONDS``, emptied when a transaction here writes the incident."""
    incident, _person, plain = branded
    app.config["NOTICE_STAMP_SECONDS"] = 600
    verify(client, plain)
    assert INSURER in header(client.get("/faq"))
    incident.insurer_name = "Renamed Mutual"
    db.session.commit()
    page = header(client.get("/faq"))
    assert "Renamed Mutual" in page and INSURER not in page


def test_operator_name_shows_before_verification_when_set(app, client, branded):
    app.config["PORTAL_OPERATOR_NAME"] = "Portal Operator Ltd"
    for url in ("/", "/no-letter", "/faq"):
        page = client.get(url)
        assert "Portal Operator Ltd" in header(page), url
        assert INSURER not in page.text, url
    verify(client, branded[2])
    assert INSURER in header(client.get("/notice"))


def test_unknown_and_real_codes_get_the_same_unbranded_verify_page(client, branded):
    from portal.security.crypto import generate_code

    _incident, _person, plain = branded
    pages = []
    for code in (plain["notice_code"], generate_code()):
        with client.session_transaction() as session:
            session.clear()
        client.post("/", data={"code": code, "csrf_token": token_of(client, "/")})
        pages.append(header(client.get("/verify")))
    assert pages[0] == pages[1]


def test_notice_without_an_insurer_keeps_the_plain_title(db, client, make_incident,
                                                         make_person):
    incident = make_incident()
    db.session.add(NoticeVersion(incident_id=incident.id, version=1, language="en",
                                 state="approved", what_happened="x", approved_at=utcnow()))
    db.session.commit()
    _person, plain = make_person(incident)
    verify(client, plain)
    notice = client.get("/notice")
    assert title(notice) == "Notice of Data Breach"
    assert "/logo/" not in notice.text


# --- the logo: upload, checks, serving --------------------------------------------------------


@pytest.fixture
def manager(make_staff, login):
    user = make_staff("manager")
    assert login(user).status_code == 302
    return user


def upload(client, reference, data: bytes, filename="logo.png"):
    url = f"/helpdesk/incidents/{reference}/logo"
    return client.post(url, data={"csrf_token": token_of(client, url),
                                  "logo": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_manager_uploads_a_logo_served_with_a_long_cache_and_nosniff(db, client, manager,
                                                                     make_incident):
    incident = make_incident(insurer_name=INSURER)
    data = png()
    response = upload(client, incident.reference, data)
    assert response.status_code == 302
    db.session.refresh(incident)
    digest = hashlib.sha256(data).hexdigest()
    assert incident.insurer_logo_digest == digest and incident.insurer_logo_type == "image/png"
    logged = db.session.execute(select(Interaction).where(
        Interaction.action == "incident.logo_set")).scalar_one()
    assert logged.details["changes"]["insurer_logo_digest"] == [None, digest]

    served = client.get(f"/logo/{digest}.png")
    assert served.status_code == 200 and served.data == data
    assert served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert "immutable" in served.headers["Cache-Control"]
    assert client.get(f"/logo/{digest}.jpg").status_code == 404
    assert client.get(f"/logo/{'0' * 64}.png").status_code == 404
    assert client.get("/logo/../../etc.png").status_code == 404

    show = client.get(f"/helpdesk/incidents/{incident.reference}")
    assert INSURER in show.text and f"/logo/{digest}.png" in show.text

    url = f"/helpdesk/incidents/{incident.reference}/logo/remove"
    token = token_of(client, f"/helpdesk/incidents/{incident.reference}/logo")
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    db.session.refresh(incident)
    assert incident.insurer_logo_digest is None
    assert client.get(f"/logo/{digest}.png").status_code == 404


def test_a_jpeg_logo_is_accepted(db, client, manager, make_incident):
    incident = make_incident(insurer_name=INSURER)
    assert upload(client, incident.reference, jpeg(), "logo.jpeg").status_code == 302
    db.session.refresh(incident)
    assert incident.insurer_logo_type == "image/jpeg"
    served = client.get(f"/logo/{incident.insurer_logo_digest}.jpg")
    assert served.mimetype == "image/jpeg"


@pytest.mark.parametrize("data, message", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "not a PNG or JPEG"),
    (b"GIF89a" + b"\0" * 40, "not a PNG or JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"not really a png", "cannot be read"),
    (b"", "Choose a PNG or JPEG file"),
])
def test_the_logo_is_checked_by_its_content_not_its_name(db, client, manager, make_incident,
                                                        data, message):
    incident = make_incident(insurer_name=INSURER)
    response = upload(client, incident.reference, data, filename="logo.png")
    assert response.status_code == 200
    assert message in response.text
    db.session.refresh(incident)
    assert incident.insurer_logo_digest is None


def test_a_logo_over_the_size_limit_is_refused(app, db, client, manager, make_incident):
    app.config["INSURER_LOGO_MAX_BYTES"] = 2048
    incident = make_incident(insurer_name=INSURER)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (100, 100), os.urandom(30000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 2048
    response = upload(client, incident.reference, buffer.getvalue())
    assert response.status_code == 200
    assert "larger than 2 KB" in response.text
    db.session.refresh(incident)
    assert incident.insurer_logo_digest is None


def test_the_incident_form_requires_the_insurer_name(db, client, manager, make_incident):
    incident = make_incident()
    url = f"/helpdesk/incidents/{incident.reference}/edit"
    data = {"csrf_token": token_of(client, url), "reference": incident.reference,
            "title": incident.title, "status": "active", "default_language": "en",
            "verification_method": "postcode", "insurer_name": ""}
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert re.search(r"Enter the insurer(&#39;|')s name", response.text)
    data["insurer_name"] = INSURER
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(incident)
    assert incident.insurer_name == INSURER


# --- the PDF and the messages -----------------------------------------------------------------


def test_the_pdf_carries_the_insurer_and_its_logo(client, branded):
    verify(client, branded[2])
    response = client.get("/notice.pdf")
    assert response.status_code == 200
    assert b"/Subtype /Image" in response.data
    # The document's author and title name the insurer (the title in UTF-16: it has a dash).
    assert f"/Author ({INSURER})".encode() in response.data
    assert f"{INSURER} — Notice of Data Breach".encode("utf-16-be").hex().upper() \
        in response.data.upper().decode("latin-1")


def test_every_message_names_the_insurer_and_the_sms_stays_short(app, branded):
    from portal.dispatch import messages

    _incident, person, plain = branded
    for compose in (messages.code_reminder, messages.reply_notice):
        subject, sms_body, email_body = compose(person)
        assert subject.startswith(f"{INSURER}: ")
        assert sms_body.startswith(f"{INSURER}: ")
        assert email_body.rstrip().endswith(INSURER)
        assert len(sms_body) <= 160
        for key in ("first_name", "last_name", "date_of_birth", "postcode", "policy_number",
                    "email", "phone"):
            assert str(plain[key]) not in sms_body


def test_a_long_insurer_name_is_shortened_in_the_sms_only(db, app, make_incident, make_person):
    from portal.dispatch import messages

    name = "The Very Long Name Mutual Insurance Company of the Western Seaboard Ltd"
    person, _plain = make_person(make_incident(insurer_name=name))
    subject, sms_body, email_body = messages.code_reminder(person)
    assert subject.startswith(name)
    assert email_body.endswith(name)
    prefix = sms_body.split(": ", 1)[0]
    assert len(prefix) <= messages.SMS_NAME_LIMIT and prefix.endswith("…")


def test_messages_in_the_person_language_use_the_translated_frame(db, app, make_incident,
                                                                  make_person):
    from portal.dispatch import messages

    person, _plain = make_person(make_incident(insurer_name=INSURER), language="de")
    subject, sms_body, _email = messages.code_reminder(person)
    assert INSURER in subject and INSURER in sms_body


def test_no_insurer_means_messages_as_before(db, app, make_incident, make_person):
    from portal.dispatch import messages

    person, _plain = make_person(make_incident())
    subject, sms_body, _email = messages.code_reminder(person)
    assert subject == "Your notice code"
    assert sms_body.startswith("You asked for your notice code.")


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_names_its_insurer_and_has_a_logo(app, db):
    from portal.demo import seed
    from portal.demo.base import DEMO_REFERENCE
    from portal.incidents.operations import find_incident

    seed(people=2)
    incident = find_incident(DEMO_REFERENCE)
    assert incident.insurer_name == "Demo Mutual Insurance"
    assert incident.insurer_logo_type == "image/png"
    assert len(incident.insurer_logo) < 200 * 1024
