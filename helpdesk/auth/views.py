"""Staff sign-in (password, then TOTP when enabled), 2FA set-up and sign-out.

Admins must use two-factor sign-in: an admin without it is taken through set-up
before the session is created.
"""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from helpdesk.auth import bp
from helpdesk.auth.forms import ConfirmForm, LoginForm, SetupForm, TimeZoneForm, TotpForm
from portal.audit import log as audit
from portal.core import jobs
from portal.core.i18n import time_zone_names
from portal.extensions import db, limiter
from portal.models.staff import StaffUser
from portal.security import sign_in, totp
from portal.security.headers import no_store
from portal.security.passwords import hash_password, needs_rehash, verify_password
from portal.security.redirects import safe_next
from portal.security.sign_in import SignInAttempt, find_staff

PENDING_KEY = "staff_pending_id"
PENDING_NEXT_KEY = "staff_pending_next"
SETUP_SECRET_KEY = "staff_totp_setup_secret"  # noqa: S105 - a session key name
SEEN_KEY = "staff_seen_at"
SIGNED_IN_KEY = "staff_signed_in_at"


def _login_limit() -> str:
    return current_app.config["STAFF_LOGIN_RATE_LIMIT"]


def _home() -> str:
    return url_for("helpdesk_home.index")


def _record_failure(user: StaffUser, reason: str, attempt: SignInAttempt | None = None) -> None:
    """Log a failed attempt (and the lock it caused) and commit."""
    details = {"reason": reason}
    if attempt is not None:
        details["failures"] = attempt.number
    audit.record(
        "staff.login_failed",
        actor_type="staff" if user else "system",
        actor_id=user.id if user else None,
        details=details,
    )
    if user is not None and attempt is not None and attempt.address.reached_limit:
        # This address only: the agent can still sign in from their own.
        audit.record(
            "staff.locked",
            actor_type="staff",
            actor_id=user.id,
            details={"scope": "address", "minutes": current_app.config["STAFF_LOCKOUT_MINUTES"]},
        )
    if user is not None and attempt is not None and attempt.account.reached_limit:
        audit.record(
            "staff.locked",
            actor_type="staff",
            actor_id=user.id,
            details={"scope": "account",
                     "minutes": current_app.config["STAFF_ACCOUNT_LOCKOUT_MINUTES"]},
        )
    db.session.commit()
    if user is not None and attempt is not None and attempt.account.reached_limit:
        jobs.enqueue(sign_in.tell_admins_of_lock, user.id)


def _lock_message(attempt: SignInAttempt | None) -> str:
    """What the two-step page says when its failure locked (or met a lock)."""
    if attempt is None:
        return _("Too many failed attempts. Sign-in is locked for now: try again later or ask "
                 "an administrator to unlock your account.")
    config = current_app.config
    minutes = (config["STAFF_ACCOUNT_LOCKOUT_MINUTES"] if attempt.account.reached_limit
               else config["STAFF_LOCKOUT_MINUTES"])
    return ngettext("Too many failed attempts. Your account is locked for %(num)d minute.",
                    "Too many failed attempts. Your account is locked for %(num)d minutes.",
                    minutes)


def _start_session(user: StaffUser, next_url: str | None, method: str,
                   attempt: SignInAttempt | None):
    """Sign in after the last step's right answer, unless a lock stands in the way.

    ``attempt`` is that step's reservation (``None`` for the two-factor set-up,
    which reserves nothing: then any lock refuses).
    """
    if not sign_in.grant(user, attempt, request.remote_addr):
        # A parallel attempt locked the account while this one was checked.
        db.session.rollback()
        _record_failure(user, "locked")
        session.pop(PENDING_KEY, None)
        return redirect(url_for("staff_auth.login"))
    # A fresh session on sign-in: nothing from before authentication survives.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[SEEN_KEY] = session[SIGNED_IN_KEY] = time.time()
    login_user(user)
    audit.record("staff.login", actor_type="staff", actor_id=user.id, details={"method": method})
    db.session.commit()
    return redirect(safe_next(next_url, _home()))


