"""Statements per request on the agents' hot pages, counted exactly (issue 10, Speed).

docs/benchmarks.md (helpdesk) explains the numbers. A search finds the people first in
a statement of its own and then their tickets by a list of ids: as a subquery of the
tickets' statement, PostgreSQL walked the whole queue in due order testing each ticket
(half a second at 1,000,000 tickets). The ticket page renders before it commits, so the
commit does not make it read the ticket and the signed-in agent again, and it takes the
newest customer message (for the collision check) from the thread it shows: a ``max(id)``
query of its own walked the messages' primary key backwards on PostgreSQL (0.4 s at
3,000,000 messages). It reads the ticket, its person and its incident in one statement
and the names of staff in the thread from the list of active staff it reads anyway (two
and one statements fewer: each costs about half a millisecond of Python).
The active staff and the approved answers without a search are kept per process for a
few seconds (``portal.core.lists``): the first page reads them, the next ones do not.
A change that adds a statement fails here: update the number with a reason.
"""

from __future__ import annotations

import pytest

from tests.tickets.test_queue import BASE, agent, ids_on, tickets  # noqa: F401

# (the first queue page, the next one, a search by phone, a ticket page on arrival, the
# same ticket page reloaded); the first queue page and the arrival read the kept lists
EXPECTED = {"sqlite": (3, 2, 7, 12, 7), "postgresql": (3, 2, 5, 10, 7)}  # a search: + log row


@pytest.fixture
def expected(db):
    return dict(zip(("queue", "queue again", "search", "arrival", "reload"),
                    EXPECTED[db.engine.dialect.name], strict=True))


def test_queue_and_search(db, client, agent, tickets, count_queries, expected):  # noqa: F811
    from portal.models import Person

    with count_queries as counted:
        assert client.get(BASE).status_code == 200
    assert len(counted) == expected["queue"], counted.statements
    with count_queries as counted:
        assert client.get(BASE).status_code == 200
    assert len(counted) == expected["queue again"], counted.statements
    staff_lists = [s for s in counted.statements
                   if s.startswith("SELECT staff_user.id, staff_user.name ")]
    assert not staff_lists
    person = db.session.get(Person, tickets[2].person_id)
    with count_queries as counted:
        page = client.get(BASE, query_string={"q": person.phone})
    assert ids_on(page.text) == [tickets[2].id]
    assert len(counted) == expected["search"], counted.statements
    ticket_statements = [s for s in counted.statements if "FROM ticket" in s]
    assert len(ticket_statements) == 1
    # The people were looked up on their own: no subquery on person in the tickets' one.
    assert "SELECT person.id" not in ticket_statements[0], ticket_statements[0]


def test_ticket_page(db, client, agent, tickets, count_queries, expected):  # noqa: F811
    url = f"/helpdesk/tickets/{tickets[2].id}"
    with count_queries as counted:
        assert client.get(url).status_code == 200
    assert len(counted) == expected["arrival"], counted.statements
    # The ticket and the agent are read once each (not again after the commit).
    assert sum(s.lstrip().startswith("SELECT ticket.id") for s in counted.statements) == 1
    assert not [s for s in counted.statements if "max(ticket_message.id)" in s]
    # The person and the incident came with the ticket.
    assert not [s for s in counted.statements
                if s.lstrip().startswith(("SELECT person.id", "SELECT incident.id"))]
    # The signed-in agent is read without the password hash and the two-factor secret
    # (decrypted when read): only the sign-in and account pages use them.
    staff_reads = [s for s in counted.statements if "FROM staff_user" in s]
    assert staff_reads and not [s for s in staff_reads
                                if "password_hash" in s or "totp_secret" in s], staff_reads
    with count_queries as counted:
        assert client.get(url).status_code == 200
    assert len(counted) == expected["reload"], counted.statements


