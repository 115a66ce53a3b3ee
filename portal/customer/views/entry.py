"""Entry and verification: the code, date of birth plus postcode or policy digits.

Every failure answers with the same message. Five failures in a row lock the
code for 30 minutes. The code never appears in a log line, and leaves the URL at
once: ``/n/<code>`` keeps only its blind index in the session and redirects.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app, redirect, render_template, request, session, url_for
from sqlalchemy import Integer, bindparam, case, func, null, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit import log as audit
from portal.core import autocommit, jobs
from portal.core.i18n import current_language
from portal.customer import bp
from portal.customer import session as customer_session
from portal.customer.forms import CodeForm, ConfirmForm, NoLetterForm, VerifyForm
from portal.dispatch.reminders import send_code_reminder
from portal.extensions import db, limiter
from portal.incidents.contacts import contact_text
from portal.models.base import UTCDateTime, utcnow
from portal.models.incident import Incident
from portal.models.person import Person
from portal.people import unknown_codes
from portal.people.identity import name_dob_index
from portal.security.crypto import (
    code_index,
    digests_equal,
    format_code,
    is_valid_code,
    normalise_code,
    normalise_token,
    policy_index,
    verification_digest,
)
from portal.security.headers import no_store

# Compared against when no record exists, so both branches do the same work.
_NO_DIGEST = "0" * 64


def _rate_limit() -> str:
    return current_app.config["CUSTOMER_VERIFY_RATE_LIMIT"]


def _max_failures() -> int:
    return int(current_app.config["CUSTOMER_LOCKOUT_ATTEMPTS"])


def _lock_minutes() -> int:
    return int(current_app.config["CUSTOMER_LOCKOUT_MINUTES"])


def _page(template: str, status: int = 200, **context):
    return no_store(current_app.make_response((render_template(template, **context), status)))


def _remember_code(code: str) -> None:
    session[customer_session.PENDING_CODE_KEY] = code_index(code)
    session[customer_session.PENDING_TAIL_KEY] = normalise_code(code)[-4:]


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def index():
    """The landing page: type the notice code from a letter or message."""
    form = CodeForm()
    if form.validate_on_submit():
        _remember_code(form.code.data)
        return redirect(url_for("customer.verify"))
    status = 400 if form.errors else 200
    return _page("customer/index.html", status, form=form,
                 signed_in=customer_session.current_person() is not None)


@bp.get("/n/<code>")
@limiter.limit(_rate_limit)
def from_link(code: str):
    """A link from an SMS or e-mail: keep the code out of the URL and history at once."""
    if is_valid_code(code):
        _remember_code(code)
        return redirect(url_for("customer.verify"), code=303)
    return redirect(url_for("customer.index"), code=303)


# The pending person and their incident's second question, in one statement built once.
_PENDING = (
    select(Person, Incident.verification_method)
    .options(*customer_session.LAZY_PII)  # compared by digests only
    .join(Incident, Incident.id == Person.incident_id)
    # An anonymised person (retention purge) is treated exactly like an unknown code.
    .where(Person.code_index == bindparam("index_value"), Person.anonymised_at.is_(None))
)

VERIFICATION_METHODS = ("postcode", "policy_last4")


def _default_method() -> str:
    """The second question asked for a code that matches nobody (set it to the most common)."""
    method = current_app.config["CUSTOMER_DEFAULT_VERIFICATION_METHOD"]
    return method if method in VERIFICATION_METHODS else "postcode"


def _pending() -> tuple[Person | None, str]:
    """The person whose code this session entered, and the second question to ask."""
    index_value = session.get(customer_session.PENDING_CODE_KEY)
    row = None
    if index_value:
        row = autocommit.read_row(_PENDING, {"index_value": index_value})
    if row is None:
        return None, _default_method()
    return row[0], row[1] or "postcode"


def _answers_match(person: Person | None, form: VerifyForm, method: str) -> bool:
    """Compare both answers in constant time; both are always computed."""
    dob = verification_digest("dob", form.date_of_birth.data.isoformat())
    dob_ok = digests_equal(dob, person.dob_digest if person else _NO_DIGEST)
    if method == "policy_last4":
        given = verification_digest("policy_last4", normalise_token(form.policy_last4.data or ""))
        expected = person.policy_last4_digest if person else _NO_DIGEST
    else:
        given = verification_digest("postcode", form.postcode.data or "")
        expected = person.postcode_digest if person else _NO_DIGEST
    second_ok = digests_equal(given, expected)
    return dob_ok & second_ok  # no short-circuit


def _unlocked(now):
    return or_(Person.verification_locked_until.is_(None),
               Person.verification_locked_until <= now)


_ATTEMPT_FIELDS = ("failed_verifications", "verification_locked_until", "last_verified_at")
_NOW = bindparam("now", type_=UTCDateTime())
_MAX = bindparam("max_failures", type_=Integer())


def _reserve_statement():
    # Past the WHERE guard, a lock that is still set has expired, and a full count without
    # a lock was unlocked by hand: either way a new window starts.
    previous = case((or_(Person.verification_locked_until.is_not(None),
                         Person.failed_verifications >= _MAX), 0),
                    else_=func.coalesce(Person.failed_verifications, 0))
    return (
        update(Person)
        .where(Person.id == bindparam("person_id"), _unlocked(_NOW))
        .values(failed_verifications=previous + 1,
                verification_locked_until=case(
                    (previous + 1 >= _MAX, bindparam("until", type_=UTCDateTime())),
                    else_=null()))
        .returning(Person.failed_verifications)
        .execution_options(synchronize_session=False)
    )


def _grant_statement(last_attempt: bool):
    allowed = _unlocked(_NOW)
    if last_attempt:
        allowed = or_(allowed, Person.failed_verifications == bindparam("attempt"))
    return (
        update(Person)
        .where(Person.id == bindparam("person_id"), allowed)
        .values(failed_verifications=0, verification_locked_until=None, last_verified_at=_NOW,
                session_nonce=bindparam("nonce"))
        .returning(*(getattr(Person, name) for name in _ATTEMPT_FIELDS))
        .execution_options(synchronize_session=False)
    )


# Built once: building these statements costs more than running them.
_RESERVE = _reserve_statement()
_GRANT = {last: _grant_statement(last) for last in (False, True)}


def _reserve_attempt(person_id: int) -> int | None:
    """Count this attempt BEFORE anything is compared, in one atomic statement.

    Returns the attempt's number in the current window (1 to the maximum), or
    ``None`` when the code is locked. The attempt that reaches the maximum sets the
    lock itself, so no further attempt is compared while it is in force. An expired
    lock starts a new window. The reservation is committed at once: it holds no
    row lock while the answers are compared.
    """
    now = utcnow()
    attempt = autocommit.scalar_now(_RESERVE, {
        "person_id": person_id, "now": now, "max_failures": _max_failures(),
        "until": now + timedelta(minutes=_lock_minutes()),
    })
    if not autocommit.available():
        _commit_keeping_loaded()
    return attempt


def _commit_keeping_loaded() -> None:
    """Commit without expiring what the session has loaded.

    The reservation changes only the attempt fields, which the code after it reads
    back explicitly (``_grant``'s RETURNING, or a refresh); the digests and the
    language it still needs are unchanged, so reloading the person would be waste.
    """
    current = db.session()
    current.expire_on_commit = False
    try:
        current.commit()
    finally:
        current.expire_on_commit = True


def _grant(person: Person, attempt: int, nonce: str) -> bool:
    """Reset the count after right answers, unless another attempt locked the code meanwhile.

    A lock set by this very attempt (the last one allowed) does not stand in the way
    of its own right answers: then no attempt has been counted since. The same
    statement stores the new session's nonce; the person's attempt fields are set
    from what it returns.
    """
    granted = db.session.execute(_GRANT[attempt >= _max_failures()], {
        "person_id": person.id, "now": utcnow(), "nonce": nonce, "attempt": attempt,
    }).one_or_none()
    if granted is None:
        return False
    for name, value in zip(_ATTEMPT_FIELDS, granted, strict=True):
        set_committed_value(person, name, value)
    set_committed_value(person, "session_nonce", nonce)
    return True


def _locked(person: Person | None) -> bool:
    until = person.verification_locked_until if person else None
    return until is not None and until > utcnow()


def _lock_contact(incident: Incident | None) -> tuple[str | None, str | None]:
    """The helpline on the lock page.

    ``CUSTOMER_LOCK_HOTLINE`` (and ``CUSTOMER_LOCK_HOTLINE_HOURS``) when set, for every
    code; otherwise the code's incident, and for a code that matches nobody the most
    recent active incident, so with one active incident both pages are the same.
    """
    configured = current_app.config["CUSTOMER_LOCK_HOTLINE"]
    if configured:
        return configured, current_app.config["CUSTOMER_LOCK_HOTLINE_HOURS"]
    if incident is None:
        incident = db.session.execute(
            select(Incident).where(Incident.status == "active")
            .order_by(Incident.created_at.desc(), Incident.id.desc()).limit(1)
        ).scalar_one_or_none()
    if incident is None:
        return None, None
    return incident.contact_hotline, contact_text(incident, "contact_hours", current_language())


def _lock_page(until, incident: Incident | None):
    hotline, hours = _lock_contact(incident)
    return _page("customer/locked.html", 429, until=until, hotline=hotline, hours=hours)


def _locked_page(person: Person):
    return _lock_page(person.verification_locked_until,
                      db.session.get(Incident, person.incident_id))


def _unknown_code_attempt(index_value: str, form: VerifyForm, method: str):
    """An attempt on a code that matches nobody: the same work, count and lock as a real one."""
    until = unknown_codes.locked_until(index_value)
    if until is not None:
        audit.record("verify.failed", actor_type="customer",
                     details={"reason": "unknown_code", "locked": True})
        db.session.commit()
        return _lock_page(until, None)
    _answers_match(None, form, method)  # the same work as for a real code
    audit.record("verify.failed", actor_type="customer", details={"reason": "unknown_code"})
    until = unknown_codes.count_failure(index_value)
    if until is not None:
        audit.record("verify.locked", actor_type="customer",
                     details={"reason": "unknown_code", "until": until.isoformat(),
                              "minutes": _lock_minutes()})
        db.session.commit()
        return _lock_page(until, None)
    db.session.commit()
    return None


def _attempt(person: Person, form: VerifyForm, method: str):
    """One verification attempt on a real code: reserve, compare, then grant or count.

    Returns the response to send, or ``None`` for the generic failure on the form.
    """
    person_id, incident_id = person.id, person.incident_id
    attempt = _reserve_attempt(person_id)
    if attempt is None:  # locked: nothing is compared
        audit.record("verify.failed", actor_type="customer", incident_id=incident_id,
                     person_id=person_id, details={"reason": "locked"})
        db.session.commit()
        db.session.refresh(person)
        return _locked_page(person)
    if _answers_match(person, form, method):
        nonce = customer_session.new_nonce()
        if _grant(person, attempt, nonce):
            customer_session.start(person, nonce)
            audit.record("verify.succeeded", incident_id=incident_id, person_id=person_id,
                         details={"method": method, "attempt": attempt})
            db.session.commit()
            return redirect(url_for("customer.notice"))
        # Right answers, but a parallel attempt locked the code after this one was counted.
        audit.record("verify.failed", actor_type="customer", incident_id=incident_id,
                     person_id=person_id, details={"reason": "locked", "attempt": attempt})
        db.session.commit()
        db.session.refresh(person)
        return _locked_page(person)
    audit.record("verify.failed", actor_type="customer", incident_id=incident_id,
                 person_id=person_id, details={"reason": "mismatch", "failures": attempt})
    if attempt >= _max_failures():
        db.session.refresh(person)
        audit.record("verify.locked", actor_type="customer", incident_id=incident_id,
                     person_id=person_id,
                     details={"until": person.verification_locked_until.isoformat(),
                              "minutes": _lock_minutes()})
        db.session.commit()
        return _locked_page(person)
    db.session.commit()
    return None


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def verify():
    """Confirm date of birth plus postcode (or the last four of the policy number)."""
    if not session.get(customer_session.PENDING_CODE_KEY):
        return redirect(url_for("customer.index"))
    person, method = _pending()
    index_value = session[customer_session.PENDING_CODE_KEY]
    if request.method == "GET":
        if person is not None and _locked(person):
            return _locked_page(person)
        if person is None and (until := unknown_codes.locked_until(index_value)) is not None:
            return _lock_page(until, None)
    form = VerifyForm(method=method)
    failed = False
    if form.validate_on_submit():
        if person is None:
            outcome = _unknown_code_attempt(index_value, form, method)
        else:
            outcome = _attempt(person, form, method)
        if outcome is not None:
            return outcome
        failed = True
    status = 401 if failed else (400 if form.errors else 200)
    tail = session.get(customer_session.PENDING_TAIL_KEY) or ""
    return _page("customer/verify.html", status, form=form, method=method, failed=failed,
                 code_hint=format_code("XXXXXXXX" + tail) if len(tail) == 4 else None)


@bp.post("/sign-out")
def sign_out():
    """End the verified session (POST with CSRF)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("customer.index"))
    person = customer_session.current_person()
    if person is not None:
        audit.record("customer.signed_out", incident_id=person.incident_id, person_id=person.id)
    customer_session.end(person)  # clears the person's nonce: copies of the cookie die too
    db.session.commit()
    return redirect(url_for("customer.signed_out"))


