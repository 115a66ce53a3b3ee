"""A date people type from memory, such as a date of birth: three numbers, not a date picker.

The pattern public-service design systems recommend for memorable dates (GOV.UK's
"date input"): three labelled text fields (day, month, year) with numeric keyboards,
in the order the page's language writes dates (Babel's short date pattern: month
first in English, day first in Spanish, French and German). An error names the part
that is wrong and marks that field only; the error summary links to it.

The fields post as ``<name>-day``, ``<name>-month`` and ``<name>-year``; the
``date_input`` macro in ``macros.html`` renders them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from babel.dates import get_date_format
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

PARTS = ("day", "month", "year")
_PATTERN_LETTERS = {"day": "d", "month": "M", "year": "y"}
_QUOTED = re.compile(r"'[^']*'")
_LABELS = {"day": _l("Day"), "month": _l("Month"), "year": _l("Year")}
_WIDTHS = {"day": 2, "month": 2, "year": 4}


def part_order(locale=None) -> tuple[str, ...]:
    """The parts in the order the locale writes a short date (``en``: month, day, year)."""
    pattern = _QUOTED.sub("", get_date_format("short", locale=locale or get_locale()).pattern)

    def position(part: str) -> int:
        found = pattern.find(_PATTERN_LETTERS[part])
        return found if found >= 0 else len(pattern) + PARTS.index(part)

    return tuple(sorted(PARTS, key=position))


@dataclass(frozen=True)
class DatePart:
    """One of the three inputs, as the template renders it."""

    name: str
    id: str
    field_name: str
    label: str
    value: str
    autocomplete: str | None
    width: int
    invalid: bool


class MemorableDateField(Field):
    """Day, month and year typed separately; ``data`` is a ``date`` or ``None``.

    ``messages`` holds the texts that name the date (so translators get whole
    sentences): ``required`` when nothing was typed, and one per missing part or
    pair of parts, keyed ``day``, ``month``, ``year``, ``day month``, ``day year``,
    ``month year``. Range errors are the field's own. Further validators (such as
    "must be in the past") run on ``data`` once the three parts make a real date.
    """

    def __init__(self, label=None, validators=None, *, messages: dict, earliest_year: int = 1900,
                 example: date = date(1980, 3, 27), autocomplete: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.messages = messages
        self.earliest_year = earliest_year
        self.example = example
        self.autocomplete = autocomplete
        self.typed = dict.fromkeys(PARTS, "")
        self.problem: tuple[tuple[str, ...], str] | None = None
        self.wrong_parts: tuple[str, ...] = ()

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data=data, extra_filters=extra_filters)
        if formdata is not None:
            self.typed = {part: (formdata.get(f"{self.name}-{part}") or "").strip()
                          for part in PARTS}
            self.raw_data = [self.typed[part] for part in PARTS if self.typed[part]]
            self.problem = self._problem()
            self.data = None
            if self.problem is None:
                self.data = date(*(int(self.typed[part]) for part in reversed(PARTS)))
        elif isinstance(self.data, date):
            self.typed = {"day": str(self.data.day), "month": str(self.data.month),
                          "year": str(self.data.year)}

    def _problem(self) -> tuple[tuple[str, ...], str] | None:
        """The wrong parts and what to say about them, or ``None`` for a real date."""
        typed = self.typed
        missing = tuple(part for part in PARTS if not typed[part])
        if len(missing) == len(PARTS):
            return PARTS, str(self.messages["required"])
        if missing:
            return missing, str(self.messages[" ".join(missing)])
        numbers = {part: int(value) if value.isdecimal() and len(value) <= 4 else None
                   for part, value in typed.items()}
        wrong = {}
        if numbers["day"] is None or not 1 <= numbers["day"] <= 31:
            wrong["day"] = _("Enter a day between 1 and 31.")
        if numbers["month"] is None or not 1 <= numbers["month"] <= 12:
            wrong["month"] = _("Enter a month between 1 and 12.")
        if numbers["year"] is None or len(typed["year"]) != 4:
            wrong["year"] = _("Enter the year as 4 digits, for example %(year)d.",
                              year=self.example.year)
        elif numbers["year"] < self.earliest_year:
            wrong["year"] = _("Enter a year between %(earliest)d and %(latest)d.",
                              earliest=self.earliest_year, latest=date.today().year)
        if wrong:
            first = next(part for part in part_order() if part in wrong)
            return tuple(wrong), wrong[first]
        days = calendar.monthrange(numbers["year"], numbers["month"])[1]
        if numbers["day"] > days:
            return ("day",), _("Enter a day between 1 and %(days)d for that month.", days=days)
        return None

    def pre_validate(self, form):
        if self.problem is not None:
            self.wrong_parts, message = self.problem
            raise StopValidation(message)

    @property
    def hint(self) -> str:
        """"For example, 3 27 1980" in the page's order."""
        example = " ".join(str(getattr(self.example, part)) for part in part_order())
        return _("For example, %(example)s.", example=example)

    def parts(self) -> list[DatePart]:
        """The three inputs in the page's order; a wrong part is marked invalid.

        An error about the whole date (such as "must be in the past") marks all three.
        """
        wrong = self.wrong_parts or (PARTS if self.errors else ())
        return [
            DatePart(name=part, id=f"{self.id}-{part}", field_name=f"{self.name}-{part}",
                     label=str(_LABELS[part]), value=self.typed[part],
                     autocomplete=f"{self.autocomplete}-{part}" if self.autocomplete else None,
                     width=_WIDTHS[part], invalid=part in wrong)
            for part in part_order()
        ]

    @property
    def error_target(self) -> str:
        """The id the error summary links to: the first wrong input on the page."""
        wrong = [part for part in self.parts() if part.invalid]
        return (wrong or self.parts())[0].id
