"""Campaigns through Twilio's real client (loopback stub), a real SMTP server, Redis and rq."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.dispatch import campaigns, chunks
from portal.models import Person
from tests.support import make_settings
from tests.support.customer import actions
from tests.support.dispatch import (
    assert_sms_carries_no_personal_data,
    dispatch_redis_url,
    incident_with_people,
    rows,
)

pytestmark = pytest.mark.redis

SID = "AC" + "7" * 32


@pytest.fixture
def app_settings(database_url, data_keys, redis, twilio_stub, smtp_sink):
    base, _received = twilio_stub
    controller, _handler = smtp_sink
    return make_settings(
        database_url, data_keys, REDIS_URL=dispatch_redis_url(), OUTBOX_ENABLED=False,
        TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="stub-token", TWILIO_FROM="+15005550006",
        TWILIO_API_BASE=base, SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port,
        SMTP_STARTTLS=False, MAIL_FROM="notices@insurer.example",
        DISPATCH_CHUNK_SIZE=4, DISPATCH_RETRY_BASE_SECONDS=0, DISPATCH_MAX_ATTEMPTS=3,
        DISPATCH_SMS_PER_SECOND=0, DISPATCH_TWILIO_TIMEOUT_SECONDS=1,
    )


@pytest.fixture
def queue(app, redis):
    from portal.core import jobs

    name = jobs.queue().name
    queue_connection = jobs.queue().connection
    yield jobs.queue()
    jobs.queue().delete(delete_jobs=True)
    for key in queue_connection.scan_iter(f"*{name}*"):
        queue_connection.delete(key)


def work(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output


def sms_bodies(received) -> list[tuple[str, str]]:
    return [(form["To"][0], form["Body"][0]) for _path, form in received]


def test_every_person_gets_each_channel_once(app, db, runner, queue, twilio_stub, smtp_sink,
                                             make_incident, make_person):
    _base, received = twilio_stub
    _controller, sink = smtp_sink
    # One sending connection per chunk here (test_dispatch_concurrency.py covers several).
    app.config["DISPATCH_SEND_CONCURRENCY"] = 1
    incident, persons = incident_with_people(db, make_incident, make_person, 9,
                                             languages=("en", "es", "fr", "de"))
    campaign, summary = campaigns.launch(incident.id, ["sms", "email"])
    campaign_id = campaign.id  # the worker ends the test's session: keep ids, not objects
    assert summary.queued and summary.created == {"sms": 9, "email": 9}
    assert queue.count == 6  # 3 chunks of 4 per channel, deterministic ids
    assert sorted(queue.get_job_ids()) == sorted(
        chunks.job_id(campaign_id, channel, n) for channel in ("sms", "email") for n in range(3))
    work(runner)
    assert sorted(to for to, _body in sms_bodies(received)) == sorted(
        plain["phone"] for _r, plain in persons)
    by_phone = {plain["phone"]: plain for _r, plain in persons}
    for to, body in sms_bodies(received):
        assert_sms_carries_no_personal_data(body, by_phone[to])
    for _path, form in received:
        assert form["StatusCallback"] == ["http://localhost/hooks/twilio/status"]
    assert sorted(rcpt for envelope in sink.messages for rcpt in envelope.rcpt_tos) == sorted(
        plain["email"] for _r, plain in persons)
    assert sink.connections == 3  # one SMTP connection per chunk
    first = sink.messages[0].content
    assert b"Auto-Submitted: auto-generated" in first and b"multipart/alternative" in first
    assert campaigns.counts(campaign_id)["sms"]["sent"] == 9
    assert campaigns.get(campaign_id).status == "completed"
    assert queue.count == 0 and not queue.connection.keys(f"rq:job:{queue.name}-campaign-*")


def test_errors_retry_fail_and_fall_back(app, db, runner, queue, twilio_stub, smtp_sink,
                                         make_incident, make_person):
    _base, received = twilio_stub
    _controller, sink = smtp_sink
    incident, _persons = incident_with_people(db, make_incident, make_person, 1)
    incident_id = incident.id
    phones = {"invalid": "+15005550001", "stop": "+15005550002", "busy": "+15005550003",
              "broken": "+15005550004", "stall": "+15005550005"}
    people = {}
    for name, phone in phones.items():
        person, plain = make_person(incident, phone=phone, address_line1="1 Main St")
        people[name] = (person.id, plain)
    sink.refuse[people["invalid"][1]["email"]] = "550 5.1.1 No such user"
    sink.refuse[people["broken"][1]["email"]] = "450 4.2.1 Try again later"
    campaign, _summary = campaigns.launch(incident_id, ["sms"])
    campaign_id = campaign.id
    work(runner)
    by_person = {}
    for row in rows(db, campaign_id):
        by_person.setdefault(row.person_id, {})[row.channel] = row
    invalid, stop, busy, broken, stall = (by_person[people[n][0]] for n in phones)
    assert invalid["sms"].status == "failed" and invalid["sms"].error_code == "21211"
    assert invalid["sms"].attempts == 1  # permanent: never retried
    assert invalid["email"].status == "failed" and invalid["email"].error_code == "550"
    assert invalid["email"].fallback_of_id == invalid["sms"].id
    assert invalid["letter"].status == "pending"  # for the print run
    assert invalid["letter"].fallback_of_id == invalid["email"].id
    assert stop["sms"].status == "failed" and stop["email"].status == "sent"
    db.session.expire_all()
    assert db.session.execute(select(Person.sms_opt_out).where(
        Person.id == people["stop"][0])).scalar_one()
    assert busy["sms"].status == "sent" and busy["sms"].attempts == 2 and "email" not in busy
    assert broken["sms"].status == "failed" and broken["sms"].attempts == 3
    assert broken["email"].status == "failed" and broken["email"].attempts == 3
    assert broken["email"].error_code == "450" and "letter" in broken
    assert stall["sms"].status == "failed" and stall["sms"].error_code == "network"
    assert stall["email"].status == "sent"
    sent_to = [to for to, _body in sms_bodies(received)]
    assert sent_to.count("+15005550001") == 1 and sent_to.count("+15005550004") == 3
    delivered = [rcpt for envelope in sink.messages for rcpt in envelope.rcpt_tos]
    assert sorted(delivered) == sorted(people[n][1]["email"] for n in ("stop", "stall"))
    assert actions(db, "sms.opted_out") == ["sms.opted_out"]
    # A later campaign honours the opt-out.
    assert campaigns.preview(incident_id, ["sms"], again=True)["sms"]["reached"] == 5


def test_redis_down_at_launch_keeps_rows_pending_until_recover(app, db, runner, redis,
                                                               twilio_stub, make_incident,
                                                               make_person):
    from portal.core import jobs

    _base, received = twilio_stub
    incident, persons = incident_with_people(db, make_incident, make_person, 5)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    jobs.init_app(app)
    campaign, summary = campaigns.launch(incident.id, ["sms"])
    campaign_id = campaign.id
    assert not summary.queued
    assert campaigns.counts(campaign_id)["sms"]["pending"] == 5
    assert actions(db, "campaign.queue_failed") == ["campaign.queue_failed"]
    app.config["REDIS_URL"] = dispatch_redis_url()
    jobs.init_app(app)
    try:
        result = runner.invoke(args=["campaigns", "recover"])
        assert result.exit_code == 0, result.output
        assert f"queued campaigns: {campaign_id}" in result.output
        work(runner)
        assert sorted(to for to, _body in sms_bodies(received)) == sorted(
            plain["phone"] for _r, plain in persons)
        assert campaigns.counts(campaign_id)["sms"]["sent"] == 5
    finally:
        connection = jobs.queue().connection
        jobs.queue().delete(delete_jobs=True)
        for key in connection.scan_iter(f"*{app.config['PORTAL_RQ_QUEUE']}*"):
            connection.delete(key)


def test_expired_leases_are_released_and_counted(app, db, queue, make_incident, make_person):
    from datetime import timedelta

    from sqlalchemy import update

    from portal.models import Notification
    from portal.models.base import utcnow

    incident, _persons = incident_with_people(db, make_incident, make_person, 3)
    campaign, _summary = campaigns.launch(incident.id, ["sms"])
    claimed = chunks.claim(campaign.id, "sms", 2)
    assert len(claimed) == 2 and campaigns.counts(campaign.id)["sms"]["sending"] == 2
    assert chunks.release_expired_leases() == {}  # leases still running
    db.session.execute(update(Notification).where(Notification.status == "sending")
                       .values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert chunks.release_expired_leases() == {campaign.id: [row.id for row in claimed]}
    recovered = {row.id: row for row in rows(db, campaign.id)}
    assert [recovered[row.id].resend_count for row in claimed] == [1, 1]
    assert all(recovered[row.id].status == "pending" for row in claimed)
    assert actions(db, "campaign.leases_recovered") == ["campaign.leases_recovered"]


def test_a_temporary_error_is_retried_after_its_delay_by_rqs_scheduler(
        app, db, runner, queue, twilio_stub, smtp_sink, make_incident, make_person):
    """Twilio 429 and SMTP 450 on the first try: the rows wait ≥ 1 s, the retry job sits in
    rq's scheduled registry (not the queue) until due, the worker's scheduler queues it,
    and each message then goes out exactly once."""
    from datetime import UTC, datetime

    from rq.registry import ScheduledJobRegistry

    _base, received = twilio_stub
    _controller, sink = smtp_sink
    app.config["DISPATCH_RETRY_BASE_SECONDS"] = 1.5
    incident, [(_person, plain)] = incident_with_people(
        db, make_incident, make_person, 1)
    sink.refuse[plain["email"]] = "450 4.2.1 Try again later"
    busy = "+15005550003"  # the stub answers 429 to its first try only
    from sqlalchemy import update

    db.session.execute(update(Person).values(phone=busy))  # encrypted by the column type
    db.session.commit()
    campaign, _summary = campaigns.launch(incident.id, ["sms", "email"])
    campaign_id = campaign.id
    launched = datetime.now(UTC)
    work(runner)
    assert [to for to, _body in sms_bodies(received)] == [busy] and not sink.messages
    waiting = {row.channel: row for row in rows(db, campaign_id)}
    for row in waiting.values():
        assert row.status == "pending" and row.attempts == 1
        assert row.error_code in ("20429", "450")
        assert (row.next_attempt_at - launched).total_seconds() >= 1.4
    scheduled = ScheduledJobRegistry(queue=queue)
    retry_ids = scheduled.get_job_ids()
    assert sorted(job_id.split("-retry-at-")[0] for job_id in retry_ids) == sorted(
        chunks.job_prefix(campaign_id, channel)[:-1] for channel in ("sms", "email"))
    for channel, row in waiting.items():
        # rq keeps whole seconds: a channel's retry is never due before its rows
        [job_id] = [job_id for job_id in retry_ids
                    if job_id.startswith(chunks.job_prefix(campaign_id, channel))]
        assert scheduled.get_scheduled_time(job_id) >= row.next_attempt_at
    assert queue.count == 0  # not queued before its time

    work(runner)  # too early: the scheduler leaves them where they are
    assert len(received) == 1 and not sink.messages
    assert sorted(scheduled.get_job_ids()) == sorted(retry_ids)

    del sink.refuse[plain["email"]]  # the temporary error is over
    latest = max(scheduled.get_scheduled_time(job_id) for job_id in retry_ids)
    import time

    time.sleep(max(0.0, (latest - datetime.now(UTC)).total_seconds()) + 0.2)
    work(runner)  # the scheduler (burst) queues the due retries, the worker runs them
    work(runner)  # and nothing is sent twice
    assert [to for to, _body in sms_bodies(received)] == [busy, busy]
    assert [rcpt for envelope in sink.messages for rcpt in envelope.rcpt_tos] == [
        plain["email"]]
    done = {row.channel: row for row in rows(db, campaign_id)}
    assert {channel: (row.status, row.attempts) for channel, row in done.items()} == {
        "sms": ("sent", 2), "email": ("sent", 2)}
    assert scheduled.get_job_ids() == [] and queue.count == 0
    assert campaigns.get(campaign_id).status == "completed"
