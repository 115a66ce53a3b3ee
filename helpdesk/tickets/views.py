"""``/helpdesk/tickets``: the queue, the ticket page and what agents do on it.

Threat model: every route needs a signed-in agent (or higher) and goes through
``portal.tickets.access.may_work`` (the queue through the same incidents); ids in
URLs only name a ticket, they grant nothing. Customer text is escaped by the
templates. Personal data stays masked until revealed with a reason (logged as
``pii.revealed``), and a revealed value is rendered into that one response only.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from helpdesk.campaigns.views import status_names as notification_status_names
from helpdesk.incidents.forms import choices
from helpdesk.incidents.views import span_parts, span_words
from helpdesk.limits import held_search, lookup_limit, spend_page_budget
from helpdesk.people.forms import DIRECTIONS, OUTCOMES
from helpdesk.tickets import bp
from helpdesk.tickets.forms import (
    AssignForm,
    LazyForm,
    NoteForm,
    ReplyForm,
    RevealForm,
    StatusForm,
    TakeForm,
)
from helpdesk.tickets.rows import RowText, queue_rows
from portal.answers import render
from portal.answers.choose import answer_choices
from portal.audit import log as audit
from portal.core import i18n, read_pages
from portal.core.i18n import LANGUAGE_NAMES, display_zone_name, zone
from portal.core.jobs import enqueue
from portal.dispatch.replies import notify_reply
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.ticket import TICKET_CHANNELS, TICKET_STATUSES, Ticket
from portal.notices.advice import category_name
from portal.security.permissions import staff_required
from portal.tickets import access, presence, sla
from portal.tickets.operations import (
    STAFF_REPLY_STATUSES,
    AnswerNotUsable,
    StaleReply,
    add_note,
    assign,
    find_ticket,
    last_customer_message_id,
    reply,
    set_status,
    thread,
)
from portal.tickets.page import load_for_page, person_context, staff_names
from portal.tickets.queue import agents, parse_filters, queue_page
from portal.tickets.reveal import REVEAL_REASONS, REVEALABLE, masked
from portal.tickets.reveal import reveal as reveal_field

STATUS_LABELS = {
    "new": _l("New"), "open": _l("Open"), "pending_customer": _l("Waiting for customer"),
    "resolved": _l("Resolved"), "closed": _l("Closed"),
}
CHANNEL_LABELS = {"web": _l("Portal"), "sms": _l("SMS"), "email": _l("Email"),
                  "phone": _l("Phone")}
FIELD_LABELS = {
    "last_name": _l("Last name"), "date_of_birth": _l("Date of birth"), "email": _l("Email"),
    "phone": _l("Phone"), "postal_address": _l("Postal address"),
    "policy_number": _l("Policy number"),
}
REASON_LABELS = {
    "verify_identity": _l("Verify the caller's identity"),
    "customer_request": _l("The customer asked for it"),
    "contact_customer": _l("Contact the customer"),
    "correct_record": _l("Correct their record"),
    "suspected_fraud": _l("Suspected fraud or misuse"),
}
SLA_LABELS = {"breached": _l("Overdue"), "due_today": _l("Due today")}
# A logged call's direction and outcome, in the words of the call form.
CALL_LABELS = {**dict(DIRECTIONS), **dict(OUTCOMES)}
ROW_WORDS = {  # the queue's column labels and the words its rows repeat
    "ticket": _l("Ticket"), "topic": _l("Topic"), "status": _l("Status"), "due": _l("Due"),
    "customer": _l("Customer"), "assigned": _l("Assigned to"), "channel": _l("Channel"),
    "overdue": _l("Overdue"), "take": _l("Take"), "no_clock": _l("No clock running"),
}
FILTER_LABELS = {
    "status": _l("Status"), "assignee": _l("Assigned to"), "channel": _l("Channel"),
    "language": _l("Language"), "incident": _l("Incident"), "sla": _l("SLA"),
    "q": _l("Search"), "after": _l("Page"),
}


@bp.context_processor
def _ticket_labels():
    # Resolved once per language and process rather than once per row (or page): the
    # labels are the same for every page in a language. Templates only read them.
    catalog = i18n.catalog()
    return i18n.kept_in(catalog, "ticket-labels", lambda: _labels_in(catalog))


def _labels_in(catalog) -> dict[str, dict[str, str]]:
    from portal.customer.forms import TICKET_TOPICS

    return {name: {key: i18n.resolved_in(catalog, label) for key, label in labels}
            for name, labels in (("ticket_status_labels", STATUS_LABELS.items()),
                                 ("ticket_channel_labels", CHANNEL_LABELS.items()),
                                 ("ticket_topic_labels", TICKET_TOPICS))}


@bp.app_template_filter("due_phrase")
def due_phrase(due: datetime, now: datetime) -> str:
    """How long until ``due``, or how late: "3 hours left", "1 day, 2 hours late".

    A plain filter rather than ``_()`` in the template: inside the queue's row loop each
    ``_()`` call copied the template context (Jinja passes it the loop's variables).
    """
    return due_phrase_in(i18n.catalog(), due, now)


def due_phrase_in(catalog, due: datetime, now: datetime) -> str:
    """``due_phrase`` in ``catalog``'s language (kept with the catalog)."""
    late, parts = due < now, span_parts(due - now)
    return i18n.kept_in(catalog, ("due", late, *parts),
                        lambda: _due_words(catalog, late, *parts))


def _due_words(catalog, late: bool, days: int, hours: int, minutes: int) -> str:
    span = span_words(catalog, days, hours, minutes)
    return (catalog.ugettext("%(span)s late") if late
            else catalog.ugettext("%(span)s left")) % {"span": span}


def _status_choices(values):
    return choices([(value, i18n.resolved(STATUS_LABELS[value])) for value in values])


def _languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def _day_end(now: datetime) -> datetime:
    """Midnight at the end of today in the staff member's zone."""
    local = now.astimezone(zone(display_zone_name()))
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)


