"""``/helpdesk/staff``: administrators list, create and manage staff accounts.

Admins only (``staff_required("admin")``). A new account gets a one-time set-up link,
shown once on the response to the POST (never in a redirect, a flash or the log) and
e-mailed; the rules (last administrator, one's own role, single-use links) live in
``portal.security.staff_accounts``.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.saving import saving
from helpdesk.staff import bp
from helpdesk.staff.forms import (
    ROLE_LABELS,
    ConfirmForm,
    IncidentsForm,
    NewStaffForm,
    RoleForm,
)
from portal.security import staff_accounts
from portal.security.headers import no_store
from portal.security.permissions import staff_required


def _setup_url(token: str) -> str:
    return url_for("staff_auth.setup", token=token, _external=True)


def _staff_or_404(staff_id: int):
    user = staff_accounts.get(staff_id)
    if user is None:
        abort(404)
    return user


def _page(template: str, status: int = 200, **context):
    return no_store(current_app.make_response(
        (render_template(template, role_labels=ROLE_LABELS, **context), status)))


@bp.route("/", methods=["GET", "POST"])
@staff_required("admin")
def index():
    """Every account, and the form that adds one."""
    form = NewStaffForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            issued = staff_accounts.create(form.email.data, form.name.data, form.role.data,
                                           by=current_user, setup_url=_setup_url)
        if saved:
            return _page("staff_admin/link.html", 201, user=issued.staff,
                         link=_setup_url(issued.token), emailed=issued.emailed, created=True,
                         hours=current_app.config["STAFF_SETUP_LINK_HOURS"])
    accounts = staff_accounts.listing()
    return _page("staff_admin/index.html", 400 if form.errors else 200, form=form,
                 accounts=accounts,
                 pending=staff_accounts.pending_links([user.id for user in accounts]),
                 locked={user.id for user in accounts if staff_accounts.is_locked(user)})


@bp.route("/<int:staff_id>")
@staff_required("admin")
def show(staff_id: int):
    user = _staff_or_404(staff_id)
    return _show(user, RoleForm(role=user.role))


def _incidents_form(user, form: IncidentsForm | None = None) -> IncidentsForm:
    if form is None:
        form = IncidentsForm(incidents=staff_accounts.assigned_incident_ids(user))
    form.incidents.choices = [(incident.id, f"{incident.reference}: {incident.title}")
                              for incident in staff_accounts.incidents()]
    return form


def _show(user, role_form, status: int = 200, incidents_form: IncidentsForm | None = None):
    return _page("staff_admin/show.html", status, user=user, role_form=role_form,
                 confirm=ConfirmForm(), locked=staff_accounts.is_locked(user),
                 pending=staff_accounts.pending_links([user.id]).get(user.id),
                 is_self=user.id == current_user.id,
                 incidents_form=_incidents_form(user, incidents_form))


@bp.route("/<int:staff_id>/incidents", methods=["POST"])
@staff_required("admin")
def incidents(staff_id: int):
    """Limit an agent to some incidents (none ticked: every incident)."""
    user = _staff_or_404(staff_id)
    form = _incidents_form(user, IncidentsForm())
    if not form.validate_on_submit():
        return _show(user, RoleForm(role=user.role), 400, incidents_form=form)
    with saving(form) as saved:
        changed = staff_accounts.set_incidents(user, form.incidents.data or [])
    if not saved:  # bad input (an unknown incident, a role that is not limited)
        return _show(user, RoleForm(role=user.role), 409 if saved.conflict else 400,
                     incidents_form=form)
    if changed:
        flash(_("The incidents of %(name)s are saved.", name=user.name), "success")
    return redirect(url_for("staff_admin.show", staff_id=user.id))


@bp.route("/<int:staff_id>/role", methods=["POST"])
@staff_required("admin")
def change_role(staff_id: int):
    user = _staff_or_404(staff_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _show(user, form, 400)
    with saving(form) as saved:
        changed = staff_accounts.change_role(user, form.role.data, by=current_user)
    if not saved:
        return _show(user, form, 409)
    if changed:
        flash(_("%(name)s is now: %(role)s.", name=user.name,
                role=ROLE_LABELS[user.role]), "success")
    return redirect(url_for("staff_admin.show", staff_id=user.id))


def _action(staff_id: int, act, done: str):
    """Run a one-button action (CSRF-checked) and come back to the account's page."""
    user = _staff_or_404(staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with saving() as saved:
        act(user)
    if saved:
        flash(done % {"name": user.name}, "success")
        return redirect(url_for("staff_admin.show", staff_id=user.id))
    return _show(user, RoleForm(role=user.role), 409)


def _confirm(staff_id: int, action: str):
    """The confirmation page of an action that takes access away (GET before the POST)."""
    user = _staff_or_404(staff_id)
    return _page("staff_admin/confirm.html", user=user, action=action, confirm=ConfirmForm())


@bp.route("/<int:staff_id>/deactivate", methods=["GET", "POST"])
@staff_required("admin")
def deactivate(staff_id: int):
    if request.method == "GET":
        return _confirm(staff_id, "deactivate")
    return _action(staff_id, lambda user: staff_accounts.deactivate(user, by=current_user),
                   _("%(name)s can no longer sign in; their sessions have ended."))


@bp.route("/<int:staff_id>/reactivate", methods=["POST"])
@staff_required("admin")
def reactivate(staff_id: int):
    return _action(staff_id, lambda user: staff_accounts.reactivate(user, by=current_user),
                   _("%(name)s can sign in again."))


@bp.route("/<int:staff_id>/unlock", methods=["POST"])
@staff_required("admin")
def unlock(staff_id: int):
    return _action(staff_id, staff_accounts.unlock,
                   _("Every sign-in lock of %(name)s is lifted."))


@bp.route("/<int:staff_id>/two-factor/reset", methods=["GET", "POST"])
@staff_required("admin")
def reset_two_factor(staff_id: int):
    if request.method == "GET":
        return _confirm(staff_id, "reset_two_factor")
    return _action(staff_id, staff_accounts.reset_two_factor,
                   _("%(name)s sets up two-factor sign-in again at their next sign-in."))


@bp.route("/<int:staff_id>/link", methods=["POST"])
@staff_required("admin")
def new_link(staff_id: int):
    user = _staff_or_404(staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with saving() as saved:
        issued = staff_accounts.renew_link(user, by=current_user, setup_url=_setup_url)
    if not saved:
        return _show(user, RoleForm(role=user.role), 409)
    return _page("staff_admin/link.html", user=user, link=_setup_url(issued.token),
                 emailed=issued.emailed, created=False,
                 hours=current_app.config["STAFF_SETUP_LINK_HOURS"])
