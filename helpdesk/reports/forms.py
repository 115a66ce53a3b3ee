"""Forms of the reports area: the substitute notice editor and its publish buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.i18n import LANGUAGE_NAMES
from portal.reports.substitute import SUMMARY_MAX

SUMMARY_LANGUAGES = ("en", "es", "fr", "de")


class SubstituteNoticeForm(FlaskForm):
    """One plain-language summary per language, the hotline and the stay-up date."""

    summary_en = TextAreaField(LANGUAGE_NAMES["en"],
                               validators=[Optional(), Length(max=SUMMARY_MAX)])
    summary_es = TextAreaField(LANGUAGE_NAMES["es"],
                               validators=[Optional(), Length(max=SUMMARY_MAX)])
    summary_fr = TextAreaField(LANGUAGE_NAMES["fr"],
                               validators=[Optional(), Length(max=SUMMARY_MAX)])
    summary_de = TextAreaField(LANGUAGE_NAMES["de"],
                               validators=[Optional(), Length(max=SUMMARY_MAX)])
    hotline = StringField(_l("Toll-free hotline"), validators=[
        DataRequired(message=_l("Give the toll-free number people can call.")),
        Length(max=40)])
    stay_up_until = DateField(_l("Keep the page up until"), validators=[
        DataRequired(message=_l("Enter the date as year, month and day."))])

    def summary_fields(self, languages):
        return [getattr(self, f"summary_{code}") for code in languages
                if hasattr(self, f"summary_{code}")]

    def summaries(self) -> dict[str, str]:
        return {code: getattr(self, f"summary_{code}").data or ""
                for code in SUMMARY_LANGUAGES}


class PublishForm(FlaskForm):
    """Only the CSRF token."""


class UnpublishForm(FlaskForm):
    reason = StringField(_l("Reason for taking the page down early"),
                         validators=[Optional(), Length(max=500)])
