"""Customer tickets: list, open, read the thread (never internal notes), reply, close.

Every lookup is scoped to the verified person: another person's ticket id is a 404.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.audit import log as audit
from portal.customer import bp
from portal.customer.forms import TICKET_TOPICS, ConfirmForm, ReplyForm, TicketForm
from portal.customer.session import current_person, customer_required
from portal.customer.views.notice import page
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.person import Person
from portal.models.ticket import Ticket, TicketMessage

OPEN_STATUSES = ("new", "open", "pending_customer", "resolved")


def topic_label(key: str) -> str:
    """The translated name of a ticket topic."""
    return str(dict(TICKET_TOPICS).get(key, key))


@bp.app_template_filter("ticket_topic")
def _ticket_topic_filter(key: str) -> str:
    return topic_label(key)


def _own_ticket(person: Person, ticket_id: int) -> Ticket:
    ticket = db.session.execute(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.person_id == person.id)
    ).scalar_one_or_none()
    if ticket is None:
        abort(404)
    return ticket


def _visible_messages(ticket: Ticket) -> list[TicketMessage]:
    return list(db.session.execute(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id, TicketMessage.internal.is_(False))
        .order_by(TicketMessage.id)
    ).scalars())


def tickets_per_day() -> int:
    return int(current_app.config["CUSTOMER_TICKETS_PER_DAY"])


def _opened_last_day(person: Person) -> int:
    """Web tickets this person opened in the last 24 hours."""
    return db.session.execute(
        select(func.count(Ticket.id)).where(
            Ticket.person_id == person.id,
            Ticket.channel == "web",
            Ticket.created_at >= utcnow() - timedelta(hours=24),
        )
    ).scalar_one()


def _sla_due(hours_key: str):
    hours = current_app.config[hours_key]
    return utcnow() + timedelta(hours=int(hours)) if hours else None


@bp.get("/tickets")
@customer_required
def tickets():
    """The person's tickets, newest first."""
    person = current_person()
    rows = list(db.session.execute(
        select(Ticket).where(Ticket.person_id == person.id).order_by(Ticket.created_at.desc())
    ).scalars())
    return page("customer/tickets.html", tickets=rows)


@bp.route("/tickets/new", methods=["GET", "POST"])
@customer_required
def ticket_new():
    """Ask a question: a topic from the list and a message."""
    person = current_person()
    form = TicketForm()
    if form.validate_on_submit():
        if _opened_last_day(person) >= tickets_per_day():
            audit.record("ticket.create_refused", incident_id=person.incident_id,
                         person_id=person.id,
                         details={"reason": "daily_limit", "limit": tickets_per_day()})
            db.session.commit()
            message = _("You have already asked %(count)d questions in the last 24 hours, the "
                        "most we accept in one day. Please reply to one of your questions "
                        "instead, or ask again tomorrow.", count=tickets_per_day())
            return page("customer/ticket_new.html", 429, form=form, limit_message=message)
        now = utcnow()
        ticket = Ticket(
            incident_id=person.incident_id,
            person_id=person.id,
            channel="web",
            status="new",
            topic=form.topic.data,
            language=person.language or "en",
            last_customer_message_at=now,
            first_response_due=_sla_due("TICKET_FIRST_RESPONSE_HOURS"),
            resolution_due=_sla_due("TICKET_RESOLUTION_HOURS"),
        )
        db.session.add(ticket)
        db.session.flush()
        db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                     author_id=person.id, channel="web",
                                     body=form.message.data.strip(), internal=False))
        audit.record("ticket.created", incident_id=person.incident_id, person_id=person.id,
                     ticket_id=ticket.id, details={"topic": ticket.topic, "channel": "web"})
        db.session.commit()
        flash(_("Thank you. We have received your question and will reply here."), "success")
        return redirect(url_for("customer.ticket", ticket_id=ticket.id))
    return page("customer/ticket_new.html", 400 if form.errors else 200, form=form)


@bp.get("/tickets/<int:ticket_id>")
@customer_required
def ticket(ticket_id: int):
    """One ticket's thread, with the reply and close forms."""
    person = current_person()
    item = _own_ticket(person, ticket_id)
    return page("customer/ticket.html", ticket=item, messages=_visible_messages(item),
                form=ReplyForm(), close_form=ConfirmForm())


@bp.route("/tickets/<int:ticket_id>/reply", methods=["GET", "POST"])
@customer_required
def ticket_reply(ticket_id: int):
    """Add the customer's reply; a closed ticket takes no more replies."""
    person = current_person()
    item = _own_ticket(person, ticket_id)
    if request.method == "GET":  # e.g. the language switcher on a page with errors
        return redirect(url_for("customer.ticket", ticket_id=item.id))
    form = ReplyForm()
    if item.status == "closed":
        flash(_("This question is closed. Please ask a new question."), "error")
        return redirect(url_for("customer.ticket", ticket_id=item.id))
    if form.validate_on_submit():
        now = utcnow()
        db.session.add(TicketMessage(ticket_id=item.id, author_type="customer",
                                     author_id=person.id, channel="web",
                                     body=form.message.data.strip(), internal=False))
        if item.paused_at is not None:
            item.paused_seconds = (item.paused_seconds or 0) + int(
                (now - item.paused_at).total_seconds())
            item.paused_at = None
        if item.status in ("pending_customer", "resolved"):
            item.status = "open"
            item.resolved_at = None
        item.last_customer_message_at = now
        audit.record("ticket.customer_replied", incident_id=person.incident_id,
                     person_id=person.id, ticket_id=item.id, details={"channel": "web"})
        db.session.commit()
        flash(_("Your reply was sent."), "success")
        return redirect(url_for("customer.ticket", ticket_id=item.id))
    return page("customer/ticket.html", 400, ticket=item, messages=_visible_messages(item),
                form=form, close_form=ConfirmForm())


@bp.post("/tickets/<int:ticket_id>/close")
@customer_required
def ticket_close(ticket_id: int):
    """Close a ticket the customer no longer needs."""
    person = current_person()
    item = _own_ticket(person, ticket_id)
    form = ConfirmForm()
    if form.validate_on_submit() and item.status != "closed":
        before = item.status
        item.status = "closed"
        item.closed_at = utcnow()
        audit.record("ticket.closed", incident_id=person.incident_id, person_id=person.id,
                     ticket_id=item.id, details={"from": before, "by": "customer"})
        db.session.commit()
        flash(_("Your question was closed. Thank you."), "success")
    return redirect(url_for("customer.ticket", ticket_id=item.id))
