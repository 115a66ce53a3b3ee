"""Verifying a notice code: the second question, the answers, the count and the lock.

A code is verified with the date of birth plus the incident's second question
(postcode, or the policy number's last four). Attempts on every code, real or
not, are counted and locked on the code index by the one mechanism
(``portal.people.unknown_codes`` over ``portal.security.attempts``, ``CUSTOMER``
settings), and every answer is compared whether or not the code is real: a wrong
answer runs the same statements on both paths, so neither its page nor its time
tells a guesser which codes exist. Only a right answer writes the person's row.
The caller (the verify view) passes the code's blind index and the answers; nothing
here reads the request or the session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import and_, bindparam, exists, literal, select, update
from sqlalchemy.orm import aliased

from portal.audit import log as audit
from portal.core import autocommit
from portal.extensions import db
from portal.incidents.contacts import contact_text
from portal.models.base import UTCDateTime
from portal.models.incident import Incident
from portal.models.person import Person
from portal.people import unknown_codes
from portal.people.identity import name_dob_index
from portal.security import attempts
from portal.security.crypto import (
    digests_equal,
    normalise_token,
    policy_index,
    verification_digest,
)

METHODS = ("postcode", "policy_last4")
ZIP_PLUS_4 = re.compile(r"(\d{5})\d{4}")  # after normalise_token: "95814-1234" -> 958141234

# Compared against when no record exists, so both branches do the same work.
_NO_DIGEST = "0" * 64

_DIGESTS = {"postcode": "postcode_digest", "policy_last4": "policy_last4_digest"}
# Incidents whose people can verify (a draft has sent no code yet).
_LIVE = ("active", "closed")


def _portal_asks(method: str):
    """Whether any live incident verifies with this question (a column of the statement)."""
    other = aliased(Incident)
    return (exists().where(other.status.in_(_LIVE), other.verification_method == method)
            .label(f"asks_{method}"))


@dataclass(frozen=True)
class Candidate:
    """What checking a code's answers needs of its person, as plain values.

    Read as plain columns, not as an ORM object: a real code's row then costs what
    an unknown code's empty row does (no object built and merged into the session).
    The person is loaded only by a right answer, from the statement that records it.
    """

    id: int
    incident_id: int
    code_index: str
    dob_digest: str | None
    postcode_digest: str | None
    policy_last4_digest: str | None
    last_verified_at: datetime | None


# In one statement built once: the pending person (or none), their incident's second
# question, and which questions the portal asks. Compared by digests only: no
# personal field is read. An anonymised person (retention purge) is treated
# exactly like an unknown code.
_CANDIDATE = tuple(getattr(Person, name) for name in Candidate.__dataclass_fields__)
_ONE_ROW = select(literal(1).label("one")).subquery()
_PENDING = (
    select(*_CANDIDATE, Incident.verification_method, *(_portal_asks(m) for m in METHODS))
    .select_from(_ONE_ROW)
    .outerjoin(Person, and_(Person.code_index == bindparam("index_value"),
                            Person.anonymised_at.is_(None)))
    .outerjoin(Incident, Incident.id == Person.incident_id)
)

@dataclass(frozen=True)
class Answers:
    """What the customer typed: the date of birth and the answers to the questions asked."""

    date_of_birth: date
    postcode: str | None = None
    policy_last4: str | None = None
    asked: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt: verified, a plain failure, or a lock (and its helpline).

    After a plain failure, ``attempts_left`` says how many more the code allows before
    it locks: counted the same way for every code, real or unknown, so it tells nothing.
    """

    verified: bool = False
    locked_until: datetime | None = None
    incident_id: int | None = None
    attempts_left: int | None = None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def default_method() -> str:
    """The second question asked for a code that matches nobody (set it to the most common)."""
    method = current_app.config["CUSTOMER_DEFAULT_VERIFICATION_METHOD"]
    return method if method in METHODS else "postcode"


@dataclass(frozen=True)
class Pending:
    """The code being verified: its person (``None`` for an unknown code), the question that
    checks them, and the questions the form asks for every code."""

    person: Candidate | None
    method: str
    questions: tuple[str, ...]


def pending(index_value: str) -> Pending:
    """The person whose code has this index, and the questions to ask.

    The second question is picked per portal, not per code: every code is asked
    the questions of every live incident (both when incidents differ, the default
    when there is none), so the form cannot tell real codes from unknown ones or
    one incident's codes from another's. A person is checked on their own
    incident's question; any other answer is compared against nothing, the same
    work for every code.
    """
    row = autocommit.read_row(_PENDING, {"index_value": index_value})
    method, *asks = row[len(_CANDIDATE):]
    person = Candidate(*row[:len(_CANDIDATE)]) if row[0] is not None else None
    questions = tuple(m for m, asked in zip(METHODS, asks, strict=True) if asked)
    questions = questions or (default_method(),)
    if person is None:
        return Pending(None, questions[0], questions)
    return Pending(person, method or "postcode", questions)


