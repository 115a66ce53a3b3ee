"""The managers' dashboards: one incident's aggregates, each computed by one SQL query.

Every query filters on the incident first and reads columns indexed for it
(``portal/models/report_indexes.py``, migration 0019), so a dashboard costs a few
index range scans, not a pass over the log. Days are UTC calendar days.
Unknown notice codes are not counted: their failed verifications have no incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from portal.extensions import db
from portal.models import (
    ActivationCode,
    Campaign,
    Interaction,
    Notification,
    Person,
    StaffUser,
    Ticket,
    TicketMessage,
)
from portal.models.base import utcnow
from portal.reports.sql import plus_hours, seconds_between, utc_day

FUNNEL_STAGES = ("people", "sent", "delivered", "verified", "viewed", "revealed")
SENT_STATUSES = ("sent", "delivered", "undelivered")
# Upper bounds in hours of the first-response buckets; the last bucket is open.
RESPONSE_BUCKETS = (1, 4, 8, 24, 48)
VERIFY_ACTIONS = ("verify.failed", "verify.locked")


@dataclass
class FunnelRow:
    channel: str  # "all" for every channel together
    people: int = 0
    sent: int = 0
    delivered: int = 0
    verified: int = 0
    viewed: int = 0
    revealed: int = 0

    def stage(self, name: str) -> int:
        return getattr(self, name)


@dataclass
class DaySeries:
    """Counts per UTC day over a window; ``days`` are ISO dates, oldest first."""

    days: list[str]
    series: dict[str, list[int]] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, list[int]]]:
        names = list(self.series)
        return [(day, [self.series[name][i] for name in names])
                for i, day in enumerate(self.days)]

    @property
    def total(self) -> dict[str, int]:
        return {name: sum(values) for name, values in self.series.items()}


@dataclass
class ResponseTimes:
    buckets: list[int]  # tickets answered within each RESPONSE_BUCKETS bound, then beyond
    met: int
    missed: int
    waiting: int
    waiting_overdue: int
    average_seconds: float | None
    sla_hours: int


@dataclass
class AgentRow:
    staff_id: int | None
    name: str
    replies: int
    with_answer: int
    deviated: int


def window(days: int, today: date | None = None) -> list[str]:
    """The ``days`` ISO dates ending today (UTC), oldest first."""
    end = today or utcnow().date()
    return [(end - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def start_of(days: list[str]) -> datetime:
    """The first moment (UTC) of a window's first day."""
    first = date.fromisoformat(days[0])
    return datetime(first.year, first.month, first.day, tzinfo=utcnow().tzinfo)


