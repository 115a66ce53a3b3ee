"""The deadline board: due times per rule, time left, and what met each deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.incidents.deadlines import add_business_days, add_months, board, due_time, next_due
from portal.models import Campaign, Notification, RegulatorFiling
from portal.rules import Deadline

DISCOVERED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
DETERMINED = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def _rows(incident, now):
    return {(row.rule.id, row.deadline.key): row for row in board(incident, now)}


def test_due_time_units():
    start = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)  # a Friday
    assert add_business_days(start, 3) == datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 1) == datetime(2027, 1, 15, tzinfo=UTC)
    deadline = Deadline("k", "L", 5, "business_days", "determined_at")
    assert due_time(start, deadline) == datetime(2026, 11, 13, 10, 0, tzinfo=UTC)
    assert due_time(start, Deadline("k", "L", None, None, "determined_at")) is None


def test_board_counts_from_the_rule_anchor(make_incident):
    incident = make_incident(
        discovered_at=DISCOVERED, determined_at=DETERMINED,
        jurisdictions=["gdpr_art33", "gdpr_art34", "ca_1798_82", "ca_ag", "naic_668_s6",
                       "nydfs_500_17", "dora_art19", "unknown_rule"],
    )
    now = DISCOVERED + timedelta(hours=30)
    rows = _rows(incident, now)
    gdpr = rows[("gdpr_art33", "notification")]
    assert gdpr.due_at == DISCOVERED + timedelta(hours=72)
    assert gdpr.state == "open" and gdpr.remaining == timedelta(hours=42)
    assert rows[("naic_668_s6", "commissioner")].due_at == DETERMINED + timedelta(hours=72)
    assert rows[("nydfs_500_17", "superintendent")].due_at == DETERMINED + timedelta(hours=72)
    assert rows[("ca_1798_82", "residents")].due_at == DISCOVERED + timedelta(days=30)
    assert rows[("gdpr_art34", "communication")].state == "no_fixed_deadline"
    assert rows[("ca_ag", "sample_notice")].state == "waiting"  # residents not yet told
    assert rows[("dora_art19", "initial")].state == "overdue"  # 24 h from awareness
    assert rows[("dora_art19", "initial")].remaining == timedelta(hours=-6)
    assert rows[("dora_art19", "intermediate")].state == "waiting"
    assert next_due(incident, now).rule.id == "dora_art19"


def test_filings_and_campaigns_meet_deadlines(db, make_incident, make_person):
    incident = make_incident(
        discovered_at=DISCOVERED, determined_at=DETERMINED,
        jurisdictions=["gdpr_art33", "ca_1798_82", "ca_ag", "naic_668_s6", "dora_art19"],
    )
    people = [make_person(incident)[0] for _ in range(2)]
    started = DISCOVERED + timedelta(days=9, hours=22)
    launched = DISCOVERED + timedelta(days=10)  # when the campaign's last message went out
    db.session.add_all([
        RegulatorFiling(incident_id=incident.id, rule_id="gdpr_art33", authority="CNIL",
                        filed_at=DISCOVERED + timedelta(hours=80), reference="N-1"),
        RegulatorFiling(incident_id=incident.id, rule_id="naic_668_s6", authority="CDI",
                        filed_at=DETERMINED + timedelta(hours=10)),
        RegulatorFiling(incident_id=incident.id, rule_id="dora_art19", authority="BaFin",
                        filed_at=DISCOVERED + timedelta(hours=3)),
        Campaign(incident_id=incident.id, name="Draft", notice_version=1, status="draft"),
    ])
    campaign = Campaign(incident_id=incident.id, name="First letters", notice_version=1,
                        status="completed", launched_at=started)
    db.session.add(campaign)
    db.session.flush()
    db.session.add_all([
        Notification(campaign_id=campaign.id, person_id=people[0].id, channel="sms",
                     status="delivered", sent_at=started + timedelta(hours=1)),
        Notification(campaign_id=campaign.id, person_id=people[1].id, channel="letter",
                     status="delivered", sent_at=started, delivered_at=launched),
    ])
    db.session.commit()
    rows = _rows(incident, DISCOVERED + timedelta(days=12))

    gdpr = rows[("gdpr_art33", "notification")]
    assert (gdpr.state, gdpr.met_by, gdpr.met_reference) == ("met_late", "filing", "CNIL · N-1")
    assert rows[("naic_668_s6", "commissioner")].state == "met"
    residents = rows[("ca_1798_82", "residents")]
    # Named in the reader's language from the incident and the notice version (the stored
    # name is the launching manager's words, kept as the record).
    assert (residents.state, residents.met_by, residents.met_reference) == (
        "met", "campaign", f"{incident.reference} notice, version 1")
    from flask_babel import force_locale

    with force_locale("de"):
        german = _rows(incident, DISCOVERED + timedelta(days=12))[("ca_1798_82", "residents")]
    assert german.met_reference == f"Benachrichtigung {incident.reference}, Fassung 1"
    assert residents.met_at == launched
    ag = rows[("ca_ag", "sample_notice")]
    assert ag.anchor_at == launched and ag.due_at == launched + timedelta(days=15)
    assert ag.state == "open"
    assert rows[("dora_art19", "initial")].state == "met"
    intermediate = rows[("dora_art19", "intermediate")]
    assert intermediate.due_at == DISCOVERED + timedelta(hours=75)
    assert intermediate.state == "overdue"
    assert rows[("dora_art19", "final")].state == "waiting"


def test_missing_anchor_waits(make_incident):
    incident = make_incident(determined_at=None, jurisdictions=["naic_668_s6"])
    (row,) = board(incident)
    assert row.state == "waiting" and row.due_at is None


def test_a_campaign_meets_the_deadline_once_it_reached_its_people(db, make_incident,
                                                                  make_person):
    incident = make_incident(discovered_at=DISCOVERED, determined_at=DETERMINED,
                             jurisdictions=["ca_1798_82"])
    person = make_person(incident)[0]
    started = DISCOVERED + timedelta(days=2)
    campaign = Campaign(incident_id=incident.id, name="Letters", notice_version=1,
                        status="completed", launched_at=started)
    db.session.add(campaign)
    db.session.flush()
    letter = Notification(campaign_id=campaign.id, person_id=person.id, channel="letter",
                          status="sent", sent_at=started)
    db.session.add(letter)
    db.session.commit()
    now = DISCOVERED + timedelta(days=40)
    # Printed but not mailed: nobody was reached yet, the deadline has passed.
    (row,) = board(incident, now)
    assert (row.state, row.met_by) == ("overdue", None)
    mailed = DISCOVERED + timedelta(days=31)
    letter.status, letter.delivered_at = "delivered", mailed
    db.session.commit()
    (row,) = board(incident, now)
    assert (row.state, row.met_by, row.met_at) == ("met_late", "campaign", mailed)


def test_a_met_deadline_without_a_fixed_time_still_says_without_undue_delay(
        db, client, make_staff, login, make_incident, make_person):
    """GDPR Art. 34 has no fixed time: once a campaign met it, the board said "Set the
    incident's dates" although every date was set."""
    incident = make_incident(discovered_at=DISCOVERED, determined_at=DETERMINED,
                             jurisdictions=["gdpr_art34"])
    person = make_person(incident)[0]
    campaign = Campaign(incident_id=incident.id, name="Texts", notice_version=1,
                        status="completed", launched_at=DISCOVERED + timedelta(days=1))
    db.session.add(campaign)
    db.session.flush()
    db.session.add(Notification(campaign_id=campaign.id, person_id=person.id, channel="sms",
                                status="delivered", sent_at=DISCOVERED + timedelta(days=1),
                                delivered_at=DISCOVERED + timedelta(days=1)))
    db.session.commit()
    (row,) = board(incident, DISCOVERED + timedelta(days=3))
    assert row.state == "met"
    login(make_staff("manager"))
    page = client.get(f"/helpdesk/incidents/{incident.reference}").text
    board_html = page.split('id="deadlines"', 1)[1].split("</section>", 1)[0]
    assert "Without undue delay" in board_html and "Set the incident" not in board_html