def _topic_keys(q: str) -> set[str]:
    """Ticket topics whose key or name (in the page language) contains ``q``."""
    from portal.customer.forms import TICKET_TOPICS

    needle = q.strip().casefold()
    if len(needle) < 3:
        return set()
    return {key for key, label in TICKET_TOPICS
            if needle in key.casefold() or needle in i18n.resolved(label).casefold()}


def ticket_or_404(ticket_id: int, *, page: bool = False) -> Ticket:
    """The ticket if the signed-in staff member may work it (404 otherwise).

    ``page``: the ticket page will be shown, so its person and incident are read with it.
    """
    if page:
        # Held for the request: the session's identity map only keeps weak references.
        g.ticket_page = load_for_page(ticket_id)
        ticket = g.ticket_page[0] if g.ticket_page else None
    else:
        ticket = find_ticket(ticket_id)
    if not access.may_work(current_user, ticket):
        abort(404)
    return ticket


@bp.app_template_global("queue_row_text")
def _row_text() -> RowText:
    """The queue rows' shared words (kept per language), address and form token."""
    catalog = i18n.catalog()
    words = i18n.kept_in(catalog, "queue-row-words", lambda: {
        name: i18n.resolved_in(catalog, label) for name, label in ROW_WORDS.items()})
    return RowText.escaped(**words, base=url_for("tickets.queue"), token=generate_csrf())


@bp.app_template_global("queue_rows")
def _queue_rows(rows, text: RowText, now: datetime):
    """The queue's rows as markup (``helpdesk.tickets.rows``)."""
    labels, catalog = _ticket_labels(), i18n.catalog()
    return queue_rows(rows, text, now=now,
                      due_phrase=lambda due, now: due_phrase_in(catalog, due, now),
                      topic_labels=labels["ticket_topic_labels"],
                      status_labels=labels["ticket_status_labels"],
                      channel_labels=labels["ticket_channel_labels"],
                      language_names=LANGUAGE_NAMES)


