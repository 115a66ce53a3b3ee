"""The verified customer's pages: the notice (HTML and PDF), the activation code, preferences."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit import log as audit
from portal.core.i18n import current_language
from portal.core.shared_pages import render_shared
from portal.customer import bp
from portal.customer.forms import ConfirmForm, PreferencesForm
from portal.customer.session import (
    REVEALED_KEY,
    current_person,
    customer_required,
    load_customer,
    note_notice_view,
    seen_notice_version,
)
from portal.extensions import db
from portal.models.interaction import Interaction
from portal.models.person import ActivationCode, Person
from portal.notices import cache as notice_cache
from portal.notices.build import build_for_person
from portal.security.headers import no_store

bp.before_request(load_customer)


TICKET_STATUS_NAMES = {
    "new": _l("Received"),
    "open": _l("Being handled"),
    "pending_customer": _l("Waiting for your reply"),
    "resolved": _l("Answered"),
    "closed": _l("Closed"),
}


@bp.app_context_processor
def _customer_context() -> dict:
    return {"customer": current_person(), "ticket_status": ticket_status}


def ticket_status(status: str) -> str:
    """The customer-facing name of a ticket status."""
    return str(TICKET_STATUS_NAMES.get(status, status))


@bp.app_template_filter("longdate")
def _longdate(value) -> str:
    return format_date(value, "long") if value else ""


def page(template: str, status: int = 200, **context):
    """Render a customer page that must never be cached."""
    return no_store(current_app.make_response((render_template(template, **context), status)))


def _seen_version(person: Person, language: str) -> int | None:
    """The notice version this person last viewed in ``language``, from the log."""
    rows = db.session.execute(
        select(Interaction.details)
        .where(Interaction.person_id == person.id, Interaction.action == "notice.viewed")
        .order_by(Interaction.id.desc())
        .limit(20)
    ).scalars()
    for details in rows:
        if isinstance(details, dict) and details.get("language") == language:
            version = details.get("version")
            return version if isinstance(version, int) else None
    return None


def _assigned_code(person: Person) -> str | None:
    """The activation code already given to this person, without assigning one."""
    return db.session.execute(
        select(ActivationCode.code).where(ActivationCode.person_id == person.id)
    ).scalar_one_or_none()


def _notice_page(person: Person):
    seen = seen_notice_version(person.language,
                               lambda: _seen_version(person, person.language))
    notice, key = notice_cache.lookup(person, person.language, seen_version=seen)
    if notice is None:
        return page("customer/notice_pending.html")
    activation_code = None
    if notice.monitoring and session.get(REVEALED_KEY):
        activation_code = _assigned_code(person)
    if note_notice_view(notice.language, notice.version):  # once per session for each version read
        audit.record("notice.viewed", incident_id=person.incident_id, person_id=person.id,
                     details={"version": notice.version, "language": notice.language,
                              "notice_version_id": notice.notice_version_id})
        db.session.commit()
    if activation_code is None and key is not None:
        # The same for every reader of this notice in this language: rendered once.
        html = render_shared(("customer/notice.html", current_language(), key),
                             "customer/notice.html", notice=notice, activation_code=None)
        return no_store(current_app.make_response(html))
    return page("customer/notice.html", notice=notice, activation_code=activation_code)


@bp.get("/notice")
@customer_required
def notice():
    """The person's tailored notice, in their language."""
    return _notice_page(current_person())


@bp.post("/notice/activation-code")
@customer_required
def reveal_activation_code():
    """Reveal (assigning on first request) the credit-monitoring activation code.

    The code then shows on the notice for the rest of this session.
    """
    from portal.people.activation import assign_activation_code

    person = current_person()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("customer.notice"))
    code = assign_activation_code(person.id)
    db.session.commit()
    if code is None:
        flash(_("We could not give you an activation code just now. Please call the number "
                "under For More Information and we will help."), "error")
        return redirect(url_for("customer.notice"))
    session[REVEALED_KEY] = True
    return redirect(url_for("customer.notice", _anchor="activation"))


@bp.get("/notice.pdf")
@customer_required
def notice_pdf():
    """The same notice as a PDF download."""
    from portal.notices.pdf import notice_pdf as render_pdf

    person = current_person()
    notice = build_for_person(person, person.language)
    if notice is None:
        abort(404)
    data = render_pdf(notice, activation_code=_assigned_code(person))
    audit.record("notice.pdf_downloaded", incident_id=person.incident_id, person_id=person.id,
                 details={"version": notice.version, "language": notice.language})
    db.session.commit()
    response = current_app.make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="notice-{notice.incident_reference}-{notice.language}.pdf"'
    )
    return no_store(response)


# --- preferences ------------------------------------------------------------------------------


def _check_preferences(form: PreferencesForm, person: Person) -> bool:
    ok = True
    channel = form.preferred_channel.data
    if channel == "sms" and not person.phone:
        form.preferred_channel.errors.append(
            _("We do not hold a mobile number for you, so we cannot use text messages."))
        ok = False
    elif channel == "sms" and form.sms_opt_out.data:
        form.preferred_channel.errors.append(
            _("You chose not to receive text messages. Choose another way to contact you, "
              "or untick the opt-out."))
        ok = False
    elif channel == "email" and not person.email:
        form.preferred_channel.errors.append(
            _("We do not hold an email address for you, so we cannot use email."))
        ok = False
    return ok


@bp.route("/preferences", methods=["GET", "POST"])
@customer_required
def preferences():
    """Language, preferred channel and SMS opt-out; each change is logged."""
    person = current_person()
    form = PreferencesForm(
        data=None if _is_post() else {
            "language": person.language,
            "preferred_channel": person.preferred_channel or ("email" if person.email else "sms"),
            "sms_opt_out": person.sms_opt_out,
        }
    )
    if form.validate_on_submit() and _check_preferences(form, person):
        changes = {
            "language": form.language.data,
            "preferred_channel": form.preferred_channel.data,
            "sms_opt_out": bool(form.sms_opt_out.data),
        }
        changed = False
        for field, value in changes.items():
            before = getattr(person, field)
            if before != value:
                audit.record("preferences.changed", incident_id=person.incident_id,
                             person_id=person.id,
                             details={"field": field, "from": before, "to": value})
                setattr(person, field, value)
                changed = True
        db.session.commit()
        flash(_("Your preferences were saved.") if changed else _("Nothing was changed."),
              "success")
        return redirect(url_for("customer.preferences"))
    return page("customer/preferences.html", 400 if form.errors else 200, form=form)


def _is_post() -> bool:
    from flask import request

    return request.method == "POST"
