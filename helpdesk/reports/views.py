"""Views of the reports area (thin: they call domain functions).

``/helpdesk/reports``: the incidents to report on; ``/helpdesk/reports/<reference>``:
one incident's dashboards. Under ``/helpdesk/incidents/<reference>``: the regulator
report (``report.json``, ``report.pdf``, both logged as ``report.exported``) and the
substitute notice editor. Managers only, like every incident page.
"""

from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.incidents.views import get_incident_or_404
from helpdesk.reports import bp, incident_bp
from helpdesk.reports.forms import PublishForm, SubstituteNoticeForm, UnpublishForm
from helpdesk.saving import saving
from portal.audit import log as audit
from portal.core.i18n import LANGUAGE_NAMES
from portal.extensions import db
from portal.incidents.queries import incidents_with_people
from portal.reports import dashboards, regulator, snapshots, substitute, svg
from portal.security.permissions import staff_required

DAY_CHOICES = (7, 30, 90)


def channel_names() -> dict[str, str]:
    return {"all": _("All channels"), "sms": _("SMS"), "email": _("Email"),
            "letter": _("Letter")}


def stage_names() -> dict[str, str]:
    return {"people": _("People"), "sent": _("Sent"), "delivered": _("Delivered"),
            "verified": _("Verified"), "viewed": _("Notice viewed"),
            "revealed": _("Activation code revealed")}


def bucket_names() -> list[str]:
    bounds = dashboards.RESPONSE_BUCKETS
    names = [_("Within %(hours)d hours", hours=bounds[0]) if bounds[0] != 1
             else _("Within 1 hour")]
    names += [_("%(low)d to %(high)d hours", low=low, high=high)
              for low, high in zip(bounds, bounds[1:], strict=False)]
    names.append(_("Over %(hours)d hours", hours=bounds[-1]))
    return names


def _days() -> int:
    try:
        days = int(request.args.get("days", ""))
    except ValueError:
        days = int(current_app.config["REPORTS_DAYS"])
    return days if days in (*DAY_CHOICES, int(current_app.config["REPORTS_DAYS"])) \
        else int(current_app.config["REPORTS_DAYS"])


@bp.get("/")
@staff_required("manager")
def index():
    """The incidents, each linking to its dashboards and regulator report."""
    return render_template("reports/index.html", incidents=incidents_with_people())


def _charts(funnel, tickets, times, agents, verification) -> dict:
    stages = stage_names()
    channels = channel_names()
    short_days = [day[5:] for day in tickets.days]
    return {
        "funnel": svg.grouped_bars(
            [channels.get(row.channel, row.channel) for row in funnel],
            [(stages[name], [row.stage(name) for row in funnel])
             for name in dashboards.FUNNEL_STAGES],
            _("Notification funnel per channel"),
            _("People reached at each stage, per channel; the table below has the numbers.")),
        "tickets": svg.column_chart(
            short_days,
            [(_("Tickets opened"), tickets.series["opened"]),
             (_("Tickets resolved"), tickets.series["resolved"])],
            _("Tickets opened and resolved per day"),
            _("One pair of columns per day (UTC); the table below has the numbers.")),
        "response": svg.bar_chart(
            list(zip(bucket_names(), times.buckets, strict=True)),
            _("Time to first response"),
            _("Tickets by how long their first answer took; the table below has the numbers.")),
        "agents": svg.grouped_bars(
            [agent.name for agent in agents],
            [(_("Replies"), [agent.replies for agent in agents]),
             (_("With an approved answer"), [agent.with_answer for agent in agents]),
             (_("Deviated from the answer"), [agent.deviated for agent in agents])],
            _("Answers used and deviations per agent"),
            _("Replies per agent; the table below has the numbers.")) if agents else None,
        "verification": svg.column_chart(
            short_days,
            [(_("Failed verifications"), verification.series["failed"]),
             (_("Lockouts"), verification.series["locked"])],
            _("Verification failures and lockouts per day"),
            _("One pair of columns per day (UTC); the table below has the numbers.")),
    }


