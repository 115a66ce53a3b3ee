"""Forms of the staff area: a new account, a role, and the one-button actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

ROLE_LABELS = {"agent": _l("Agent"), "manager": _l("Manager"), "admin": _l("Administrator")}


def role_choices() -> list[tuple[str, str]]:
    return [(role, str(label)) for role, label in ROLE_LABELS.items()]


class NewStaffForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[
        DataRequired(_l("Enter the person's name.")), Length(max=200)])
    email = EmailField(_l("Email address"), validators=[
        DataRequired(_l("Enter a valid email address.")), Length(max=254)])
    role = SelectField(_l("Role"), choices=role_choices,
                       validators=[DataRequired(_l("Choose a role."))])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices,
                       validators=[DataRequired(_l("Choose a role."))])


class ConfirmForm(FlaskForm):
    """Only the CSRF token (deactivate, reactivate, unlock, reset, new link)."""


class IncidentsForm(FlaskForm):
    """The incidents an agent works (none ticked: every incident)."""

    incidents = SelectMultipleField(_l("Incidents this agent works"), choices=[], coerce=int,
                                    widget=ListWidget(prefix_label=False),
                                    option_widget=CheckboxInput(), validate_choice=False)
