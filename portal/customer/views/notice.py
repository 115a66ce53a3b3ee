"""The verified customer's notice: the page, its PDF and the activation code."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, session, url_for
from flask_babel import gettext as _

from portal.audit import log as audit
from portal.core.i18n import current_language
from portal.core.shared_pages import render_shared
from portal.customer import bp
from portal.customer.forms import ConfirmForm
from portal.customer.pages import page, use_face
from portal.customer.session import (
    REVEALED_KEY,
    current_person,
    customer_required,
    note_notice_view,
    seen_notice_version,
)
from portal.extensions import db
from portal.incidents.brand import logo_bytes
from portal.models.person import Person
from portal.notices import cache as notice_cache
from portal.notices.build import build_for_person
from portal.notices.queries import last_viewed_version
from portal.people.activation import assign_activation_code, assigned_code
from portal.security.headers import no_store


def _notice_page(person: Person):
    seen = seen_notice_version(person.language,
                               lambda: last_viewed_version(person.id, person.language))
    notice, key = notice_cache.lookup(person, person.language, seen_version=seen)
    if notice is None:
        return page("customer/notice_pending.html")
    use_face(notice.brand, notice.time_zone)
    activation_code = None
    if notice.monitoring and session.get(REVEALED_KEY):
        activation_code = assigned_code(person.id)
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
    logo = logo_bytes(person.incident_id) if notice.brand and notice.brand.logo_digest else None
    data = render_pdf(notice, activation_code=assigned_code(person.id), logo=logo)
    audit.record("notice.pdf_downloaded", incident_id=person.incident_id, person_id=person.id,
                 details={"version": notice.version, "language": notice.language})
    db.session.commit()
    response = current_app.make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="notice-{notice.incident_reference}-{notice.language}.pdf"'
    )
    return no_store(response)
