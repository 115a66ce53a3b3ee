"""Managers' review of the interaction log: filters, keyset pages, masking, reveal, CSV.

Nothing here reads the request: views parse the query string with ``parse_filters``
(which names each bad value) and pass the result on. Pages are keyset pages, newest
first: ``before`` is the id of the last row of the page shown, so a page costs one
index range scan however deep the reader goes. A view with a time window (``from``,
``to``) is read in time order, ``(at, id)``, the rest in id order (``_order``).

Personal values never leave this module in clear except through ``reveal``, which
logs who looked, at which row and why. A detail is shown in clear only when its
key is in ``SAFE_KEYS`` (ids, counts, reasons from a fixed vocabulary) and the
action does not take that key as typed text (``TYPED_DETAILS``); every other value,
and the client address, is masked.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from babel import dates as babel_dates
from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select

from portal.audit import log as audit
from portal.audit.labels import detail_label, label_for
from portal.core.csv_cells import safe_row
from portal.extensions import db
from portal.models import Incident, Interaction, Person, StaffUser
from portal.people.queries import reference_spellings

ACTOR_KEYWORDS = ("customer", "system")
ACTION_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]*)*$")
MASK = "•••"
REASON_MAX = 500
# Detail keys whose values are never personal: ids, counts, states, fixed vocabularies.
SAFE_KEYS = frozenset({
    "via", "language", "version", "reason", "notice_version_id", "answer_version_id",
    "answer_id", "scope", "minutes", "method", "limit", "insurer_logo_digest", "field",
    "fields", "duplicates", "added", "rejected", "channel", "bytes", "attempt", "failures",
    "values", "type", "topic", "superseded_version", "sent_last_day", "rule_id", "role",
    "overridden", "message_id", "import_run_id", "filing_id", "filed_at", "dry_run",
    "category", "author_id", "activation_code_id", "staff_id", "locked", "until",
    "interaction_id", "filters", "rows", "campaign_id", "ticket_id", "status", "count",
    "from_role", "to_role", "hours", "authority", "reference", "step", "kind", "incident",
})

# Safe keys that some actions fill with what a member of staff typed, which may name a
# person ("caller Jane Doe, born ... asked"): masked on those actions, like any personal
# value. Everywhere else their values come from a fixed vocabulary.
TYPED_DETAILS = frozenset({
    ("log.revealed", "reason"),
    ("notice.checklist_overridden", "reason"),
    ("substitute_notice.unpublished", "reason"),
})


class FilterError(ValueError):
    """Bad filter values: ``errors`` maps each query parameter to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass
class LogFilter:
    """The log review's filters, as typed by the reader (``params``) and resolved to ids."""

    start: datetime | None = None
    end: datetime | None = None  # exclusive
    actor_type: str | None = None
    actor_id: int | None = None
    person_ref: str | None = None
    ticket_id: int | None = None
    campaign_id: int | None = None
    incident_id: int | None = None
    action: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.params


PARAMS = ("from", "to", "actor", "person", "ticket", "campaign", "incident", "action")


# A date written day or month first, as the pages write them ("29.11.2026", "11/29/2026").
LOCAL_DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{4}")


def _parse_day(text: str, locale) -> date | None:
    """A whole day: ISO (2026-11-28), or as ``locale`` writes dates (29.11.2026 in German,
    11/29/2026 in English), which is how the log page shows them. None: not a day."""
    if len(text) == 10 and text[4:5] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if locale is not None and LOCAL_DATE.fullmatch(text):
        try:
            return babel_dates.parse_date(text, locale=locale, format="short")
        except (ValueError, IndexError):
            return None
    return None


def _parse_moment(text: str, zone: tzinfo, end: bool, locale=None) -> tuple[datetime, bool]:
    """A date (whole day) or date and time in ``zone``, as UTC, and whether it was a whole
    day; ``end`` makes a day inclusive."""
    text = text.strip()
    day = _parse_day(text, locale)
    if day is not None:
        moment = datetime.combine(day + timedelta(days=1) if end else day, time())
        return moment.replace(tzinfo=zone).astimezone(UTC), True
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise ValueError(_("Use a date such as 2026-11-28 or 2026-11-28T14:30.")) from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC), False
    return moment.replace(tzinfo=zone).astimezone(UTC), False


