"""Validation and preparation of single rows of an affected-persons CSV.

Pure functions with no database access, so ``portal.imports.run`` can run them in
worker processes. A row becomes either a list of problems ``(column, code,
params)`` or plain, normalised values; new rows are then turned into stored
column values (encrypted fields, blind indexes, digests).

Problem texts are English templates marked with ``N_`` so the translation pass
extracts them; the errors CSV and the CLI use the English text, the web page
translates them. Their parameters never contain a value from the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from portal.imports.pgcopy import CopyRows
from portal.notices.advice import CATEGORY_KEYS
from portal.people.identity import PLAIN_FIELDS, identity_columns, row_digest
from portal.security.bulk_fernet import BulkFernet
from portal.security.crypto import (
    Keyring,
    code_index,
    format_code,
    generate_code,
    is_valid_code,
    keyring,
)


def N_(text: str) -> str:  # noqa: N802 - the conventional gettext no-op marker
    """Mark text for extraction without translating it here."""
    return text


COLUMNS = (
    "external_ref", "first_name", "last_name", "date_of_birth", "postcode", "policy_number",
    "email", "phone", "address_line1", "address_line2", "city", "region", "country",
    "language", "categories", "notice_code",
)
REQUIRED = ("external_ref", "first_name", "last_name", "date_of_birth", "postcode")
CONTACT_COLUMN = "email|phone|address_line1"
MAX_LENGTH = {"external_ref": 100, "postcode": 20, "country": 60, "language": 8}
DEFAULT_MAX_LENGTH = 200
EARLIEST_BIRTH = date(1900, 1, 1)

REASONS = {
    "required": N_("is required"),
    "too_long": N_("is longer than %(limit)s characters"),
    "field_count": N_("has %(found)s fields; the header has %(expected)s"),
    "no_contact": N_("no contact channel: give an email address, a phone number or a "
                     "postal address (address_line1 and city)"),
    "dob_format": N_("is not a date in the form YYYY-MM-DD"),
    "dob_future": N_("is not in the past"),
    "dob_too_early": N_("is before 1900"),
    "phone_invalid": N_("is not a valid phone number"),
    "email_invalid": N_("is not a valid email address"),
    "categories_missing": N_("lists no category"),
    "categories_unknown": N_("contains unknown categories: %(keys)s"),
    "code_invalid": N_("is not a 12-character notice code in Crockford base32"),
    "code_duplicate_file": N_("repeats the notice code of line %(line)s"),
    "code_taken": N_("is already the notice code of another person"),
    "duplicate_ref": N_("repeats the external_ref of line %(line)s"),
    "control_chars": N_("contains control characters"),
    "csv_invalid": N_("is not valid CSV (%(reason)s)"),
}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def reason_text(code: str, params: dict | None = None) -> str:
    """The English text of a problem."""
    return REASONS[code] % (params or {})


@dataclass(frozen=True)
class RowContext:
    """What validating a row needs to know about the import (picklable)."""

    positions: tuple[int, ...]  # position in the file of each of COLUMNS
    width: int  # number of header fields
    default_region: str
    languages: tuple[str, ...]
    default_language: str


# --- field checks ---------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    """Validate and normalise a domain once; ``None`` when invalid."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