@pytest.mark.postgres
def test_the_queue_and_ticket_page_run_without_a_transaction(
        db, client, agent, tickets, count_queries):  # noqa: F811
    """On PostgreSQL the hot read pages run in autocommit mode (``portal.core.read_pages``):
    no BEGIN before the first statement and no COMMIT or ROLLBACK after the last, two of
    a ticket page's round trips (docs/benchmarks.md, helpdesk, eleventh round). The view
    they log is committed by its own statement; a reply still runs in one transaction,
    and the connection goes back to the pool in transaction mode."""
    from sqlalchemy import event, select

    from portal.models import Interaction
    from tests.support import csrf_token

    modes: list[tuple[bool, str]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        modes.append((conn.connection.dbapi_connection.autocommit, statement.split()[0]))

    url = f"/helpdesk/tickets/{tickets[2].id}"
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for page in (BASE, f"{BASE}?q=nothing-like-this", url):
            modes.clear()
            assert client.get(page).status_code == 200
            assert modes and all(autocommit for autocommit, _verb in modes), (page, modes)
        assert "INSERT" in [verb for _autocommit, verb in modes]  # the ticket.viewed row
        token = csrf_token(client, url)
        modes.clear()
        client.post(f"{url}/note", data={"csrf_token": token, "body": "Rang back"})
        assert modes and not any(autocommit for autocommit, _verb in modes), modes
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    db.session.expire_all()
    assert db.session.scalar(select(Interaction.id).where(
        Interaction.action == "ticket.viewed", Interaction.ticket_id == tickets[2].id))
    with db.engine.connect() as connection:  # what the pool hands out next
        assert connection.connection.dbapi_connection.autocommit is False


def test_the_answer_list_is_one_statement_and_kept(db, client, agent, tickets,  # noqa: F811
                                                  count_queries, make_answers):
    """The composer lists approved answers with their keys in one statement (reading
    the versions as objects made one more statement per answer, for its key), and
    keeps the list for the next page."""
    made = make_answers()
    url = f"/helpdesk/tickets/{tickets[2].id}"
    language = tickets[2].language
    with count_queries as counted:
        page = client.get(url)
    assert made["monitoring", language].title in page.text
    assert "(what-happened)" in page.text
    answer_reads = [s for s in counted.statements if "FROM answer" in s]
    assert len(answer_reads) == 1, answer_reads
    with count_queries as counted:
        assert client.get(url).status_code == 200
    assert not [s for s in counted.statements if "FROM answer" in s]
    # A search is read each time (not kept).
    with count_queries as counted:
        page = client.get(url, query_string={"aq": "monitor"})
    assert made["monitoring", language].title in page.text
    assert "(what-happened)" not in page.text
    assert len([s for s in counted.statements if "FROM answer" in s]) == 1


def test_ticket_page_names_staff_from_the_staff_list(db, client, agent, tickets,  # noqa: F811
                                                     count_queries):
    from portal.tickets.operations import add_note, assign

    assign(tickets[2], agent.id)
    add_note(tickets[2], agent.id, "Called the customer back.")
    db.session.commit()
    with count_queries as counted:
        page = client.get(f"/helpdesk/tickets/{tickets[2].id}")
    assert page.status_code == 200 and page.text.count("Queue Agent") >= 3
    assert not [s for s in counted.statements if "FROM staff_user" in s and " IN (" in s]


def test_the_partial_queue_indexes_cover_the_working_queue():
    """The queue's partial indexes hold exactly the statuses the default view asks for
    (a change to one without the other would leave the planner unable to use them)."""
    import re

    from portal.models.ticket import WORKING_QUEUE
    from portal.tickets.queries import QUEUE_STATUSES

    assert tuple(re.findall(r"'(\w+)'", str(WORKING_QUEUE))) == QUEUE_STATUSES


@pytest.mark.postgres
@pytest.mark.parametrize(("name", "index"), [("language", "ix_ticket_queue_language"),
                                             ("channel", "ix_ticket_queue_channel"),
                                             ("assignee", "ix_ticket_working_assignee"),
                                             ("incident", "ix_ticket_working_incident")])
def test_working_queue_filters_use_their_partial_index(app, db, make_staff, make_incident,
                                                       name, index):
    """On PostgreSQL the default view filtered by language, channel, assignee ("my
    tickets") or incident is a range scan of its partial index of working tickets, not a
    walk of every ticket in due order (1.2 s at 1,000,000) or of every closed ticket of
    the agent (25 ms of database CPU a page for an agent with 43,000 closed tickets)."""
    from datetime import timedelta

    from portal.models.base import utcnow
    from portal.tickets.queue import parse_filters, queue_page
    from tests.support.plans import plan_without_seqscan, statements_of

    value = {"language": "de", "channel": "phone", "assignee": "me",
             "incident": make_incident().reference}[name]
    staff = make_staff("agent")
    now = utcnow()
    (statement, parameters), = statements_of(
        db, lambda: queue_page(parse_filters({name: value}, ["en", "es", "fr", "de"]),
                               staff_id=staff.id, now=now, day_end=now + timedelta(hours=8)),
        "FROM ticket")
    plan = plan_without_seqscan(db, statement, parameters)
    assert index in plan, plan


def test_the_ticket_page_s_statements_are_built_once(app, db, tickets, monkeypatch):  # noqa: F811
    """The ticket page's own reads (ticket with person and incident, notices sent, thread,
    approved answers, active staff) and every staff request's user load execute statements
    built once: building a statement
    and its cache key took more Python than executing a cached one (~0.45 ms a page)."""
    app.config["LIST_CACHE_SECONDS"] = 0  # read every time, to count what is built
    from sqlalchemy.sql.base import Generative
    from sqlalchemy.sql.selectable import Select

    from portal.answers.choose import answer_choices
    from portal.security.sign_in import staff_by_id
    from portal.tickets.operations import thread
    from portal.tickets.page import load_for_page, person_context
    from portal.tickets.queue import agents

    ticket = tickets[2]

    def page_reads():
        loaded = load_for_page(ticket.id)
        context = person_context(loaded[0])
        return (loaded[0].id, context.person.id, len(thread(ticket.id)),
                answer_choices("en", "", ticket.incident_id), answer_choices("de", None, None),
                agents(), staff_by_id(ticket.assignee_id or 1) is None)

    first = page_reads()
    built = []
    for owner, name in ((Select, "__init__"), (Generative, "_generate")):
        original = getattr(owner, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            built.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)
    assert page_reads() == first
    assert built == [], built
