"""With Redis configured, customer messages go through the rq queue and its worker."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Ticket, TicketMessage
from tests.support import REDIS_URL, csrf_token, make_settings
from tests.support.customer import actions, approve_notice, outbox
from tests.support.dates import dob_fields

pytestmark = pytest.mark.redis


@pytest.fixture
def app_settings(database_url, data_keys, redis):
    return make_settings(database_url, data_keys, REDIS_URL=REDIS_URL,
                         CUSTOMER_RESEND_MIN_SECONDS=0)


@pytest.fixture
def queue(app, redis):
    from portal.core import jobs
    yield jobs.queue()
    name = jobs.queue().name
    jobs.queue().delete(delete_jobs=True)
    for key in redis.scan_iter(f"rq:*{name}*"):
        redis.delete(key)


def test_no_letter_queues_one_job_per_request_match_or_not(app, db, client, runner, queue,
                                                           make_incident, make_person):
    from portal.core.jobs import enqueue
    from portal.dispatch.replies import notify_reply

    incident = make_incident()
    approve_notice(db, incident)
    record, plain = make_person(incident)
    form = {"first_name": "Jamie", "last_name": plain["last_name"],
            **dob_fields(plain["date_of_birth"]), "postcode": plain["postcode"],
            "policy_number": plain["policy_number"]}
    for values in (form, dict(form, last_name="Nobody")):
        values = dict(values, csrf_token=csrf_token(client, "/no-letter"))
        assert client.post("/no-letter", data=values).status_code == 200
    assert queue.count == 2  # the miss queues the same job (it does nothing)
    assert outbox(db) == []
    db.session.add(Ticket(incident_id=incident.id, person_id=record.id, topic="other"))
    db.session.commit()
    ticket = db.session.execute(select(Ticket)).scalar_one()
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="staff", body="Reply"))
    db.session.commit()
    enqueue(notify_reply, ticket.id)
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert [m.channel for m in outbox(db)] == ["email", "email"]
    assert actions(db, "code_resend.sent") == ["code_resend.sent"]
    assert actions(db, "ticket.reply_notified") == ["ticket.reply_notified"]
