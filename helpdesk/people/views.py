"""``/helpdesk/people``: find a person, see them masked, unlock, resend, open a ticket, log a call.

Threat model: any agent may search (by a value the caller gives on the phone), and
every search is logged with its match count (never the value). A person's page and
actions need a grant in this staff session (``grants``): the person was found by a
search a moment ago, or the request names a ticket of theirs that the staff member may
work (the ticket page's links do: ``?ticket_id=``), which grants them from then on. So
an id typed into a URL reaches nobody; ``_person_or_404`` is the one check every person
route shares. Personal
data shows masked as on the ticket page; revealing it is the ticket page's job.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.limits import held_search, lookup_limit, spend_page_budget
from helpdesk.people import bp, grants
from helpdesk.people.forms import CallForm, ConfirmForm, OpenTicketForm
from portal.core.i18n import LANGUAGE_NAMES, use_page_zone
from portal.customer.forms import TICKET_TOPICS
from portal.extensions import db
from portal.models import Incident, Person
from portal.notices.advice import category_name
from portal.people import lookup
from portal.security.headers import no_store
from portal.security.permissions import staff_required
from portal.tickets import access, calls
from portal.tickets.operations import find_ticket
from portal.tickets.queries import QUEUE_STATUSES


def _reached_by_ticket(person_id: int) -> bool:
    """Tell whether the request names (``?ticket_id=``) a ticket of this person's that the
    staff member may work; if so the session is granted the person, for the person
    page's own forms. The ticket page links so instead of granting on every view: a
    grant changes the session, which re-signs and re-sends its cookie."""
    ticket_id = request.args.get("ticket_id", type=int)
    if ticket_id is None:
        return False
    ticket = find_ticket(ticket_id)
    if ticket is None or ticket.person_id != person_id or not access.may_work(
            current_user, ticket):
        return False
    grants.remember(person_id)
    return True


def _use_incident_zone(person: Person) -> None:
    """The person's times in their incident's zone, as on their tickets' pages."""
    incident = db.session.get(Incident, person.incident_id)
    if incident is not None:
        use_page_zone(incident.time_zone)


def _person_or_404(person_id: int) -> Person:
    """The person, if this session found them by a search recently or the request names
    a ticket of theirs the staff member may work.

    The incidents a staff member may work (``portal.tickets.access``, shared with the
    queue and the ticket pages) bound the people too.
    """
    if not grants.allowed(person_id) and not _reached_by_ticket(person_id):
        abort(404)
    person = lookup.get_person(person_id)
    visible = access.visible_incident_ids(current_user)
    if person is None or (visible is not None and person.incident_id not in visible):
        abort(404)
    return person


def _page(template: str, status: int = 200, **context):
    """A page with personal data (masked or not): never cached."""
    return no_store(make_response(render_template(template, **context), status))


def _ticket_url(ticket) -> str:
    return url_for("tickets.show", ticket_id=ticket.id)


@bp.route("/", methods=["GET", "POST"])
@staff_required("agent")
@lookup_limit
def search():
    """Find people by reference, notice code, phone, email or policy number.

    The page's form posts the value (CSRF-checked), so it stays out of URLs, access
    logs and the browser's history; ``?q=`` works too, for links.
    """
    source = request.form if request.method == "POST" else request.args
    q = " ".join(source.get("q", "").split())[:lookup.MAX_QUERY]
    results = None
    if held_search():  # another site's link: shown, run only when the button is pressed
        return _page("people/search.html", q=q, results=None, language_names=LANGUAGE_NAMES,
                     held=True)
    if q:
        people = lookup.search(q, current_user.id,
                               access.visible_incident_ids(current_user))
        for person in people:
            grants.remember(person.id)
        results = lookup.masked_people(people)
        db.session.commit()
    elif request.method == "POST":  # the button pressed with nothing typed
        return _page("people/search.html", q=q, results=None, language_names=LANGUAGE_NAMES,
                     error=_("Type a reference, notice code, phone number, email address or "
                             "policy number."), status=400)
    return _page("people/search.html", q=q, results=results, language_names=LANGUAGE_NAMES)


