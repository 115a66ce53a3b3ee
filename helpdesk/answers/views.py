"""``/helpdesk/answers``: the library, one answer, writing, review, approval, retirement.

Agents read the approved texts (the answers they reply with); managers also
write drafts, send them for review, approve or send back others' versions
(four eyes), retire versions and set the public FAQ flag. One permission check,
``_answer_or_404``, serves the list's rule on every answer page: an agent sees an
answer only once one of its languages is approved, and only approved texts.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from helpdesk.answers import bp
from helpdesk.answers.forms import ConfirmForm, NewAnswerForm, SendBackForm, SettingsForm, TextForm
from helpdesk.incidents.forms import choices
from helpdesk.saving import saving
from portal.answers import library
from portal.answers.queries import incident_choices, overview, version_usage
from portal.core.i18n import LANGUAGE_NAMES, current_language
from portal.models import Answer, AnswerVersion
from portal.notices.queries import staff_names
from portal.security.permissions import has_role, staff_required
from portal.tickets.access import visible_incident_ids

STATE_LABELS = {"draft": _l("Draft"), "in_review": _l("In review"), "approved": _l("Approved"),
                "retired": _l("Retired")}


def _is_manager() -> bool:
    return has_role(current_user, "manager")


def _language_or_404(language: str) -> str:
    if language not in library.languages():
        abort(404)
    return language


def _answer_or_404(answer_id: int) -> Answer:
    """The answer, if this staff member may see it (agents: once a text is approved)."""
    answer = library.get_answer(answer_id)
    if answer is None:
        abort(404)
    visible = visible_incident_ids(current_user)
    if answer.incident_id is not None and visible is not None \
            and answer.incident_id not in visible:
        abort(404)  # another incident's wording, for an agent limited to their own
    if not _is_manager() and not any(version.state == "approved"
                                     for version in answer.versions):
        abort(404)
    return answer


def _version_or_404(answer: Answer, language: str, number: int) -> AnswerVersion:
    version = library.get_version(answer.id, _language_or_404(language), number)
    if version is None:
        abort(404)
    return version


def _answer_url(answer: Answer, language: str | None = None) -> str:
    return url_for("answers.show", answer_id=answer.id,
                   _anchor=f"lang-{language}" if language else None)


def _fill_settings_choices(form: SettingsForm) -> None:
    form.category.choices = choices(library.CATEGORIES.items())
    form.incident_id.choices = choices([("", _("All incidents"))] + [
        (str(incident_id), label) for incident_id, label in incident_choices()])


def _incident_id(form: SettingsForm) -> int | None:
    value = form.incident_id.data or ""
    return int(value) if value.isdigit() else None


def _language_names() -> dict[str, str]:
    return {code: LANGUAGE_NAMES.get(code, code) for code in library.languages()}


@bp.get("/")
@staff_required("agent")
def index():
    """The library: search by key, title or category; gaps per language; usage."""
    q = request.args.get("q", "").strip()[:100]
    category = request.args.get("category", "")
    if category not in library.CATEGORIES:
        category = ""
    rows = overview(library.languages(), current_language(), q, category,
                    approved_only=not _is_manager(),
                    incident_ids=visible_incident_ids(current_user))
    return render_template(
        "answers/index.html", rows=rows, q=q, category=category,
        categories=library.CATEGORIES, language_names=_language_names(),
        is_manager=_is_manager())


@bp.route("/new", methods=["GET", "POST"])
@staff_required("manager")
def create():
    """A new answer with its first draft."""
    form = NewAnswerForm()
    _fill_settings_choices(form)
    form.language.choices = choices(_language_names().items())
    if request.method == "GET":
        form.language.data = current_language()
    if form.validate_on_submit():
        with saving(form) as saved:
            version = library.create_answer(
                form.key.data, form.category.data, form.public.data, _incident_id(form),
                form.language.data, form.title.data, form.body.data, current_user.id)
        if saved:
            flash(_("Answer created with a draft in %(language)s.",
                    language=LANGUAGE_NAMES.get(version.language, version.language)), "success")
            return redirect(_answer_url(version.answer, version.language))
    return render_template("answers/new.html", form=form,
                           placeholders=library.PLACEHOLDERS), 400 if form.errors else 200


@bp.get("/<int:answer_id>")
@staff_required("agent")
def show(answer_id: int):
    """One answer: each language's approved text, what is in the works, the history."""
    answer = _answer_or_404(answer_id)
    manager = _is_manager()
    versions = [version for version in library.versions_of(answer.id)
                if manager or version.state == "approved"]
    by_language = {code: [v for v in versions if v.language == code]
                   for code in library.languages()}
    approved = {code: next((v for v in found if v.state == "approved"), None)
                for code, found in by_language.items()}
    pending = {code: next((v for v in found if v.state in ("draft", "in_review")), None)
               for code, found in by_language.items()}
    problems = {code: library.review_problems(version, current_user.id)
                for code, version in pending.items()
                if version is not None and version.state == "in_review"}
    usage = version_usage(answer.id)
    names = staff_names(*{v.author_id for v in versions}, *{v.approved_by_id for v in versions})
    return render_template(
        "answers/show.html", answer=answer, by_language=by_language, approved=approved,
        pending=pending, problems=problems, usage=usage, names=names, is_manager=manager,
        language_names=_language_names(), category_name=library.category_name(answer.category),
        missing=[LANGUAGE_NAMES.get(code, code) for code, version in approved.items()
                 if version is None],
        confirm_form=ConfirmForm(), send_back_form=SendBackForm(formdata=None),
        state_labels={state: str(label) for state, label in STATE_LABELS.items()},
        uses=sum(count for count, _dev in usage.values()),
        deviations=sum(dev for _count, dev in usage.values()))


