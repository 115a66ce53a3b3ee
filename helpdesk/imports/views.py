"""``/helpdesk/incidents/<reference>/imports``: upload, progress and results."""

from __future__ import annotations

from flask import abort, current_app, jsonify, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.imports import bp
from helpdesk.imports.forms import UploadForm
from helpdesk.incidents.views import get_incident_or_404
from helpdesk.saving import saving
from portal.core import jobs
from portal.imports.csv_file import file_error_text
from portal.imports.jobs import ERRORS_SAMPLE, create_run, run_import
from portal.imports.queries import recent_runs, run_of
from portal.imports.rows import COLUMNS, REASONS
from portal.models import ImportRun, Incident
from portal.security.headers import no_store
from portal.security.permissions import staff_required

TEXT_TYPES = {"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel",
              "text/comma-separated-values", "application/octet-stream", ""}
RECENT = 20


def _run(incident: Incident, run_id: int) -> ImportRun:
    run = run_of(incident.id, run_id)
    if run is None:
        abort(404)
    return run


def _type_problem(upload, data: bytes) -> str | None:
    """Why an upload is not a CSV text file, or ``None``."""
    mimetype = (upload.mimetype or "").lower()
    if mimetype not in TEXT_TYPES:
        return _("The file must be a CSV text file.")
    if b"\x00" in data[:65536]:
        return _("The file looks like a spreadsheet or other binary file; save it as CSV "
                 "(UTF-8) and upload that.")
    if not data.strip():
        return _("The file is empty.")
    return None


@bp.route("/", methods=["GET", "POST"])
@staff_required("manager")
def index(reference: str):
    """Upload form and the incident's past imports."""
    incident = get_incident_or_404(reference)
    form = UploadForm()
    problem = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        problem = _type_problem(upload, data)
        if problem is None:
            with saving(form) as saved:
                run = create_run(incident.id, current_user.id, upload.filename or "upload.csv",
                                 data, dry_run=form.dry_run.data)
            if saved:
                run_id = run.id
                jobs.enqueue(run_import, run_id, job_id=f"import-run-{run_id}")
                return redirect(url_for("imports.show", reference=reference, run_id=run_id))
    runs = recent_runs(incident.id, RECENT)
    status = 400 if form.errors or problem else 200
    page = render_template("imports/index.html", incident=incident, form=form, runs=runs,
                           problem=problem, columns=COLUMNS,
                           max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))
    return make_response(page, status)


@bp.get("/<int:run_id>")
@staff_required("manager")
def show(reference: str, run_id: int):
    """One import: live progress while it runs, then its counts and problems."""
    incident = get_incident_or_404(reference)
    run = _run(incident, run_id)
    # A file that could not be read says why in the reader's language (runs that failed
    # before the reason was kept, or for an unexpected error, have only the English text).
    failure = (file_error_text(run.error_reason, _) if run.error_reason
               else run.error_message)
    return no_store(make_response(render_template(
        "imports/show.html", incident=incident, run=run, reasons=REASONS, failure=failure,
        sample_limit=ERRORS_SAMPLE)))


@bp.get("/<int:run_id>/progress")
@staff_required("manager")
def progress(reference: str, run_id: int):
    """Progress as JSON, polled by the page's script."""
    run = _run(get_incident_or_404(reference), run_id)
    return no_store(jsonify(
        status=run.status, percent=run.percent, processed_bytes=run.processed_bytes,
        total_bytes=run.total_bytes, imported=run.imported, updated=run.updated,
        unchanged=run.unchanged, rejected=run.rejected,
        done=run.status in ("finished", "failed"),
    ))


@bp.get("/<int:run_id>/errors.csv")
@staff_required("manager")
def errors_csv(reference: str, run_id: int):
    """The rejected rows (line, column, reason) as a CSV download."""
    run = _run(get_incident_or_404(reference), run_id)
    if not run.errors_csv:
        abort(404)
    response = make_response(run.errors_csv)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="import-{run.id}-errors.csv"'
    )
    return no_store(response)
