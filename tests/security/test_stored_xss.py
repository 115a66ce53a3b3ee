"""Issue 12 item 7: a stored-XSS corpus in every field a customer or staff member can store.

Each payload is stored in every text field that a page shows (ticket messages and replies,
an affected person's imported reference, incident fields, notice texts, an override
reason, filings, advice, a staff member's name). Every page that shows them, customer
and staff, must show the payload escaped — never as markup — and the notice PDF must
carry it as plain text.
"""

from __future__ import annotations

import io
import re

import pytest
from markupsafe import escape

from tests.support.dates import dob_fields

CORPUS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    "</textarea><svg onload=alert(1)>",
    "'><iframe srcdoc='<b>x</b>'>",
]
SCRIPT_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)


def _assert_safe(page: str, payload: str, where: str) -> None:
    assert str(escape(payload)) in page, f"{where}: the stored text is not shown"
    if escape(payload) != payload:
        assert payload not in page, f"{where}: the payload appears unescaped"
    assert not SCRIPT_URL.search(page), f"{where}: a javascript: URL in an attribute"


@pytest.fixture
def stored(db, make_incident, make_person, make_staff, verify_as, open_ticket, form_token):
    """Store one payload everywhere; returns (payload, customer client, manager, incident, ids)."""

    def store(payload: str):
        from datetime import UTC, datetime

        from portal.models import IncidentAdvice, NoticeVersion, RegulatorFiling
        from portal.notices.checklist import checklist
        from portal.notices.workflow import record_override

        manager = make_staff("manager", name=payload)
        incident = make_incident(
            title=payload, summary=payload, contact_hotline=payload[:40], contact_hours=payload,
            contact_postal_address=payload, dpo_contact=payload, monitoring_provider=payload,
            monitoring_enroll_url="https://monitoring.example/enrol",
            categories=["contact_details", "date_of_birth"])
        texts = {name: payload for name in ("what_happened", "what_we_are_doing",
                                            "likely_consequences", "other_information",
                                            "what_changed")}
        db.session.add(NoticeVersion(incident_id=incident.id, version=1, language="en",
                                     state="approved", author_id=manager.id,
                                     approved_by_id=manager.id, approved_at=datetime.now(UTC),
                                     **texts))
        draft = NoticeVersion(incident_id=incident.id, version=2, language="en", state="draft",
                              author_id=manager.id, **texts)
        db.session.add(draft)
        db.session.add(RegulatorFiling(incident_id=incident.id, authority=payload,
                                       reference=payload, notes=payload,
                                       filed_at=datetime.now(UTC), created_by_id=manager.id))
        db.session.add(IncidentAdvice(incident_id=incident.id, category="contact_details",
                                      language="en", text=payload))
        db.session.commit()
        missing = [item.key for item in checklist(incident, draft) if item.status == "missing"]
        if missing:
            record_override(draft, missing[0], payload, manager.id)
            db.session.commit()
        _person, plain = make_person(incident, external_ref=payload[:40] + "-ref")
        customer = verify_as(plain)
        ticket_id = open_ticket(customer, payload)
        token = form_token(customer, f"/tickets/{ticket_id}")
        replied = customer.post(f"/tickets/{ticket_id}/reply",
                                data={"message": payload + " again", "csrf_token": token})
        assert replied.status_code == 302
        return customer, manager, incident, plain, ticket_id, bool(missing)

    return store


@pytest.mark.parametrize("payload", CORPUS)
def test_customer_pages_escape_stored_text(stored, payload):
    customer, _manager, _incident, _plain, ticket_id, _ = stored(payload)
    for url in ("/notice", "/tickets", f"/tickets/{ticket_id}"):
        page = customer.get(url)
        assert page.status_code == 200, url
        if url != "/tickets":  # the list shows topics and dates, not text people typed
            _assert_safe(page.text, payload, url)
        else:
            assert payload not in page.text or escape(payload) == payload
    thread = customer.get(f"/tickets/{ticket_id}").text
    _assert_safe(thread, payload + " again", "the reply")


@pytest.mark.parametrize("payload", CORPUS)
def test_the_lock_page_escapes_the_helpline(app, stored, form_token, payload):
    _customer, _manager, _incident, plain, _ticket_id, _ = stored(payload)
    client = app.test_client()
    token = form_token(client, "/")
    client.post("/", data={"code": plain["notice_code"], "csrf_token": token})
    attempts = int(app.config["CUSTOMER_LOCKOUT_ATTEMPTS"])
    for _ in range(attempts + 1):
        page = client.post("/verify", data={**dob_fields("1901-02-03"), "postcode": "0",
                                            "csrf_token": token})
    assert page.status_code == 429
    _assert_safe(page.text, payload[:40], "the lock page's helpline")
    _assert_safe(page.text, payload, "the lock page's opening hours")


@pytest.mark.parametrize("payload", CORPUS)
def test_staff_pages_escape_stored_text(app, stored, staff_client, form_token, payload):
    _customer, manager, incident, _plain, _ticket_id, overridden = stored(payload)
    staff = staff_client(manager)
    base = f"/helpdesk/incidents/{incident.reference}"
    pages = {
        "/helpdesk/": False,
        "/helpdesk/incidents/": True,
        base: True,
        f"{base}/edit": True,
        f"{base}/filings/new": True,
        f"{base}/advice?category=contact_details&language=en": True,
        f"{base}/notices/en/1": True,
        f"{base}/notices/en/2": True,
        f"{base}/notices/en/1/preview": True,
        f"{base}/notices/en/edit": True,
    }
    for url, shows_payload in pages.items():
        page = staff.get(url)
        assert page.status_code == 200, url
        if shows_payload:
            _assert_safe(page.text, payload, url)
        elif escape(payload) != payload:
            assert payload not in page.text, url
    if overridden:
        assert f"{escape(payload)}" in staff.get(f"{base}/notices/en/2").text
    token = form_token(staff, f"{base}/notices/en/1")
    preview = staff.post(f"{base}/notices/en/1/preview",
                         data={"external_ref": payload[:40] + "-ref", "csrf_token": token})
    assert preview.status_code == 200
    _assert_safe(preview.text, payload[:40] + "-ref", "the preview as a person")
    _assert_safe(preview.text, payload, "the preview as a person")


def _pdf_text(data: bytes) -> str | None:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is in the test extras
        return None
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("payload", CORPUS)
def test_the_notice_pdf_carries_stored_text_as_plain_text(stored, payload):
    customer, *_ = stored(payload)
    response = customer.get("/notice.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    for marker in (b"/JavaScript", b"/JS ", b"/Launch", b"/SubmitForm"):
        assert marker not in response.data
    text = _pdf_text(response.data)
    if text is not None:
        # Text in a PDF is not markup: the literal characters are printed, nothing runs.
        flat = re.sub(r"\s+", "", text)
        assert re.sub(r"\s+", "", payload) in flat


@pytest.mark.parametrize("url", ["javascript:alert(1)", "javascript://x.example/%0aalert(1)",
                                 "JaVaScRiPt://x.example/", "data:text/html,<script>1</script>"])
def test_the_enrolment_address_must_be_a_web_address(app, url):
    from werkzeug.datastructures import MultiDict

    from helpdesk.incidents.forms import IncidentForm

    with app.test_request_context():
        form = IncidentForm(formdata=MultiDict({"monitoring_enroll_url": url}),
                            meta={"csrf": False})
        form.validate()
        assert "monitoring_enroll_url" in form.errors
