"""Statements per request on the customer's hot paths, counted exactly.

docs/benchmarks.md explains the numbers: verification reads the person and the
question in one statement, reserves the attempt in one UPDATE and logs in one
INSERT of its log row on PostgreSQL (three statements on SQLite, which seals it at once); a
repeated notice view reads only the person, in autocommit mode on PostgreSQL.
A change that adds a statement fails here: update the number with a reason.
"""

from __future__ import annotations

import pytest

from tests.support import csrf_token
from tests.support.customer import approve_notice, enter_code
from tests.support.dates import dob_fields

# (failed POST /verify, successful POST /verify, first GET /notice, later GET /notice)
EXPECTED = {"sqlite": (5, 6, 9, 1), "postgresql": (3, 4, 7, 1)}


@pytest.fixture
def expected(db):
    failed, verified, first_view, later_view = EXPECTED[db.engine.dialect.name]
    return {"failed": failed, "verified": verified, "first_view": first_view,
            "later_view": later_view}


@pytest.fixture
def person(db, make_incident, make_person):
    incident = make_incident()
    approve_notice(db, incident)
    return make_person(incident=incident)[1]


def _post_answer(client, plain: dict, dob: str, count_queries):
    """Enter the code, then count the statements of the POST /verify alone."""
    enter_code(client, plain["notice_code"])
    token = csrf_token(client, "/")
    with count_queries as counted:
        response = client.post("/verify", data={
            **dob_fields(dob), "postcode": plain["postcode"], "csrf_token": token})
    return response, counted


def test_failed_verification(client, person, count_queries, expected):
    response, counted = _post_answer(client, person, "1901-02-03", count_queries)
    assert response.status_code == 401
    assert len(counted) == expected["failed"], str(counted)


def test_successful_verification_then_the_notice(client, person, count_queries, expected):
    response, counted = _post_answer(client, person, person["date_of_birth"], count_queries)
    assert response.status_code == 302 and response.location.endswith("/notice")
    assert len(counted) == expected["verified"], str(counted)
    with count_queries as counted:
        assert client.get("/notice").status_code == 200
    assert len(counted) == expected["first_view"], str(counted)
    for _ in range(2):
        with count_queries as counted:
            assert client.get("/notice").status_code == 200
        assert len(counted) == expected["later_view"], str(counted)
