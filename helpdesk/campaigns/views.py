"""``/helpdesk/incidents/<reference>/campaigns``: launch, progress, letters, evidence.

Managers only. Every page loads the incident from the URL and the campaign
through ``_campaign``, which refuses a campaign of another incident (an id in a
URL is never enough). Launching is two steps: choose channels, then confirm
after seeing how many people each channel reaches and how many are skipped as
already notified.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from helpdesk.campaigns import bp
from helpdesk.campaigns.forms import ConfirmForm, LaunchForm, ReturnedForm, channel_names
from helpdesk.incidents.views import get_incident_or_404
from portal.core import jobs
from portal.dispatch import campaigns as engine
from portal.dispatch import evidence, letters
from portal.extensions import db
from portal.models import Campaign, Incident
from portal.security.headers import no_store
from portal.security.permissions import staff_required

ROLE = "manager"
# The order the progress table shows a channel's statuses in.
STATUS_ORDER = ("pending", "sending", "sent", "delivered", "undelivered", "failed", "skipped",
                "cancelled")


def status_names() -> dict[str, str]:
    return {"pending": _("Pending"), "sending": _("Sending"), "sent": _("Sent"),
            "delivered": _("Delivered"), "undelivered": _("Undelivered"), "failed": _("Failed"),
            "skipped": _("Skipped"), "cancelled": _("Cancelled")}


def campaign_state_names() -> dict[str, str]:
    return {"draft": _("Draft"), "running": _("Running"), "paused": _("Paused"),
            "completed": _("Completed"), "cancelled": _("Cancelled")}


@bp.app_template_filter("campaign_title")
def _campaign_title(campaign: Campaign, reference: str) -> str:
    """The campaign's title in the page's language (``engine.title``)."""
    return engine.title(reference, campaign.notice_version)


def _campaign(incident: Incident, campaign_id: int) -> Campaign:
    """The incident's campaign, or 404 (also for another incident's campaign)."""
    campaign = engine.get(campaign_id)
    if campaign is None or campaign.incident_id != incident.id:
        abort(404)
    return campaign


def _eta_text(seconds: int | None) -> str:
    if seconds is None:
        return _("not known yet")
    if seconds == 0:
        return _("no SMS or email left to send")
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("about %(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    if minutes:
        return _("about %(minutes)d min %(seconds)d s", minutes=minutes, seconds=secs)
    return ngettext("about %(num)d second", "about %(num)d seconds", secs)


def _progress(campaign: Campaign) -> dict:
    """Everything the progress table shows, as plain values (also the JSON the page polls)."""
    counts = engine.counts(campaign.id)
    channels = [channel for channel in ("sms", "email", "letter")
                if channel in counts or channel in (campaign.channels or ())]
    skipped = campaign.skipped or {}
    table = {}
    for channel in channels:
        row = {status: counts.get(channel, {}).get(status, 0) for status in STATUS_ORDER}
        row["already"] = int(skipped.get(channel, 0))
        row["total"] = sum(counts.get(channel, {}).values())
        table[channel] = row
    eta = engine.eta_seconds(campaign.id)
    return {"status": campaign.status, "channels": table,
            "rate": round(engine.rate(campaign.id), 1), "eta_seconds": eta,
            "eta": _eta_text(eta),
            "done": campaign.status in ("completed", "cancelled")}


@bp.get("/")
@staff_required(ROLE)
def index(reference: str):
    """The incident's campaigns, newest first."""
    incident = get_incident_or_404(reference)
    campaigns = engine.campaigns_of(incident.id)
    totals = engine.totals([campaign.id for campaign in campaigns])
    return render_template("campaigns/index.html", incident=incident, campaigns=campaigns,
                           totals=totals, states=campaign_state_names(),
                           channel_names=channel_names(),
                           active=engine.active_campaign(incident.id))


@bp.route("/new", methods=["GET", "POST"])
@staff_required(ROLE)
def new(reference: str):
    """Choose channels, see each one's reach and skips, then confirm the launch."""
    incident = get_incident_or_404(reference)
    form = LaunchForm()
    active = engine.active_campaign(incident.id)
    preview = None
    if form.validate_on_submit() and active is None:
        try:
            if form.confirmed.data == "yes":
                campaign, summary = engine.launch(incident.id, form.channels.data,
                                                  again=form.again.data,
                                                  actor_id=current_user.id)
                created = sum(summary.created.values())
                flash(ngettext("Campaign launched: %(num)d message to send.",
                               "Campaign launched: %(num)d messages to send.", created),
                      "success")
                if not summary.queued:
                    flash(_("The job queue is not reachable: the messages wait and go out "
                            "once it is back."), "warning")
                return redirect(url_for("campaigns.show", reference=reference,
                                        campaign_id=campaign.id))
            preview = engine.preview(incident.id, form.channels.data, again=form.again.data)
        except engine.CampaignError as error:
            db.session.rollback()
            flash(str(error), "error")
            preview = None
    status = 400 if form.errors else 200
    return make_response(render_template(
        "campaigns/new.html", incident=incident, form=form, preview=preview, active=active,
        channel_names=channel_names(),
        people_total=None if preview is None else max(
            (sum(row.values()) for row in preview.values()), default=0)),
        status)