def _positive_int(text: str) -> int:
    value = text.strip().lstrip("#")
    if not value.isdigit() or int(value) <= 0 or int(value) >= 2**31:
        raise ValueError(_("Use a number such as 42."))
    return int(value)


def parse_filters(args: Mapping[str, str], zone: tzinfo = UTC, locale=None) -> LogFilter:
    """Read the filters from query parameters; raise ``FilterError`` naming every bad one.

    Times without a zone are read in ``zone`` (the page's); ``to`` given as a date
    includes that whole day. Dates may also be written as ``locale`` writes them.
    """
    params = {name: str(args.get(name, "")).strip() for name in PARAMS}
    params = {name: value for name, value in params.items() if value}
    result = LogFilter(params=params)
    errors: dict[str, str] = {}

    def check(name, parse):
        if name in params:
            try:
                parse(params[name])
            except ValueError as exc:
                errors[name] = str(exc)

    def set_start(text):
        result.start = _parse_moment(text, zone, end=False, locale=locale)[0]

    def set_end(text):
        result.end, whole_day = _parse_moment(text, zone, end=True, locale=locale)
        if not whole_day:
            result.end += timedelta(microseconds=1)

    def set_actor(text):
        lowered = text.lower()
        if lowered in ACTOR_KEYWORDS:
            result.actor_type = lowered
            return
        staff_id = db.session.execute(
            select(StaffUser.id).where(func.lower(StaffUser.email) == lowered)
        ).scalar_one_or_none()
        if staff_id is None:
            raise ValueError(_("No staff member has this e-mail address. "
                                    "Use an address, customer or system."))
        result.actor_type, result.actor_id = "staff", staff_id

    def set_person(text):
        if len(text) > 100:
            raise ValueError(_("A reference has at most 100 characters."))
        result.person_ref = text

    def set_ticket(text):
        result.ticket_id = _positive_int(text)

    def set_campaign(text):
        result.campaign_id = _positive_int(text)

    def set_incident(text):
        incident_id = db.session.execute(
            select(Incident.id).where(Incident.reference.in_(reference_spellings(text)))
        ).scalar_one_or_none()
        if incident_id is None:
            raise ValueError(_("No incident has this reference."))
        result.incident_id = incident_id

    def set_action(text):
        lowered = text.lower()
        if len(lowered) > 60 or not ACTION_PATTERN.match(lowered):
            raise ValueError(_("Use an action name such as ticket.created, "
                                    "or a prefix such as verify."))
        # Every action is named "area.step": a word without a dot can only be an area
        # ("verify" meant "verify."), which as an exact name would find nothing.
        result.action = lowered if "." in lowered else lowered + "."

    for name, parse in (("from", set_start), ("to", set_end), ("actor", set_actor),
                        ("person", set_person), ("ticket", set_ticket),
                        ("campaign", set_campaign), ("incident", set_incident),
                        ("action", set_action)):
        check(name, parse)
    if result.start and result.end and result.end <= result.start:
        errors.setdefault("to", _("The end must be after the start."))
    if errors:
        raise FilterError(errors)
    return result


