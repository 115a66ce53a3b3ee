"""Staff sign-in forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from portal.core.i18n import is_listed_time_zone


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(message=_l("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class SetupForm(FlaskForm):
    """A new staff member chooses their password through a set-up link."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Choose a password.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(message=_l("Type the password a second time.")),
                    EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class TotpForm(FlaskForm):
    code = StringField(
        _l("Six-digit code from your authenticator app"),
        validators=[
            DataRequired(message=_l("Enter the code from your authenticator app.")),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("The code is six digits.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token (sign-out and similar buttons)."""


class TimeZoneForm(FlaskForm):
    """The staff member's own time zone for every staff page."""

    time_zone = SelectField(_l("Show times in"), choices=[], validate_choice=False)

    def validate_time_zone(self, field):
        if field.data and not is_listed_time_zone(field.data):
            raise ValidationError(_l("Choose a time zone from the list."))