def normalise_email(value: str) -> str | None:
    """The normalised address, or ``None`` when its syntax is invalid.

    Plain ASCII local parts take a fast path (the domain is validated once per
    distinct domain by email-validator); everything else goes through
    email-validator whole. Both accept and reject the same addresses.
    """
    local, sep, domain = value.rpartition("@")
    if sep and len(value) <= 254 and len(local) <= 64 and _LOCAL_PART.fullmatch(local):
        normal_domain = _domain(domain)
        return f"{local}@{normal_domain}" if normal_domain else None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def normalise_phone(value: str, region: str) -> str | None:
    """The number in E.164, or ``None`` when it is not a valid number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_birth_date(value: str, today: date) -> tuple[str | None, str | None]:
    """``(iso_date, None)`` or ``(None, problem_code)``."""
    if not _DATE.fullmatch(value):
        return None, "dob_format"
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return None, "dob_format"
    if born >= today:
        return None, "dob_future"
    if born < EARLIEST_BIRTH:
        return None, "dob_too_early"
    return born.isoformat(), None


def parse_categories(value: str) -> tuple[list[str], str | None, dict]:
    """Sorted category keys, or a problem code with its parameters."""
    keys = sorted({part.strip().lower() for part in value.split(";") if part.strip()})
    if not keys:
        return [], "categories_missing", {}
    unknown = [key for key in keys if key not in CATEGORY_KEYS]
    if unknown:
        # Unknown keys are echoed only when they look like keys, never free text.
        shown = [key if re.fullmatch(r"[a-z_]{1,40}", key) else "?" for key in unknown]
        return [], "categories_unknown", {"keys": ", ".join(shown)}
    return keys, None, {}


# --- a whole row ------------------------------------------------------------------------


def validate(fields: list[str], ctx: RowContext, today: date) -> tuple[dict | None, list]:
    """Check one CSV record: ``(values, [])`` or ``(None, problems)``.

    ``values`` holds the normalised plain values of every column, with
    ``categories`` as a sorted list and ``notice_code`` formatted or ``None``.
    """
    if len(fields) != ctx.width:
        return None, [("", "field_count", {"found": len(fields), "expected": ctx.width})]
    raw = {name: fields[pos].strip() for name, pos in zip(COLUMNS, ctx.positions, strict=True)}
    problems: list[tuple[str, str, dict]] = []
    for name in COLUMNS:
        value = raw[name]
        limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
        if len(value) > limit:
            problems.append((name, "too_long", {"limit": limit}))
            raw[name] = ""
        elif _CONTROL.search(value):
            problems.append((name, "control_chars", {}))
            raw[name] = ""
    for name in REQUIRED:
        if not raw[name] and not any(column == name for column, _c, _p in problems):
            problems.append((name, "required", {}))

    values = dict(raw)
    if raw["date_of_birth"]:
        values["date_of_birth"], problem = parse_birth_date(raw["date_of_birth"], today)
        if problem:
            problems.append(("date_of_birth", problem, {}))
    if raw["email"]:
        values["email"] = normalise_email(raw["email"])
        if values["email"] is None:
            problems.append(("email", "email_invalid", {}))
    if raw["phone"]:
        country = raw["country"].upper()
        region = country if len(country) == 2 and country.isalpha() else ctx.default_region
        values["phone"] = normalise_phone(raw["phone"], region)
        if values["phone"] is None:
            problems.append(("phone", "phone_invalid", {}))
    has_address = bool(raw["address_line1"] and raw["city"])
    if not (raw["email"] or raw["phone"] or has_address):
        problems.append((CONTACT_COLUMN, "no_contact", {}))
    values["categories"], problem, params = parse_categories(raw["categories"])
    if problem:
        problems.append(("categories", problem, params))
    language = raw["language"].lower()
    values["language"] = language if language in ctx.languages else ctx.default_language
    if raw["notice_code"]:
        if is_valid_code(raw["notice_code"]):
            values["notice_code"] = format_code(raw["notice_code"])
        else:
            problems.append(("notice_code", "code_invalid", {}))
    else:
        values["notice_code"] = None
    if problems:
        return None, problems
    return values, []


def digest_of(values: dict, ring: Keyring | None = None) -> str:
    """The row digest of validated values (the supplied notice code counts, a generated one not)."""
    plain = {name: values[name] for name in COLUMNS if name != "categories"}
    plain["categories"] = ";".join(values["categories"])
    plain["notice_code"] = values["notice_code"] or ""
    return row_digest(plain, ring)


ENCRYPTED = (*PLAIN_FIELDS, "notice_code")
INDEXES = ("email_index", "phone_index", "policy_index", "code_index", "name_dob_index",
           "postcode_digest", "dob_digest", "policy_last4_digest", "row_digest")
INSERT_COLUMNS = (
    "incident_id", "external_ref", "language", "categories", *ENCRYPTED, *INDEXES,
    "consent_sms", "consent_email", "sms_opt_out", "email_opt_out", "failed_verifications",
    "created_at", "updated_at",
)


def plain_columns(values: dict, digest: str, ring: Keyring | None = None) -> dict:
    """Column values of a new person before encryption (generates a notice code if none)."""
    plain = {name: values[name] for name in PLAIN_FIELDS}
    plain["notice_code"] = values["notice_code"] or generate_code()
    columns = identity_columns(plain, ring)
    columns["row_digest"] = digest
    return columns


def encrypt_columns(rows: list[dict], encryptor) -> None:
    """Replace the plain personal values of prepared rows by Fernet tokens, in place."""
    tokens = iter(encryptor.encrypt_many(
        [row[name] for row in rows for name in ENCRYPTED if row[name] is not None]
    ))
    for row in rows:
        for name in ENCRYPTED:
            if row[name] is not None:
                row[name] = next(tokens)


def regenerate_code(columns: dict, encryptor) -> dict:
    """Give a new person's prepared columns a fresh generated notice code."""
    code = generate_code()
    columns["notice_code"] = encryptor.encrypt_many([code])[0]
    columns["code_index"] = code_index(code)
    return columns


