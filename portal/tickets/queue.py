"""The agents' queue: filters, the default sort by the next due time, keyset pages.

Every page is one index range scan on ``(next_due_at, id)`` (or the same columns
behind ``status``, ``assignee_id`` or ``incident_id``): no OFFSET, so page 1,000
costs what page 1 costs. A search (``q``) finds people through the blind indexes
(e-mail, phone, policy number, notice code) or their reference, never by
decrypting rows, and tickets by the words of their topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import phonenumbers
from flask import current_app
from sqlalchemy import and_, literal, or_, select, tuple_

from portal.core import lists
from portal.extensions import db
from portal.models.base import UTCDateTime
from portal.models.incident import Incident
from portal.models.person import Person
from portal.models.staff import StaffUser
from portal.models.ticket import PAUSED_DUE, TICKET_CHANNELS, TICKET_STATUSES, Ticket
from portal.people.queries import reference_spellings
from portal.security.crypto import (
    code_index,
    email_index,
    is_valid_code,
    normalise_code,
    normalise_token,
    phone_index,
    policy_index,
)
from portal.tickets.queries import QUEUE_STATUSES

SLA_FILTERS = ("breached", "due_today")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"^(-?\d{1,20})\.(\d{1,19})$")
Q_MAX = 200
# At most this many people match one search (a shared phone or e-mail): their tickets show.
SEARCH_PEOPLE_MAX = 200


class BadFilter(ValueError):
    """A filter value the queue cannot use; ``field`` names the parameter."""

    def __init__(self, field_name: str):
        super().__init__(field_name)
        self.field = field_name


@dataclass
class QueueFilters:
    """The queue's query parameters, checked."""

    status: str = ""  # "" = the working queue (QUEUE_STATUSES), "all", or one status
    assignee: str = ""  # "", "me", "none" or a staff id
    channel: str = ""
    language: str = ""
    incident: str = ""  # an incident reference
    sla: str = ""
    q: str = ""
    after: str = ""
    problems: list[str] = field(default_factory=list)

    def as_args(self, **changes) -> dict[str, str]:
        """The non-empty parameters (for links), with ``changes`` applied."""
        values = {name: getattr(self, name) for name in
                  ("status", "assignee", "channel", "language", "incident", "sla", "q")}
        values.update(changes)
        return {name: value for name, value in values.items() if value}


def parse_filters(args: Mapping[str, str], languages) -> QueueFilters:
    """Read the queue's parameters; a value that cannot be used is dropped and named."""
    filters = QueueFilters()
    checks = {
        "status": lambda v: v in ("all", *TICKET_STATUSES),
        "assignee": lambda v: v in ("me", "none") or (v.isdigit() and len(v) < 10),
        "channel": lambda v: v in TICKET_CHANNELS,
        "language": lambda v: v in languages,
        "incident": lambda v: len(v) <= 40,
        "sla": lambda v: v in SLA_FILTERS,
        "q": lambda v: len(v) <= Q_MAX,
        "after": lambda v: bool(_CURSOR.match(v)),
    }
    for name, ok in checks.items():
        value = (args.get(name) or "").strip()
        if not value:
            continue
        if ok(value):
            setattr(filters, name, value)
        else:
            filters.problems.append(name)
    return filters