@bp.get("/<reference>")
@staff_required("manager")
def incident(reference: str):
    """One incident's dashboards: funnel, tickets, response times, agents, verification."""
    found = get_incident_or_404(reference)
    days = _days()
    found_dashboards = snapshots.dashboards_of(found.id, days)
    if found_dashboards is None:  # a job is computing the first snapshot
        return render_template("reports/computing.html", incident=found, days=days)
    funnel, tickets, times, agents, verification = (
        found_dashboards.funnel, found_dashboards.tickets, found_dashboards.times,
        found_dashboards.agents, found_dashboards.verification)
    return render_template(
        "reports/incident.html", incident=found, days=days, day_choices=DAY_CHOICES,
        funnel=funnel, tickets=tickets, times=times, agents=agents,
        verification=verification, stages=stage_names(), channels=channel_names(),
        stage_keys=dashboards.FUNNEL_STAGES, buckets=bucket_names(),
        computed_at=found_dashboards.computed_at,
        charts=_charts(funnel, tickets, times, agents, verification),
    )


def _report(reference: str, kind: str):
    found = get_incident_or_404(reference)
    report = regulator.build(found, int(current_app.config["TICKET_FIRST_RESPONSE_HOURS"]))
    audit.record("report.exported", incident_id=found.id,
                 details={"reference": found.reference, "format": kind})
    db.session.commit()
    return found, report


def _download(body: bytes, media_type: str, filename: str):
    response = current_app.response_class(body, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@incident_bp.get("/report.json")
@staff_required("manager")
def report_json(reference: str):
    """The regulator report as JSON (logged)."""
    found, report = _report(reference, "json")
    body = json.dumps(report, ensure_ascii=False, indent=2).encode()
    return _download(body, "application/json", f"{found.reference}-regulator-report.json")


@incident_bp.get("/report.pdf")
@staff_required("manager")
def report_pdf(reference: str):
    """The regulator report as PDF (logged)."""
    from portal.reports.pdf import report_pdf as render

    found, report = _report(reference, "pdf")
    return _download(render(report), "application/pdf",
                     f"{found.reference}-regulator-report.pdf")


def _fill(form: SubstituteNoticeForm, row, incident) -> None:
    if row is not None:
        for code, text in (row.summaries or {}).items():
            field = getattr(form, f"summary_{code}", None)
            if field is not None:
                field.data = text
        form.hotline.data = row.hotline
        form.stay_up_until.data = row.stay_up_until
    else:
        form.hotline.data = incident.contact_hotline
        form.stay_up_until.data = substitute.earliest_end()


@incident_bp.route("/substitute-notice", methods=["GET", "POST"])
@staff_required("manager")
def substitute_notice(reference: str):
    """Write the public substitute notice (a plain summary per language, hotline, end date)."""
    found = get_incident_or_404(reference)
    row = substitute.notice_of(found.id)
    form = SubstituteNoticeForm()
    if not form.is_submitted():
        _fill(form, row, found)
    if form.validate_on_submit():
        with saving(form) as saved:
            row, changed = substitute.save(found, form.summaries(), form.hotline.data,
                                           form.stay_up_until.data, current_user.id)
        if saved:
            flash(_("Substitute notice saved.") if changed else _("Nothing changed."),
                  "success" if changed else "info")
            return redirect(url_for("incident_reports.substitute_notice",
                                    reference=found.reference))
    languages = list(current_app.config["LANGUAGES"])
    return render_template(
        "reports/substitute_edit.html", incident=found, row=row, form=form,
        summary_fields=form.summary_fields(languages), publish_form=PublishForm(),
        unpublish_form=UnpublishForm(), language_names=LANGUAGE_NAMES,
        min_days=substitute.min_days(),
    )


@incident_bp.post("/substitute-notice/publish")
@staff_required("manager")
def substitute_publish(reference: str):
    """Publish the substitute notice at ``/incidents/<reference>``."""
    found = get_incident_or_404(reference)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    with saving() as saved:
        changed = substitute.publish(found, current_user.id)
    if saved and changed:
        flash(_("The substitute notice is public."), "success")
    return redirect(url_for("incident_reports.substitute_notice", reference=found.reference))


@incident_bp.post("/substitute-notice/unpublish")
@staff_required("manager")
def substitute_unpublish(reference: str):
    """Take the public page down (a reason is required before its stay-up date)."""
    found = get_incident_or_404(reference)
    form = UnpublishForm()
    if not form.validate_on_submit():
        abort(400)
    with saving() as saved:
        changed = substitute.unpublish(found, current_user.id, form.reason.data or "")
    if saved and changed:
        flash(_("The substitute notice is no longer public."), "success")
    return redirect(url_for("incident_reports.substitute_notice", reference=found.reference))
