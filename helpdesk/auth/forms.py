"""Staff sign-in forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from portal.core.i18n import is_time_zone


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
        if field.data and not is_time_zone(field.data):
            raise ValidationError(_l("Choose a time zone from the list."))
