"""``/helpdesk/incidents``: list, create, edit, the incident page, filings and advice."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from helpdesk.incidents import bp
from helpdesk.incidents.forms import (
    AdviceForm,
    ConfirmForm,
    FilingForm,
    IncidentForm,
    LogoForm,
    choices,
    incident_form,
)
from helpdesk.saving import saving
from portal.core import i18n
from portal.core.i18n import LANGUAGE_NAMES, time_zone_names, use_page_zone
from portal.incidents.brand import brand_of, max_logo_bytes, remove_logo, set_logo
from portal.incidents.contacts import TRANSLATED_FIELDS, missing_languages, other_languages
from portal.incidents.deadlines import board, next_due
from portal.incidents.operations import (
    DATETIME_FIELDS,
    add_filing,
    create_incident,
    find_incident,
    save_advice,
    update_incident,
)
from portal.incidents.queries import advice_of, find_advice, incidents_with_people, people_count
from portal.models import Incident
from portal.notices.advice import CATEGORY_KEYS, category_choices, category_name
from portal.notices.workflow import versions
from portal.rules import all_rules, rule_choices, rules_for
from portal.security.permissions import staff_required


def deadline_labels() -> dict[str, str]:
    """Translated names of the deadline board states."""
    return {
        "overdue": _("Overdue"),
        "open": _("Open"),
        "waiting": _("Clock not started"),
        "no_fixed_deadline": _("Without undue delay"),
        "met_late": _("Met late"),
        "met": _("Met"),
    }


def time_span(span: timedelta) -> str:
    """A span as days, hours and minutes (absolute value), e.g. "1 day, 6 hours"."""
    catalog, parts = i18n.catalog(), span_parts(span)
    return i18n.kept_in(catalog, ("span", *parts), lambda: span_words(catalog, *parts))


def span_parts(span: timedelta) -> tuple[int, int, int]:
    """Days, hours and minutes of a span (absolute value), as ``time_span`` shows them:
    minutes only under a day."""
    seconds = abs(int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return days, hours, 0 if days else rest // 60


def span_words(catalog, days: int, hours: int, minutes: int) -> str:
    """``time_span``'s words in ``catalog``'s language (kept per catalog and value by the
    callers: the queue shows one per row, and rows in due order repeat their neighbours')."""
    parts = []
    if days:
        parts.append(catalog.ungettext("%(num)d day", "%(num)d days", days) % {"num": days})
    if hours or days:
        parts.append(catalog.ungettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours})
    if not days:
        parts.append(catalog.ungettext("%(num)d minute", "%(num)d minutes", minutes)
                     % {"num": minutes})
    return ", ".join(parts)


@bp.app_template_filter("utc_when")
def _utc_when_filter(value):
    """A time to the minute in the reader's zone, e.g. "21 Nov 2026, 14:05 (PST)"."""
    return i18n.format_minute(value)


@bp.app_template_filter("time_span")
def _time_span_filter(span):
    return time_span(span) if span is not None else ""


def contact_text_labels() -> dict[str, str]:
    """Names of the contact texts entered per language."""
    labels = {"contact_hours": _("Hotline hours"), "dpo_contact": _("Data protection officer"),
              "contact_postal_address": _("Postal address"),
              "monitoring_description": _("Description of the offer")}
    return {field: labels[field] for field in TRANSLATED_FIELDS}


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in languages()]


def get_incident_or_404(reference: str) -> Incident:
    incident = find_incident(reference)
    if incident is None:
        abort(404)
    use_page_zone(incident.time_zone)  # unless the staff member chose a zone
    return incident


def _form(*args, **kwargs) -> IncidentForm:
    return incident_form({code: LANGUAGE_NAMES.get(code, code) for code in other_languages()},
                         *args, **kwargs)


def _fill_choices(form: IncidentForm) -> None:
    form.time_zone.choices = choices(
        [("", _("From the postal address (else UTC)"))]
        + [(name, name.replace("_", " ")) for name in time_zone_names()])
    form.categories.choices = choices(category_choices())
    form.jurisdictions.choices = choices(rule_choices())
    form.default_language.choices = choices(language_choices())


def _reference_taken(form: IncidentForm, incident: Incident | None) -> bool:
    other = find_incident(form.reference.data or "")
    if other is not None and other is not incident:
        form.reference.errors = [*form.reference.errors,
                                 _("Another incident already uses this reference.")]
        return True
    return False


def _keep_seconds(incident: Incident, values: dict) -> dict:
    """Keep stored seconds the minute-precision form could not show (no spurious changes)."""
    for name in DATETIME_FIELDS:
        before = getattr(incident, name)
        if before is not None and values.get(name) == before.replace(second=0, microsecond=0):
            values[name] = before
    return values


