"""SLA clocks: calendar and business hours, the pause while waiting for the customer,
and the stored due time the queue sorts by.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.models.ticket import NO_DUE, PAUSED_DUE
from portal.tickets.sla import Targets, add_hours, add_seconds, business_seconds

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = Targets(8, 40, frozenset({1, 2, 3, 4, 5}), time(9), time(17), BERLIN)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def test_calendar_hours():
    start = datetime(2026, 11, 27, 16, tzinfo=UTC)
    assert add_hours(start, 24, Targets(24, 120)) == start + timedelta(hours=24)


def test_business_hours_skip_nights_and_weekends():
    # Friday 16:00 Berlin + 8 business hours = Monday 16:00 (1 h Friday, 7 h Monday)
    assert add_hours(at(2026, 11, 27, 16), 8, WEEKDAYS) == at(2026, 11, 30, 16)
    # Saturday: the clock starts on Monday at 9
    assert add_hours(at(2026, 11, 28, 12), 2, WEEKDAYS) == at(2026, 11, 30, 11)
    # before opening: counts from 9
    assert add_hours(at(2026, 12, 1, 6), 1, WEEKDAYS) == at(2026, 12, 1, 10)


def test_business_hours_across_a_daylight_saving_change():
    # Berlin leaves summer time on Sunday 25 October 2026: 9 to 17 is still 8 hours a day
    assert add_hours(at(2026, 10, 23, 16), 2, WEEKDAYS) == at(2026, 10, 26, 10)


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
       st.integers(min_value=0, max_value=200 * 3600))
def test_business_seconds_inverts_add_seconds(start, seconds):
    start = start.replace(tzinfo=UTC)
    due = add_seconds(start, seconds, WEEKDAYS)
    assert abs(business_seconds(start, due, WEEKDAYS) - seconds) < 1e-6


def test_new_ticket_uses_the_incidents_sla(app, db, make_ticket, make_incident):
    from portal.models import TicketSla

    incident = make_incident(time_zone="Europe/Berlin")
    db.session.add(TicketSla(incident_id=incident.id, first_response_hours=4,
                             resolution_hours=16, business_days="1,2,3,4,5",
                             day_start="09:00", day_end="17:00"))
    db.session.commit()
    ticket = make_ticket(incident=incident)
    created = ticket.created_at
    targets = Targets(4, 16, frozenset({1, 2, 3, 4, 5}), time(9), time(17), BERLIN)
    assert abs((ticket.first_response_due - add_hours(created, 4, targets)).total_seconds()) < 1
    assert ticket.next_due_at == ticket.first_response_due


def test_waiting_for_the_customer_pauses_the_resolution_clock(app, db, make_ticket):
    from portal.models import Person
    from portal.tickets.operations import add_customer_reply, reply

    ticket = make_ticket()
    reply(ticket, None, "Please send us your policy number.", seen_message_id=10**9,
          status="pending_customer")
    db.session.commit()
    due_before = ticket.resolution_due
    assert ticket.next_due_at == PAUSED_DUE and ticket.paused_at is not None
    # two hours later the customer answers: the clock resumes with the time it had left
    ticket.paused_at = ticket.paused_at - timedelta(hours=2)
    add_customer_reply(ticket, db.session.get(Person, ticket.person_id), "POL-1234, thanks")
    db.session.commit()
    assert ticket.status == "open" and ticket.paused_at is None
    assert abs((ticket.resolution_due - due_before - timedelta(hours=2)).total_seconds()) < 2
    assert ticket.next_due_at == ticket.resolution_due
    assert ticket.paused_seconds >= 7200


def test_closed_tickets_have_no_due_time(app, db, make_ticket):
    from portal.tickets.operations import set_status

    ticket = make_ticket()
    set_status(ticket, "closed")
    assert ticket.next_due_at == NO_DUE


def test_a_manager_sets_an_incidents_business_hours(app, db, client, make_staff, login,
                                                     make_incident):
    from sqlalchemy import select

    from portal.models import Interaction, TicketSla
    from tests.support import csrf_token

    incident = make_incident(reference="SLA-1")
    login(make_staff("manager"))
    assert "SLA-1" in client.get("/helpdesk/tickets/sla").text
    token = csrf_token(client, "/helpdesk/tickets/sla/SLA-1")
    bad = client.post("/helpdesk/tickets/sla/SLA-1", data={
        "csrf_token": token, "first_response_hours": "8", "business_days": ["1", "2"],
        "day_start": "17:00", "day_end": "09:00"})
    assert bad.status_code == 400 and "must end after it starts" in bad.text
    assert db.session.execute(select(TicketSla)).first() is None
    good = client.post("/helpdesk/tickets/sla/SLA-1", data={
        "csrf_token": token, "first_response_hours": "8", "resolution_hours": "",
        "business_days": ["1", "2", "3", "4", "5"], "day_start": "09:00", "day_end": "17:00"})
    assert good.status_code == 302
    row = db.session.execute(select(TicketSla)).scalar_one()
    assert (row.incident_id, row.first_response_hours, row.business_days, row.day_start,
            row.day_end) == (incident.id, 8, "1,2,3,4,5", "09:00", "17:00")
    logged = db.session.execute(select(Interaction).where(
        Interaction.action == "ticket.sla_changed")).scalar_one()
    assert logged.details["first_response_hours"] == {"from": None, "to": 8}


def test_agents_cannot_change_slas(app, client, make_staff, login, make_incident):
    make_incident(reference="SLA-2")
    login(make_staff("agent"))
    assert client.get("/helpdesk/tickets/sla").status_code == 403
    assert client.get("/helpdesk/tickets/sla/SLA-2").status_code == 403