@bp.route("/", methods=["GET", "POST"])
@read_pages.read_page
@staff_required(access.TICKET_ROLE)
@lookup_limit
def queue():
    """The queue: next due first, keyset pages. Filters as query parameters; the page's
    form posts them (CSRF-checked), so a search by phone, e-mail or notice code stays
    out of addresses, history and access logs, and every search is logged."""
    source = request.form if request.method == "POST" else request.args
    filters = parse_filters(source, _languages())
    held = filters.q if held_search() else ""
    if held:  # another site's link: shown in the box, run only when the button is pressed
        filters.q = ""
    now = utcnow()
    page = queue_page(filters, staff_id=current_user.id, now=now, day_end=_day_end(now),
                      topic_keys=_topic_keys(filters.q),
                      limit=int(current_app.config["TICKET_QUEUE_PAGE_SIZE"]),
                      within=access.visible_incident_ids(current_user))
    problems = [str(FILTER_LABELS[name]) for name in filters.problems]
    languages, active_staff = tuple(_languages()), tuple(agents())
    html = render_template(
        "tickets/queue.html", page=page, filters=filters, now=now, problems=problems, held=held,
        statuses=TICKET_STATUSES, channels=TICKET_CHANNELS, languages=languages,
        language_names=LANGUAGE_NAMES, sla_labels=SLA_LABELS, agents=active_staff,
        filter_key=(filters.status, filters.assignee, filters.sla, filters.channel,
                    filters.language, active_staff, languages),
    )
    if filters.q:
        # Never what was typed: how many tickets it found, as for the people look-up.
        # After rendering, so the commit does not expire what the page reads.
        # With the people the search found, as the people search logs them: each look-up
        # is on the person's timeline.
        details = {"matches": len(page.rows), "in": "tickets"}
        if page.person_ids:
            details["person_ids"] = list(page.person_ids)
        only = page.person_ids[0] if len(page.person_ids) == 1 else None
        audit.record("person.searched", actor_type="staff", actor_id=current_user.id,
                     person_id=only, details=details)
        db.session.commit()
    return html, 400 if problems else 200


def _composer(ticket: Ticket, form: ReplyForm | None, messages: list):
    """The reply form, filled with the chosen answer when "Use" was pressed.

    ``messages`` is the ticket's thread as shown: the newest customer message the agent
    has seen is taken from it (a ``max(id)`` query of its own made PostgreSQL walk the
    messages' primary key backwards, 0.4 s at 3,000,000 messages).
    """
    problem = None
    if form is None:
        form = ReplyForm(formdata=None)
        form.seen_message_id.data = str(last_customer_message_id(messages))
        form.status.data = "pending_customer"
        chosen = request.args.get("use", "")
        if chosen.isdigit():
            problem = _fill(form, ticket, int(chosen))
    form.status.choices = _status_choices(STAFF_REPLY_STATUSES)
    return form, problem


def _fill(form: ReplyForm, ticket: Ticket, version_id: int) -> str | None:
    """Fill the reply box with an approved answer; what went wrong, if it could not."""
    version = render.approved_version(version_id, ticket)
    if version is None:
        return _("That answer is not approved any more. Choose another one.")
    try:
        form.body.data = render.fill_for_ticket(version, ticket)
    except render.RenderError:
        return _("That answer could not be filled in. Tell a manager, and choose another "
                 "answer or write your own reply.")
    form.answer_version_id.data = str(version.id)
    return None


def _reveal_form(field_labels: dict[str, str]) -> RevealForm:
    form = RevealForm(formdata=None)
    form.field.choices = choices([(name, field_labels[name]) for name in REVEALABLE])
    form.reason.choices = choices([("", _("Choose a reason"))] + [
        (name, i18n.resolved(REASON_LABELS[name])) for name in REVEAL_REASONS])
    return form


