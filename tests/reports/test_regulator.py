"""The regulator report: its keys, its numbers, no personal data, and that exporting is logged."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import Interaction, NoticeVersion, RegulatorFiling

SECRET_NAMES = ("Zebulon", "Quixotica")  # the reports_incident fixture's first names
TOP = ["incident", "timeline", "deadlines", "notifications", "tickets", "interactions",
       "sample_notice"]


@pytest.fixture
def full_incident(db, reports_incident, make_staff):
    incident = reports_incident["incident"]
    now = datetime.now(UTC)
    author, approver = make_staff("manager"), make_staff("manager")
    db.session.add(NoticeVersion(incident_id=incident.id, version=1, language="en",
                                 state="draft", what_happened="A server was reached.",
                                 what_we_are_doing="We closed it.", author_id=author.id))
    db.session.add(RegulatorFiling(incident_id=incident.id, rule_id="gdpr_art33",
                                   authority="Data Protection Commission",
                                   filed_at=now - timedelta(hours=2), reference="DPC-1"))
    db.session.commit()
    version = db.session.execute(select(NoticeVersion)).scalar_one()
    version.state, version.approved_by_id, version.approved_at = "approved", approver.id, now
    db.session.commit()
    return reports_incident


def _personal_values(people) -> list[str]:
    values = [*SECRET_NAMES]
    for person in people:
        values += [person.last_name, person.email, person.phone, person.postcode,
                   person.policy_number, person.external_ref, person.notice_code]
    return [value for value in values if value]


def test_report_json_keys_numbers_and_no_personal_data(app, client, login, make_staff,
                                                       full_incident):
    from portal.audit import checkpoints

    incident = full_incident["incident"]
    manager = make_staff("manager")
    login(manager)
    checkpoints.verify_log()  # the report states the last recorded verification
    response = client.get(f"/helpdesk/incidents/{incident.reference}/report.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    report = json.loads(response.text)
    assert list(report) == TOP
    assert report["incident"]["people_affected"] == 4
    assert report["incident"]["people_by_category"] == {"contact_details": 4, "date_of_birth": 4}
    events = [event["event"] for event in report["timeline"]]
    assert {"discovered", "determined", "notice_approved", "campaign_launched",
            "filing"} <= set(events)
    assert [event["at"] for event in report["timeline"]] == sorted(
        event["at"] for event in report["timeline"])
    gdpr = [row for row in report["deadlines"] if row["rule"] == "gdpr_art33"]
    assert gdpr and gdpr[0]["state"] in ("met", "met_late") and gdpr[0]["met_by"] == "filing"
    notes = report["notifications"]
    assert notes["by_channel"]["sms"]["by_status"] == {"delivered": 2, "undelivered": 1,
                                                        "pending": 1}
    assert notes["total"] == 7 and notes["sent"] == 5
    assert notes["by_jurisdiction"] == {
        "DE": {"people": 1, "reached": 1,
               "by_channel": {"sms": {"undelivered": 1}, "email": {"sent": 1}}},
        "US-CA": {"people": 2, "reached": 2,
                  "by_channel": {"sms": {"delivered": 2}, "email": {"delivered": 1, "failed": 1}}},
        "unknown": {"people": 1, "reached": 0, "by_channel": {"sms": {"pending": 1}}},
    }
    assert report["tickets"]["by_topic"] == {"general": {"new": 1, "resolved": 1},
                                             "monitoring": {"open": 1}}
    assert report["tickets"]["first_response"]["met"] == 1
    chain = report["interactions"]["chain"]
    assert report["interactions"]["count"] == 7 and chain["intact"] is True
    assert report["sample_notice"]["en"]["what_happened"] == "A server was reached."
    text = response.text
    for value in _personal_values(full_incident["people"]):
        assert value not in text, value
    logged = db_actions(incident.id)
    assert ("report.exported", "json") in logged


def db_actions(incident_id):
    from portal.extensions import db

    return [(row.action, row.details.get("format")) for row in db.session.execute(
        select(Interaction).where(Interaction.incident_id == incident_id)).scalars()]


def test_report_pdf_has_the_facts_and_no_personal_data(app, client, login, make_staff,
                                                      full_incident):
    from pypdf import PdfReader

    incident = full_incident["incident"]
    login(make_staff("manager"))
    response = client.get(f"/helpdesk/incidents/{incident.reference}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert reader.trailer["/Root"]["/Lang"] == "en"  # the reader's language: the manager's
    assert incident.reference in text and "Data Protection Commission" in text
    assert "A server was reached." in text
    for value in _personal_values(full_incident["people"]):
        assert value not in text, value
    assert ("report.exported", "pdf") in db_actions(incident.id)


def test_report_for_an_empty_incident(app, client, login, make_staff, make_incident):
    incident = make_incident(categories=[], jurisdictions=[])
    login(make_staff("manager"))
    report = client.get(f"/helpdesk/incidents/{incident.reference}/report.json").get_json()
    assert list(report) == TOP
    assert report["notifications"]["total"] == 0 and report["sample_notice"] == {}
    assert client.get(f"/helpdesk/incidents/{incident.reference}/report.pdf").status_code == 200


def test_report_access(app, client, login, make_staff, make_incident):
    incident = make_incident()
    assert client.get(f"/helpdesk/incidents/{incident.reference}/report.json").status_code == 302
    login(make_staff("agent"))
    assert client.get(f"/helpdesk/incidents/{incident.reference}/report.json").status_code == 403
    assert client.get(f"/helpdesk/incidents/{incident.reference}/report.pdf").status_code == 403


def test_unknown_incident_is_404(app, client, login, make_staff):
    login(make_staff("manager"))
    assert client.get("/helpdesk/incidents/NOPE/report.json").status_code == 404