def _where(query: Select, filters: LogFilter) -> Select:
    if filters.start is not None:
        query = query.where(Interaction.at >= filters.start)
    if filters.end is not None:
        query = query.where(Interaction.at < filters.end)
    if filters.actor_type is not None:
        query = query.where(Interaction.actor_type == filters.actor_type)
    if filters.actor_id is not None:
        query = query.where(Interaction.actor_id == filters.actor_id)
    if filters.person_ref is not None:
        people = select(Person.id).where(
            Person.external_ref.in_(reference_spellings(filters.person_ref)))
        if filters.incident_id is not None:
            people = people.where(Person.incident_id == filters.incident_id)
        else:
            # Every person belongs to an incident: naming them all (a handful) lets
            # PostgreSQL probe the (incident, reference) index once per incident instead
            # of reading the whole person table (150 ms at 1,000,000 people; more with
            # real rows, which are over a kilobyte each).
            people = people.where(Person.incident_id.in_(select(Incident.id)))
        query = query.where(Interaction.person_id.in_(people))
    if filters.ticket_id is not None:
        query = query.where(Interaction.ticket_id == filters.ticket_id)
    if filters.campaign_id is not None:
        query = query.where(Interaction.campaign_id == filters.campaign_id)
    if filters.incident_id is not None:
        query = query.where(Interaction.incident_id == filters.incident_id)
    if filters.action is not None:
        if filters.action.endswith("."):
            # A prefix: a range on the (action, id) index rather than LIKE's escaping.
            query = query.where(Interaction.action >= filters.action,
                                Interaction.action < filters.action[:-1] + "/")
        else:
            query = query.where(Interaction.action == filters.action)
    return query


@dataclass
class Detail:
    """One entry of a row's details, masked unless its key is safe."""

    key: str
    value: str
    masked: bool

    @property
    def label(self) -> str:
        """The key's name for people (the log page; the CSV export keeps the key)."""
        return detail_label(self.key)

    @property
    def shown(self) -> str:
        """The value for the log page: yes and no for flags, the rest as stored."""
        if self.masked:
            return self.value
        return {"True": _("yes"), "False": _("no")}.get(self.value, self.value)


@dataclass
class LogRow:
    """One interaction as the review shows it."""

    id: int
    at: datetime
    actor_type: str
    actor: str
    action: str
    label: str
    incident: str | None
    person_ref: str | None
    person_id: int | None
    ticket_id: int | None
    campaign_id: int | None
    details: list[Detail]
    redacted: bool

    @property
    def has_masked(self) -> bool:
        return any(detail.masked for detail in self.details)


def _text(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_text(item)}" for key, item in sorted(value.items()))
    return "" if value is None else str(value)


def masked_details(details: dict | None, action: str) -> list[Detail]:
    """A row's details in key order, personal (non-safe) values replaced by a mask."""
    shown = []
    for key in sorted(details or {}):
        if key in SAFE_KEYS and (action, key) not in TYPED_DETAILS:
            shown.append(Detail(key, _text(details[key]), False))
        else:
            shown.append(Detail(key, MASK, True))
    return shown


def _names(rows: list[Interaction]) -> tuple[dict, dict, dict]:
    """Staff e-mails, person references and incident references of ``rows``, in three reads."""
    staff_ids = {row.actor_id for row in rows if row.actor_type == "staff" and row.actor_id}
    person_ids = {row.person_id for row in rows if row.person_id}
    incident_ids = {row.incident_id for row in rows if row.incident_id}
    staff = dict(db.session.execute(
        select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(staff_ids))
    ).all()) if staff_ids else {}
    people = dict(db.session.execute(
        select(Person.id, Person.external_ref).where(Person.id.in_(person_ids))
    ).all()) if person_ids else {}
    incidents = dict(db.session.execute(
        select(Incident.id, Incident.reference).where(Incident.id.in_(incident_ids))
    ).all()) if incident_ids else {}
    return staff, people, incidents


def _actor_name(row: Interaction, staff: dict) -> str:
    if row.actor_type == "staff":
        return staff.get(row.actor_id, f"staff #{row.actor_id}")
    return row.actor_type


def present(rows: list[Interaction]) -> list[LogRow]:
    """``rows`` as the review shows them, personal values masked."""
    staff, people, incidents = _names(rows)
    return [
        LogRow(id=row.id, at=row.at, actor_type=row.actor_type, actor=_actor_name(row, staff),
               action=row.action, label=label_for(row.action),
               incident=incidents.get(row.incident_id), person_ref=people.get(row.person_id),
               person_id=row.person_id, ticket_id=row.ticket_id, campaign_id=row.campaign_id,
               details=masked_details(row.details, row.action),
               redacted=row.redacted_at is not None)
        for row in rows
    ]