def _assign_form(active_staff, assignee_id: int | None) -> AssignForm:
    form = AssignForm(formdata=None)
    form.assignee.choices = choices([("", _("Nobody"))] + [
        (str(staff_id), name) for staff_id, name in active_staff])
    form.assignee.data = str(assignee_id or "")
    return form


def _status_form(status: str) -> StatusForm:
    form = StatusForm(formdata=None)
    form.status.choices = _status_choices(TICKET_STATUSES)
    form.status.data = status
    return form


def _show(ticket: Ticket, *, reply_form: ReplyForm | None = None, revealed=None,
          stale=None, status: int = 200, others: list[str] | None = None,
          aq: str | None = None, problem: str | None = None):
    if not spend_page_budget():  # every view of a ticket page counts, however reached
        abort(429)
    context = person_context(ticket)
    if context.incident is not None:
        # One incident's ticket: its times in the incident's zone, as on the incident's
        # pages and the customer's (unless the staff member chose a zone).
        i18n.use_page_zone(context.incident.time_zone)
    messages = thread(ticket.id)
    form, fill_problem = _composer(ticket, reply_form, messages)
    problem = problem or fill_problem
    aq = (request.args.get("aq", "") if aq is None else aq)[:100]
    answers = answer_choices(ticket.language, aq, ticket.incident_id)
    field_labels = {name: i18n.resolved(label) for name, label in FIELD_LABELS.items()}
    # Written from cached parts on most views: built only when a part is rendered.
    reveal_form = LazyForm(RevealForm, lambda: _reveal_form(field_labels))
    status_form = LazyForm(StatusForm, lambda: _status_form(ticket.status))
    active_staff = tuple(agents())
    assign_form = LazyForm(AssignForm, lambda: _assign_form(active_staff, ticket.assignee_id))
    chosen = form.answer_version_id.data
    chosen_answer = int(chosen) if chosen and str(chosen).isdigit() else None
    return render_template(
        "tickets/show.html", ticket=ticket, person=context.person, incident=context.incident,
        categories=[category_name(key) for key in context.categories],
        notifications=context.notifications, messages=messages,
        notification_states=notification_status_names() if context.notifications else {},
        answer_language=i18n.language_in_text(ticket.language),
        names=staff_names(messages, ticket.assignee_id, known=dict(active_staff)),
        masked=masked(context.person) if context.person else {},
        revealed=revealed or {}, field_labels=field_labels, reason_labels=REASON_LABELS,
        reply_form=form, compose_problem=problem, answers=answers, aq=aq,
        chosen_answer=chosen_answer, answers_key=(tuple(answers), chosen_answer),
        note_form=LazyForm(NoteForm, lambda: NoteForm(formdata=None)),
        reveal_form=reveal_form, status_form=status_form,
        assign_form=assign_form, assign_key=(ticket.assignee_id, active_staff),
        others=presence.others(ticket.id, current_user.id) if others is None else others,
        stale=stale or [],
        presence_every=max(5, presence.window() // 2),
        due=sla.shown_due(ticket), now=utcnow(), language_names=LANGUAGE_NAMES,
        call_labels=CALL_LABELS,
    ), status


def _arrive(ticket: Ticket) -> list[str]:
    """Mark the staff member present; an arrival (not a reload) is logged as viewed.
    Answers the names of the other staff present."""
    arrived, others = presence.visit(ticket.id, current_user.id)
    if arrived:
        audit.record("ticket.viewed", incident_id=ticket.incident_id,
                     person_id=ticket.person_id, ticket_id=ticket.id)
    return others


@bp.get("/<int:ticket_id>")
@read_pages.read_page
@staff_required(access.TICKET_ROLE)
def show(ticket_id: int):
    """One ticket: the person's context, the thread, the composer."""
    if not spend_page_budget():
        abort(429)
    ticket = ticket_or_404(ticket_id, page=True)
    others = _arrive(ticket)
    # Rendered before the commit, which would expire the ticket and the signed-in
    # staff member and have the page read both again; a failed commit still fails
    # the request, so no page shows a view that was not logged.
    response = _show(ticket, others=others)
    db.session.commit()
    return response


@bp.post("/<int:ticket_id>/presence")
@staff_required(access.TICKET_ROLE)
def ping(ticket_id: int):
    """Keep the page's presence alive (the page's script calls this); who else is here."""
    ticket = ticket_or_404(ticket_id)
    others = _arrive(ticket)
    db.session.commit()
    response = jsonify(others=others, interval=max(5, presence.window() // 2))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:ticket_id>/reply")
@staff_required(access.TICKET_ROLE)
def reply_to(ticket_id: int):
    """Send a reply; a customer message newer than the page asks for confirmation first."""
    ticket = ticket_or_404(ticket_id, page=True)
    form = ReplyForm()
    form.status.choices = _status_choices(STAFF_REPLY_STATUSES)
    if ticket.status == "closed":
        flash(_("This ticket is closed. Reopen it before replying."), "error")
        return _show(ticket, reply_form=form, status=409)
    if not form.validate_on_submit():
        return _show(ticket, reply_form=form, status=400)
    answer_id = form.answer_version_id.data
    seen = form.seen_message_id.data
    try:
        message = reply(
            ticket, current_user.id, form.body.data,
            seen_message_id=int(seen) if seen and seen.isdigit() else 0,
            answer_version_id=int(answer_id) if answer_id and answer_id.isdigit() else None,
            status=form.status.data, confirmed=bool(form.confirm_stale.data))
    except StaleReply as stale:
        db.session.rollback()
        form.seen_message_id.data = str(stale.messages[-1].id)
        form.confirm_stale.data = False
        return _show(ticket, reply_form=form, stale=stale.messages, status=409)
    except AnswerNotUsable:
        db.session.rollback()
        form.answer_version_id.data = ""
        flash(_("That answer is no longer approved; your text was kept. Send it as your own "
                "reply, or choose another answer."), "error")
        return _show(ticket, reply_form=form, status=409)
    db.session.commit()
    if ticket.person_id is not None:
        enqueue(notify_reply, ticket.id, job_id=f"reply-notice-{message.id}")
    flash(_("Reply sent. The customer is told by their preferred channel."), "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/compose")
@staff_required(access.TICKET_ROLE)
def compose(ticket_id: int):
    """The answer search and "Use", posted with the reply box (the buttons belong to the
    reply form), so a search keeps what the agent typed and "Use" replaces it only when
    pressed. Sends nothing and changes nothing: the page again, with the draft."""
    ticket = ticket_or_404(ticket_id, page=True)
    form = ReplyForm()
    problem = None
    chosen = request.form.get("use", "")
    if request.form.get("compose") == "use" and chosen.isdigit():
        problem = _fill(form, ticket, int(chosen))
    # A search: the text stays as typed (and, if it came from an answer, still counts as it).
    return _show(ticket, reply_form=form, aq=request.form.get("aq", ""), problem=problem)


@bp.post("/<int:ticket_id>/note")
@staff_required(access.TICKET_ROLE)
def note(ticket_id: int):
    """Add an internal note."""
    ticket = ticket_or_404(ticket_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(form.body.errors[0] if form.body.errors else _("Your form expired. Please try "
                                                              "again."), "error")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    add_note(ticket, current_user.id, form.body.data)
    db.session.commit()
    flash(_("Note added."), "success")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/status")
@staff_required(access.TICKET_ROLE)
def change_status(ticket_id: int):
    """Change the status without a reply."""
    ticket = ticket_or_404(ticket_id)
    form = StatusForm()
    form.status.choices = choices([(value, value) for value in TICKET_STATUSES])
    if not form.validate_on_submit():
        flash(_("Choose a status from the list."), "error")
    elif set_status(ticket, form.status.data):
        db.session.commit()
        flash(_("Status changed to %(status)s.", status=STATUS_LABELS[form.status.data]),
              "success")
    else:  # another agent may have changed it first: say so rather than nothing
        flash(_("The status is already %(status)s; nothing changed.",
                status=STATUS_LABELS[form.status.data]), "info")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/take")
@staff_required(access.TICKET_ROLE)
def take(ticket_id: int):
    """Assign the ticket to me."""
    ticket = ticket_or_404(ticket_id)
    if TakeForm().validate_on_submit():
        if assign(ticket, current_user.id):
            db.session.commit()
            flash(_("Ticket %(number)d is now yours.", number=ticket.id), "success")
        else:
            flash(_("Ticket %(number)d is already yours.", number=ticket.id), "info")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/assign")
@staff_required(access.TICKET_ROLE)
def assign_to(ticket_id: int):
    """Assign the ticket to another staff member (or to nobody)."""
    ticket = ticket_or_404(ticket_id)
    form = AssignForm()
    staff = agents(fresh=True)
    form.assignee.choices = choices([("", "")] + [(str(key), name) for key, name in staff])
    if form.validate_on_submit():
        target = int(form.assignee.data) if form.assignee.data else None
        if assign(ticket, target):
            db.session.commit()
            flash(_("Assignment saved."), "success")
        elif target is None:
            flash(_("The ticket is already assigned to nobody; nothing changed."), "info")
        else:
            flash(_("The ticket is already assigned to %(name)s; nothing changed.",
                    name=dict(staff)[target]), "info")
    else:
        flash(_("Choose a staff member from the list."), "error")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/reveal")
@staff_required(access.TICKET_ROLE)
@lookup_limit
def reveal(ticket_id: int):
    """Show one personal field for this page view, with the reason logged."""
    ticket = ticket_or_404(ticket_id, page=True)
    context = person_context(ticket)
    if context.person is None:
        abort(404)
    form = RevealForm()
    form.field.choices = choices([(name, name) for name in REVEALABLE])
    form.reason.choices = choices([(name, name) for name in REVEAL_REASONS])
    if not form.validate_on_submit():
        flash(_("Choose the field and the reason for revealing it."), "error")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    value = reveal_field(context.person, form.field.data, form.reason.data, ticket_id=ticket.id)
    db.session.commit()
    return _show(ticket, revealed={form.field.data: value})


# ---- Managers: SLA targets per incident --------------------------------------------


@bp.get("/sla")
@staff_required("manager")
def sla_index():
    """Every incident's SLA (its own, or the settings' defaults)."""
    return render_template("tickets/sla_index.html", rows=sla.overview(),
                           defaults=sla.default_targets())


@bp.route("/sla/<reference>", methods=["GET", "POST"])
@staff_required("manager")
def sla_edit(reference: str):
    """Set an incident's SLA targets and business hours."""
    from datetime import time as clock

    from helpdesk.tickets.forms import SlaForm
    from portal.incidents.operations import find_incident

    incident = find_incident(reference)
    if incident is None:
        abort(404)
    row = sla.sla_row(incident.id)
    form = SlaForm()
    if not form.is_submitted() and row is not None:
        form.first_response_hours.data = row.first_response_hours
        form.resolution_hours.data = row.resolution_hours
        form.business_days.data = (row.business_days or "").split(",") if row.business_days \
            else []
        form.day_start.data = sla.parse_clock(row.day_start, clock(9))
        form.day_end.data = sla.parse_clock(row.day_end, clock(17))
    elif not form.is_submitted():
        form.day_start.data, form.day_end.data = clock(9), clock(17)
    if form.validate_on_submit():
        changes = sla.save_targets(incident.id, form.values())
        db.session.commit()
        flash(_("SLA saved. New tickets of %(reference)s use it.", reference=incident.reference)
              if changes else _("Nothing changed."), "success" if changes else "info")
        return redirect(url_for("tickets.sla_index"))
    return render_template("tickets/sla_edit.html", form=form, incident=incident,
                           defaults=sla.default_targets()), 400 if form.errors else 200
