"""Forms of the tickets area: reply, note, status, assignment and reveal."""

from __future__ import annotations

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.core import UnboundField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput, Select, TextArea
from wtforms.widgets.core import clean_key

from helpdesk.incidents.forms import MultiCheckboxField, choices

REPLY_MAX = 8000


def quick_params(**kwargs) -> str:
    """What WTForms' ``html_params`` writes, without a ``Markup.format`` per attribute."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = clean_key(key)
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return " ".join(params)


class QuickTextArea(TextArea):
    """WTForms' ``TextArea`` with the same markup, attributes written by ``quick_params``."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        # Every value escaped by quick_params and here, as WTForms escapes them.
        return Markup(f"<textarea {quick_params(name=field.name, **kwargs)}>\r\n"  # noqa: S704
                      f"{escape(field._value())}</textarea>")


class QuickSelect(Select):
    """WTForms' ``Select`` widget with the same markup, each plain option written directly.

    WTForms builds the select and every option through ``html_params`` and
    ``Markup.format`` (and looks up ``render_option``'s signature with ``inspect`` on
    every render); the ticket page's selects (the agents, statuses, fields and reasons)
    spent a fifth of its CPU there.
    tests/tickets/test_ticket_forms_markup.py checks both widgets write the same HTML.
    """

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        # Both values escaped here, as WTForms' html_params and render_option escape them.
        return Markup(f'<option {selected}value="{escape(value)}">'  # noqa: S704
                      f"{escape(choice.label or choice.value)}</option>")

    @classmethod
    def _dispatch_render_option(cls):
        return cls.render_option

    def __call__(self, field, **kwargs):
        if self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {quick_params(name=field.name, **kwargs)}>"]
        html.extend(self.render_option(choice) for choice in field._iter_choices_normalized())
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704 - every part escaped as WTForms does


