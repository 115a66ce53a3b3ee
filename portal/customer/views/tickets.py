"""Customer tickets: list, open, read the thread (never internal notes), reply, close.

Every lookup is scoped to the verified person: another person's ticket id is a 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.customer import bp
from portal.customer.forms import TICKET_TOPICS, ConfirmForm, ReplyForm, TicketForm
from portal.customer.pages import page
from portal.customer.session import current_person, customer_required
from portal.extensions import db
from portal.models.person import Person
from portal.models.ticket import Ticket
from portal.tickets.operations import (
    DailyLimitReached,
    add_customer_reply,
    close_by_customer,
    open_web_ticket,
    own_ticket,
    person_tickets,
    visible_messages,
)


def topic_label(key: str) -> str:
    """The translated name of a ticket topic."""
    return str(dict(TICKET_TOPICS).get(key, key))


@bp.app_template_filter("ticket_topic")
def _ticket_topic_filter(key: str) -> str:
    return topic_label(key)


def reply_limit_message(refused: DailyLimitReached) -> str:
    """Why a reply was refused, in the customer's language."""
    if refused.scope == "ticket_replies":
        return ngettext(
            "You have already sent %(num)d reply to this question in the last 24 hours, the "
            "most we accept in one day. Your message is still in the box below: please send "
            "it tomorrow. If it is urgent, call the helpline shown on your notice.",
            "You have already sent %(num)d replies to this question in the last 24 hours, the "
            "most we accept in one day. Your message is still in the box below: please send "
            "it tomorrow. If it is urgent, call the helpline shown on your notice.",
            refused.limit)
    return ngettext(
        "You have already sent %(num)d reply in the last 24 hours, the most we accept in one "
        "day. Your message is still in the box below: please send it tomorrow. If it is urgent, "
        "call the helpline shown on your notice.",
        "You have already sent %(num)d replies in the last 24 hours, the most we accept in one "
        "day. Your message is still in the box below: please send it tomorrow. If it is urgent, "
        "call the helpline shown on your notice.",
        refused.limit)


def _own_ticket(person: Person, ticket_id: int) -> Ticket:
    ticket = own_ticket(person.id, ticket_id)
    if ticket is None:
        abort(404)
    return ticket


@bp.get("/tickets")
@customer_required
def tickets():
    """The person's tickets, newest first."""
    return page("customer/tickets.html", tickets=person_tickets(current_person().id))


@bp.route("/tickets/new", methods=["GET", "POST"])
@customer_required
def ticket_new():
    """Ask a question: a topic from the list and a message."""
    person = current_person()
    form = TicketForm()
    if form.validate_on_submit():
        try:
            ticket = open_web_ticket(person, form.topic.data, form.message.data)
        except DailyLimitReached as refused:
            db.session.commit()  # the refusal is logged
            message = _("You have already asked %(count)d questions in the last 24 hours, the "
                        "most we accept in one day. Please reply to one of your questions "
                        "instead, or ask again tomorrow.", count=refused.limit)
            return page("customer/ticket_new.html", 429, form=form, limit_message=message)
        db.session.commit()
        flash(_("Thank you. We have received your question and will reply here."), "success")
        return redirect(url_for("customer.ticket", ticket_id=ticket.id))
    return page("customer/ticket_new.html", 400 if form.errors else 200, form=form)


@bp.get("/tickets/<int:ticket_id>")
@customer_required
def ticket(ticket_id: int):
    """One ticket's thread, with the reply and close forms."""
    item = _own_ticket(current_person(), ticket_id)
    return page("customer/ticket.html", ticket=item, messages=visible_messages(item.id),
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
        # Closed meanwhile (in another tab, say): what was typed becomes a new question,
        # filled in, for the customer to check and send. Nothing typed is lost.
        if not (form.message.data or "").strip():
            flash(_("This question is closed. Please ask a new question."), "error")
            return redirect(url_for("customer.ticket", ticket_id=item.id))
        asked = TicketForm(formdata=None, topic=item.topic, message=form.message.data)
        return page("customer/ticket_new.html", 409, form=asked, closed_message=_(
            "This question was closed, so your message was not added to it. It is below as "
            "a new question: check it and press “Send”."))
    if form.validate_on_submit():
        try:
            add_customer_reply(item, person, form.message.data)
        except DailyLimitReached as refused:
            db.session.commit()  # the refusal is logged; the typed reply stays in the form
            return page("customer/ticket.html", 429, ticket=item,
                        messages=visible_messages(item.id), form=form,
                        close_form=ConfirmForm(), limit_message=reply_limit_message(refused))
        db.session.commit()
        flash(_("Your reply was sent."), "success")
        return redirect(url_for("customer.ticket", ticket_id=item.id))
    return page("customer/ticket.html", 400, ticket=item, messages=visible_messages(item.id),
                form=form, close_form=ConfirmForm())


@bp.post("/tickets/<int:ticket_id>/close")
@customer_required
def ticket_close(ticket_id: int):
    """Close a ticket the customer no longer needs."""
    person = current_person()
    item = _own_ticket(person, ticket_id)
    form = ConfirmForm()
    if form.validate_on_submit() and close_by_customer(item, person):
        db.session.commit()
        flash(_("Your question was closed. Thank you."), "success")
    return redirect(url_for("customer.ticket", ticket_id=item.id))
