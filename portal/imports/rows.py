"""Validation and preparation of single rows of an affected-persons CSV.

Pure functions with no database access, so ``portal.imports.run`` can run them in
worker processes. A row becomes either a list of ``Problem``s or plain,
normalised values; new rows are then turned into stored column values
(encrypted fields, blind indexes, digests). A batch comes back as one named
result per record: ``Rejected``, ``Unchanged``, ``Changed`` or ``NewRow``.

Problem texts are English templates marked with ``N_`` so the translation pass
extracts them; the errors CSV and the CLI use the English text, the web page
translates them. Their parameters never contain a value from the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from portal.imports.pgcopy import CopyRows
from portal.notices.advice import CATEGORY_KEYS
from portal.people.identity import PLAIN_FIELDS, identity_columns, row_digest
from portal.security.crypto import (
    Keyring,
    code_index,
    column_context,
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


class Problem(NamedTuple):
    """What is wrong with one column of a row (``code`` is a key of ``REASONS``)."""

    column: str
    code: str
    params: dict


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


def validate(fields: list[str], ctx: RowContext, today: date
             ) -> tuple[dict | None, list[Problem]]:
    """Check one CSV record: ``(values, [])`` or ``(None, problems)``.

    ``values`` holds the normalised plain values of every column, with
    ``categories`` as a sorted list and ``notice_code`` formatted or ``None``.
    """
    if len(fields) != ctx.width:
        return None, [Problem("", "field_count", {"found": len(fields), "expected": ctx.width})]
    raw = {name: fields[pos].strip() for name, pos in zip(COLUMNS, ctx.positions, strict=True)}
    problems: list[Problem] = []
    for name in COLUMNS:
        value = raw[name]
        limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
        if len(value) > limit:
            problems.append(Problem(name, "too_long", {"limit": limit}))
            raw[name] = ""
        elif _CONTROL.search(value):
            problems.append(Problem(name, "control_chars", {}))
            raw[name] = ""
    for name in REQUIRED:
        if not raw[name] and not any(problem.column == name for problem in problems):
            problems.append(Problem(name, "required", {}))

    values = dict(raw)
    if raw["date_of_birth"]:
        values["date_of_birth"], problem = parse_birth_date(raw["date_of_birth"], today)
        if problem:
            problems.append(Problem("date_of_birth", problem, {}))
    if raw["email"]:
        values["email"] = normalise_email(raw["email"])
        if values["email"] is None:
            problems.append(Problem("email", "email_invalid", {}))
    if raw["phone"]:
        country = raw["country"].upper()
        region = country if len(country) == 2 and country.isalpha() else ctx.default_region
        values["phone"] = normalise_phone(raw["phone"], region)
        if values["phone"] is None:
            problems.append(Problem("phone", "phone_invalid", {}))
    has_address = bool(raw["address_line1"] and raw["city"])
    if not (raw["email"] or raw["phone"] or has_address):
        problems.append(Problem(CONTACT_COLUMN, "no_contact", {}))
    values["categories"], problem, params = parse_categories(raw["categories"])
    if problem:
        problems.append(Problem("categories", problem, params))
    language = raw["language"].lower()
    values["language"] = language if language in ctx.languages else ctx.default_language
    if raw["notice_code"]:
        if is_valid_code(raw["notice_code"]):
            values["notice_code"] = format_code(raw["notice_code"])
        else:
            problems.append(Problem("notice_code", "code_invalid", {}))
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
    "incident_id", "external_ref", "language", "categories", *ENCRYPTED, *INDEXES, "residence",
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


PERSON_CONTEXTS = tuple(column_context("person", name) for name in ENCRYPTED)


def encrypt_columns(rows: list[dict], ring: Keyring) -> None:
    """Replace the plain personal values of prepared rows by tokens, in place."""
    values, contexts = [], []
    for row in rows:
        for name, context in zip(ENCRYPTED, PERSON_CONTEXTS, strict=True):
            if row[name] is not None:
                values.append(row[name])
                contexts.append(context)
    tokens = iter(ring.encrypt_many(values, contexts))
    for row in rows:
        for name in ENCRYPTED:
            if row[name] is not None:
                row[name] = next(tokens)


def regenerate_code(columns: dict, ring: Keyring) -> dict:
    """Give a new person's prepared columns a fresh generated notice code."""
    code = generate_code()
    columns["notice_code"] = ring.encrypt(code, column_context("person", "notice_code"))
    columns["code_index"] = code_index(code, ring)
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


class Record(NamedTuple):
    """One CSV record: its first line, and its fields (or why the CSV reader refused it)."""

    line: int
    fields: list[str] | str


class Rejected(NamedTuple):
    line: int
    problems: list[Problem]


class Unchanged(NamedTuple):
    line: int
    ref: str


class Changed(NamedTuple):
    """An existing person whose row differs from the one it was imported from."""

    line: int
    ref: str
    values: dict  # validated plain values, as ``validate`` returns them
    digest: str


class NewRow(NamedTuple):
    """A person to insert.

    ``notice_code`` is the code the file supplied (formatted) or ``None``;
    ``code_index`` the blind index of the code the row will have (``None`` for
    an unprepared row without a supplied code); ``row`` is ``None`` unless the
    batch was prepared, else the encrypted columns as a dict, or as a binary
    COPY tuple.
    """

    line: int
    ref: str
    notice_code: str | None
    code_index: str | None
    row: dict | bytes | None


BatchResult = Rejected | Unchanged | Changed | NewRow


def process_batch(ctx: RowContext, job: BatchJob, records: list[Record],
                  existing: dict[str, str]) -> list[BatchResult]:
    """Validate a batch of records; one result per record, in order.

    ``existing`` maps external_ref to the stored row digest. New rows are
    encrypted with the keyring of the current application (in a worker, the
    one its initializer built from the keys it was given).
    """
    results: list[BatchResult] = []
    fresh = []  # (position in results, line, values, prepared columns)
    ring = keyring()
    for line, fields in records:
        values, problems = validate(fields, ctx, job.today)
        if problems:
            results.append(Rejected(line, problems))
            continue
        ref = values["external_ref"]
        digest = digest_of(values, ring)
        if ref in existing:
            if existing[ref] == digest:
                results.append(Unchanged(line, ref))
            else:
                results.append(Changed(line, ref, values, digest))
            continue
        code = values["notice_code"]
        if job.prepare:
            fresh.append((len(results), line, values, plain_columns(values, digest, ring)))
            results.append(None)  # filled below, once the batch is encrypted
        else:
            results.append(NewRow(line, ref, code, code_index(code, ring) if code else None,
                                  None))
    if fresh:
        encrypt_columns([columns for *_, columns in fresh], ring)
        now = datetime.now(UTC)
        copy_rows = CopyRows(INSERT_COLUMNS, job.incident_id, now) if job.as_copy else None
        for position, line, values, columns in fresh:
            row = complete_row(columns, job.incident_id, values, now)
            results[position] = NewRow(
                line, values["external_ref"], values["notice_code"], row["code_index"],
                copy_rows.row(row) if copy_rows is not None else row,
            )
    return results