def encode_cursor(due: datetime, ticket_id: int) -> str:
    """The ``after`` value for the page after the row (due, id)."""
    micros = (due - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{ticket_id}"


def decode_cursor(value: str) -> tuple[datetime, int] | None:
    match = _CURSOR.match(value or "")
    if not match:
        return None
    try:
        due = _EPOCH + timedelta(microseconds=int(match.group(1)))
    except OverflowError:
        return None
    return due, int(match.group(2))


@dataclass
class QueueRow:
    id: int
    topic: str
    status: str
    channel: str
    language: str
    next_due_at: datetime
    created_at: datetime
    last_customer_message_at: datetime | None
    incident_reference: str | None
    assignee_id: int | None
    assignee_name: str | None
    person_reference: str | None

    @property
    def due(self) -> datetime | None:
        return None if self.next_due_at >= PAUSED_DUE else self.next_due_at


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_after: str | None
    # The people a search by reference, phone, e-mail, policy number or code found (the
    # look-up is logged with them, as the people search logs its own).
    person_ids: tuple[int, ...] = ()


def normalise_phone(value: str) -> str | None:
    """E.164 for a phone number typed in a search box, or None."""
    try:
        number = phonenumbers.parse(value, current_app.config["PORTAL_DEFAULT_REGION"])
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def incident_ids() -> list[int]:
    """Every incident's id (few): lets lookups use the (incident_id, index) indexes."""
    return list(db.session.execute(select(Incident.id)).scalars())


def people_matching(q: str, within: list[int] | None = None):
    """A subquery of the ids of people whose reference, e-mail, phone, policy number or
    notice code is ``q``, through the blind indexes (no row is decrypted).
    """
    q = q.strip()
    within = incident_ids() if within is None else within
    conditions = [Person.external_ref.in_(reference_spellings(q))]
    if "@" in q:
        conditions.append(Person.email_index == email_index(q))
    phone = normalise_phone(q) if re.search(r"\d{4}", q) else None
    if phone:
        conditions.append(Person.phone_index == phone_index(phone))
    if normalise_token(q):
        conditions.append(Person.policy_index == policy_index(q))
    if is_valid_code(normalise_code(q)):
        conditions.append(Person.code_index == code_index(q))
    return select(Person.id).where(Person.incident_id.in_(within), or_(*conditions))


def _conditions(filters: QueueFilters, staff_id: int, now: datetime, day_end: datetime,
                topic_keys: set[str], person_ids: list[int]) -> list | None:
    """The WHERE clause of the filters (None: nothing can match)."""
    where = []
    if filters.status == "":
        where.append(Ticket.status.in_(QUEUE_STATUSES))
    elif filters.status != "all":
        where.append(Ticket.status == filters.status)
    if filters.assignee == "me":
        where.append(Ticket.assignee_id == staff_id)
    elif filters.assignee == "none":
        where.append(Ticket.assignee_id.is_(None))
    elif filters.assignee:
        where.append(Ticket.assignee_id == int(filters.assignee))
    if filters.channel:
        where.append(Ticket.channel == filters.channel)
    if filters.language:
        where.append(Ticket.language == filters.language)
    if filters.incident:
        found = db.session.execute(
            select(Incident.id).where(Incident.reference.in_(
                reference_spellings(filters.incident)))).scalar()
        if found is None:
            return None
        where.append(Ticket.incident_id == found)
    due = Ticket.next_due_at
    if filters.sla == "breached":
        where.append(due < literal(now, UTCDateTime()))
    elif filters.sla == "due_today":
        where.append(and_(due >= literal(now, UTCDateTime()),
                          due < literal(day_end, UTCDateTime())))
    if filters.q:
        found = [Ticket.person_id.in_(person_ids)] if person_ids else []
        number = filters.q.removeprefix("#").strip()  # "#13", as the pages write numbers
        if number.isdigit() and len(number) < 10:
            found.append(Ticket.id == int(number))
        if topic_keys:
            found.append(Ticket.topic.in_(sorted(topic_keys)))
        if not found:
            return None
        where.append(or_(*found))
    return where


# The columns, joins and order of every queue page, built once (building them cost about
# 400 Python calls a page); each page adds its conditions and limit to a copy.
_QUEUE = (
    select(Ticket.id, Ticket.topic, Ticket.status, Ticket.channel, Ticket.language,
           Ticket.next_due_at, Ticket.created_at, Ticket.last_customer_message_at,
           Incident.reference, Ticket.assignee_id, StaffUser.name, Person.external_ref)
    .outerjoin(Incident, Incident.id == Ticket.incident_id)
    .outerjoin(StaffUser, StaffUser.id == Ticket.assignee_id)
    .outerjoin(Person, Person.id == Ticket.person_id)
    .order_by(Ticket.next_due_at, Ticket.id)
)


def queue_page(filters: QueueFilters, *, staff_id: int, now: datetime, day_end: datetime,
               topic_keys: set[str] = frozenset(), limit: int = 50,
               within: list[int] | None = None) -> QueuePage:
    """One page of the queue, by next due time then id, after ``filters.after``.

    ``within`` limits it to those incidents (``portal.tickets.access``).
    """
    person_ids = []
    if filters.q:
        # The people first, in their own statement (a few index probes), then their
        # tickets by id: as a subquery the planner does not know it yields a handful of
        # people and walks the whole queue in due order testing each ticket. Only the
        # incidents the staff member may see: another incident's people cost no statement
        # more or less than nobody.
        person_ids = list(db.session.execute(
            people_matching(filters.q, within).limit(SEARCH_PEOPLE_MAX)).scalars())
    where = _conditions(filters, staff_id, now, day_end, topic_keys, person_ids)
    if where is None:
        return QueuePage([], None, tuple(person_ids))
    if within is not None:
        where.append(Ticket.incident_id.in_(within))
    cursor = decode_cursor(filters.after)
    if cursor is not None:
        where.append(tuple_(Ticket.next_due_at, Ticket.id)
                     > tuple_(literal(cursor[0], UTCDateTime()), literal(cursor[1])))
    query = _QUEUE.where(*where).limit(limit + 1)
    rows = [QueueRow(*row) for row in db.session.execute(query).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    next_after = encode_cursor(rows[-1].next_due_at, rows[-1].id) if more and rows else None
    return QueuePage(rows, next_after, tuple(person_ids))


# The active staff, kept per process (portal.core.lists).
AGENTS = lists.KeptList("agents", frozenset({StaffUser.__tablename__}))
# Built once: every queue and ticket page reads it.
_AGENTS = (select(StaffUser.id, StaffUser.name).where(StaffUser.active.is_(True))
           .order_by(StaffUser.name))


def agents(*, fresh: bool = False) -> list[tuple[int, str]]:
    """Active staff who can be assigned tickets, by name.

    Kept per process for ``LIST_CACHE_SECONDS`` (``portal.core.lists``) unless ``fresh``:
    what is acted on (an assignment) is checked against a fresh read.
    """
    if fresh:
        return _read_agents()
    return lists.kept(AGENTS, None, _read_agents)


def _read_agents() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(_AGENTS).all()]
