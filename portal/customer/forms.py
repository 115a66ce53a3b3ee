"""Customer forms: code entry, verification, "I did not get a letter", tickets, preferences."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.customer.dates import MemorableDateField
from portal.security.crypto import is_valid_code, normalise_token

LANGUAGE_CHOICES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
]
CHANNEL_CHOICES = [
    ("email", _l("Email")),
    ("sms", _l("Text message (SMS)")),
    ("letter", _l("Letter by post")),
]
TICKET_TOPICS = [
    ("notice", _l("A question about my notice")),
    ("data", _l("Which of my information was involved")),
    ("monitoring", _l("Credit monitoring and my activation code")),
    ("fraud", _l("I think my information has been misused")),
    ("contact_details", _l("Updating my contact details")),
    ("other", _l("Something else")),
]
TICKET_TOPIC_KEYS = {key for key, _label in TICKET_TOPICS}
MESSAGE_MIN = 5
MESSAGE_MAX = 4000


DATE_OF_BIRTH_MESSAGES = {
    "required": _l("Enter your date of birth."),
    "day": _l("Date of birth must include a day."),
    "month": _l("Date of birth must include a month."),
    "year": _l("Date of birth must include a year."),
    "day month": _l("Date of birth must include a day and a month."),
    "day year": _l("Date of birth must include a day and a year."),
    "month year": _l("Date of birth must include a month and a year."),
}


def _past_date(form, field):
    if field.data and field.data >= date.today():
        raise ValidationError(_l("Date of birth must be in the past."))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Notice code"),
        validators=[DataRequired(message=_l("Enter the notice code from your letter or message."))],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                   "maxlength": 20},
    )
    submit = SubmitField(_l("Continue"))

    def validate_code(self, field):
        if not is_valid_code(field.data or ""):
            raise ValidationError(
                _l("Enter the 12-character notice code, for example 7K2D-QX9M-4TRB.")
            )


def date_of_birth_field() -> MemorableDateField:
    """The date-of-birth question, the same wherever a customer proves who they are."""
    return MemorableDateField(
        _l("Date of birth"),
        validators=[_past_date],
        messages=DATE_OF_BIRTH_MESSAGES,
        autocomplete="bday",
    )


class VerifyForm(FlaskForm):
    date_of_birth = date_of_birth_field()
    postcode = StringField(
        _l("Postcode or ZIP code"),
        validators=[Length(max=20, message=_l("Postcode must be 20 characters or fewer."))],
        render_kw={"autocomplete": "postal-code"},
    )
    policy_last4 = StringField(
        _l("Last four characters of your policy number"),
        validators=[Length(max=4, message=_l("Enter only the last four characters."))],
        render_kw={"autocomplete": "off", "maxlength": 4},
    )
    submit = SubmitField(_l("Continue"))

    def __init__(self, *args, questions: tuple[str, ...] = ("postcode",), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions

    def validate_postcode(self, field):
        if "postcode" in self.questions and not normalise_token(field.data or ""):
            raise ValidationError(_l("Enter your postcode or ZIP code."))

    def validate_policy_last4(self, field):
        if "policy_last4" in self.questions and len(normalise_token(field.data or "")) != 4:
            raise ValidationError(
                _l("Enter the last four letters or digits of your policy number.")
            )


class NoLetterForm(FlaskForm):
    first_name = StringField(
        _l("First name"),
        validators=[DataRequired(message=_l("Enter your first name.")), Length(max=100)],
        render_kw={"autocomplete": "given-name"},
    )
    last_name = StringField(
        _l("Last name"),
        validators=[DataRequired(message=_l("Enter your last name.")), Length(max=100)],
        render_kw={"autocomplete": "family-name"},
    )
    date_of_birth = date_of_birth_field()
    postcode = StringField(
        _l("Postcode or ZIP code"),
        validators=[DataRequired(message=_l("Enter your postcode or ZIP code.")),
                    Length(max=20)],
        render_kw={"autocomplete": "postal-code"},
    )
    policy_number = StringField(
        _l("Policy number (optional)"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("Send my code"))


class TicketForm(FlaskForm):
    topic = SelectField(
        _l("Topic"),
        choices=[SelectChoice("", _l("Choose a topic"))]
        + [SelectChoice(key, label) for key, label in TICKET_TOPICS],
        validators=[DataRequired(message=_l("Choose a topic."))],
        validate_choice=False,  # validate_topic says what is wrong in our words
    )
    message = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(message=_l("Enter your message.")),
            Length(min=MESSAGE_MIN, max=MESSAGE_MAX,
                   message=_l("Your message must be between %(min)d and %(max)d characters.",
                              min=MESSAGE_MIN, max=MESSAGE_MAX)),
        ],
        render_kw={"maxlength": MESSAGE_MAX, "rows": 8},
    )
    submit = SubmitField(_l("Send"))

    def validate_topic(self, field):
        if field.data not in TICKET_TOPIC_KEYS:
            raise ValidationError(_l("Choose a topic from the list."))


class ReplyForm(FlaskForm):
    message = TextAreaField(
        _l("Your reply"),
        validators=[
            DataRequired(message=_l("Enter your reply.")),
            Length(min=1, max=MESSAGE_MAX,
                   message=_l("Your reply must be at most %(max)d characters.", max=MESSAGE_MAX)),
        ],
        render_kw={"maxlength": MESSAGE_MAX, "rows": 6},
    )
    submit = SubmitField(_l("Send reply"))


class PreferencesForm(FlaskForm):
    language = SelectField(
        _l("Preferred language"),
        choices=[SelectChoice(key, label, render_kw={"lang": key})
                 for key, label in LANGUAGE_CHOICES],
    )
    preferred_channel = SelectField(
        _l("How should we contact you?"),
        choices=[SelectChoice(key, label) for key, label in CHANNEL_CHOICES],
    )
    sms_opt_out = BooleanField(_l("Do not send me text messages"))
    submit = SubmitField(_l("Save preferences"))


class ConfirmForm(FlaskForm):
    """A form with only a CSRF token, for POST buttons."""

    submit = SubmitField(_l("Continue"))
