"""Where a person lives, at the level breach-notification laws count in.

Regulators ask how many residents of their state or country were affected and told
(e.g. a US state attorney general's form, GDPR Art. 33's "approximate number of data
subjects concerned"). The address itself is encrypted; ``residence_code`` reduces the
country and region columns to a code such as ``US-CA`` (a US state or territory, ISO
3166-2) or ``DE`` (any other country, ISO 3166-1 alpha-2), which is stored in plain
like ``language``: coarse enough to count by, useless for finding anyone.
"""

from __future__ import annotations

import functools
import re

from babel import Locale

from portal.core.folding import folded

# ISO 3166-2:US: the states, the District of Columbia and the inhabited territories.
US_SUBDIVISIONS = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
    "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming", "DC": "District of Columbia", "PR": "Puerto Rico", "GU": "Guam",
    "VI": "U.S. Virgin Islands", "AS": "American Samoa", "MP": "Northern Mariana Islands",
}
# Spellings of a country that are neither its code nor its name in the four languages.
_COUNTRY_ALIASES = {
    "usa": "US", "u s a": "US", "u s": "US", "united states of america": "US", "america": "US",
    "u k": "GB",
    "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "gbr": "GB", "deu": "DE", "fra": "FR", "esp": "ES",
    "can": "CA", "mex": "MX", "bundesrepublik deutschland": "DE", "brd": "DE",
}
_US_ALIASES = {"washington dc": "DC", "washington d c": "DC", "d c": "DC",
               "us virgin islands": "VI", "virgin islands": "VI"}


def _key(text: str) -> str:
    """Case, accents, dots and spacing do not matter: 'Île-de-France.' ~ 'ile de france'."""
    return " ".join(re.sub(r"[.\-_,'’()]+", " ", folded(text)).split())


@functools.cache
def _countries() -> dict[str, str]:
    """Every country's code and its name in English, Spanish, French and German → its code."""
    found = {}
    for language in ("en", "es", "fr", "de"):
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU", "UN", "EZ", "QO"):
                found[_key(name)] = code
                found[_key(code)] = code
    found.update(_COUNTRY_ALIASES)
    return found


@functools.cache
def _us_subdivisions() -> dict[str, str]:
    found = {}
    for code, name in US_SUBDIVISIONS.items():
        found[_key(code)] = code
        found[_key(name)] = code
    found.update(_US_ALIASES)
    return found


def residence_code(country: str | None, region: str | None) -> str | None:
    """``US-CA``, ``DE``… from a person's country and region; ``None`` when unknown.

    A blank or unrecognised country gives ``None`` (the region alone is ambiguous: "CA"
    is California and Canada). A US address with an unrecognised state gives ``US``.
    """
    country_code = _countries().get(_key(country or ""))
    if country_code is None:
        return None
    if country_code == "US":
        state = _us_subdivisions().get(_key(region or ""))
        return f"US-{state}" if state else "US"
    return country_code


def residence_name(code: str, locale: str = "en") -> str:
    """A readable name for a residence code, in ``locale`` (US states in English)."""
    country, _, subdivision = code.partition("-")
    country_name = Locale.parse(locale).territories.get(country, country)
    if subdivision:
        return f"{US_SUBDIVISIONS.get(subdivision, subdivision)} ({country_name})"
    return country_name