class TicketForm(FlaskForm):
    """The ticket page's forms: WTForms' own messages from a catalog parsed once per
    language (Flask-WTF parses it again on every request), and ``hidden_tag`` writing
    each plain hidden input directly (the same markup; WTForms formats every attribute
    through ``Markup.format``: a tenth of the ticket page's CPU went to its three
    ``hidden_tag`` calls)."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_translations()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Whether the form has no hidden field of its own, only Flask-WTF's CSRF token
        # (``LazyForm``): its fields are class attributes now, as WTForms reads them.
        cls.only_csrf_hidden = not any(
            isinstance(value, UnboundField) and issubclass(value.field_class, HiddenField)
            for value in (getattr(cls, name) for name in dir(cls) if not name.startswith("_")))

    def hidden_tag(self, *fields):
        if fields:
            return super().hidden_tag(*fields)
        inputs = []
        for field in self:
            if not isinstance(field.widget, HiddenInput):
                continue
            if (field.render_kw or getattr(field.flags, "disabled", False)
                    or getattr(field, "_datalist", None) is not None):
                inputs.append(str(field))
            else:
                inputs.append(f'<input id="{escape(field.id)}" name="{escape(field.name)}" '
                              f'type="hidden" value="{escape(field._value())}">')
        # Every value escaped above, as WTForms' html_params escapes them.
        return Markup("\n".join(inputs))  # noqa: S704


class LazyForm:
    """A ticket-page form built when the page first reads one of its fields.

    The page writes most forms' fields from cached parts (``{% cached %}``), so on most
    views a form is only asked for its hidden inputs, and building it (its fields bound,
    labels and validators set, data processed: about 150 Python calls a form) buys
    nothing. For a form whose only hidden input is the CSRF token, ``hidden_tag`` writes
    that input without building it: what ``TicketForm.hidden_tag`` writes.
    ``build`` makes the form (with its choices and data) when it is needed.
    """

    def __init__(self, form_class: type[TicketForm], build):
        self._form_class = form_class
        self._build = build
        self._form = None

    def _get(self) -> TicketForm:
        if self._form is None:
            self._form = self._build()
        return self._form

    def __getattr__(self, name):
        return getattr(self._get(), name)

    def hidden_tag(self, *fields):
        config = current_app.config
        if (fields or self._form is not None or not self._form_class.only_csrf_hidden
                or not config.get("WTF_CSRF_ENABLED", True)
                or config.get("WTF_CSRF_FIELD_NAME", "csrf_token") != "csrf_token"):
            return self._get().hidden_tag(*fields)
        return Markup(  # noqa: S704 - the token escaped, as in TicketForm.hidden_tag
            f'<input id="csrf_token" name="csrf_token" type="hidden" '
            f'value="{escape(generate_csrf())}">')


def wtforms_translations():
    """WTForms' catalog for the page's language, kept in ``app.extensions``."""
    locale = get_locale()
    cache = current_app.extensions.setdefault("portal_wtforms_translations", {})
    key = str(locale)
    if key not in cache:
        cache[key] = support.Translations.load(messages_path(), [locale], domain="wtforms")
    return cache[key]


class ReplyForm(TicketForm):
    body = TextAreaField(_l("Reply to the customer"), widget=QuickTextArea(), validators=[
        DataRequired(message=_l("Write a reply.")),
        Length(max=REPLY_MAX, message=_l("A reply can have at most %(max)d characters."))])
    answer_version_id = HiddenField()
    seen_message_id = HiddenField()
    status = SelectField(_l("Then set the status to"), validate_choice=True, widget=QuickSelect())
    confirm_stale = BooleanField(_l("I have read the new message and still want to send "
                                    "this reply"))


# The ticket page shows several forms: each field's id is its own (a shared "body" sent the
# note's label, and what was typed after clicking it, to the reply to the customer).
class NoteForm(TicketForm):
    body = TextAreaField(_l("New internal note"), id="note-body", widget=QuickTextArea(),
                         validators=[
        DataRequired(message=_l("Write a note.")),
        Length(max=REPLY_MAX, message=_l("A note can have at most %(max)d characters."))])


class StatusForm(TicketForm):
    status = SelectField(_l("Status"), id="status-change", widget=QuickSelect())


class AssignForm(TicketForm):
    assignee = SelectField(_l("Assign to"), coerce=str, widget=QuickSelect())


class TakeForm(TicketForm):
    """Assign the ticket to me (CSRF only)."""

    ticket_id = IntegerField(validators=[Optional()])


class RevealForm(TicketForm):
    field = SelectField(_l("Field"), widget=QuickSelect())
    reason = SelectField(_l("Reason"), validators=[DataRequired(message=_l("Choose a reason."))],
                         widget=QuickSelect())


WEEKDAYS = choices([("1", _l("Monday")), ("2", _l("Tuesday")), ("3", _l("Wednesday")),
                    ("4", _l("Thursday")), ("5", _l("Friday")), ("6", _l("Saturday")),
                    ("7", _l("Sunday"))])


class SlaForm(FlaskForm):
    """An incident's SLA targets and business hours."""

    first_response_hours = IntegerField(
        _l("First response within (hours)"),
        validators=[Optional(), NumberRange(min=1, max=2000,
                                            message=_l("Enter between 1 and 2000 hours."))])
    resolution_hours = IntegerField(
        _l("Resolution within (hours)"),
        validators=[Optional(), NumberRange(min=1, max=5000,
                                            message=_l("Enter between 1 and 5000 hours."))])
    business_days = MultiCheckboxField(_l("Business days"), choices=WEEKDAYS)
    day_start = TimeField(_l("Working day starts"), validators=[Optional()])
    day_end = TimeField(_l("Working day ends"), validators=[Optional()])

    def validate_day_end(self, field):
        if self.business_days.data:
            if self.day_start.data is None or field.data is None:
                raise ValidationError(_l("Enter when the working day starts and ends."))
            if field.data <= self.day_start.data:
                raise ValidationError(_l("The working day must end after it starts."))

    def values(self) -> dict:
        days = ",".join(sorted(self.business_days.data or []))
        return {
            "first_response_hours": self.first_response_hours.data,
            "resolution_hours": self.resolution_hours.data,
            "business_days": days or None,
            "day_start": self.day_start.data.strftime("%H:%M") if days else None,
            "day_end": self.day_end.data.strftime("%H:%M") if days else None,
        }
