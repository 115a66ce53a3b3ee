"""``/helpdesk/log``: the interaction log for managers, its reveals and its CSV export.

Who: managers and admins (one check, ``staff_required("manager")``, on every route).
What it reveals: rows with personal detail values masked; a reveal (POST, CSRF,
a reason) shows one row's values and is itself logged; the export is logged with
its filters and masks as the page does.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user

from helpdesk.log import bp
from helpdesk.log.forms import RevealForm
from portal.audit import review
from portal.audit.labels import LABELS
from portal.core.i18n import display_zone_name, zone
from portal.extensions import db
from portal.models.base import utcnow
from portal.security.headers import no_store
from portal.security.permissions import staff_required

PAGE_SIZE = 50


def _filters() -> tuple[review.LogFilter | None, dict[str, str]]:
    try:
        return review.parse_filters(request.args, zone(display_zone_name()), get_locale()), {}
    except review.FilterError as error:
        return None, error.errors


def _page(filters, errors, status: int = 200):
    before = review.parse_before(request.args.get("before"))
    found = review.page(filters, before, PAGE_SIZE) if filters is not None else None
    params = dict(filters.params) if filters is not None else {
        name: request.args.get(name, "") for name in review.PARAMS if request.args.get(name)}
    next_url = None
    if found is not None and found.next_before is not None:
        next_url = url_for("audit_log.index", **params, before=found.next_before)
    response = current_app.make_response((render_template(
        "log/index.html", page=found, errors=errors, params=params, before=before,
        next_url=next_url, status=review.chain_status(), actions=sorted(LABELS),
        export_url=url_for("audit_log.export", **params),
    ), status))
    return no_store(response)


@bp.get("/")
@staff_required("manager")
def index():
    """The log, newest first, filtered by the query string; 400 naming each bad filter."""
    filters, errors = _filters()
    return _page(filters, errors, 400 if errors else 200)


@bp.get("/export.csv")
@staff_required("manager")
def export():
    """The filtered log as CSV, streamed; the export is logged with its filters."""
    filters, errors = _filters()
    if errors:
        return _page(None, errors, 400)
    review.log_export(filters, current_user.id, "web")
    db.session.commit()
    response = Response(stream_with_context(review.csv_chunks(filters)),
                        mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{review.export_filename(utcnow())}"')
    return no_store(response)


def _row_or_404(interaction_id: int) -> review.LogRow:
    row = review.row(interaction_id)
    if row is None:
        abort(404)
    return row


@bp.route("/<int:interaction_id>/reveal", methods=["GET", "POST"])
@staff_required("manager")
def reveal(interaction_id: int):
    """Ask for a reason (GET), then show one row's personal values (POST); logged."""
    row = _row_or_404(interaction_id)
    form = RevealForm()
    revealed = None
    status = 200
    if form.validate_on_submit():
        try:
            revealed = review.reveal(interaction_id, form.reason.data, current_user.id)
        except review.RevealError as error:
            form.reason.errors = [*form.reason.errors, error.message]
        else:
            db.session.commit()
    if form.errors:
        status = 400
    return no_store(current_app.make_response((render_template(
        "log/reveal.html", row=row, form=form, revealed=revealed), status)))