@bp.get("/signed-out")
def signed_out():
    """Where sign-out lands (a GET page, so the language switcher works on it)."""
    return _page("customer/signed_out.html")


# --- "I did not get a letter" ---------------------------------------------------------------


def _min_response_seconds() -> float:
    return float(current_app.config["CUSTOMER_RESEND_MIN_SECONDS"])


def _find_for_resend(form: NoLetterForm) -> Person | None:
    """Match on surname + date of birth, then postcode and policy number.

    Every digest is computed and every candidate compared whether or not any
    record exists, so a match and a miss cost the same.
    """
    dob = form.date_of_birth.data.isoformat()
    name_index = name_dob_index(form.last_name.data, dob)
    postcode = verification_digest("postcode", form.postcode.data)
    policy = policy_index(form.policy_number.data)
    candidates = list(db.session.execute(
        select(Person).where(Person.name_dob_index == name_index,
                             Person.anonymised_at.is_(None))
    ).scalars())
    found = None
    for person in candidates or [None]:
        postcode_ok = digests_equal(postcode, person.postcode_digest if person else _NO_DIGEST)
        policy_ok = digests_equal(policy, person.policy_index if person else _NO_DIGEST)
        if postcode_ok & policy_ok and found is None:
            found = person
    return found


@bp.route("/no-letter", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def no_letter():
    """Ask for the code again; the answer never says whether a record matched."""
    started = time.monotonic()
    form = NoLetterForm()
    if form.validate_on_submit():
        person = _find_for_resend(form)
        audit.record(
            "code_resend.requested",
            actor_type="customer",
            incident_id=person.incident_id if person else None,
            person_id=person.id if person else None,
            details={"matched": person is not None},
        )
        db.session.commit()
        # The same call in both branches; the job does nothing without a person.
        jobs.enqueue(send_code_reminder, person.id if person else None)
        remaining = _min_response_seconds() - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        return _page("customer/no_letter_sent.html")
    return _page("customer/no_letter.html", 400 if form.errors else 200, form=form)