def answers_match(person: Candidate | None, answers: Answers, method: str) -> bool:
    """Compare every answer in constant time; all are always computed.

    The person is checked on the date of birth and ``method``'s answer; the answers
    to the other questions asked are compared against nothing, as are all of them
    for an unknown code.
    """
    dob = verification_digest("dob", answers.date_of_birth.isoformat())
    dob_ok = digests_equal(dob, person.dob_digest if person else _NO_DIGEST)
    second_ok = False
    for question in answers.asked or (method,):
        if question == "policy_last4":
            given = verification_digest("policy_last4",
                                        normalise_token(answers.policy_last4 or ""))
            also = given
        else:
            typed = normalise_token(answers.postcode or "")
            given = verification_digest("postcode", typed)
            # A US ZIP+4 typed from a letter ("95814-1234") where the record holds the ZIP
            # ("95814"): a right answer, not a failed attempt. Always both digests.
            zip_plus_4 = ZIP_PLUS_4.fullmatch(typed)
            also = verification_digest("postcode", zip_plus_4.group(1) if zip_plus_4 else typed)
        checked = person is not None and question == method
        stored = getattr(person, _DIGESTS[question]) if checked else _NO_DIGEST
        ok = digests_equal(given, stored) | digests_equal(also, stored)
        second_ok = ok if question == method else second_ok
    return dob_ok & second_ok  # no short-circuit


def _fresh_after(person: Candidate | None) -> datetime | None:
    """The code's last right answer: failures counted before it are over."""
    return person.last_verified_at if person is not None else None


def locked_until(person: Candidate | None, index_value: str) -> datetime | None:
    """When the lock on this code ends (real or unknown), or ``None`` when it is not locked."""
    return unknown_codes.locked_until(index_value, _fresh_after(person))


def failures(person: Candidate | Person) -> unknown_codes.State:
    """The failures counted on this person's code in the current window, and its lock."""
    return unknown_codes.state(person.code_index, _fresh_after(person))


def lift_lock(person: Candidate | Person) -> None:
    """Lift the lock on this person's code by hand (committed); the next attempt starts afresh."""
    unknown_codes.lift_lock(person.code_index)


def lock_contact(language: str) -> tuple[str | None, str | None]:
    """The helpline on the lock page: the same for every code, real or unknown.

    ``CUSTOMER_LOCK_HOTLINE`` (and ``CUSTOMER_LOCK_HOTLINE_HOURS``) when set;
    otherwise the most recent active incident's. Showing the code's own incident
    would tell a guesser, with two active incidents, which codes exist; a portal
    that serves several incidents at once should set the setting to a shared line.
    """
    configured = current_app.config["CUSTOMER_LOCK_HOTLINE"]
    if configured:
        return configured, current_app.config["CUSTOMER_LOCK_HOTLINE_HOURS"]
    incident = db.session.execute(
        select(Incident).where(Incident.status == "active")
        .order_by(Incident.created_at.desc(), Incident.id.desc()).limit(1)
    ).scalar_one_or_none()
    if incident is None:
        return None, None
    return incident.contact_hotline, contact_text(incident, "contact_hours", language)


def _grant_statement(lock_stands):
    statement = update(Person).where(Person.id == bindparam("person_id"))
    if lock_stands is not None:
        statement = statement.where(~lock_stands)
    return (statement.values(last_verified_at=bindparam("now", type_=UTCDateTime()),
                             session_nonce=bindparam("nonce"))
            .returning(Person)
            .execution_options(synchronize_session=False))


# A right answer: the person's row, unless a lock on the code stands in the way (checked in
# the same statement when the counts are in the database; before it, with Redis).
_GRANT = {
    "database": {last: _grant_statement(unknown_codes.CODE_COUNTER.lock_stands(last))
                 for last in (False, True)},
    "redis": _grant_statement(None),
}


def _grant(person: Candidate, index_value: str, reserved: attempts.Attempt, nonce: str,
           fresh_after: datetime | None) -> Person | None:
    """Record a right answer on the person's row and load them; ``None`` when a lock
    stands in the way.

    The code's counter is not written: the new ``last_verified_at`` ends its window
    (see ``portal.people.unknown_codes``). The same rule as ``attempts.grant``: a lock
    refuses, except the one this very attempt set.
    """
    at = unknown_codes.now()
    params = {"person_id": person.id, "now": at, "nonce": nonce}
    clause = unknown_codes.lock_stands_clause(reserved.reached_limit)
    if clause is None:
        if unknown_codes.lock_stands(index_value, reserved, fresh_after):
            return None
        statement = _GRANT["redis"]
    else:
        statement = _GRANT["database"][reserved.reached_limit]
        params.update(unknown_codes.clause_params(index_value, reserved, at, fresh_after))
    return db.session.execute(statement, params).scalar_one_or_none()


