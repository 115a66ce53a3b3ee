"""An incident's time zone: chosen by a manager, else guessed from the contact address.

The guess reads the country (and, in the United States, Canada and Australia,
the state or province) from the postal address's last lines, in any of the
portal's languages; an address it cannot place gives UTC.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale
from babel.core import get_global

from portal.core.i18n import is_time_zone

# Countries with several zones: the zone most of their people live in.
MAIN_ZONE = {
    "US": "America/New_York", "CA": "America/Toronto", "AU": "Australia/Sydney",
    "ES": "Europe/Madrid", "DE": "Europe/Berlin", "PT": "Europe/Lisbon",
    "BR": "America/Sao_Paulo", "MX": "America/Mexico_City", "RU": "Europe/Moscow",
    "NL": "Europe/Amsterdam", "FR": "Europe/Paris", "GB": "Europe/London",
    "NZ": "Pacific/Auckland", "AR": "America/Argentina/Buenos_Aires", "CL": "America/Santiago",
    "EC": "America/Guayaquil", "DK": "Europe/Copenhagen", "IT": "Europe/Rome",
}

_US_STATES = {
    "America/New_York": "CT DC DE FL GA MA MD ME MI NC NH NJ NY OH PA RI SC VA VT WV IN KY",
    "America/Chicago": "AL AR IA IL KS LA MN MO MS ND NE OK SD TN TX WI",
    "America/Denver": "CO MT NM UT WY ID",
    "America/Phoenix": "AZ",
    "America/Los_Angeles": "CA NV OR WA",
    "America/Anchorage": "AK",
    "Pacific/Honolulu": "HI",
    "America/Puerto_Rico": "PR",
}
US_STATE_ZONE = {state: zone for zone, states in _US_STATES.items() for state in states.split()}
CA_PROVINCE_ZONE = {
    "BC": "America/Vancouver", "AB": "America/Edmonton", "SK": "America/Regina",
    "MB": "America/Winnipeg", "ON": "America/Toronto", "QC": "America/Toronto",
    "NB": "America/Halifax", "NS": "America/Halifax", "PE": "America/Halifax",
    "NL": "America/St_Johns", "YT": "America/Whitehorse", "NT": "America/Yellowknife",
    "NU": "America/Iqaluit",
}
AU_STATE_ZONE = {
    "NSW": "Australia/Sydney", "ACT": "Australia/Sydney", "VIC": "Australia/Melbourne",
    "QLD": "Australia/Brisbane", "SA": "Australia/Adelaide", "WA": "Australia/Perth",
    "TAS": "Australia/Hobart", "NT": "Australia/Darwin",
}
_US_STATE_ZIP = re.compile(r"\b([A-Z]{2})\s+\d{5}(?:-\d{4})?\b")
_CA_PROVINCE_POSTCODE = re.compile(r"\b([A-Z]{2})\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d\b")
_AU_STATE_POSTCODE = re.compile(r"\b(NSW|ACT|VIC|QLD|SA|WA|TAS|NT)\s+\d{4}\b")
_ALIASES = {"usa": "US", "u.s.a.": "US", "u.s.": "US", "uk": "GB", "u.k.": "GB",
            "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB"}


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Lower-cased country names in the four languages, to ISO codes."""
    names = dict(_ALIASES)
    for language in ("en", "es", "fr", "de"):
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(name.lower(), code)
    return names


def _country_zone(code: str) -> str | None:
    if code in MAIN_ZONE:
        return MAIN_ZONE[code]
    zones = sorted(get_global("territory_zones").get(code, ()))
    return zones[0] if zones and is_time_zone(zones[0]) else None


def zone_from_address(address: str | None) -> str | None:
    """The zone of a postal address's country (state, province), or None if it says none."""
    lines = [line.strip(" ,.") for line in (address or "").replace(",", "\n").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None
    text = " ".join(lines[-3:])
    country = None
    for line in reversed(lines):
        country = _country_names().get(line.lower())
        if country:
            break
    if country in (None, "US"):
        match = _US_STATE_ZIP.search(text)
        if match and match.group(1) in US_STATE_ZONE:
            return US_STATE_ZONE[match.group(1)]
    if country in (None, "CA"):
        match = _CA_PROVINCE_POSTCODE.search(text)
        if match and match.group(1) in CA_PROVINCE_ZONE:
            return CA_PROVINCE_ZONE[match.group(1)]
    if country in (None, "AU"):
        match = _AU_STATE_POSTCODE.search(text)
        if match:
            return AU_STATE_ZONE[match.group(1)]
    return _country_zone(country) if country else None


def default_time_zone(postal_address: str | None) -> str:
    """The zone a new incident gets when none is chosen: its address's, else UTC."""
    return zone_from_address(postal_address) or "UTC"