@bp.route("/<int:answer_id>/settings", methods=["GET", "POST"])
@staff_required("manager")
def settings(answer_id: int):
    """The answer's category, incident and public FAQ flag."""
    answer = _answer_or_404(answer_id)
    form = SettingsForm(obj=answer)
    _fill_settings_choices(form)
    if request.method == "GET":
        form.incident_id.data = str(answer.incident_id or "")
    if form.validate_on_submit():
        with saving(form) as saved:
            changes = library.change_settings(answer, form.category.data, form.public.data,
                                              _incident_id(form), current_user.id)
        if saved:
            flash(_("Settings saved.") if changes else _("Nothing changed."),
                  "success" if changes else "info")
            return redirect(_answer_url(answer))
    return render_template("answers/settings.html", form=form, answer=answer), \
        400 if form.errors else 200


@bp.route("/<int:answer_id>/<language>/edit", methods=["GET", "POST"])
@staff_required("manager")
def edit(answer_id: int, language: str):
    """Write the language's draft; an approved text is copied into a new version."""
    answer = _answer_or_404(answer_id)
    language = _language_or_404(language)
    current = library.pending(answer.id, language)
    approved = library.latest_approved(answer.id, language)
    if current is not None and current.state == "in_review":
        flash(_("Version %(number)d is waiting for review: it must be approved or sent back "
                "before the text changes.", number=current.version), "error")
        return redirect(_answer_url(answer, language))
    form = TextForm()
    if request.method == "GET":
        source = current or approved
        if source is None:  # a new language: start from the English text, if any
            source = library.latest_approved(answer.id, current_app.config[
                "BABEL_DEFAULT_LOCALE"])
            if source is not None:
                flash(_("The text below is the English version: translate it before saving."),
                      "info")
        if source is not None:
            form.title.data, form.body.data = source.title, source.body
    form.title.render_kw = form.body.render_kw = {"lang": language, "spellcheck": "true"}
    form.body.render_kw = {"lang": language, "spellcheck": "true", "rows": 10}
    if form.validate_on_submit():
        with saving(form, conflict=_("Another manager saved this text at the same moment. "
                                     "Check the draft and save again.")) as saved:
            version = library.save_draft(answer, language, form.title.data, form.body.data,
                                         current_user.id)
        if saved:
            flash(_("Draft version %(number)d saved.", number=version.version), "success")
            return redirect(_answer_url(answer, language))
        if saved.conflict:
            return redirect(_answer_url(answer, language))
    return render_template(
        "answers/edit.html", form=form, answer=answer, language=language,
        language_name=LANGUAGE_NAMES.get(language, language), draft=current, approved=approved,
        placeholders=library.PLACEHOLDERS), 400 if form.errors else 200


def _step(answer_id: int, language: str, number: int, form_class=ConfirmForm):
    answer = _answer_or_404(answer_id)
    version = _version_or_404(answer, language, number)
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    return answer, version, form


@bp.post("/<int:answer_id>/<language>/<int:number>/submit")
@staff_required("manager")
def submit(answer_id: int, language: str, number: int):
    """Send a draft for review by another manager."""
    answer, version, _form = _step(answer_id, language, number)
    with saving() as saved:
        library.submit(version, current_user.id)
    if saved:
        flash(_("Version %(number)d sent for review.", number=version.version), "success")
    return redirect(_answer_url(answer, version.language))


@bp.post("/<int:answer_id>/<language>/<int:number>/approve")
@staff_required("manager")
def approve(answer_id: int, language: str, number: int):
    """Approve a version in review (by a manager who did not write it)."""
    answer, version, _form = _step(answer_id, language, number)
    with saving() as saved:
        previous = library.approve(version, current_user.id)
    if saved:
        if previous is not None:
            flash(_("Version %(number)d approved; version %(old)d is retired.",
                    number=version.version, old=previous.version), "success")
        else:
            flash(_("Version %(number)d approved.", number=version.version), "success")
    return redirect(_answer_url(answer, version.language))


@bp.post("/<int:answer_id>/<language>/<int:number>/send-back")
@staff_required("manager")
def send_back(answer_id: int, language: str, number: int):
    """Return a version in review to its author's draft, with an optional note."""
    answer, version, form = _step(answer_id, language, number, SendBackForm)
    with saving() as saved:
        library.send_back(version, current_user.id, form.note.data)
    if saved:
        flash(_("Version %(number)d sent back to draft.", number=version.version), "success")
    return redirect(_answer_url(answer, version.language))


@bp.post("/<int:answer_id>/<language>/<int:number>/retire")
@staff_required("manager")
def retire(answer_id: int, language: str, number: int):
    """Withdraw an approved version: customers and agents no longer get it."""
    answer, version, _form = _step(answer_id, language, number)
    with saving() as saved:
        library.retire(version, current_user.id)
    if saved:
        flash(_("Version %(number)d retired.", number=version.version), "success")
    return redirect(_answer_url(answer, version.language))