def complete_row(columns: dict, incident_id: int, values: dict, now: datetime) -> dict:
    """Add the columns every new person starts with."""
    columns.update(
        incident_id=incident_id, external_ref=values["external_ref"],
        language=values["language"], categories=values["categories"],
        consent_sms=True, consent_email=True, sms_opt_out=False, email_opt_out=False,
        failed_verifications=0, created_at=now, updated_at=now,
    )
    return columns


# --- a batch (runs in a worker process or inline) ----------------------------------------


@dataclass(frozen=True)
class BatchJob:
    """How to treat a batch: which incident, whether to prepare rows, in what form."""

    incident_id: int
    prepare: bool  # encrypt new rows (False for a dry run)
    as_copy: bool  # new rows as binary COPY tuples (PostgreSQL) instead of dicts
    today: date
    data_key: str


_ENCRYPTORS: dict[str, BulkFernet] = {}


def _encryptor(key: str) -> BulkFernet:
    if key not in _ENCRYPTORS:
        _ENCRYPTORS[key] = BulkFernet(key)
    return _ENCRYPTORS[key]


def process_batch(ctx: RowContext, job: BatchJob, rows: list, existing: dict) -> list:
    """Validate a batch of ``(line, fields)`` records.

    ``existing`` maps external_ref to the stored row digest. Returns one result
    per record: ``("reject", line, problems)``, ``("same", line, ref)``,
    ``("changed", line, ref, values, digest)`` or ``("new", line, ref, values,
    digest, row)`` where ``row`` is ``None`` unless ``job.prepare``, else the
    encrypted columns as a dict, or as a binary COPY tuple when ``job.as_copy``.
    """
    results = []
    fresh = []
    ring = keyring()
    for line, fields in rows:
        values, problems = validate(fields, ctx, job.today)
        if problems:
            results.append(("reject", line, problems))
            continue
        ref = values["external_ref"]
        digest = digest_of(values, ring)
        if ref in existing:
            if existing[ref] == digest:
                results.append(("same", line, ref))
            else:
                results.append(("changed", line, ref, values, digest))
            continue
        result = ["new", line, ref, values, digest, None]
        if job.prepare:
            result[5] = plain_columns(values, digest, ring)
            fresh.append(result)
        results.append(result)
    if fresh:
        encryptor = _encryptor(job.data_key)
        encrypt_columns([result[5] for result in fresh], encryptor)
        now = datetime.now(UTC)
        copy_rows = CopyRows(INSERT_COLUMNS, job.incident_id, now)
        for result in fresh:
            row = complete_row(result[5], job.incident_id, result[3], now)
            # the code's index is all the caller needs of a prepared COPY row
            result[3] = {"notice_code": result[3]["notice_code"], "code_index": row["code_index"]}
            if job.as_copy:
                result[5] = copy_rows.row(row)
    return [tuple(result) for result in results]
