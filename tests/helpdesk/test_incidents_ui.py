"""Managers' incident pages: create, edit, filings, advice, notices with four eyes, previews."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import Incident, IncidentAdvice, Interaction, NoticeVersion, RegulatorFiling
from tests.support import csrf_token

BASE = "/helpdesk/incidents"

INCIDENT_FORM = {
    "reference": "2026-11-POL",
    "title": "Policy system accessed",
    "insurer_name": "Example Mutual",
    "status": "active",
    "summary": "",
    "occurred_from": "2026-11-01T08:00",
    "occurred_to": "2026-11-03T18:00",
    "discovered_at": "2026-11-10T09:30",
    "determined_at": "2026-11-11T12:00",
    "contained_at": "",
    "categories": ["contact_details", "date_of_birth", "national_id"],
    "jurisdictions": ["gdpr_art33", "gdpr_art34", "ca_1798_82"],
    "default_language": "en",
    "verification_method": "postcode",
    "contact_hotline": "+1 800 555 0123",
    "contact_hours": "Mon-Fri 8-20",
    "contact_email": "help@insurer.example",
    "contact_postal_address": "1 Example Plaza, Sacramento",
    "dpo_contact": "dpo@insurer.example",
    "monitoring_provider": "Watchful Ltd",
    "monitoring_enroll_url": "https://watch.example/enrol",
    "monitoring_enroll_by": "2027-02-28",
}

ENGLISH = {
    "what_happened": "Someone used a stolen password to view customer records.",
    "what_we_are_doing": "We reset every password and added monitoring.",
    "likely_consequences": "You may receive more convincing phishing messages.",
    "other_information": "This notice was not delayed by law enforcement.",
}
SPANISH = {
    "what_happened": "Alguien usó una contraseña robada para ver datos de clientes.",
    "what_we_are_doing": "Hemos cambiado todas las contraseñas.",
    "likely_consequences": "Puede recibir mensajes fraudulentos más convincentes.",
    "other_information": "Esta notificación no se retrasó por las fuerzas del orden.",
}


@pytest.fixture
def managers(make_staff):
    return make_staff("manager"), make_staff("manager")


def post(client, url, data, form_url=None):
    data = dict(data)
    data["csrf_token"] = csrf_token(client, form_url or url)
    return client.post(url, data=data)


def sign_in_as(client, login, user):
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/helpdesk/")})
    response = login(user)
    assert response.status_code == 302, response.text


def _actions(db, action):
    return db.session.execute(
        select(Interaction).where(Interaction.action == action).order_by(Interaction.id)
    ).scalars().all()


def _create(client):
    response = post(client, f"{BASE}/new", INCIDENT_FORM)
    assert response.status_code == 302, response.text
    return response


def test_manager_creates_and_edits_an_incident(client, db, login, managers):
    login(managers[0])
    _create(client)
    incident = db.session.execute(select(Incident)).scalar_one()
    assert incident.discovered_at == datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
    assert incident.categories == ["contact_details", "date_of_birth", "national_id"]
    created = _actions(db, "incident.created")[-1]
    assert created.actor_type == "staff" and created.actor_id == managers[0].id
    assert created.details["changes"]["title"] == [None, "Policy system accessed"]

    changed = dict(INCIDENT_FORM, title="Policy system breached",
                   jurisdictions=["gdpr_art33", "ca_1798_82"], contained_at="2026-11-12T10:00")
    response = post(client, f"{BASE}/2026-11-POL/edit", changed)
    assert response.status_code == 302
    db.session.expire_all()
    updated = _actions(db, "incident.updated")[-1]
    assert updated.details["changes"] == {
        "title": ["Policy system accessed", "Policy system breached"],
        "contained_at": [None, "2026-11-12T10:00:00+00:00"],
        "jurisdictions": [["gdpr_art33", "gdpr_art34", "ca_1798_82"],
                          ["gdpr_art33", "ca_1798_82"]],
    }
    # Saving unchanged values logs nothing.
    post(client, f"{BASE}/2026-11-POL/edit", changed)
    assert len(_actions(db, "incident.updated")) == 1


def test_bad_input_is_named_and_nothing_is_written(client, db, login, managers):
    login(managers[0])
    _create(client)
    bad = dict(INCIDENT_FORM, reference="2026-11-POL", occurred_to="2026-10-01T00:00",
               contact_email="not-an-email", categories=["bogus"])
    response = post(client, f"{BASE}/new", bad)
    assert response.status_code == 200
    assert "Another incident already uses this reference." in response.text
    assert "The end of the breach cannot be before its start." in response.text
    assert "Enter a valid email address." in response.text
    assert "is not a valid choice" in response.text
    assert db.session.scalar(select(Incident.id).where(Incident.title == "x")) is None
    assert len(db.session.execute(select(Incident)).scalars().all()) == 1


def test_filing_and_advice_are_logged_and_shown(client, db, login, managers):
    login(managers[0])
    _create(client)
    response = post(client, f"{BASE}/2026-11-POL/filings/new", {
        "authority": "CNIL", "rule_id": "gdpr_art33", "filed_at": "2026-11-12T08:00",
        "reference": "N-77", "notes": ""})
    assert response.status_code == 302
    filing = db.session.execute(select(RegulatorFiling)).scalar_one()
    assert (filing.rule_id, filing.reference) == ("gdpr_art33", "N-77")
    assert _actions(db, "filing.added")[-1].details["authority"] == "CNIL"

    response = post(client, f"{BASE}/2026-11-POL/advice", {
        "category": "national_id", "language": "en", "text": "Call our fraud line first."})
    assert response.status_code == 302
    row = db.session.execute(select(IncidentAdvice)).scalar_one()
    assert row.text == "Call our fraud line first."
    assert _actions(db, "incident_advice.saved")[-1].details["changes"]["text"] == [
        None, "Call our fraud line first."]

    page = client.get(f"{BASE}/2026-11-POL")
    assert page.status_code == 200
    assert "CNIL" in page.text and "N-77" in page.text
    if "imports.index" in client.application.view_functions:
        assert f'href="{BASE}/2026-11-POL/imports/"' in page.text
    assert "Call our fraud line first." in page.text


def test_deadline_board_shows_due_times(client, db, login, managers, make_incident):
    now = datetime.now(UTC).replace(microsecond=0)
    make_incident(reference="BOARD", discovered_at=now - timedelta(hours=10),
                  determined_at=now - timedelta(hours=100),
                  jurisdictions=["gdpr_art33", "naic_668_s6", "ca_1798_82", "ca_ag"])
    login(managers[0])
    page = client.get(f"{BASE}/BOARD")
    assert page.status_code == 200
    board = page.text.split('id="board-h"')[1].split("</table>")[0]
    due = (now - timedelta(hours=10) + timedelta(hours=72)).isoformat()
    assert f'datetime="{due}"' in board
    assert re.search(r"2 days, 1[34] hours left", board)  # GDPR: 62 hours to go
    assert "Overdue" in board and "1 day, 4 hours overdue" in board  # NAIC: 72 h from determination
    assert "Clock not started" in board  # Attorney General: after the residents' notice
    listing = client.get(f"{BASE}/")
    assert "BOARD" in listing.text and "overdue" in listing.text


def _write(client, language, fields, what_changed=None):
    data = dict(fields)
    if what_changed is not None:
        data["what_changed"] = what_changed
    return post(client, f"{BASE}/2026-11-POL/notices/{language}/edit", data)


def _approve(client, language, number):
    return post(client, f"{BASE}/2026-11-POL/notices/{language}/{number}/approve", {},
                form_url=f"{BASE}/2026-11-POL/notices/{language}/{number}")


def test_notices_four_eyes_checklist_and_immutability(client, db, login, managers, make_person):
    author, approver = managers
    login(author)
    _create(client)
    assert _write(client, "en", ENGLISH).status_code == 302
    assert _write(client, "es", SPANISH).status_code == 302
    version_page = client.get(f"{BASE}/2026-11-POL/notices/en/1")
    checklist = version_page.text.split('id="checklist-h"')[1].split("</section>")[0]
    assert "Missing" not in checklist  # complete for GDPR and California
    assert "Credit bureau phone numbers" in checklist  # national ID is involved
    assert "You wrote or edited this version" in version_page.text

    # The author cannot approve their own version.
    _approve(client, "en", 1)
    english = db.session.execute(select(NoticeVersion).where(
        NoticeVersion.language == "en")).scalar_one()
    assert english.state == "draft"

    sign_in_as(client, login, approver)
    for language in ("en", "es"):
        response = _approve(client, language, 1)
        assert response.status_code == 302
    db.session.expire_all()
    states = dict(db.session.execute(select(NoticeVersion.language, NoticeVersion.state)).all())
    assert states == {"en": "approved", "es": "approved"}
    approved = _actions(db, "notice.approved")
    assert [row.actor_id for row in approved] == [approver.id, approver.id]

    # Approved versions cannot change: saving makes version 2, which must say what changed.
    response = _write(client, "en", dict(ENGLISH, what_happened="Changed."))
    assert response.status_code == 200 and "Say what changed" in response.text
    assert _write(client, "en", dict(ENGLISH, what_happened="Changed."),
                  what_changed="Clarified what happened.").status_code == 302
    db.session.expire_all()
    versions = db.session.execute(select(NoticeVersion).where(
        NoticeVersion.language == "en").order_by(NoticeVersion.version)).scalars().all()
    assert [(v.version, v.state) for v in versions] == [(1, "approved"), (2, "draft")]
    assert versions[0].what_happened == ENGLISH["what_happened"]

    # The second manager edited version 2, so the first manager approves it.
    sign_in_as(client, login, author)
    assert _approve(client, "en", 2).status_code == 302
    db.session.expire_all()
    states = [v.state for v in db.session.execute(select(NoticeVersion).where(
        NoticeVersion.language == "en").order_by(NoticeVersion.version)).scalars()]
    assert states == ["superseded", "approved"]

    person, plain = make_person(db.session.execute(select(Incident)).scalar_one(),
                                external_ref="CUST-42", categories=["national_id", "health"])
    response = post(client, f"{BASE}/2026-11-POL/notices/en/2/preview",
                    {"external_ref": "CUST-42"}, form_url=f"{BASE}/2026-11-POL/notices/en/2")
    assert response.status_code == 200
    assert "National identification or Social Security number" in response.text
    assert "Health or medical information" in response.text
    assert "Equifax" in response.text
    for secret in (plain["date_of_birth"], plain["postcode"], plain["policy_number"],
                   plain["last_name"]):
        assert secret not in response.text
    assert response.headers["Cache-Control"].startswith("no-store")
    assert _actions(db, "notice.previewed")[-1].person_id == person.id

    mix = client.get(f"{BASE}/2026-11-POL/notices/es/1/preview"
                     "?categories=payment_card&categories=date_of_birth")
    assert mix.status_code == 200
    assert "Alguien usó una contraseña robada" in mix.text
    assert "Equifax" not in mix.text


def test_missing_element_blocks_approval_until_a_reason_is_recorded(client, db, login, managers):
    author, approver = managers
    login(author)
    _create(client)
    _write(client, "en", dict(ENGLISH, other_information="", likely_consequences=""))
    sign_in_as(client, login, approver)
    page = client.get(f"{BASE}/2026-11-POL/notices/en/1")
    assert "Missing: Likely consequences" in page.text
    assert "Missing: Whether notice was delayed by law enforcement" in page.text
    _approve(client, "en", 1)
    db.session.expire_all()
    assert db.session.execute(select(NoticeVersion.state)).scalar_one() == "draft"

    url = f"{BASE}/2026-11-POL/notices/en/1/override"
    form_url = f"{BASE}/2026-11-POL/notices/en/1"
    empty = post(client, f"{url}/likely_consequences", {"likely_consequences-reason": ""},
                 form_url=form_url)
    assert empty.status_code == 400 and "Give the reason" in empty.text
    for element in ("likely_consequences", "law_enforcement_delay"):
        response = post(client, f"{url}/{element}",
                        {f"{element}-reason": "Counsel: not applicable in this case."},
                        form_url=form_url)
        assert response.status_code == 302
    assert _approve(client, "en", 1).status_code == 302
    db.session.expire_all()
    version = db.session.execute(select(NoticeVersion)).scalar_one()
    assert version.state == "approved"
    assert set(version.checklist_overrides) == {"likely_consequences", "law_enforcement_delay"}
    logged = _actions(db, "notice.checklist_overridden")
    assert [row.details["element"] for row in logged] == ["likely_consequences",
                                                          "law_enforcement_delay"]
    assert _actions(db, "notice.approved")[-1].details["overridden"] == [
        "law_enforcement_delay", "likely_consequences"]


def test_agents_get_403_on_every_incidents_route(app, client, login, make_staff,
                                                 make_incident, db):
    incident = make_incident(reference="R1")
    db.session.add(NoticeVersion(incident_id=incident.id, language="en", version=1,
                                 state="draft", checklist_overrides={}))
    db.session.commit()
    login(make_staff("agent"))
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith(("incidents.", "notices."))]
    assert len(rules) >= 10
    values = {"reference": "R1", "language": "en", "number": 1, "element": "what_happened"}
    token = csrf_token(client, "/helpdesk/")
    for rule in rules:
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]), rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            data = {"csrf_token": token} if method == "POST" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code == 403, (method, url, response.status_code)
    home = client.get("/helpdesk/")
    assert f'href="{BASE}/"' not in home.text


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(f"{BASE}/")
    assert response.status_code == 302 and "/staff/login" in response.location


def test_cli_creates_an_incident(runner, db):
    result = runner.invoke(args=[
        "incidents", "create", "--reference", "CLI-1", "--title", "From the shell",
        "--discovered-at", "2026-11-20T10:00", "--jurisdictions", "gdpr_art33,ca_1798_82",
        "--categories", "health"])
    assert result.exit_code == 0, result.output
    query = select(Incident).where(Incident.reference == "CLI-1")
    incident = db.session.execute(query).scalar_one()
    assert incident.discovered_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert _actions(db, "incident.created")[-1].details["via"] == "cli"
    again = runner.invoke(args=["incidents", "create", "--reference", "cli-1", "--title", "X"])
    assert again.exit_code != 0 and "already used" in again.output
    bad = runner.invoke(args=["incidents", "create", "--reference", "CLI-2", "--title", "X",
                              "--jurisdictions", "atlantis"])
    assert bad.exit_code != 0 and "unknown: atlantis" in bad.output


def test_saving_the_edit_form_unchanged_logs_nothing(client, db, login, managers, make_incident):
    incident = make_incident(reference="SECS", discovered_at=datetime(
        2026, 11, 2, 9, 15, 42, 123456, tzinfo=UTC), insurer_name="Example Mutual")
    login(managers[0])
    page = client.get(f"{BASE}/SECS/edit")
    assert 'value="2026-11-02T09:15"' in page.text
    data = {}
    for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page.text):
        data[name] = value
    data["categories"] = incident.categories
    data["jurisdictions"] = incident.jurisdictions
    data.update(status="active", default_language="en", verification_method="postcode")
    response = client.post(f"{BASE}/SECS/edit", data=data)
    assert response.status_code == 302, response.text
    assert _actions(db, "incident.updated") == []
    # The same jurisdictions and categories in another order (as the form's checkboxes
    # send them) are no change either.
    data["jurisdictions"] = list(reversed(incident.jurisdictions or []))
    data["categories"] = list(reversed(incident.categories or []))
    assert len(data["jurisdictions"]) > 1 and len(data["categories"]) > 1
    response = client.post(f"{BASE}/SECS/edit", data=data)
    assert response.status_code == 302, response.text
    assert _actions(db, "incident.updated") == []


# --- the one save helper of the managers' pages ------------------------------------------------


def test_saving_commits_or_rolls_back_and_reports(app, db, make_incident):
    from flask import get_flashed_messages
    from sqlalchemy.exc import IntegrityError

    from helpdesk.incidents.forms import IncidentForm
    from helpdesk.saving import saving
    from portal.incidents.operations import IncidentError
    from portal.notices.workflow import NoticeError

    incident = make_incident(title="Before")
    with app.test_request_context("/", method="POST"):
        with saving() as saved:
            incident.title = "Committed"
        assert saved and not saved.conflict
        db.session.rollback()
        assert incident.title == "Committed"

        form = IncidentForm(meta={"csrf": False})
        with saving(form) as saved:
            incident.title = "Rolled back"
            raise IncidentError("title", "must not be empty")
        assert not saved and not saved.conflict
        assert incident.title == "Committed"
        assert form.title.errors == ["must not be empty"]

        with saving(form) as saved:
            raise NoticeError("Approve it first.")
        with saving(conflict="Someone else saved it.") as other:
            raise IntegrityError("INSERT", {}, Exception("duplicate"))
        assert not saved and not other and other.conflict
        assert get_flashed_messages(with_categories=True) == [
            ("error", "Approve it first."), ("error", "Someone else saved it.")]

        with pytest.raises(IntegrityError), saving():
            raise IntegrityError("INSERT", {}, Exception("duplicate"))
