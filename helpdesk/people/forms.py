"""Forms of the people area: log a call, open a ticket, the unlock and resend buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from helpdesk.incidents.forms import choices
from portal.customer.forms import TICKET_TOPICS
from portal.tickets.calls import MAX_MINUTES, SUMMARY_MAX

DIRECTIONS = [("inbound", _l("The customer called us")), ("outbound", _l("We called the customer"))]
OUTCOMES = [
    ("answered", _l("Answered: the question was dealt with")),
    ("callback_promised", _l("We promised to call back")),
    ("escalated", _l("Passed on to a manager or specialist")),
    ("no_answer", _l("No answer")),
    ("voicemail", _l("Left a voicemail")),
]
CHANNELS = [("phone", _l("By phone")), ("email", _l("By email"))]


class CallForm(FlaskForm):
    direction = RadioField(_l("Direction"), choices=choices(DIRECTIONS), validators=[
        InputRequired(message=_l("Choose whether the customer called us or we called them."))])
    minutes = IntegerField(_l("Length in minutes"), validators=[
        InputRequired(message=_l("Enter the call's length in minutes.")),
        NumberRange(min=0, max=MAX_MINUTES)])
    outcome = SelectField(_l("Outcome"), choices=choices(OUTCOMES))
    topic = SelectField(_l("Topic (for a new ticket)"), choices=choices(TICKET_TOPICS))
    summary = TextAreaField(_l("Summary of the call"), validators=[
        InputRequired(message=_l("Summarise the call in a few words.")),
        Length(max=SUMMARY_MAX)])


class OpenTicketForm(FlaskForm):
    channel = SelectField(_l("How did the customer reach us?"), choices=choices(CHANNELS))
    topic = SelectField(_l("Topic"), choices=choices(TICKET_TOPICS))
    note = TextAreaField(_l("What the customer needs (internal note)"), validators=[
        InputRequired(message=_l("Say in a few words what the customer needs.")),
        Length(max=SUMMARY_MAX)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token (unlock and resend buttons)."""
