"""The advice catalog: each data category's name and the protective advice for it.

Names and advice are lazy strings, so they are extracted into the catalogs and
come out in whatever language is active when they are turned into text (use
``flask_babel.force_locale``). The facts follow ``shared/domain/LEGAL.md``.
Incident-specific advice that managers add lives in ``IncidentAdvice`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.core.i18n import resolved

CATEGORY_KEYS = (
    "national_id",
    "payment_card",
    "bank_account",
    "health",
    "health_insurance_id",
    "drivers_license",
    "passport",
    "online_credentials",
    "policy_details",
    "claims_details",
    "date_of_birth",
    "contact_details",
)

# Exposure of any of these brings the credit bureaus' contacts into the notice.
BUREAU_CATEGORIES = frozenset({"national_id", "drivers_license", "passport"})

_PHISHING = (
    _l("Expect more convincing phishing by email, text message and phone that may use what "
       "the criminals know about you."),
    _l("Reach us through our official website or the phone number on your policy documents, "
       "not through links or numbers in messages you did not expect."),
    _l("Never give out codes or passwords, whoever asks for them."),
)
_HEALTH = (
    _l("Read every Explanation of Benefits you receive: check the provider, the date and the "
       "service, and tell your insurer about anything you do not recognise."),
    _l("Ask your health insurer once a year for a list of the benefits paid in your name."),
    _l("Obtain your medical records from your providers and ask them to correct anything wrong."),
    _l("Watch for bills or collection notices for care you did not receive."),
)
_CREDIT_REPORTS = (
    _l("Order your free credit reports and check them for accounts or enquiries you do not "
       "recognise."),
    _l("Contact the credit bureaus listed in this notice if you see anything wrong."),
)

CATALOG: dict[str, dict] = {
    "national_id": {
        "name": _l("National identification or Social Security number"),
        "advice": (
            _l("Enrol in the credit monitoring we offer."),
            *_CREDIT_REPORTS,
            _l("Place a credit freeze with each credit bureau. It is free, is placed within one "
               "business day and can be lifted online within an hour."),
            _l("At the least, place a fraud alert. It is free and lasts one year, or seven years "
               "for victims of identity theft."),
            _l("File your tax return early and answer any letter from the tax office promptly."),
            _l("Ignore callers who threaten you with arrest: government agencies do not do that."),
        ),
    },
    "payment_card": {
        "name": _l("Payment card details"),
        "advice": (
            _l("Ask your bank to cancel the card and issue a new one."),
            _l("Review your card transactions and dispute any charge you did not make."),
            _l("Update any automatic payments that use the card."),
        ),
    },
    "bank_account": {
        "name": _l("Bank account details"),
        "advice": (
            _l("Ask your bank to close or change the account."),
            _l("Review your account transactions and report any you did not make."),
            _l("Update any automatic payments and direct debits that use the account."),
        ),
    },
    "health": {
        "name": _l("Health or medical information"),
        "advice": _HEALTH,
    },
    "health_insurance_id": {
        "name": _l("Health insurance member number"),
        "advice": _HEALTH,
    },
    "drivers_license": {
        "name": _l("Driver's licence number"),
        "advice": (
            _l("Contact the licensing authority to replace your licence and flag the number as "
               "exposed."),
            *_CREDIT_REPORTS,
        ),
    },
    "passport": {
        "name": _l("Passport number"),
        "advice": (
            _l("Report the passport to the authority that issued it and ask for a replacement."),
            *_CREDIT_REPORTS,
        ),
    },
    "online_credentials": {
        "name": _l("Username and password"),
        "advice": (
            _l("Change your password, and your username if you can, on our site and on every "
               "other site where you used the same password."),
            _l("Turn on two-step verification wherever it is offered."),
            _l("Check for charges made with cards stored in your online accounts."),
        ),
    },
    "policy_details": {
        "name": _l("Insurance policy details"),
        "advice": (
            _l("Watch for phishing messages that quote your policy details to seem genuine."),
            _l("We will never ask for your full policy number or your passwords by text message "
               "or email."),
        ),
    },
    "claims_details": {
        "name": _l("Insurance claim details"),
        "advice": (
            _l("Watch for phishing messages that quote your claim details to seem genuine."),
            _l("We will never ask for your full policy number or your passwords by text message "
               "or email."),
        ),
    },
    "date_of_birth": {
        "name": _l("Date of birth"),
        "advice": _PHISHING,
    },
    "contact_details": {
        "name": _l("Contact details (name, address, email address, phone number)"),
        "advice": _PHISHING,
    },
}


@dataclass(frozen=True)
class BureauContact:
    name: str
    phone: str
    url: str


# The three nationwide US credit bureaus' consumer contacts. Not from LEGAL.md:
# verify before each incident (last checked 2026-11-24).
CREDIT_BUREAUS = (
    BureauContact("Equifax", "1-800-685-1111", "https://www.equifax.com/personal/credit-report-services/"),
    BureauContact("Experian", "1-888-397-3742", "https://www.experian.com/help/"),
    BureauContact("TransUnion", "1-888-909-8872", "https://www.transunion.com/credit-help"),
)


def is_category(key: str) -> bool:
    """Tell whether ``key`` is a catalog category."""
    return key in CATALOG


def category_name(key: str) -> str:
    """The category's name in the active language (the key itself if unknown)."""
    entry = CATALOG.get(key)
    return resolved(entry["name"]) if entry else key


def category_advice(key: str) -> list[str]:
    """The catalog's advice for a category, in the active language."""
    entry = CATALOG.get(key)
    return [str(line) for line in entry["advice"]] if entry else []


def category_choices() -> list[tuple[str, str]]:
    """(key, name) pairs in catalog order, for forms."""
    return [(key, category_name(key)) for key in CATEGORY_KEYS]


def needs_bureaus(categories) -> bool:
    """Tell whether the credit bureaus' contacts belong in the notice."""
    return bool(BUREAU_CATEGORIES & set(categories))
