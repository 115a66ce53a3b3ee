"""Forms of the answers area: a new answer, its settings, a language's text, review steps."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class SettingsForm(FlaskForm):
    category = SelectField(_l("Category"), validators=[DataRequired()])
    incident_id = SelectField(_l("Incident"), coerce=str, validators=[Optional()])
    public = BooleanField(_l("Publish on the portal's FAQ (public answer)"))


class TextForm(FlaskForm):
    title = StringField(_l("Title"), validators=[
        DataRequired(message=_l("Give the answer a title.")), Length(max=300)])
    body = TextAreaField(_l("Text"), validators=[
        DataRequired(message=_l("Write the answer's text.")), Length(max=10000)])


class NewAnswerForm(SettingsForm, TextForm):
    key = StringField(_l("Key"), validators=[
        DataRequired(message=_l("Give the answer a key.")), Length(max=80)])
    language = SelectField(_l("Language of this first text"), validators=[DataRequired()])


class SendBackForm(FlaskForm):
    note = TextAreaField(_l("What should change (optional)"), validators=[Length(max=1000)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token (submit, approve and retire buttons)."""
