"""SLA clocks: first-response and resolution due times, in business or calendar hours.

An incident's targets come from its ``TicketSla`` row, else from the settings
``TICKET_FIRST_RESPONSE_HOURS`` and ``TICKET_RESOLUTION_HOURS``. With business
days set, a clock counts only the hours between ``day_start`` and ``day_end`` of
those days in the incident's time zone; otherwise it counts calendar hours.

The resolution clock stops while a ticket waits for the customer
(``pending_customer``) or is resolved; when the customer writes again it resumes
with the time that was left. The due time the queue sorts by is stored on the
ticket (``next_due_at``) so the queue is an index scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from flask import current_app
from sqlalchemy import select

from portal.core.i18n import zone
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.incident import Incident
from portal.models.ticket import NO_DUE, PAUSED_DUE, Ticket, TicketSla

# A clock never looks further than this for business hours (a year and a bit).
_MAX_DAYS = 400
STOPPED_STATUSES = ("resolved", "closed")


@dataclass(frozen=True)
class Targets:
    """An incident's SLA: hours per clock and, for business hours, the working week."""

    first_response_hours: int | None
    resolution_hours: int | None
    days: frozenset[int] | None = None  # ISO weekdays; None: calendar hours
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    zone: tzinfo = UTC

    @property
    def business(self) -> bool:
        return bool(self.days) and self.day_end > self.day_start


def parse_days(value: str | None) -> frozenset[int] | None:
    """ISO weekdays from "1,2,3,4,5" (None or empty: calendar hours)."""
    if not value:
        return None
    days = frozenset(int(part) for part in value.split(",") if part.strip())
    if not days or not days <= set(range(1, 8)):
        raise ValueError(f"weekdays must be 1 to 7: {value!r}")
    return days


def parse_clock(value: str | None, default: time) -> time:
    """A time of day from "HH:MM"."""
    if not value:
        return default
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def default_targets() -> Targets:
    """The settings' targets, in calendar hours."""
    config = current_app.config
    return Targets(int(config["TICKET_FIRST_RESPONSE_HOURS"] or 0) or None,
                   int(config["TICKET_RESOLUTION_HOURS"] or 0) or None)


def targets_for(incident_id: int | None) -> Targets:
    """The SLA of an incident (the settings' defaults where it sets none)."""
    defaults = default_targets()
    if incident_id is None:
        return defaults
    row = db.session.execute(
        select(TicketSla, Incident.time_zone)
        .join(Incident, Incident.id == TicketSla.incident_id)
        .where(TicketSla.incident_id == incident_id)
    ).first()
    if row is None:
        return defaults
    sla, zone_name = row
    return Targets(
        first_response_hours=sla.first_response_hours or defaults.first_response_hours,
        resolution_hours=sla.resolution_hours or defaults.resolution_hours,
        days=parse_days(sla.business_days),
        day_start=parse_clock(sla.day_start, time(9, 0)),
        day_end=parse_clock(sla.day_end, time(17, 0)),
        zone=zone(zone_name),
    )


def _window(day: date, targets: Targets) -> tuple[datetime, datetime] | None:
    """The working hours of one local day, in UTC (None on a day off)."""
    if day.isoweekday() not in (targets.days or ()):
        return None
    start = datetime.combine(day, targets.day_start, tzinfo=targets.zone).astimezone(UTC)
    end = datetime.combine(day, targets.day_end, tzinfo=targets.zone).astimezone(UTC)
    return start, end


def add_hours(start: datetime, hours: float, targets: Targets) -> datetime:
    """``start`` plus ``hours`` of the targets' clock (business or calendar)."""
    return add_seconds(start, hours * 3600, targets)


def add_seconds(start: datetime, seconds: float, targets: Targets) -> datetime:
    """``start`` plus ``seconds`` of the targets' clock (business or calendar)."""
    start = start.astimezone(UTC)
    if not targets.business:
        return start + timedelta(seconds=seconds)
    remaining = timedelta(seconds=seconds)
    day = start.astimezone(targets.zone).date()
    for _ in range(_MAX_DAYS):
        window = _window(day, targets)
        if window is not None:
            begin = max(window[0], start)
            if begin < window[1]:
                available = window[1] - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    return start + timedelta(seconds=seconds)  # no working day found: calendar time


