"""Notice versions: editor per language, checklist, overrides, approval, previews."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.incidents.forms import ConfirmForm, NoticeForm, OverrideForm, PreviewPersonForm
from helpdesk.incidents.views import get_incident_or_404, languages
from helpdesk.notices import bp
from helpdesk.saving import saving
from portal.audit import log as audit
from portal.core.i18n import LANGUAGE_NAMES
from portal.extensions import db
from portal.models import Incident, NoticeVersion
from portal.notices.advice import CATEGORY_KEYS, category_name, is_category
from portal.notices.build import build_notice
from portal.notices.checklist import blocking_items, checklist
from portal.notices.queries import staff_names
from portal.notices.workflow import (
    TEXT_FIELDS,
    approval_problems,
    approve,
    current_draft,
    editors,
    get_version,
    latest_approved,
    needs_what_changed,
    record_override,
    save_draft,
)
from portal.people.queries import person_by_reference
from portal.security.headers import no_store
from portal.security.permissions import staff_required


def _language_or_404(language: str) -> str:
    if language not in languages():
        abort(404)
    return language


def _version_or_404(incident: Incident, language: str, number: int) -> NoticeVersion:
    version = get_version(incident.id, _language_or_404(language), number)
    if version is None:
        abort(404)
    return version


def _version_url(version: NoticeVersion, incident: Incident, **extra) -> str:
    return url_for("notices.notice_version", reference=incident.reference,
                   language=version.language, number=version.version, **extra)


@bp.route("/<reference>/notices/<language>/edit", methods=["GET", "POST"])
@staff_required("manager")
def notice_edit(reference: str, language: str):
    """Write the language's draft; an approved text is copied into a new draft version."""
    incident = get_incident_or_404(reference)
    language = _language_or_404(language)
    draft = current_draft(incident.id, language)
    approved = latest_approved(incident.id, language)
    form = NoticeForm()
    if request.method == "GET":
        source = draft or approved
        if source is not None:
            for name in TEXT_FIELDS:
                getattr(form, name).data = getattr(source, name) or ""
            if draft is None:
                form.what_changed.data = ""
    for name in TEXT_FIELDS:  # the text is in the notice's language, the labels are not
        getattr(form, name).render_kw = {"lang": language, "rows": 7, "spellcheck": "true"}
    must_say_what_changed = needs_what_changed(incident.id, language)
    if form.validate_on_submit():
        fields = {name: getattr(form, name).data for name in TEXT_FIELDS}
        # Another manager may create the draft at the same moment: the conflict.
        with saving(form, conflict=_("Another manager saved this notice at the same moment. "
                                     "Check the draft and save again.")) as saved:
            version = save_draft(incident, language, fields, current_user.id)
            db.session.flush()
        if saved.conflict:
            return redirect(url_for("incidents.show", reference=reference, _anchor="notices"))
        if saved:
            flash(_("Draft version %(number)d saved.", number=version.version), "success")
            return redirect(_version_url(version, incident))
    return render_template(
        "notices/notice_edit.html", incident=incident, form=form, language=language,
        language_name=LANGUAGE_NAMES.get(language, language), draft=draft, approved=approved,
        must_say_what_changed=must_say_what_changed,
    )


@bp.get("/<reference>/notices/<language>/<int:number>")
@staff_required("manager")
def notice_version(reference: str, language: str, number: int):
    """One version: its text, checklist, overrides, approval and preview."""
    incident = get_incident_or_404(reference)
    version = _version_or_404(incident, language, number)
    return _render_version(incident, version)


def _render_version(incident, version, *, override_forms=None, person_form=None, status=200):
    items = checklist(incident, version)
    override_forms = override_forms or {}
    for item in items:
        if item.status == "missing" and item.key not in override_forms:
            override_forms[item.key] = OverrideForm(prefix=item.key, formdata=None)
    problems = approval_problems(version, current_user.id) if version.state == "draft" else []
    names = staff_names(version.author_id, version.approved_by_id)
    response = make_response(render_template(
        "notices/notice_version.html",
        incident=incident, version=version, items=items, blocking=blocking_items(items),
        override_forms=override_forms, confirm_form=ConfirmForm(),
        person_form=person_form or PreviewPersonForm(formdata=None),
        problems=problems, is_editor=current_user.id in editors(version),
        names=names, language_name=LANGUAGE_NAMES.get(version.language, version.language),
        categories=[(key, category_name(key)) for key in CATEGORY_KEYS
                    if key in (incident.categories or ())] or
        [(key, category_name(key)) for key in CATEGORY_KEYS],
    ), status)
    return response


@bp.post("/<reference>/notices/<language>/<int:number>/override/<element>")
@staff_required("manager")
def notice_override(reference: str, language: str, number: int, element: str):
    """Record the reason for approving without a missing element."""
    incident = get_incident_or_404(reference)
    version = _version_or_404(incident, language, number)
    form = OverrideForm(prefix=element)
    if form.validate_on_submit():
        with saving() as saved:
            record_override(version, element, form.reason.data, current_user.id)
        if saved:
            flash(_("Reason recorded."), "success")
            return redirect(_version_url(version, incident, _anchor="checklist"))
    return _render_version(incident, version, override_forms={element: form}, status=400)


@bp.post("/<reference>/notices/<language>/<int:number>/approve")
@staff_required("manager")
def notice_approve(reference: str, language: str, number: int):
    """Approve a draft (by a manager who did not write it)."""
    incident = get_incident_or_404(reference)
    version = _version_or_404(incident, language, number)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with saving() as saved:
        previous = approve(version, current_user.id)
    if not saved:
        return redirect(_version_url(version, incident))
    if previous is not None:
        flash(_("Version %(number)d approved; version %(old)d is superseded.",
                number=version.version, old=previous.version), "success")
    else:
        flash(_("Version %(number)d approved.", number=version.version), "success")
    return redirect(_version_url(version, incident))


@bp.get("/<reference>/notices/<language>/<int:number>/preview")
@staff_required("manager")
def notice_preview(reference: str, language: str, number: int):
    """Preview the version for any mix of categories (``?categories=...``)."""
    incident = get_incident_or_404(reference)
    version = _version_or_404(incident, language, number)
    chosen = [key for key in request.args.getlist("categories") if is_category(key)]
    notice = build_notice(incident, chosen, version.language, version)
    return render_template("notices/notice_preview.html", incident=incident, version=version,
                           notice=notice, person=None, chosen=chosen)


@bp.post("/<reference>/notices/<language>/<int:number>/preview")
@staff_required("manager")
def notice_preview_person(reference: str, language: str, number: int):
    """Preview the version as one affected person (chosen by their reference; logged)."""
    incident = get_incident_or_404(reference)
    version = _version_or_404(incident, language, number)
    form = PreviewPersonForm()
    if not form.validate_on_submit():
        return _render_version(incident, version, person_form=form, status=400)
    person = person_by_reference(incident.id, form.external_ref.data)
    if person is None:
        form.external_ref.errors = [_("No affected person of this incident has that reference.")]
        return _render_version(incident, version, person_form=form, status=400)
    audit.record("notice.previewed", incident_id=incident.id, person_id=person.id,
                 details={"notice_version_id": version.id, "language": version.language,
                          "version": version.version})
    db.session.commit()
    notice = build_notice(incident, list(person.categories or ()), version.language, version)
    response = make_response(render_template(
        "notices/notice_preview.html", incident=incident, version=version, notice=notice,
        person=person, chosen=list(person.categories or ()),
        person_language=LANGUAGE_NAMES.get(person.language, person.language),
    ))
    return no_store(response)