@bp.get("/<int:campaign_id>")
@staff_required(ROLE)
def show(reference: str, campaign_id: int):
    """A campaign's live progress per channel, with its controls."""
    incident = get_incident_or_404(reference)
    campaign = _campaign(incident, campaign_id)
    progress = _progress(campaign)
    names = channel_names()
    return no_store(make_response(render_template(
        "campaigns/show.html", incident=incident, campaign=campaign, channel_headers=[
            (names.get(channel, channel), "num") for channel in progress["channels"]],
        progress=progress, statuses=STATUS_ORDER,
        status_names=status_names(),
        states=campaign_state_names(), channel_names=channel_names(), form=ConfirmForm(),
        letters=letters.letter_counts(campaign.id))))


@bp.get("/<int:campaign_id>/progress")
@staff_required(ROLE)
def progress(reference: str, campaign_id: int):
    """The progress as JSON, polled by the campaign page's script."""
    campaign = _campaign(get_incident_or_404(reference), campaign_id)
    return no_store(jsonify(_progress(campaign)))


def _control(reference: str, campaign_id: int, action: str):
    incident = get_incident_or_404(reference)
    campaign = _campaign(incident, campaign_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            if action == "pause":
                changed = engine.pause(campaign.id, actor_id=current_user.id)
                message = _("Campaign paused: no new messages are taken.")
            elif action == "resume":
                changed = engine.resume(campaign.id, actor_id=current_user.id)
                message = _("Campaign resumed.")
            else:
                cancelled = engine.cancel(campaign.id, actor_id=current_user.id)
                changed = cancelled is not None
                message = ngettext("Campaign cancelled: %(num)d message will not be sent.",
                                   "Campaign cancelled: %(num)d messages will not be sent.",
                                   cancelled or 0)
        except engine.CampaignError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            if changed:
                flash(message, "success")
            else:
                flash(_("Nothing changed: the campaign is %(state)s.",
                        state=campaign_state_names().get(campaign.status, campaign.status)),
                      "info")
    return redirect(url_for("campaigns.show", reference=reference, campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/pause")
@staff_required(ROLE)
def pause(reference: str, campaign_id: int):
    """Pause: chunk jobs stop claiming new messages."""
    return _control(reference, campaign_id, "pause")


@bp.post("/<int:campaign_id>/resume")
@staff_required(ROLE)
def resume(reference: str, campaign_id: int):
    """Resume a paused campaign."""
    return _control(reference, campaign_id, "resume")


@bp.post("/<int:campaign_id>/cancel")
@staff_required(ROLE)
def cancel(reference: str, campaign_id: int):
    """Cancel: messages not yet taken are cancelled and counted."""
    return _control(reference, campaign_id, "cancel")


@bp.get("/<int:campaign_id>/evidence.csv")
@staff_required(ROLE)
def evidence_csv(reference: str, campaign_id: int):
    """The campaign's evidence, one row per message, streamed; the export is logged first."""
    incident = get_incident_or_404(reference)
    campaign = _campaign(incident, campaign_id)
    evidence.record_export(campaign.id, actor_id=current_user.id, via="web")
    db.session.commit()
    response = Response(stream_with_context(evidence.csv_lines(campaign.id)),
                        mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="evidence-{incident.reference}-campaign-{campaign.id}.csv"')
    return no_store(response)


# --- letters -------------------------------------------------------------------------------


def _letters_page(incident, campaign, returned_form, status=200, outcome=None, problems=None):
    return no_store(make_response(render_template(
        "campaigns/letters.html", incident=incident, campaign=campaign,
        counts=letters.letter_counts(campaign.id), batches=letters.batches_of(campaign.id),
        form=ConfirmForm(), returned_form=returned_form, outcome=outcome,
        problems=problems or []), status))


@bp.get("/<int:campaign_id>/letters")
@staff_required(ROLE)
def letters_index(reference: str, campaign_id: int):
    """Print runs: print the waiting letters, download batches, mark mailed, returns."""
    incident = get_incident_or_404(reference)
    campaign = _campaign(incident, campaign_id)
    return _letters_page(incident, campaign, ReturnedForm())


@bp.post("/<int:campaign_id>/letters/print")
@staff_required(ROLE)
def letters_print(reference: str, campaign_id: int):
    """Print every waiting letter (a job; inline on the embedded default)."""
    incident = get_incident_or_404(reference)
    campaign = _campaign(incident, campaign_id)
    if ConfirmForm().validate_on_submit():
        waiting = letters.pending_letters(campaign.id)
        db.session.rollback()
        if campaign.status == "paused":
            flash(_("The campaign is paused: resume it to print its letters."), "error")
        elif not waiting:
            flash(_("No letter is waiting to be printed."), "info")
        else:
            job = jobs.enqueue(letters.print_run_job, campaign.id, current_user.id,
                               job_id=f"letters-campaign-{campaign.id}")
            result = getattr(job, "result", None)
            if isinstance(result, dict):
                flash(ngettext("%(num)d letter printed.", "%(num)d letters printed.",
                               result["letters"]), "success")
                if result["failed"]:
                    flash(ngettext("%(num)d letter could not be printed (see the evidence).",
                                   "%(num)d letters could not be printed (see the evidence).",
                                   result["failed"]), "warning")
            else:
                flash(ngettext("Printing %(num)d letter: refresh this page in a moment.",
                               "Printing %(num)d letters: refresh this page in a moment.",
                               waiting), "info")
    return redirect(url_for("campaigns.letters_index", reference=reference,
                            campaign_id=campaign_id))


def _batch_file(reference: str, campaign_id: int, batch_id: int, kind: str):
    incident = get_incident_or_404(reference)
    campaign = _campaign(incident, campaign_id)
    batch = letters.batch_of(campaign.id, batch_id)
    if batch is None:
        abort(404)
    try:
        data = letters.read_file(batch, kind)
    except letters.LetterError:
        abort(404)
    letters.record_download(batch, kind, current_user.id)
    db.session.commit()
    response = make_response(data)
    if kind == "pdf":
        response.headers["Content-Type"] = "application/pdf"
        name = f"letters-campaign-{campaign.id}-batch-{batch.number}.pdf"
    else:
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        name = f"letters-campaign-{campaign.id}-batch-{batch.number}-manifest.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return no_store(response)


@bp.get("/<int:campaign_id>/letters/<int:batch_id>.pdf")
@staff_required(ROLE)
def letters_pdf(reference: str, campaign_id: int, batch_id: int):
    """A batch's letters as one PDF, in print order (names and addresses: logged)."""
    return _batch_file(reference, campaign_id, batch_id, "pdf")


@bp.get("/<int:campaign_id>/letters/<int:batch_id>-manifest.csv")
@staff_required(ROLE)
def letters_manifest(reference: str, campaign_id: int, batch_id: int):
    """A batch's manifest for the print house (names and addresses: logged)."""
    return _batch_file(reference, campaign_id, batch_id, "manifest")


@bp.post("/<int:campaign_id>/letters/<int:batch_id>/mailed")
@staff_required(ROLE)
def letters_mailed(reference: str, campaign_id: int, batch_id: int):
    """Record that the print house mailed a batch."""
    incident = get_incident_or_404(reference)
    campaign = _campaign(incident, campaign_id)
    if letters.batch_of(campaign.id, batch_id) is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        moved = letters.mark_mailed(campaign.id, batch_id, actor_id=current_user.id)
        db.session.commit()
        if moved:
            flash(ngettext("%(num)d letter marked as mailed.", "%(num)d letters marked as mailed.",
                           moved), "success")
        else:
            flash(_("Nothing changed: this batch was already marked as mailed."), "info")
    return redirect(url_for("campaigns.letters_index", reference=reference,
                            campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/letters/returned")
@staff_required(ROLE)
def letters_returned(reference: str, campaign_id: int):
    """Upload the ids of letters that came back: they count as undelivered."""
    incident = get_incident_or_404(reference)
    campaign = _campaign(incident, campaign_id)
    form = ReturnedForm()
    if not form.validate_on_submit():
        return _letters_page(incident, campaign, form, status=400)
    data = form.file.data.read()
    if b"\x00" in data[:65536]:
        form.file.errors = [_("The file looks like a spreadsheet or other binary file; save it "
                              "as CSV (UTF-8) and upload that.")]
        return _letters_page(incident, campaign, form, status=400)
    try:
        ids, problems = letters.parse_letter_ids(data)
    except letters.LetterError:
        form.file.errors = [_("The file must be UTF-8 text.")]
        return _letters_page(incident, campaign, form, status=400)
    if not ids and not problems:
        form.file.errors = [_("The file holds no letter ids.")]
        return _letters_page(incident, campaign, form, status=400)
    outcome = letters.mark_returned(campaign.id, ids, actor_id=current_user.id)
    db.session.commit()
    status = 400 if problems or outcome.unknown else 200
    return _letters_page(incident, campaign, ReturnedForm(), status=status, outcome=outcome,
                         problems=problems)