def funnel(incident_id: int) -> list[FunnelRow]:
    """People, sent, delivered, verified, notice viewed and code revealed, per channel.

    A channel's row counts distinct people that channel reached; each later stage
    counts only people already counted in the stage before, so a row never grows.
    The ``all`` row counts every person of the incident once.

    Notifications are first folded to one row per channel and person (a person may
    have several campaigns), so each stage is a plain sum over one hash aggregate
    rather than a ``count(DISTINCT)`` that sorts every row again.
    """
    viewed = (select(Interaction.person_id)
              .where(Interaction.incident_id == incident_id,
                     Interaction.action == "notice.viewed",
                     Interaction.person_id.is_not(None))
              .distinct().subquery())
    revealed = (select(ActivationCode.person_id)
                .where(ActivationCode.incident_id == incident_id,
                       ActivationCode.person_id.is_not(None))
                .subquery())
    sent = or_(Notification.status.in_(SENT_STATUSES), Notification.sent_at.is_not(None))
    per_person = (
        select(Notification.channel, Notification.person_id,
               func.max(case((sent, 1), else_=0)).label("sent"),
               func.max(case((and_(sent, Notification.status == "delivered"), 1),
                             else_=0)).label("delivered"))
        .join(Campaign, Campaign.id == Notification.campaign_id)
        .where(Campaign.incident_id == incident_id)
        .group_by(Notification.channel, Notification.person_id)
        .subquery()
    )
    is_sent = per_person.c.sent == 1
    verified = and_(is_sent, Person.last_verified_at.is_not(None))
    is_viewed = and_(verified, viewed.c.person_id.is_not(None))
    is_revealed = and_(is_viewed, revealed.c.person_id.is_not(None))

    def count_where(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (
        select(
            per_person.c.channel,
            func.count(),
            count_where(is_sent),
            count_where(and_(is_sent, per_person.c.delivered == 1)),
            count_where(verified),
            count_where(is_viewed),
            count_where(is_revealed),
        )
        .select_from(per_person)
        .join(Person, Person.id == per_person.c.person_id)
        .outerjoin(viewed, viewed.c.person_id == per_person.c.person_id)
        .outerjoin(revealed, revealed.c.person_id == per_person.c.person_id)
        .group_by(per_person.c.channel)
        .order_by(per_person.c.channel)
    )
    rows = [FunnelRow(channel, *(int(value) for value in counts))
            for channel, *counts in db.session.execute(query)]
    rows.insert(0, _funnel_all(incident_id, viewed, revealed))
    return rows


def _funnel_all(incident_id: int, viewed, revealed) -> FunnelRow:
    sent_people = (select(Notification.person_id)
                   .join(Campaign, Campaign.id == Notification.campaign_id)
                   .where(Campaign.incident_id == incident_id,
                          or_(Notification.status.in_(SENT_STATUSES),
                              Notification.sent_at.is_not(None)))
                   .group_by(Notification.person_id)
                   .add_columns(func.max(case((Notification.status == "delivered", 1),
                                              else_=0)).label("delivered"))
                   .subquery())
    is_sent = sent_people.c.person_id.is_not(None)
    verified = and_(is_sent, Person.last_verified_at.is_not(None))
    viewed_ok = and_(verified, viewed.c.person_id.is_not(None))

    def count_where(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    found = db.session.execute(
        select(
            func.count(Person.id),
            count_where(is_sent),
            count_where(and_(is_sent, sent_people.c.delivered == 1)),
            count_where(verified),
            count_where(viewed_ok),
            count_where(and_(viewed_ok, revealed.c.person_id.is_not(None))),
        )
        .select_from(Person)
        .outerjoin(sent_people, sent_people.c.person_id == Person.id)
        .outerjoin(viewed, viewed.c.person_id == Person.id)
        .outerjoin(revealed, revealed.c.person_id == Person.id)
        .where(Person.incident_id == incident_id)
    ).one()
    return FunnelRow("all", *(int(value or 0) for value in found))


def _per_day(column, incident_id: int, days: list[str], *where) -> list[int]:
    day = utc_day(column).label("day")
    counts = dict(db.session.execute(
        select(day, func.count())
        .where(Ticket.incident_id == incident_id, column >= start_of(days), *where)
        .group_by(day)
    ).all())
    return [int(counts.get(value, 0)) for value in days]


def tickets_per_day(incident_id: int, days: list[str]) -> DaySeries:
    """Tickets opened and tickets resolved on each day of the window."""
    return DaySeries(days, {
        "opened": _per_day(Ticket.created_at, incident_id, days),
        "resolved": _per_day(Ticket.resolved_at, incident_id, days),
    })


def response_times(incident_id: int, since: datetime | None, sla_hours: int) -> ResponseTimes:
    """First responses of tickets opened since ``since`` (None: all), against the SLA.

    A ticket without a due time of its own is held to ``sla_hours``.
    """
    now = utcnow()
    waited = seconds_between(Ticket.first_response_at, Ticket.created_at)
    answered = Ticket.first_response_at.is_not(None)
    due = func.coalesce(Ticket.first_response_due, plus_hours(Ticket.created_at, sla_hours),
                        type_=Ticket.first_response_due.type)
    bounds = [hours * 3600 for hours in RESPONSE_BUCKETS]
    bucket = case(*((waited <= bound, index) for index, bound in enumerate(bounds)),
                  else_=len(bounds))

    def count_where(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    base = [Ticket.incident_id == incident_id]
    if since is not None:
        base.append(Ticket.created_at >= since)
    totals = db.session.execute(select(
        count_where(and_(answered, Ticket.first_response_at <= due)),
        count_where(and_(answered, Ticket.first_response_at > due)),
        count_where(and_(~answered, due >= now)),
        count_where(and_(~answered, due < now)),
        func.avg(case((answered, waited))),
    ).where(*base)).one()
    by_bucket = dict(db.session.execute(
        select(bucket.label("bucket"), func.count())
        .where(*base, answered).group_by("bucket")
    ).all())
    return ResponseTimes(
        buckets=[int(by_bucket.get(index, 0)) for index in range(len(bounds) + 1)],
        met=int(totals[0]), missed=int(totals[1]), waiting=int(totals[2]),
        waiting_overdue=int(totals[3]),
        average_seconds=float(totals[4]) if totals[4] is not None else None,
        sla_hours=sla_hours,
    )


def answers_by_agent(incident_id: int, days: list[str]) -> list[AgentRow]:
    """Each agent's replies to customers, how many used an approved answer, how many deviated."""
    def count_where(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        select(
            TicketMessage.author_id, StaffUser.name, func.count(TicketMessage.id),
            count_where(TicketMessage.answer_version_id.is_not(None)),
            count_where(TicketMessage.deviated.is_(True)),
        )
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .outerjoin(StaffUser, StaffUser.id == TicketMessage.author_id)
        .where(Ticket.incident_id == incident_id, TicketMessage.author_type == "staff",
               TicketMessage.internal.is_(False), TicketMessage.created_at >= start_of(days))
        .group_by(TicketMessage.author_id, StaffUser.name)
        .order_by(func.count(TicketMessage.id).desc(), StaffUser.name)
    ).all()
    return [AgentRow(staff_id, name or "—", int(replies), int(used), int(deviated))
            for staff_id, name, replies, used, deviated in rows]


def verification_per_day(incident_id: int, days: list[str]) -> DaySeries:
    """Failed verifications and lockouts of the incident's notice codes per day."""
    day = utc_day(Interaction.at).label("day")
    found = db.session.execute(
        select(day, Interaction.action, func.count())
        .where(Interaction.incident_id == incident_id, Interaction.action.in_(VERIFY_ACTIONS),
               Interaction.at >= start_of(days))
        .group_by(day, Interaction.action)
    ).all()
    counts = {(value, action): int(number) for value, action, number in found}
    return DaySeries(days, {
        "failed": [counts.get((value, "verify.failed"), 0) for value in days],
        "locked": [counts.get((value, "verify.locked"), 0) for value in days],
    })
