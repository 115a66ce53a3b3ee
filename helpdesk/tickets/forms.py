"""Forms of the tickets area: reply, note, status, assignment and reveal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

REPLY_MAX = 8000


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply to the customer"), validators=[
        DataRequired(message=_l("Write a reply.")),
        Length(max=REPLY_MAX, message=_l("A reply can have at most %(max)d characters."))])
    answer_version_id = HiddenField()
    seen_message_id = HiddenField()
    status = SelectField(_l("Then set the status to"), validate_choice=True)
    confirm_stale = BooleanField(_l("I have read the new message and still want to send "
                                    "this reply"))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note"), validators=[
        DataRequired(message=_l("Write a note.")),
        Length(max=REPLY_MAX, message=_l("A note can have at most %(max)d characters."))])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"))


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assign to"), coerce=str)


class TakeForm(FlaskForm):
    """Assign the ticket to me (CSRF only)."""

    ticket_id = IntegerField(validators=[Optional()])


class RevealForm(FlaskForm):
    field = SelectField(_l("Field"))
    reason = SelectField(_l("Reason"), validators=[DataRequired(message=_l("Choose a reason."))])
