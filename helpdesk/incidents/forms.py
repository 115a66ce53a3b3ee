"""Forms of the managers' incident pages.

Times are typed and shown in the page's zone (the staff member's own, else the
incident's, else ``PORTAL_TIME_ZONE``: ``portal.core.i18n.display_zone_name``)
and stored as UTC.
"""

from __future__ import annotations

from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    Form,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Email, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.i18n import display_zone_name, is_listed_time_zone, zone
from portal.incidents.brand import logo_problem, max_logo_bytes
from portal.incidents.operations import REFERENCE_PATTERN

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (rendered as a fieldset by the ``checkboxes`` macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ZonedDateTimeField(DateTimeLocalField):
    """A date and time typed in the page's zone, returned timezone-aware in UTC."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", [DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S"])
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and self.data.tzinfo is None:
            self.data = self.data.replace(tzinfo=zone(display_zone_name())).astimezone(UTC)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if not self.data:
            return ""
        return self.data.astimezone(zone(display_zone_name())).strftime(DATETIME_FORMAT)


def _when(label):
    return ZonedDateTimeField(
        label, validators=[Optional()],
        render_kw={"step": "60"},
    )


class IncidentForm(FlaskForm):
    reference = StringField(
        _l("Reference"),
        validators=[
            DataRequired(message=_l("Enter a reference.")),
            Regexp(REFERENCE_PATTERN.pattern, message=_l(
                "Use up to 40 letters, digits, dots, dashes or underscores.")),
        ],
    )
    title = StringField(_l("Title"), validators=[
        DataRequired(message=_l("Enter a title.")), Length(max=200)])
    insurer_name = StringField(_l("Insurer's name shown to customers"), validators=[
        DataRequired(message=_l("Enter the insurer's name as customers know it.")),
        Length(max=200)])
    status = SelectField(_l("Status"), choices=choices([
        ("draft", _l("Draft")), ("active", _l("Active")), ("closed", _l("Closed"))]))
    summary = TextAreaField(_l("Internal summary"), validators=[Optional(), Length(max=5000)])

    occurred_from = _when(_l("Breach started"))
    occurred_to = _when(_l("Breach ended"))
    discovered_at = _when(_l("Discovered"))
    determined_at = _when(_l("Determined to be a breach"))
    contained_at = _when(_l("Contained"))

    categories = MultiCheckboxField(_l("Data categories involved"), choices=[])
    jurisdictions = MultiCheckboxField(_l("Jurisdictions (rules that apply)"), choices=[])
    default_language = SelectField(_l("Default language"), choices=[])
    verification_method = SelectField(_l("How customers verify"), choices=choices([
        ("postcode", _l("Code, date of birth and postcode")),
        ("policy_last4", _l("Code, date of birth and last four of the policy number")),
    ]))

    contact_hotline = StringField(_l("Toll-free hotline"), validators=[Optional(), Length(max=40)])
    contact_hours = StringField(_l("Hotline hours"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(_l("Contact email"), validators=[
        Optional(), Email(message=_l("Enter a valid email address."), check_deliverability=False),
        Length(max=254)])
    contact_postal_address = TextAreaField(_l("Postal address"),
                                           validators=[Optional(), Length(max=1000)])
    dpo_contact = TextAreaField(_l("Data protection officer"),
                                validators=[Optional(), Length(max=1000)])

    monitoring_provider = StringField(_l("Monitoring provider"),
                                      validators=[Optional(), Length(max=200)])
    monitoring_enroll_url = URLField(_l("Enrolment address"), validators=[
        Optional(), URL(message=_l("Enter a full web address starting with https://.")),
        Length(max=500)])
    monitoring_enroll_by = DateField(_l("Enrol by"), validators=[Optional()])
    monitoring_description = TextAreaField(_l("Description of the offer"),
                                           validators=[Optional(), Length(max=2000)])
    time_zone = SelectField(_l("Time zone customers see"), choices=[], validate_choice=False)

    def validate_time_zone(self, field):
        if field.data and not is_listed_time_zone(field.data):
            raise ValidationError(_l("Choose a time zone from the list."))

    def validate_occurred_to(self, field):
        start = self.occurred_from.data
        if start and field.data and field.data < start:
            raise ValidationError(_l("The end of the breach cannot be before its start."))

    def validate_monitoring_enroll_url(self, field):
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError(_l("Enter a full web address starting with https://."))

    def values(self) -> dict:
        """The entered values, keyed by incident field."""
        names = [name for name in self._fields
                 if name != "csrf_token" and not name.startswith(TEXTS_PREFIX)]
        values = {name: self[name].data for name in names}
        values["contact_translations"] = {
            name.removeprefix(TEXTS_PREFIX): dict(self[name].data)
            for name in self._fields if name.startswith(TEXTS_PREFIX)}
        return values

    def fill_texts(self, translations: dict) -> None:
        """Show an incident's stored translations in the per-language fields."""
        for name in self._fields:
            if name.startswith(TEXTS_PREFIX):
                texts = translations.get(name.removeprefix(TEXTS_PREFIX)) or {}
                for field, value in texts.items():
                    if field in self[name].form._fields:
                        self[name].form[field].data = value


class ContactTextsForm(Form):
    """The contact block's texts in one language besides English (empty: English is shown)."""

    contact_hours = StringField(_l("Hotline hours"), validators=[Optional(), Length(max=200)])
    dpo_contact = TextAreaField(_l("Data protection officer"),
                                validators=[Optional(), Length(max=1000)])
    contact_postal_address = TextAreaField(_l("Postal address"),
                                           validators=[Optional(), Length(max=1000)])
    monitoring_description = TextAreaField(_l("Description of the offer"),
                                           validators=[Optional(), Length(max=2000)])


TEXTS_PREFIX = "texts_"


def incident_form(languages: dict[str, str], *args, **kwargs) -> IncidentForm:
    """An ``IncidentForm`` with one group of contact texts per language (code: name)."""
    fields = {f"{TEXTS_PREFIX}{code}": FormField(ContactTextsForm, label=name)
              for code, name in languages.items()}
    return type("IncidentLanguagesForm", (IncidentForm,), fields)(*args, **kwargs)


class LogoForm(FlaskForm):
    """The insurer's logo: PNG or JPEG, checked by its content, not its name."""

    logo = FileField(_l("Logo file"), validators=[
        FileRequired(message=_l("Choose a PNG or JPEG file."))])

    logo_data: bytes = b""

    def validate_logo(self, field):
        data = field.data.read(max_logo_bytes() + 1) if field.data else b""
        _type, problem = logo_problem(data)
        if problem == "too_large":
            raise ValidationError(_l("The file is larger than %(size)d KB. Choose a smaller "
                                     "image.", size=max_logo_bytes() // 1024))
        if problem == "empty":
            raise ValidationError(_l("The file is empty. Choose a PNG or JPEG file."))
        if problem == "not_image":
            raise ValidationError(_l("The file is not a PNG or JPEG image."))
        if problem == "unreadable":
            raise ValidationError(_l("The image cannot be read, or is larger than 2000 by "
                                     "2000 pixels. Save it again as PNG or JPEG."))
        self.logo_data = data


class FilingForm(FlaskForm):
    authority = StringField(_l("Authority"), validators=[
        DataRequired(message=_l("Enter the authority the filing went to.")), Length(max=200)])
    rule_id = SelectField(_l("Rule the filing answers"), choices=[])
    filed_at = ZonedDateTimeField(_l("Filed at"), validators=[
        DataRequired(message=_l("Enter when the filing was made, as a date and time."))])
    reference = StringField(_l("Authority's reference"), validators=[Optional(), Length(max=200)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class AdviceForm(FlaskForm):
    category = SelectField(_l("Category"), choices=[])
    language = SelectField(_l("Language"), choices=[])
    text = TextAreaField(
        _l("Advice for this incident"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Leave empty to remove this incident's advice for the category."),
    )


class NoticeForm(FlaskForm):
    what_happened = TextAreaField(_l("What Happened"), validators=[Length(max=20000)])
    what_we_are_doing = TextAreaField(_l("What We Are Doing"), validators=[Length(max=20000)])
    likely_consequences = TextAreaField(_l("Likely consequences"),
                                        validators=[Length(max=20000)])
    other_information = TextAreaField(_l("Other information"), validators=[Length(max=20000)])
    what_changed = TextAreaField(_l("What changed since the approved version"),
                                 validators=[Length(max=5000)])


class OverrideForm(FlaskForm):
    """One per missing element, with the element key as prefix."""

    reason = TextAreaField(_l("Reason for going ahead without this element"), validators=[
        DataRequired(message=_l("Give the reason for going ahead without this element.")),
        Length(max=1000)])


class PreviewPersonForm(FlaskForm):
    external_ref = StringField(_l("Affected person's reference"), validators=[
        DataRequired(message=_l("Enter the person's reference.")), Length(max=100)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token (approve buttons and the like)."""
