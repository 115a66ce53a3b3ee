"""Entry and verification: the code, date of birth plus postcode or policy digits.

Every failure answers with the same message and the same count of attempts left
(the count every code has, real or unknown). Five failures in a row lock the code
for 30 minutes (counted and locked in ``portal.people.verification``). The
code never appears in a log line, and leaves the URL at once: ``/n/<code>`` keeps
only its blind index in the session and redirects.
"""

from __future__ import annotations

import math
import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _

from portal.audit import log as audit
from portal.core import jobs
from portal.core.i18n import current_language
from portal.customer import bp
from portal.customer import session as customer_session
from portal.customer.forms import CodeForm, ConfirmForm, NoLetterForm, VerifyForm
from portal.customer.pages import page
from portal.dispatch.reminders import send_code_reminder
from portal.extensions import db, limiter
from portal.models.base import utcnow
from portal.people import verification
from portal.security.crypto import code_index, format_code, is_valid_code, normalise_code


def _rate_limit() -> str:
    return current_app.config["CUSTOMER_VERIFY_RATE_LIMIT"]



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
    return page("customer/index.html", status, form=form,
                 signed_in=customer_session.current_person() is not None)


@bp.get("/n/<code>")
@limiter.limit(_rate_limit)
def from_link(code: str):
    """A link from an SMS or e-mail: keep the code out of the URL and history at once."""
    if is_valid_code(code):
        _remember_code(code)
        return redirect(url_for("customer.verify"), code=303)
    # A link cut short or mistyped (SMS apps split long messages): say so rather than show
    # an empty form. Only the form of the code is judged, never whether it exists.
    flash(_("The link you followed is incomplete. Type the 12-character code from your letter "
            "or message, for example 7K2D-QX9M-4TRB."), "error")
    return redirect(url_for("customer.index"), code=303)


def _lock_page(until):
    hotline, hours = verification.lock_contact(current_language())
    # How long, first: the clock time is in the portal's zone, which need not be the
    # customer's ("12:43 AM (UTC)" read as tomorrow in California), and the code's own
    # incident's zone would tell a guesser which codes exist.
    minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
    return page("customer/locked.html", 429, until=until, minutes=minutes, hotline=hotline,
                hours=hours)


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def verify():
    """Confirm date of birth plus postcode (or the last four of the policy number)."""
    index_value = session.get(customer_session.PENDING_CODE_KEY)
    if not index_value:
        return redirect(url_for("customer.index"))
    pending = verification.pending(index_value)
    person, method, questions = pending.person, pending.method, pending.questions
    if request.method == "GET":
        until = verification.locked_until(person, index_value)
        if until is not None:
            return _lock_page(until)
    form = VerifyForm(questions=questions)
    failed, attempts_left = False, None
    if form.validate_on_submit():
        answers = verification.Answers(form.date_of_birth.data, postcode=form.postcode.data,
                                       policy_last4=form.policy_last4.data, asked=questions)
        nonce = customer_session.new_nonce()
        outcome = verification.attempt(
            person, index_value, answers, method, nonce,
            on_verified=lambda verified: customer_session.start(verified, nonce))
        if outcome.verified:
            return redirect(url_for("customer.notice"))
        if outcome.locked:
            return _lock_page(outcome.locked_until)
        failed, attempts_left = True, outcome.attempts_left
    status = 401 if failed else (400 if form.errors else 200)
    tail = session.get(customer_session.PENDING_TAIL_KEY) or ""
    return page("customer/verify.html", status, form=form, questions=questions, failed=failed,
                 attempts_left=attempts_left,
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
    return page("customer/signed_out.html")


# --- "I did not get a letter" ---------------------------------------------------------------


def _min_response_seconds() -> float:
    return current_app.config["CUSTOMER_RESEND_MIN_SECONDS"]


@bp.route("/no-letter", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def no_letter():
    """Ask for the code again; the answer never says whether a record matched."""
    started = time.monotonic()
    form = NoLetterForm()
    if form.validate_on_submit():
        person = verification.find_for_resend(form.last_name.data, form.date_of_birth.data,
                                                 form.postcode.data, form.policy_number.data)
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
        # the portal's helpline, whoever asked
        hotline, hours = verification.lock_contact(current_language())
        remaining = _min_response_seconds() - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        return page("customer/no_letter_sent.html", hotline=hotline, hours=hours)
    return page("customer/no_letter.html", 400 if form.errors else 200, form=form)
