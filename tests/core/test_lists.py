"""The lists kept per process for a few seconds (portal/core/lists.py): read once, emptied
by a commit that changes their table here, at most ``LIST_CACHE_SECONDS`` old when the
change came from elsewhere, and never trusted for what is acted on."""

from __future__ import annotations

import time

from sqlalchemy import update

from tests.support import csrf_token
from tests.tickets.test_queue import agent  # noqa: F401
from tests.tickets.test_ticket_pages import BASE, ticket  # noqa: F401


def _staff_lists(counted) -> int:
    return sum(s.startswith("SELECT staff_user.id, staff_user.name ") for s in counted.statements)


def test_a_list_is_read_once_and_emptied_by_a_commit_that_changes_its_table(
        app, db, make_staff, count_queries):
    from portal.core import lists
    from portal.models import StaffUser
    from portal.tickets.queue import AGENTS, agents

    first = make_staff("agent", name="Ann First")
    with app.test_request_context():
        with count_queries as counted:
            assert agents() == [(first.id, "Ann First")]
            assert agents() == [(first.id, "Ann First")]
        assert _staff_lists(counted) == 1
        # A list read inside a transaction that is then rolled back is not kept with the
        # rows that were never committed.
        db.session.add(StaffUser(email="gone@staff.example", name="Ghost", role="agent",
                                 password_hash="x"))
        db.session.flush()
        lists.forget(AGENTS)
        assert "Ghost" in dict(agents()).values()
        db.session.rollback()
        assert agents() == [(first.id, "Ann First")]
        # A savepoint's end leaves the marks to the transaction around it: a change flushed
        # before a savepoint that rolls back still empties the list when the whole commits.
        agents()
        first.name = "Ann Renamed"
        db.session.flush()
        with db.session.begin_nested() as savepoint:
            savepoint.rollback()
        db.session.commit()
        assert agents() == [(first.id, "Ann Renamed")]
        # A committed one (here: a new agent) shows on the next read.
        second = make_staff("agent", name="Bea Second")
        with count_queries as counted:
            assert agents() == [(first.id, "Ann Renamed"), (second.id, "Bea Second")]
        assert _staff_lists(counted) == 1
        # A change that did not pass through this process's session: at most the
        # setting's seconds old.
        app.config["LIST_CACHE_SECONDS"] = 0.2
        lists.forget(AGENTS)
        agents()
        with db.engine.begin() as elsewhere:
            elsewhere.execute(update(StaffUser).where(StaffUser.id == second.id)
                              .values(active=False))
        assert (second.id, "Bea Second") in agents()
        time.sleep(0.25)
        db.session.rollback()  # a new request's transaction
        assert agents() == [(first.id, "Ann Renamed")]
        # 0 keeps nothing.
        app.config["LIST_CACHE_SECONDS"] = 0
        with count_queries as counted:
            agents(), agents()
        assert _staff_lists(counted) == 2


def test_a_list_read_while_it_was_emptied_is_not_kept(app):
    """Another thread's commit that empties a list while this one reads it: the answer
    (which may predate that commit) is returned but not kept."""
    from portal.core import lists
    from portal.tickets.queue import AGENTS

    reads = []

    def load_during_a_commit():
        reads.append(1)
        if len(reads) == 1:
            lists.forget(AGENTS)  # as another thread's commit would
        return ["old"]

    with app.test_request_context():
        assert lists.kept(AGENTS, None, load_during_a_commit) == ["old"]
        lists.kept(AGENTS, None, load_during_a_commit)
        lists.kept(AGENTS, None, load_during_a_commit)
    assert len(reads) == 2  # read again once, then kept


def test_an_assignment_checks_the_staff_member_afresh(
        app, db, client, agent, ticket, make_staff):  # noqa: F811
    """A list may be a few seconds old in another process: assigning to someone
    deactivated meanwhile is refused although the page still offered them."""
    from portal.models import StaffUser

    other = make_staff("agent", name="Dee Parted")
    token = csrf_token(client, f"{BASE}/{ticket.id}")
    assert "Dee Parted" in client.get(f"{BASE}/{ticket.id}").text
    with db.engine.begin() as elsewhere:  # another process: this one's list is not emptied
        elsewhere.execute(update(StaffUser).where(StaffUser.id == other.id)
                          .values(active=False))
    assert "Dee Parted" in client.get(f"{BASE}/{ticket.id}").text  # still kept here
    refused = client.post(f"{BASE}/{ticket.id}/assign",
                          data={"csrf_token": token, "assignee": str(other.id)},
                          follow_redirects=True)
    assert "Choose a staff member from the list." in refused.text
    db.session.refresh(ticket)
    assert ticket.assignee_id is None


def test_a_retired_answer_still_listed_elsewhere_cannot_be_used(
        app, db, client, agent, ticket, make_answers):  # noqa: F811
    from portal.models import AnswerVersion

    made = make_answers()
    version = made["monitoring", ticket.language]
    page = client.get(f"{BASE}/{ticket.id}")
    assert version.title in page.text
    with db.engine.begin() as elsewhere:
        elsewhere.execute(update(AnswerVersion).where(AnswerVersion.id == version.id)
                          .values(state="retired"))
    page = client.get(f"{BASE}/{ticket.id}", query_string={"use": version.id})
    assert version.title in page.text  # the kept list still offers it here ...
    assert "That answer is not approved any more." in page.text  # ... but it is not used