def _render_person(person: Person, *, call_form=None, ticket_form=None, status=200):
    if not spend_page_budget():  # every view of a person counts, however reached
        abort(429)
    _use_incident_zone(person)
    shown = lookup.masked_people([person])[0]
    state = lookup.verification.failures(person)
    tickets = lookup.person_tickets(person.id)
    return _page(
        "people/show.html", status, person=shown, failures=state.failures,
        locked_until=state.locked_until, tickets=tickets, ticket_url=_ticket_url,
        categories=[category_name(key) for key in shown.categories],
        language_name=LANGUAGE_NAMES.get(shown.language, shown.language),
        confirm_form=ConfirmForm(), ticket_form=ticket_form or OpenTicketForm(formdata=None))


@bp.get("/<int:person_id>")
@staff_required("agent")
def show(person_id: int):
    """The person, masked: incident, categories, lock state, tickets, actions."""
    if not spend_page_budget():
        abort(429)
    person = _person_or_404(person_id)
    lookup.viewed(person, current_user.id)
    db.session.commit()
    return _render_person(person)


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/<int:person_id>/unlock")
@staff_required("agent")
def unlock(person_id: int):
    """Lift the lock on the person's notice code (limited per day; logged)."""
    person = _person_or_404(person_id)
    _confirmed()
    try:
        lookup.unlock(person, current_user.id)
    except lookup.LookupRefused as refused:
        db.session.commit()  # keep the refusal's log entry
        flash(refused.message, "error")
    else:
        flash(_("The notice code is unlocked: the customer can try again now."), "success")
    return redirect(url_for("people.show", person_id=person.id))


@bp.post("/<int:person_id>/resend")
@staff_required("agent")
def resend(person_id: int):
    """Send the notice code again to the contact details on file (limited per day; logged)."""
    person = _person_or_404(person_id)
    _confirmed()
    try:
        lookup.resend_code(person, current_user.id)
    except lookup.LookupRefused as refused:
        db.session.commit()
        flash(refused.message, "error")
    else:
        flash(_("The notice code is being sent to the contact details on file."), "success")
    return redirect(url_for("people.show", person_id=person.id))


@bp.post("/<int:person_id>/tickets")
@staff_required("agent")
def open_ticket(person_id: int):
    """Open a ticket for the person with an internal note; it is assigned to the agent."""
    person = _person_or_404(person_id)
    form = OpenTicketForm()
    if form.validate_on_submit():
        try:
            ticket = calls.open_ticket(person, form.channel.data, form.topic.data,
                                       form.note.data, current_user.id)
        except calls.CallError as error:
            db.session.rollback()
            getattr(form, error.field or "note").errors = [error.message]
        else:
            db.session.commit()
            flash(_("Ticket %(id)d opened and assigned to you.", id=ticket.id), "success")
            return redirect(_ticket_url(ticket))
    return _render_person(person, ticket_form=form, status=400)


@bp.route("/<int:person_id>/call", methods=["GET", "POST"])
@staff_required("agent")
def log_call(person_id: int):
    """Log a phone call on the person (a new phone ticket) or on one of their tickets."""
    person = _person_or_404(person_id)
    ticket = None
    ticket_id = request.args.get("ticket_id", type=int)
    if ticket_id is not None:
        ticket = calls.person_ticket(person, ticket_id)
        if ticket is None:
            abort(404)
    form = CallForm()
    if ticket is not None:
        del form.topic  # the ticket has its topic: the page shows no such field
    if request.method == "GET":
        form.direction.data = "inbound"
    if form.validate_on_submit():
        try:
            call = calls.clean_call(form.direction.data, form.minutes.data, form.outcome.data,
                                    form.summary.data)
            if ticket is None:
                saved = calls.log_call(person, call, current_user.id, None, form.topic.data)
            else:
                saved = calls.log_call(person, call, current_user.id, ticket)
        except calls.CallError as error:
            db.session.rollback()
            field = getattr(form, error.field or "summary")
            field.errors = [*field.errors, error.message]
        else:
            db.session.commit()
            flash(_("Call logged on ticket %(id)d.", id=saved.id), "success")
            return redirect(_ticket_url(saved))
    if not spend_page_budget():
        abort(429)
    shown = lookup.masked_people([person])[0]
    _use_incident_zone(person)
    # A new ticket for a call about one still open would split the story: offer those.
    open_tickets = [] if ticket is not None else [
        found for found in lookup.person_tickets(person.id) if found.status in QUEUE_STATUSES]
    return _page("people/call.html", 400 if form.errors else 200, form=form, person=shown,
                 ticket=ticket, open_tickets=open_tickets, topic_labels=dict(TICKET_TOPICS))