@dataclass
class Page:
    """One keyset page, newest first; ``next_before`` continues it (``None``: the end)."""

    rows: list[LogRow]
    next_before: int | None


def _in_time_order(filters: LogFilter) -> bool:
    """Whether the view is read in ``(at, id)`` order rather than by id.

    A time window in the past ("what happened on the 3rd of last month") read by id made
    PostgreSQL walk back through every row newer than the window (1.7–2.8 s a page at
    10,000,000 rows) or read the whole window and sort it. In time order it walks
    ``ix_interaction_at`` from the window's end (ties on ``at`` broken by id). Ids and
    times agree but for rows written close together by concurrent transactions.
    """
    return filters.start is not None or filters.end is not None


def _order(filters: LogFilter, newest_first: bool) -> tuple:
    columns = (Interaction.at, Interaction.id) if _in_time_order(filters) else (Interaction.id,)
    return tuple(column.desc() for column in columns) if newest_first else columns


def _beyond(filters: LogFilter, at: datetime, row_id: int, newest_first: bool):
    """The keyset condition: rows after (``at``, ``row_id``) in the view's order."""
    if not _in_time_order(filters):
        return Interaction.id < row_id if newest_first else Interaction.id > row_id
    if newest_first:  # the bare ``at`` bound is what the index range scan uses
        return and_(Interaction.at <= at,
                    or_(Interaction.at < at, Interaction.id < row_id))
    return and_(Interaction.at >= at, or_(Interaction.at > at, Interaction.id > row_id))


def page(filters: LogFilter, before: int | None = None, size: int = 50) -> Page:
    """The ``size`` newest rows matching ``filters`` after row ``before`` in its order.

    An id that names no row (a hand-made link) starts from the newest rows.
    """
    query = _where(select(Interaction), filters).order_by(*_order(filters, newest_first=True))
    at = None
    if before is not None and _in_time_order(filters):
        at = db.session.scalar(select(Interaction.at).where(Interaction.id == before))
        if at is None:
            before = None
    if before is not None:
        query = query.where(_beyond(filters, at, before, newest_first=True))
    found = list(db.session.execute(query.limit(size + 1)).scalars())
    more = len(found) > size
    found = found[:size]
    return Page(present(found), found[-1].id if more and found else None)


def row(interaction_id: int) -> LogRow | None:
    """One row as the review shows it, or ``None``."""
    found = db.session.get(Interaction, interaction_id)
    return present([found])[0] if found is not None else None


def parse_before(text: str | None) -> int | None:
    """The ``before`` cursor of a page link, or ``None`` when absent or malformed."""
    if text and text.isdigit() and 0 < int(text) < 2**63:
        return int(text)
    return None


# --- reveal ---------------------------------------------------------------------------


class RevealError(ValueError):
    """A reveal that cannot be done; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Revealed:
    """A row's details and client address in clear, after a logged reveal."""

    row: LogRow
    details: list[Detail]
    ip: str | None


