"""The campaign engine on the embedded default: inline jobs, the outbox, either database."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from portal.dispatch import campaigns
from tests.support.customer import actions, outbox
from tests.support.dispatch import assert_sms_carries_no_personal_data, incident_with_people, rows


@pytest.fixture
def people(db, make_incident, make_person):
    return incident_with_people(db, make_incident, make_person, 6, languages=("en", "es", "de"))


def test_launch_sends_one_message_per_person_and_channel(db, people):
    incident, persons = people
    expected = campaigns.preview(incident.id, ["sms", "email", "letter"])
    assert expected == {channel: {"reached": 6, "skipped": 0, "preferred": 0}
                        for channel in ("sms", "email", "letter")}
    campaign, summary = campaigns.launch(incident.id, ["sms", "email", "letter"])
    assert summary.created == {"sms": 6, "email": 6, "letter": 6}
    sms = outbox(db, "sms")
    emails = outbox(db, "email")
    assert sorted(m.recipient for m in sms) == sorted(p["phone"] for _r, p in persons)
    assert sorted(m.recipient for m in emails) == sorted(p["email"] for _r, p in persons)
    by_phone = {plain["phone"]: plain for _record, plain in persons}
    for message in sms:
        plain = by_phone[message.recipient]
        assert_sms_carries_no_personal_data(message.body, plain)
        assert message.body.startswith("Demo Mutual: ")
        assert message.body.endswith(f"http://localhost/n/{plain['notice_code']}")
        assert len(message.body) <= 160
    for message in emails:
        assert "Demo Mutual" in message.subject
    table = campaigns.counts(campaign.id)
    assert table["sms"]["sent"] == 6 and table["email"]["sent"] == 6
    assert table["letter"]["pending"] == 6  # the print runs take letters, not the engine
    db.session.refresh(campaign)
    assert campaign.status == "running"  # until the letters are printed
    assert campaigns.eta_seconds(campaign.id) == 0
    recorded = rows(db, campaign.id)
    sent = [row for row in recorded if row.channel != "letter"]
    assert all(row.provider_id and row.content_digest and row.sent_at and row.attempts == 1
               and row.notice_version_id for row in sent)
    assert actions(db, "campaign.") == ["campaign.launched"]


def test_a_second_launch_skips_people_already_notified_unless_again(db, people):
    incident, _persons = people
    first, _summary = campaigns.launch(incident.id, ["sms"])
    assert campaigns.preview(incident.id, ["sms", "email"]) == {
        "sms": {"reached": 0, "skipped": 6, "preferred": 0},
        "email": {"reached": 6, "skipped": 0, "preferred": 0}}
    second, summary = campaigns.launch(incident.id, ["sms", "email"])
    assert summary.created == {"sms": 0, "email": 6} and summary.skipped == {"sms": 6, "email": 0}
    assert second.skipped == {"sms": 6, "email": 0}
    assert len(outbox(db, "sms")) == 6
    third, summary = campaigns.launch(incident.id, ["sms"], again=True)
    assert summary.created == {"sms": 6} and third.again
    assert len(outbox(db, "sms")) == 12
    assert first.id < second.id < third.id


def test_consent_and_opt_outs_decide_the_channels(db, make_incident, make_person):
    incident, persons = incident_with_people(db, make_incident, make_person, 4)
    (a, _), (b, _), (c, _), (d, _) = persons
    a.sms_opt_out = True
    b.consent_email = False
    c.phone = None
    d.anonymised_at = d.created_at
    db.session.commit()
    assert campaigns.preview(incident.id, ["sms", "email"]) == {
        "sms": {"reached": 1, "skipped": 0, "preferred": 0},
        "email": {"reached": 2, "skipped": 0, "preferred": 0}}
    campaign, _summary = campaigns.launch(incident.id, ["sms", "email"])
    got = Counter((row.person_id, row.channel) for row in rows(db, campaign.id))
    assert set(got) == {(b.id, "sms"), (a.id, "email"), (c.id, "email")}



def test_a_stated_preference_picks_the_electronic_channel_and_never_holds_a_letter(
        db, make_incident, make_person):
    incident, persons = incident_with_people(db, make_incident, make_person, 6)
    (by_sms, _), (by_email, _), (by_letter, _), (sms_but_opted_out, _), (none, _), \
        (letter_no_address, _) = persons
    by_sms.preferred_channel = "sms"
    by_email.preferred_channel = "email"
    by_letter.preferred_channel = "letter"
    sms_but_opted_out.preferred_channel, sms_but_opted_out.sms_opt_out = "sms", True
    letter_no_address.preferred_channel, letter_no_address.address_line1 = "letter", None
    db.session.commit()
    everything = ["sms", "email", "letter"]
    # SMS: by_email and by_letter are left to their preference; the opted-out one has
    # no SMS at all (not "left"): reached are by_sms, none, letter_no_address.
    assert campaigns.preview(incident.id, everything) == {
        "sms": {"reached": 3, "skipped": 0, "preferred": 2},
        "email": {"reached": 4, "skipped": 0, "preferred": 2},
        "letter": {"reached": 5, "skipped": 0, "preferred": 0}}
    # A preference the launch does not serve narrows nothing.
    assert campaigns.preview(incident.id, ["sms"])["sms"] == {
        "reached": 5, "skipped": 0, "preferred": 0}
    assert campaigns.preview(incident.id, ["sms", "email"])["email"]["preferred"] == 1
    campaign, summary = campaigns.launch(incident.id, everything)
    assert summary.created == {"sms": 3, "email": 4, "letter": 5}
    got = {}
    for row in rows(db, campaign.id):
        got.setdefault(row.person_id, set()).add(row.channel)
    assert got == {
        by_sms.id: {"sms", "letter"},
        by_email.id: {"email", "letter"},
        by_letter.id: {"letter"},
        sms_but_opted_out.id: {"email", "letter"},  # the preference cannot be served
        none.id: {"sms", "email", "letter"},
        letter_no_address.id: {"sms", "email"},
    }
    assert len(outbox(db, "sms")) == 3 and len(outbox(db, "email")) == 4


def test_a_launch_that_would_tell_nobody_is_refused_and_keeps_nothing(app, db, people,
                                                                      client, login,
                                                                      make_staff):
    from portal.models import Campaign

    incident, _persons = people
    campaigns.launch(incident.id, ["sms"])
    before = (db.session.query(Campaign).count(), actions(db, "campaign."))
    with pytest.raises(campaigns.CampaignError, match="Nobody would be told"):
        campaigns.launch(incident.id, ["sms"])
    assert (db.session.query(Campaign).count(), actions(db, "campaign.")) == before
    # The page says so at the preview and offers no launch button.
    from tests.support import csrf_token

    login(make_staff("manager"))
    url = f"/helpdesk/incidents/{incident.reference}/campaigns/new"
    page = client.post(url, data={"channels": ["sms"], "csrf_token": csrf_token(client, url)})
    assert page.status_code == 200 and 'id="nobody"' in page.text
    assert "Launch the campaign" not in page.text
    forced = client.post(url, data={"channels": ["sms"], "confirmed": "yes",
                                    "csrf_token": csrf_token(client, url)})
    assert "Nobody would be told" in forced.text
    assert db.session.query(Campaign).count() == before[0]


def test_a_preferred_channel_already_notified_is_skipped_not_replaced(db, make_incident,
                                                                      make_person):
    incident, [(person, _plain)] = incident_with_people(db, make_incident, make_person, 1)
    campaigns.launch(incident.id, ["email"])
    person.preferred_channel = "email"
    db.session.commit()
    # The e-mail already reached them: they are skipped there, and not sent an SMS
    # instead (they have the notice, on the channel they asked for).
    assert campaigns.preview(incident.id, ["sms", "email"]) == {
        "sms": {"reached": 0, "skipped": 0, "preferred": 1},
        "email": {"reached": 0, "skipped": 1, "preferred": 0}}


def test_launch_refuses_bad_requests(db, make_incident, people):
    incident, _persons = people
    with pytest.raises(campaigns.CampaignError, match="channel"):
        campaigns.launch(incident.id, ["fax"])
    with pytest.raises(campaigns.CampaignError, match="channel"):
        campaigns.launch(incident.id, [])
    bare = make_incident()
    with pytest.raises(campaigns.CampaignError, match="approved notice"):
        campaigns.launch(bare.id, ["sms"])


def test_pause_resume_and_cancel(app, db, people):
    incident, _persons = people
    app.config["DISPATCH_CHUNK_SIZE"] = 2
    campaign = campaigns.Campaign(incident_id=incident.id, name="x", notice_version=1,
                                  channels=["sms"], status="paused")
    db.session.add(campaign)
    db.session.commit()
    with pytest.raises(campaigns.CampaignError, match="running or paused"):
        campaigns.launch(incident.id, ["sms"])
    db.session.delete(campaign)
    db.session.commit()
    # Pause before the jobs run: with inline jobs, pause the campaign inside the first chunk.
    from portal.dispatch import chunks

    real_claim = chunks.claim
    calls = []

    def claim_then_pause(campaign_id, channel, size):
        calls.append(campaign_id)
        claimed = real_claim(campaign_id, channel, size)
        if len(calls) == 1:
            campaigns.pause(campaign_id)
        return claimed

    chunks.claim = claim_then_pause
    try:
        launched, _summary = campaigns.launch(incident.id, ["sms"])
    finally:
        chunks.claim = real_claim
    assert len(outbox(db, "sms")) == 2  # the chunk under way finished; nothing new claimed
    assert campaigns.counts(launched.id)["sms"]["pending"] == 4
    assert campaigns.resume(launched.id)
    assert len(outbox(db, "sms")) == 6
    assert campaigns.counts(launched.id)["sms"]["sent"] == 6
    assert campaigns.cancel(launched.id) is None  # completed: nothing to cancel
    assert actions(db, "campaign.") == ["campaign.launched", "campaign.paused",
                                        "campaign.resumed", "campaign.completed"]


def test_cancel_leaves_pending_rows_cancelled_and_counted(app, db, people):
    incident, _persons = people
    campaign, _summary = campaigns.launch(incident.id, ["letter"])
    assert campaign.status == "running"  # letters wait for their print run
    assert campaigns.cancel(campaign.id) == 6
    assert campaigns.counts(campaign.id) == {"letter": dict(
        dict.fromkeys(campaigns.SHOWN_STATUSES, 0), cancelled=6)}
    assert actions(db, "campaign.")[-1] == "campaign.cancelled"


def test_cli_launch_list_status(app, db, runner, people):
    incident, _persons = people
    result = runner.invoke(args=["campaigns", "launch", "--incident", incident.reference,
                                 "--channels", "sms,email", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "sms: 6 to reach, 0 skipped" in result.output
    result = runner.invoke(args=["campaigns", "launch", "--incident", incident.reference,
                                 "--channels", "sms,email"])
    assert result.exit_code == 0, result.output
    campaign_id = int(result.output.strip().splitlines()[-1].split()[-1])
    assert "sms: 6 messages, 0 skipped" in result.output
    result = runner.invoke(args=["campaigns", "list", "--incident", incident.reference])
    assert result.output.startswith(f"{campaign_id}\tcompleted\tsms,email\t12 messages")
    result = runner.invoke(args=["campaigns", "status", str(campaign_id), "--watch"])
    assert result.exit_code == 0, result.output
    assert "sms\t0\t0\t6\t0" in result.output and "left: done" in result.output
    for args, message in ((["--channels", "fax"], "choose among"),
                          (["--channels", "sms", "--incident", "NOPE"], "no incident")):
        base = ["campaigns", "launch", "--incident", incident.reference]
        result = runner.invoke(args=base + args)
        assert result.exit_code == 2 and message in result.output
    result = runner.invoke(args=["campaigns", "status", "999"])
    assert result.exit_code == 2 and "no campaign 999" in result.output


def test_launch_and_chunks_run_a_fixed_number_of_statements(app, db, make_incident,
                                                            make_person, count_queries):
    """Set-based row creation and batched outcomes: the statements a launch and its
    (inline) chunks run do not grow with the people (no ORM object, no UPDATE per
    message). Only the embedded outbox, standing in for the providers, writes one row
    per message."""
    app.config["DISPATCH_CHUNK_SIZE"] = 50
    counts = []
    for size in (2, 8):
        incident, _persons = incident_with_people(db, make_incident, make_person, size)
        with count_queries as counted:
            campaigns.launch(incident.id, ["sms", "email", "letter"])
        ours = [s for s in counted.statements if not s.startswith("INSERT INTO outbox_message")]
        assert len(counted.statements) - len(ours) == 2 * size  # the messages themselves
        counts.append(len(ours))
    assert counts[0] == counts[1], str(counted)


def test_a_first_launch_reads_the_people_once_per_channel(app, db, people, count_queries,
                                                          monkeypatch):
    """docs/benchmarks.md (row creation): before an incident's first campaign nobody can
    be skipped as already notified, so the launch does not count the people (two scans
    of every person of the incident), and it queues the chunk jobs from the rows it just
    created rather than counting them again. A later launch still counts its skips."""
    from portal.dispatch import chunks

    incident, _persons = people
    queued = []
    monkeypatch.setattr(chunks, "queue_chunks",
                        lambda campaign_id, channel, pending: queued.append((channel, pending)))
    with count_queries as counted:
        _first, summary = campaigns.launch(incident.id, ["sms", "email"])
    reads = [s for s in counted.statements if re.search(r"\bFROM person\b", s)]
    assert len(reads) == 2 and all(s.startswith("INSERT INTO notification") for s in reads)
    # nor probes each person's earlier notifications; a new campaign has no row to conflict
    assert not [s for s in reads if "EXISTS" in s or "ON CONFLICT" in s]
    assert not [s for s in counted.statements if "count(notification.id)" in s]
    assert queued == [("sms", 6), ("email", 6)] and summary.skipped == {"sms": 0, "email": 0}
    campaigns.cancel(_first.id)
    with count_queries as counted:
        _second, summary = campaigns.launch(incident.id, ["sms"])
    assert summary.skipped == {"sms": 0}  # cancelled before any was sent: nobody notified
    reads = [s for s in counted.statements if re.search(r"\bFROM person\b", s)]
    assert len(reads) == 2 and "EXISTS" in reads[1]  # the count, and the insert's probe


def test_two_launches_at_once_make_one_campaign(app, db, people, monkeypatch):
    """A double-clicked launch or two managers at once: both pass the "no active
    campaign" check before either commits. The database's partial unique index on
    the incident's running or paused campaigns refuses the second, which the launch
    turns into its usual refusal, leaving nothing of it behind."""
    from sqlalchemy import func, select

    from portal.models import Campaign, Notification

    incident, _persons = people
    first, _summary = campaigns.launch(incident.id, ["letter"])  # letters keep it running
    assert first.status == "running"
    monkeypatch.setattr(campaigns, "active_campaign", lambda incident_id: None)  # the race
    with pytest.raises(campaigns.CampaignError, match="running or paused"):
        campaigns.launch(incident.id, ["sms", "email"])
    assert db.session.scalar(select(func.count(Campaign.id))) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 6
    campaigns.cancel(first.id)  # once it is over, the next launch goes ahead
    second, summary = campaigns.launch(incident.id, ["sms"])
    assert second.status in ("running", "completed") and summary.created == {"sms": 6}


def test_the_migration_names_incidents_that_already_have_two_active_campaigns(
        tmp_path, data_keys, capfd):
    """Migration 0027 cannot build its unique index over two running campaigns of one
    incident (made by the race it closes): it says which incident, and changes nothing."""
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from portal import create_app
    from portal.extensions import db
    from portal.models import Campaign, Incident
    from tests.support import make_settings

    app = create_app(make_settings(f"sqlite:///{tmp_path / 'race.sqlite3'}", data_keys))
    with app.app_context():
        upgrade()
        downgrade(revision="0026")
        incident = Incident(reference="RACE-1", title="Raced", status="active",
                            discovered_at=datetime.now(UTC), jurisdictions=[], categories=[])
        db.session.add(incident)
        db.session.flush()
        for _ in range(2):
            db.session.add(Campaign(incident_id=incident.id, name="twice", notice_version=1,
                                    channels=["sms"], status="running"))
        db.session.commit()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits non-zero
            upgrade()
        assert f"(ids {incident.id}): cancel all but one" in "".join(capfd.readouterr())
        db.session.remove()
        names = {index["name"] for index in inspect(db.engine).get_indexes("campaign")}
        assert "uq_campaign_one_active" not in names
        db.engine.dispose()


def test_a_campaign_is_titled_in_the_readers_language(app, db, people, client, login,
                                                      make_staff):
    """The stored name is the launching manager's words (the record); pages say it in
    the reader's language."""
    incident, _persons = people
    campaign, _summary = campaigns.launch(incident.id, ["email"])
    assert campaign.name == f"{incident.reference} notice, version 1"
    login(make_staff("manager"))
    base = f"/helpdesk/incidents/{incident.reference}/campaigns"
    german = client.get(f"{base}/{campaign.id}?lang=de").text
    assert f"<h1>Benachrichtigung {incident.reference}, Fassung 1</h1>" in german
    assert "notice, version 1" not in german
    assert f"Benachrichtigung {incident.reference}, Fassung 1" in client.get(base + "/").text
