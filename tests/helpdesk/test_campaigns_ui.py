"""The managers' campaign pages: launch with a preview, progress, controls, letters, evidence."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from portal.models import Campaign
from tests.support import csrf_token, make_settings
from tests.support.customer import actions, interactions
from tests.support.dispatch import incident_with_people, rows


@pytest.fixture
def app_settings(database_url, data_keys, tmp_path):
    return make_settings(database_url, data_keys, DISPATCH_LETTER_DIR=str(tmp_path / "letters"),
                         DISPATCH_LETTER_BATCH_SIZE=2)


@pytest.fixture
def setup(db, client, login, make_staff, make_incident, make_person):
    incident, people = incident_with_people(db, make_incident, make_person, 3,
                                            languages=("en", "de"))
    manager = make_staff("manager")
    login(manager)
    return incident, people, manager


def base(incident) -> str:
    return f"/helpdesk/incidents/{incident.reference}/campaigns"


def _preview(client, incident, channels, again=False):
    url = f"{base(incident)}/new"
    data = {"channels": channels, "csrf_token": csrf_token(client, url)}
    if again:
        data["again"] = "y"
    preview = client.post(url, data=data)
    assert preview.status_code == 200
    return preview, data


def _launch(client, incident, channels, again=False):
    preview, data = _preview(client, incident, channels, again)
    return preview, client.post(f"{base(incident)}/new", data=dict(data, confirmed="yes"))


def _campaigns(db) -> list[Campaign]:
    db.session.expire_all()
    return list(db.session.execute(select(Campaign).order_by(Campaign.id)).scalars())


def test_the_incident_page_leads_to_the_campaigns(client, setup):
    incident, _people, _manager = setup
    page = client.get(f"/helpdesk/incidents/{incident.reference}")
    assert f'href="{base(incident)}/new"' in page.text
    assert f'href="{base(incident)}/"' in page.text
    listing = client.get(f"{base(incident)}/")
    assert listing.status_code == 200 and "No campaign yet" in listing.text


def test_launch_shows_reach_and_skips_before_confirming(db, client, setup):
    incident, _people, manager = setup
    preview, data = _preview(client, incident, ["sms", "letter"])
    assert re.search(r'id="reach-sms">3<', preview.text)
    assert re.search(r'id="skip-sms">0<', preview.text)
    assert re.search(r'id="reach-letter">3<', preview.text)
    assert 'name="confirmed" value="yes"' in preview.text
    assert _campaigns(db) == []  # nothing launched by the preview
    launched = client.post(f"{base(incident)}/new", data=dict(data, confirmed="yes"))
    assert launched.status_code == 302
    (campaign,) = _campaigns(db)
    assert launched.location.endswith(f"{base(incident)}/{campaign.id}")
    assert [row.actor_id for row in interactions(db, "campaign.launched")] == [manager.id]
    page = client.get(launched.location)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert re.search(r'id="c-sms-sent">3<', page.text)
    assert re.search(r'id="c-letter-pending">3<', page.text)
    progress = client.get(f"{launched.location}/progress").get_json()
    assert progress["channels"]["sms"]["sent"] == 3
    assert progress["channels"]["letter"]["pending"] == 3
    assert progress["done"] is False

    # Letters keep the campaign under way: a second launch is refused until it ends.
    new_page = client.get(f"{base(incident)}/new")
    assert "A campaign is under way" in new_page.text
    token = csrf_token(client, launched.location)
    cancel = client.post(f"{launched.location}/cancel", data={"csrf_token": token})
    assert cancel.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "cancelled"
    assert {row.status for row in rows(db, campaign.id) if row.channel == "letter"} == {
        "cancelled"}

    # Everyone got the SMS: the next preview skips them, unless sent again.
    preview, _data = _preview(client, incident, ["sms"])
    assert re.search(r'id="reach-sms">0<', preview.text)
    assert re.search(r'id="skip-sms">3<', preview.text)
    preview, _data = _preview(client, incident, ["sms"], again=True)
    assert re.search(r'id="reach-sms">3<', preview.text)


def test_the_preview_shows_people_left_to_their_preferred_channel(db, client, setup):
    incident, people, _manager = setup
    people[0][0].preferred_channel = "email"
    db.session.commit()
    preview, _data = _preview(client, incident, ["sms", "email"])
    assert re.search(r'id="reach-sms">2<', preview.text)
    assert re.search(r'id="pref-sms">1<', preview.text)
    assert re.search(r'id="reach-email">3<', preview.text)
    assert re.search(r'id="pref-email">0<', preview.text)
    assert "is not also sent a text message or email on another channel" in preview.text
    plain, _data = _preview(client, incident, ["sms"])
    assert re.search(r'id="pref-sms">0<', plain.text)
    assert "is not also sent" not in plain.text


def test_a_launch_without_channels_is_refused(db, client, setup):
    incident, _people, _manager = setup
    url = f"{base(incident)}/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    assert "Choose at least one channel." in response.text
    assert _campaigns(db) == []


def test_pause_and_resume(db, client, setup):
    incident, _people, _manager = setup
    _preview, launched = _launch(client, incident, ["letter"])
    (campaign,) = _campaigns(db)
    token = csrf_token(client, launched.location)
    client.post(f"{launched.location}/pause", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "paused"
    page = client.get(launched.location)
    assert "Resume" in page.text
    letters_url = f"{launched.location}/letters"
    assert "resume it to print" in client.get(letters_url).text
    printed = client.post(f"{letters_url}/print", data={"csrf_token": token},
                          follow_redirects=True)
    assert "resume it to print" in printed.text
    assert {row.status for row in rows(db, campaign.id)} == {"pending"}
    client.post(f"{launched.location}/resume", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "running"
    # A control without the CSRF token changes nothing.
    response = client.post(f"{launched.location}/pause")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "running"
    assert actions(db, "campaign.") == ["campaign.launched", "campaign.paused",
                                        "campaign.resumed"]


def test_another_incidents_campaign_is_not_found(db, client, setup, make_incident, make_person):
    incident, _people, _manager = setup
    other, _ = incident_with_people(db, make_incident, make_person, 1)
    from portal.dispatch import campaigns

    campaign, _summary = campaigns.launch(other.id, ["letter"])
    for suffix in ("", "/progress", "/letters", "/evidence.csv"):
        assert client.get(f"{base(incident)}/{campaign.id}{suffix}").status_code == 404
    token = csrf_token(client, f"{base(incident)}/")
    response = client.post(f"{base(incident)}/{campaign.id}/cancel",
                           data={"csrf_token": token})
    assert response.status_code == 404
    assert campaign.status == "running"


def test_letters_page_prints_downloads_mails_and_takes_returns(db, client, setup):
    incident, _people, manager = setup
    _preview, launched = _launch(client, incident, ["letter"])
    (campaign,) = _campaigns(db)
    letters_url = f"{launched.location}/letters"
    page = client.get(letters_url)
    assert "Print the 3 waiting letters" in page.text
    token = csrf_token(client, letters_url)
    printed = client.post(f"{letters_url}/print", data={"csrf_token": token},
                          follow_redirects=True)
    assert "3 letters printed." in printed.text
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "completed"  # letters were all
    pdfs = re.findall(rf'href="({letters_url}/(\d+)\.pdf)"', printed.text)
    assert len(pdfs) == 2  # batches of two
    pdf = client.get(pdfs[0][0])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    manifest = client.get(f"{letters_url}/{pdfs[0][1]}-manifest.csv")
    lines = list(csv.DictReader(io.StringIO(manifest.text)))
    assert len(lines) in (1, 2) and lines[0]["address_line1"]
    downloads = interactions(db, "letters.downloaded")
    assert [(row.actor_id, row.details["file"]) for row in downloads] == [
        (manager.id, "pdf"), (manager.id, "manifest")]
    # Mark the first batch mailed.
    mailed = client.post(f"{letters_url}/{pdfs[-1][1]}/mailed", data={"csrf_token": token},
                         follow_redirects=True)
    assert "marked as mailed" in mailed.text
    # Returned letters: one good id, one bad line.
    letter_id = lines[0]["letter_id"]
    response = client.post(f"{letters_url}/returned", data={
        "csrf_token": token, "file": (io.BytesIO(f"{letter_id}\nabc\n".encode()), "r.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "1 letter recorded as returned (undelivered)." in response.text
    assert "Line 2" in response.text
    statuses = {row.id: row.status for row in rows(db, campaign.id)}
    assert statuses[int(letter_id)] == "undelivered"
    # A binary file is refused and nothing changes.
    response = client.post(f"{letters_url}/returned", data={
        "csrf_token": token, "file": (io.BytesIO(b"PK\x00\x01"), "r.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "binary file" in response.text
    # The evidence shows it all, and its download is logged.
    evidence = client.get(f"{launched.location}/evidence.csv")
    assert evidence.status_code == 200
    assert evidence.headers["Content-Type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(evidence.get_data(as_text=True))))
    assert len(records) == 3
    assert {record["status"] for record in records} >= {"undelivered"}
    assert [row.actor_id for row in interactions(db, "campaign.evidence_exported")] == [
        manager.id]


def test_agents_cannot_reach_campaign_pages(client, login, make_staff, make_incident):
    incident = make_incident()
    login(make_staff("agent"))
    assert client.get(f"{base(incident)}/").status_code == 403
    assert client.get(f"{base(incident)}/new").status_code == 403