def attempt(person: Candidate | None, index_value: str, answers: Answers, method: str,
            nonce: str, on_verified: Callable[[Person], None]) -> Outcome:
    """One verification attempt; logged and committed.

    Real and unknown codes take the same steps: the attempt is counted on the code
    index (``portal.people.unknown_codes``) before anything is compared, then every
    answer is compared. Only right answers, which only a real code can have, write
    the person's row: ``nonce`` and the time, then ``on_verified(person)`` runs (the
    caller starts the session) before the success is logged and committed, in the
    same transaction.
    """
    fresh_after = _fresh_after(person)
    logged = ({"incident_id": person.incident_id, "person_id": person.id}
              if person is not None else {})
    incident_id = logged.get("incident_id")
    reserved = unknown_codes.reserve(index_value, fresh_after)
    if reserved is None:  # locked: nothing is compared
        details = {"reason": "locked"} if person else {"reason": "unknown_code", "locked": True}
        audit.record("verify.failed", actor_type="customer", details=details, **logged)
        db.session.commit()
        return Outcome(locked_until=unknown_codes.locked_until(index_value, fresh_after),
                       incident_id=incident_id)
    if answers_match(person, answers, method) and person is not None:
        verified = _grant(person, index_value, reserved, nonce, fresh_after)
        if verified is not None:
            on_verified(verified)
            audit.record("verify.succeeded", details={"method": method,
                                                      "attempt": reserved.number}, **logged)
            db.session.commit()
            return Outcome(verified=True, incident_id=incident_id)
        # Right answers, but a parallel attempt locked the code after this one was counted.
        audit.record("verify.failed", actor_type="customer",
                     details={"reason": "locked", "attempt": reserved.number}, **logged)
        db.session.commit()
        return Outcome(locked_until=unknown_codes.locked_until(index_value, fresh_after),
                       incident_id=incident_id)
    if person is None:
        details = {"reason": "unknown_code"}
    else:
        details = {"reason": "mismatch", "failures": reserved.number}
    audit.record("verify.failed", actor_type="customer", details=details, **logged)
    if reserved.reached_limit:
        until = unknown_codes.escalate(index_value, reserved, fresh_after)
        minutes = round((until - reserved.locks_until).total_seconds() / 60
                        + current_app.config["CUSTOMER_LOCKOUT_MINUTES"])
        locked = {"until": until.isoformat(), "minutes": minutes}
        if person is None:
            locked = {"reason": "unknown_code", **locked}
        audit.record("verify.locked", actor_type="customer", details=locked, **logged)
        db.session.commit()
        return Outcome(locked_until=until, incident_id=incident_id)
    db.session.commit()
    return Outcome(incident_id=incident_id, attempts_left=_attempts_left(reserved))


def _attempts_left(reserved: attempts.Attempt) -> int:
    """How many more attempts the code allows after this failed one (the lock's own count)."""
    return max(int(current_app.config["CUSTOMER_LOCKOUT_ATTEMPTS"]) - reserved.number, 0)


def find_for_resend(last_name: str, date_of_birth: date, postcode: str,
                    policy_number: str | None = None) -> Person | None:
    """Match on surname + date of birth, then postcode, then the policy number if given.

    The policy number is optional: a person imported without one is matched on the
    rest, and so is one whose record has none. Every digest is computed and every
    candidate compared whether or not a policy number was given or any record exists,
    so a match, a miss and either kind of request cost the same.
    """
    dob = date_of_birth.isoformat()
    name_index = name_dob_index(last_name, dob)
    postcode_digest = verification_digest("postcode", postcode)
    policy_given = bool(normalise_token(policy_number or ""))
    policy = policy_index(policy_number or "")
    candidates = list(db.session.execute(
        select(Person).where(Person.name_dob_index == name_index,
                             Person.anonymised_at.is_(None))
    ).scalars())
    found = None
    for person in candidates or [None]:
        postcode_ok = digests_equal(postcode_digest,
                                    person.postcode_digest if person else _NO_DIGEST)
        on_file = person.policy_index if person else None
        policy_ok = digests_equal(policy, on_file or _NO_DIGEST)
        policy_ok = policy_ok | (not policy_given) | (on_file is None)
        if postcode_ok & policy_ok and found is None:
            found = person
    return found