def _pending_user() -> StaffUser | None:
    staff_id = session.get(PENDING_KEY)
    if staff_id is None:
        return None
    user = db.session.get(StaffUser, staff_id)
    if user is None or not user.active or user.is_locked():
        session.pop(PENDING_KEY, None)
        return None
    return user


@bp.route("/setup/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["GET", "POST"])
def setup(token: str):
    """A new staff member sets their password through an administrator's one-time link.

    Unknown, used and expired links get one page, which reveals no account; the token
    is kept out of request logs (``portal.security.logs``).
    """
    from portal.security import staff_accounts
    from portal.security.staff_accounts import StaffError

    link = staff_accounts.link_for(token)
    if link is None:
        db.session.rollback()
        return no_store(current_app.make_response(
            (render_template("staff/setup_invalid.html"), 404)))
    user = db.session.get(StaffUser, link.staff_id)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            done = staff_accounts.redeem(token, form.password.data)
        except StaffError as error:
            db.session.rollback()
            form.password.errors = [*form.password.errors, error.message]
        else:
            if done is None:
                return no_store(current_app.make_response(
                    (render_template("staff/setup_invalid.html"), 404)))
            db.session.commit()
            # Whoever was signed in on this browser is not the new account: sign them
            # out now, not on merely opening a link (a cross-site GET would sign staff out).
            if current_user.is_authenticated:
                logout_user()
                session.clear()
            flash(_("Your password is set. Sign in with your email address and your new password."),
                  "success")
            return redirect(url_for("staff_auth.login"))
    status = 400 if form.errors else 200
    return no_store(current_app.make_response(
        (render_template("staff/setup.html", form=form, user=user), status)))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Password step of staff sign-in."""
    if current_user.is_authenticated:
        return redirect(_home())
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = find_staff(form.email.data)
        attempt = (sign_in.reserve(user, request.remote_addr)
                   if user is not None and user.active else None)
        # Every branch checks a password hash, so all failures take the same time.
        password_ok = attempt is not None and verify_password(user.password_hash,
                                                              form.password.data)
        if attempt is None:
            verify_password(None, form.password.data)
            reason = "unknown" if user is None else ("inactive" if not user.active else "locked")
            _record_failure(user, reason)
            failed = True
        elif not password_ok:
            _record_failure(user, "password", attempt)
            failed = True
        else:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            next_url = request.args.get("next")
            if user.totp_enabled or user.must_set_up_totp:
                session.clear()
                session[PENDING_KEY] = user.id
                session[PENDING_NEXT_KEY] = safe_next(next_url, _home())
                db.session.commit()
                if user.totp_enabled:
                    return redirect(url_for("staff_auth.login_totp"))
                return redirect(url_for("staff_auth.totp_setup"))
            return _start_session(user, next_url, "password", attempt)
    status = 200
    if failed:
        status = 401
    elif form.errors:
        status = 400
    response = current_app.make_response(
        (render_template("staff/login.html", form=form, failed=failed), status)
    )
    return no_store(response)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_totp():
    """Second step: the code from the staff member's authenticator app."""
    user = _pending_user()
    if user is None or not user.totp_enabled:
        return redirect(url_for("staff_auth.login"))
    form = TotpForm()
    failed = reused = False
    if form.validate_on_submit():
        attempt = sign_in.reserve(user, request.remote_addr)
        step = None
        if attempt is not None:
            step = totp.matching_step(user.totp_secret, form.code.data, user.totp_last_step)
        if step is None:
            _record_failure(user, "totp" if attempt is not None else "locked", attempt)
            failed = True
            reused = attempt is not None and totp.was_used(
                user.totp_secret, form.code.data, user.totp_last_step)
            if attempt is None or attempt.address.reached_limit or attempt.account.reached_limit:
                session.pop(PENDING_KEY, None)
                flash(_lock_message(attempt), "error")
                return redirect(url_for("staff_auth.login"))
        else:
            user.totp_last_step = step
            return _start_session(user, session.get(PENDING_NEXT_KEY), "password+totp",
                                  attempt)
    status = 401 if failed else (400 if form.errors else 200)
    return no_store(current_app.make_response(
        (render_template("staff/login_totp.html", form=form, failed=failed, reused=reused),
         status)
    ))


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def totp_setup():
    """Turn on two-factor sign-in: scan the code, then confirm with a first code."""
    pending = _pending_user()
    user = current_user if current_user.is_authenticated else pending
    if user is None:
        return redirect(url_for("staff_auth.login"))
    if user.totp_enabled:
        return redirect(_home())
    secret = session.get(SETUP_SECRET_KEY)
    if not secret:
        secret = totp.new_secret()
        session[SETUP_SECRET_KEY] = secret
    form = TotpForm()
    failed = False
    if form.validate_on_submit():
        step = totp.matching_step(secret, form.code.data, None)
        if step is None:
            failed = True
        else:
            user.totp_secret = secret
            user.totp_last_step = step
            user.totp_required = False
            session.pop(SETUP_SECRET_KEY, None)
            audit.record("staff.totp_enabled", actor_type="staff", actor_id=user.id)
            if pending is not None and not current_user.is_authenticated:
                return _start_session(user, session.get(PENDING_NEXT_KEY), "password+totp",
                                      None)
            db.session.commit()
            flash(_("Two-factor sign-in is now on."), "success")
            return redirect(url_for("staff_auth.account"))
    uri = totp.provisioning_uri(secret, user.email)
    status = 401 if failed else (400 if form.errors else 200)
    return no_store(current_app.make_response((
        render_template(
            "staff/totp_setup.html",
            form=form,
            failed=failed,
            secret=secret,
            qr=totp.qr_data_uri(uri),
            forced=not current_user.is_authenticated,
            after_reset=bool(user.totp_required) and user.role != "admin",
        ),
        status,
    )))


def _time_zone_form() -> TimeZoneForm:
    form = TimeZoneForm()
    form.time_zone.choices = [("", _("The incident's zone (UTC elsewhere)"))] + [
        (name, name.replace("_", " ")) for name in time_zone_names()]
    if not form.is_submitted():
        form.time_zone.data = current_user.time_zone or ""
    return form


@bp.get("/account")
@login_required
def account():
    """The staff member's own settings: time zone and security."""
    return no_store(current_app.make_response(
        render_template("staff/account.html", disable_form=TotpForm(), confirm=ConfirmForm(),
                        zone_form=_time_zone_form())
    ))


@bp.post("/account/time-zone")
@login_required
def time_zone():
    """Save the time zone staff pages show times in (empty: the incident's, else UTC)."""
    form = _time_zone_form()
    if form.validate_on_submit():
        chosen = form.time_zone.data or None
        if chosen != current_user.time_zone:
            audit.record("staff.time_zone_changed",
                         details={"from": current_user.time_zone, "to": chosen})
            current_user.time_zone = chosen
            db.session.commit()
        flash(_("Time zone saved."), "success")
    else:
        flash(_("Choose a time zone from the list."), "error")
    return redirect(url_for("staff_auth.account"))


@bp.post("/two-factor/disable")
@login_required
@limiter.limit(_login_limit)
def totp_disable():
    """Turn off two-factor sign-in (not allowed for admins); needs a current code."""
    form = TotpForm()
    if current_user.role == "admin":
        flash(_("Administrators must keep two-factor sign-in on."), "error")
        return redirect(url_for("staff_auth.account"))
    if form.validate_on_submit() and current_user.totp_enabled:
        step = totp.matching_step(
            current_user.totp_secret, form.code.data, current_user.totp_last_step
        )
        if step is not None:
            current_user.totp_secret = None
            current_user.totp_last_step = None
            audit.record("staff.totp_disabled")
            db.session.commit()
            flash(_("Two-factor sign-in is now off."), "success")
            return redirect(url_for("staff_auth.account"))
    flash(_("That code did not match. Two-factor sign-in is still on."), "error")
    return redirect(url_for("staff_auth.account"))


@bp.post("/logout")
def logout():
    """Sign out (POST with a CSRF token only)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("staff_auth.login"))
    if current_user.is_authenticated:
        # Invalidates this session everywhere, including copies of the cookie.
        current_user.session_version += 1
        audit.record("staff.logout")
        db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have signed out."), "success")
    return redirect(url_for("staff_auth.login"))