def _valid(form: IncidentForm, incident: Incident | None) -> bool:
    """Validate a submitted form, including that the reference is free."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    return not _reference_taken(form, incident) and valid


@bp.get("/")
@staff_required("manager")
def index():
    """Every incident with its people and the next deadline."""
    incidents = [(incident, people, next_due(incident))
                 for incident, people in incidents_with_people()]
    return render_template("incidents/index.html", incidents=incidents,
                           labels=deadline_labels())


@bp.route("/new", methods=["GET", "POST"])
@staff_required("manager")
def create():
    """Create an incident."""
    form = _form()
    _fill_choices(form)
    if request.method == "GET":
        form.default_language.data = current_app.config["BABEL_DEFAULT_LOCALE"]
    if _valid(form, None):
        with saving(form) as saved:
            incident = create_incident(form.values(), created_by_id=current_user.id)
        if saved:
            flash(_("Incident %(reference)s created.", reference=incident.reference), "success")
            return redirect(url_for("incidents.show", reference=incident.reference))
    return render_template("incidents/form.html", form=form, incident=None)


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@staff_required("manager")
def edit(reference: str):
    """Change any field of an incident; the log keeps before and after."""
    incident = get_incident_or_404(reference)
    form = _form(obj=incident)
    _fill_choices(form)
    if not form.is_submitted():
        form.fill_texts(incident.contact_translations or {})
    if _valid(form, incident):
        with saving(form) as saved:
            changes = update_incident(incident, _keep_seconds(incident, form.values()))
        if saved:
            if changes:
                flash(ngettext("Saved %(num)d change.", "Saved %(num)d changes.", len(changes)),
                      "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("incidents.show", reference=incident.reference))
    return render_template("incidents/form.html", form=form, incident=incident)


def imports_url(incident: Incident) -> str | None:
    """The people-import page, when that blueprint is installed."""
    if "imports.index" in current_app.view_functions:
        return url_for("imports.index", reference=incident.reference)
    return None


@bp.get("/<reference>")
@staff_required("manager")
def show(reference: str):
    """The incident page: facts, deadline board, filings, advice and notice versions."""
    incident = get_incident_or_404(reference)
    by_language = {code: [] for code in languages()}
    for version in versions(incident.id):
        by_language.setdefault(version.language, []).append(version)
    return render_template(
        "incidents/show.html",
        incident=incident,
        people=people_count(incident.id),
        board=board(incident),
        labels=deadline_labels(),
        rules=rules_for(incident.jurisdictions),
        rule_names={rule.id: rule.name for rule in all_rules().values()},
        brand=brand_of(incident),
        category_names=[category_name(key) for key in incident.categories or ()],
        advice=advice_of(incident.id),
        category_name=category_name,
        by_language=by_language,
        imports_url=imports_url(incident),
        missing_texts=missing_languages(incident),
        text_labels=contact_text_labels(),
    )


@bp.route("/<reference>/filings/new", methods=["GET", "POST"])
@staff_required("manager")
def add_filing_view(reference: str):
    """Record a filing with a regulator."""
    incident = get_incident_or_404(reference)
    form = FilingForm()
    rule_pairs = [("", _("None of the incident's rules"))] + [
        (rule.id, rule.name) for rule in rules_for(incident.jurisdictions)]
    form.rule_id.choices = choices(rule_pairs)
    if request.method == "GET" and request.args.get("rule") in dict(rule_pairs):
        form.rule_id.data = request.args["rule"]
    if form.validate_on_submit():
        with saving(form) as saved:
            add_filing(incident, authority=form.authority.data, filed_at=form.filed_at.data,
                       rule_id=form.rule_id.data or None, reference=form.reference.data,
                       notes=form.notes.data, created_by_id=current_user.id)
        if saved:
            flash(_("Filing recorded."), "success")
            return redirect(url_for("incidents.show", reference=incident.reference,
                                    _anchor="filings"))
    return render_template("incidents/filing.html", form=form, incident=incident)


@bp.route("/<reference>/advice", methods=["GET", "POST"])
@staff_required("manager")
def advice(reference: str):
    """Add, change or remove the incident's own advice for a category and language."""
    incident = get_incident_or_404(reference)
    form = AdviceForm()
    involved = [key for key in CATEGORY_KEYS if key in (incident.categories or ())]
    category_pairs = [(key, category_name(key)) for key in involved or CATEGORY_KEYS]
    form.category.choices = choices(category_pairs)
    form.language.choices = choices(language_choices())
    if request.method == "GET":
        category = request.args.get("category")
        form.category.data = category if category in dict(category_pairs) else category_pairs[0][0]
        form.language.data = request.args.get("language") or incident.default_language
        row = find_advice(incident.id, form.category.data, form.language.data)
        form.text.data = row.text if row else ""
    if form.validate_on_submit():
        with saving(form) as saved:
            changed = save_advice(incident, form.category.data, form.language.data,
                                  form.text.data)
        if saved:
            flash(_("Advice saved.") if changed else _("Nothing changed."),
                  "success" if changed else "info")
            return redirect(url_for("incidents.show", reference=incident.reference,
                                    _anchor="advice"))
    return render_template("incidents/advice.html", form=form, incident=incident,
                           existing=advice_of(incident.id), category_name=category_name)


@bp.route("/<reference>/logo", methods=["GET", "POST"])
@staff_required("manager")
def logo(reference: str):
    """Upload (or replace) the insurer's logo shown to customers."""
    incident = get_incident_or_404(reference)
    form = LogoForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            changed = set_logo(incident, form.logo_data)
        if saved:
            flash(_("Logo saved.") if changed else _("Nothing changed."),
                  "success" if changed else "info")
            return redirect(url_for("incidents.show", reference=incident.reference))
    return render_template("incidents/logo.html", form=form, incident=incident,
                           brand=brand_of(incident), remove_form=ConfirmForm(),
                           max_kb=max_logo_bytes() // 1024)


@bp.post("/<reference>/logo/remove")
@staff_required("manager")
def logo_remove(reference: str):
    """Remove the insurer's logo; customers then see the name alone."""
    incident = get_incident_or_404(reference)
    form = ConfirmForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            changed = remove_logo(incident)
        if saved and changed:
            flash(_("Logo removed."), "success")
    return redirect(url_for("incidents.show", reference=incident.reference))