def reveal(interaction_id: int, reason: str, staff_id: int) -> Revealed:
    """Show one row's personal values; logs ``log.revealed`` with the reason. Caller commits."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise RevealError(_("Say why you need to see these values (at least 5 characters)."))
    if len(reason) > REASON_MAX:
        raise RevealError(_("Keep the reason under %(max)d characters.", max=REASON_MAX))
    found = db.session.get(Interaction, interaction_id)
    if found is None:
        raise LookupError(interaction_id)
    shown = present([found])[0]
    clear = [Detail(key, _text(found.details[key]), False) for key in sorted(found.details or {})]
    audit.record("log.revealed", actor_type="staff", actor_id=staff_id,
                 incident_id=found.incident_id, person_id=found.person_id,
                 ticket_id=found.ticket_id, details={"interaction_id": found.id, "reason": reason})
    return Revealed(shown, clear, found.ip)


# --- CSV export -----------------------------------------------------------------------

CSV_COLUMNS = ("id", "time_utc", "actor_type", "actor", "action", "label", "incident",
               "person", "ticket", "campaign", "details", "redacted", "hash")


def log_export(filters: LogFilter, staff_id: int | None, via: str) -> None:
    """Log ``log.exported`` with the filters as typed. Caller commits."""
    audit.record("log.exported", actor_type="staff" if staff_id else "system",
                 actor_id=staff_id, incident_id=filters.incident_id,
                 details={"filters": dict(filters.params), "via": via})


# What the export reads: plain rows, no ORM objects (building and tracking those cost
# several times what writing the CSV does).
# The person's reference comes by join: a lookup per batch binds thousands of ids,
# which cost the driver more than the join costs PostgreSQL.
_EXPORT_COLUMNS = (
    Interaction.id, Interaction.at, Interaction.actor_type, Interaction.actor_id,
    Interaction.action, Interaction.incident_id, Person.external_ref, Interaction.ticket_id,
    Interaction.campaign_id, Interaction.details, Interaction.redacted_at, Interaction.hash,
)


def _lookup(cache: dict, ids: set, column_id, column_value) -> None:
    """Add ``ids``' values not yet in ``cache`` (staff e-mails, incident references)."""
    missing = ids - cache.keys()
    if missing:
        cache.update(db.session.execute(
            select(column_id, column_value).where(column_id.in_(missing))).all())
        cache.update((found, None) for found in missing - cache.keys())


def csv_chunks(filters: LogFilter, batch: int = 5000) -> Iterator[str]:
    """The matching rows as CSV text, oldest first, a batch of rows per chunk.

    Memory stays flat: each batch is a keyset read of plain rows after the previous
    batch's last row (by id, or by time within a time window, as the page), people's
    references joined (staff and incident names, few, are
    kept). Every cell goes through ``safe_row`` (formula injection);
    actors, labels and masked details are the page's (``present``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    staff: dict = {}
    incidents: dict = {}
    labels: dict = {}
    base = _where(select(*_EXPORT_COLUMNS).outerjoin(Person, Person.id == Interaction.person_id),
                  filters).order_by(*_order(filters, newest_first=False))
    query = base
    while True:
        found = db.session.execute(query.limit(batch)).all()
        if not found:
            return
        _lookup(staff, {r[3] for r in found if r[2] == "staff" and r[3]},
                StaffUser.id, StaffUser.email)
        _lookup(incidents, {r[5] for r in found if r[5]}, Incident.id, Incident.reference)
        buffer.seek(0)
        buffer.truncate()
        for (row_id, at, actor_type, actor_id, action, incident_id, person_ref, ticket_id,
             campaign_id, details, redacted_at, row_hash) in found:
            label = labels.get(action)
            if label is None:
                label = labels[action] = label_for(action)
            if actor_type == "staff":
                actor = staff.get(actor_id) or f"staff #{actor_id}"
            else:
                actor = actor_type
            shown = "; ".join(f"{detail.key}={detail.value}"
                              for detail in masked_details(details, action))
            writer.writerow(safe_row((
                row_id, at.astimezone(UTC).isoformat(timespec="seconds"), actor_type, actor,
                action, label, incidents.get(incident_id), person_ref, ticket_id,
                campaign_id, shown, "yes" if redacted_at is not None else "", row_hash,
            )))
        query = base.where(_beyond(filters, found[-1][1], found[-1][0], newest_first=False))
        yield buffer.getvalue()


def export_filename(now: datetime) -> str:
    """``interaction-log-20261128-1530.csv``."""
    return f"interaction-log-{now.astimezone(UTC):%Y%m%d-%H%M}.csv"


# --- chain status ---------------------------------------------------------------------


def chain_status() -> dict | None:
    """The chain's last verification and checkpoint, or ``None`` before checkpoints exist."""
    try:
        from portal.audit import checkpoints
    except ImportError:
        return None
    status = getattr(checkpoints, "status", None)
    return status() if status is not None else None


def filter_names() -> tuple[str, ...]:
    """The query parameters the review and export take."""
    return PARAMS