def business_seconds(start: datetime, end: datetime, targets: Targets) -> float:
    """Seconds of the targets' clock between ``start`` and ``end`` (0 if end is earlier)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return 0.0
    if not targets.business:
        return (end - start).total_seconds()
    total = 0.0
    day = start.astimezone(targets.zone).date()
    last = end.astimezone(targets.zone).date()
    while day <= last:
        window = _window(day, targets)
        if window is not None:
            begin, finish = max(window[0], start), min(window[1], end)
            if finish > begin:
                total += (finish - begin).total_seconds()
        day += timedelta(days=1)
    return total


def start_clocks(ticket: Ticket, now: datetime | None = None) -> None:
    """Start a new ticket's clocks from ``now``."""
    now = now or utcnow()
    targets = targets_for(ticket.incident_id)
    ticket.first_response_due = (add_hours(now, targets.first_response_hours, targets)
                                 if targets.first_response_hours else None)
    ticket.resolution_due = (add_hours(now, targets.resolution_hours, targets)
                             if targets.resolution_hours else None)
    ticket.paused_at = None
    refresh_due(ticket)


def stop_clock(ticket: Ticket, now: datetime | None = None) -> None:
    """Stop the resolution clock (waiting for the customer, or resolved)."""
    if ticket.paused_at is None:
        ticket.paused_at = now or utcnow()
    refresh_due(ticket)


def resume_clock(ticket: Ticket, now: datetime | None = None) -> None:
    """Restart a stopped resolution clock with the time that was left when it stopped.

    A clock that was already overdue when it stopped stays overdue by as much.
    """
    now = now or utcnow()
    if ticket.paused_at is not None:
        paused_at = ticket.paused_at
        ticket.paused_seconds = (ticket.paused_seconds or 0) + max(
            0, int((now - paused_at).total_seconds()))
        if ticket.resolution_due is not None:
            targets = targets_for(ticket.incident_id)
            if ticket.resolution_due > paused_at:
                left = business_seconds(paused_at, ticket.resolution_due, targets)
                ticket.resolution_due = add_seconds(now, left, targets)
            else:
                ticket.resolution_due = ticket.resolution_due + (now - paused_at)
        ticket.paused_at = None
    refresh_due(ticket)


def refresh_due(ticket: Ticket) -> None:
    """Set ``next_due_at`` from the ticket's status and clocks."""
    if ticket.status in STOPPED_STATUSES:
        ticket.next_due_at = NO_DUE
    elif ticket.first_response_at is None and ticket.first_response_due is not None:
        ticket.next_due_at = min(ticket.first_response_due, ticket.resolution_due or NO_DUE)
    elif ticket.paused_at is not None:
        ticket.next_due_at = PAUSED_DUE
    else:
        ticket.next_due_at = ticket.resolution_due or NO_DUE


def shown_due(ticket: Ticket) -> datetime | None:
    """The due time to show (None when no clock is running)."""
    due = ticket.next_due_at
    return None if due is None or due >= PAUSED_DUE else due


def time_left(ticket: Ticket, now: datetime | None = None) -> timedelta | None:
    """Time until the next due time (negative when late; None without a running clock)."""
    due = shown_due(ticket)
    return None if due is None else due - (now or utcnow())


def sla_row(incident_id: int) -> TicketSla | None:
    """An incident's own SLA row (None: the settings' defaults apply)."""
    return db.session.execute(
        select(TicketSla).where(TicketSla.incident_id == incident_id)).scalar_one_or_none()


def save_targets(incident_id: int, values: dict) -> dict:
    """Store an incident's SLA (``first_response_hours``, ``resolution_hours``,
    ``business_days`` as "1,2,3", ``day_start``, ``day_end``); return what changed.

    New tickets use it; open tickets keep the due times they were given. Logged as
    ``ticket.sla_changed`` with before and after.
    """
    from portal.audit import log as audit

    row = sla_row(incident_id)
    if row is None:
        row = TicketSla(incident_id=incident_id)
        db.session.add(row)
    names = ("first_response_hours", "resolution_hours", "business_days", "day_start",
             "day_end")
    changes = {name: {"from": getattr(row, name), "to": values.get(name)} for name in names
               if getattr(row, name) != values.get(name)}
    for name in names:
        setattr(row, name, values.get(name))
    if changes:
        audit.record("ticket.sla_changed", incident_id=incident_id, details=changes)
    return changes


def overview() -> list[tuple[Incident, TicketSla | None]]:
    """Every incident with its own SLA row, if any, newest first."""
    return [tuple(row) for row in db.session.execute(
        select(Incident, TicketSla).outerjoin(TicketSla, TicketSla.incident_id == Incident.id)
        .order_by(Incident.created_at.desc())).all()]
