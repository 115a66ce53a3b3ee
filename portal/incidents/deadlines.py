"""The deadline board: each applicable rule's due times and whether they were met.

A deadline is met by a regulator filing recorded against its rule (the n-th
filing for a rule meets its n-th stage) or, for rules that tell individuals, by
the notification campaign that reached its people: it meets the deadline when
its last message went out (an SMS or e-mail sent, a letter mailed), so a campaign
still under way, or one whose letters are printed but not mailed, meets nothing
yet; one that ended after the due time meets it late. Rules counting from another event (the
California Attorney General's 15 days after the residents were told) have no due
time until that event happened.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from portal.extensions import db
from portal.models import Campaign, Incident, Notification, RegulatorFiling
from portal.models.base import utcnow
from portal.rules import Deadline, Rule, get_rule, rules_for

# Board states, in the order a manager should look at them.
STATES = ("overdue", "open", "waiting", "no_fixed_deadline", "met_late", "met")


@dataclass
class DeadlineStatus:
    rule: Rule
    deadline: Deadline
    anchor_at: datetime | None  # when the clock started (None: not yet)
    due_at: datetime | None  # None: no fixed deadline, or the clock has not started
    met_at: datetime | None
    met_by: str | None  # "filing" or "campaign"
    met_reference: str | None  # filing reference / authority, or campaign name
    state: str  # one of STATES
    remaining: timedelta | None  # due_at - now (negative when overdue); None when met or no due

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"


def add_business_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Saturdays and Sundays skipped; no holidays)."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def add_months(start: datetime, months: int) -> datetime:
    """``start`` plus calendar months, clamped to the last day of a shorter month."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def due_time(anchor: datetime, deadline: Deadline) -> datetime | None:
    """When ``deadline`` falls due for a clock started at ``anchor``."""
    if deadline.amount is None:
        return None
    if deadline.unit == "hours":
        return anchor + timedelta(hours=deadline.amount)
    if deadline.unit == "calendar_days":
        return anchor + timedelta(days=deadline.amount)
    if deadline.unit == "business_days":
        return add_business_days(anchor, deadline.amount)
    if deadline.unit == "months":
        return add_months(anchor, deadline.amount)
    raise ValueError(f"unknown unit {deadline.unit!r}")


def _campaign_that_reached(incident_id: int) -> tuple[int, datetime] | None:
    """(notice version, when) of the campaign that first finished reaching its people, if any.

    A campaign has reached its people when no message is left to go out (none
    pending or being sent, no letter printed but not yet mailed); it did so when
    its last SMS or e-mail was sent or its last letter mailed.
    """
    reached_at = case((Notification.channel == "letter", Notification.delivered_at),
                      else_=Notification.sent_at)
    open_row = or_(Notification.status.in_(("pending", "sending")),
                   and_(Notification.channel == "letter", Notification.status == "sent"))
    rows = db.session.execute(
        select(Campaign.notice_version, func.max(reached_at),
               func.sum(case((open_row, 1), else_=0)))
        .join(Notification, Notification.campaign_id == Campaign.id)
        .where(Campaign.incident_id == incident_id, Campaign.launched_at.is_not(None),
               Campaign.status != "cancelled")
        .group_by(Campaign.id, Campaign.notice_version)
    ).all()
    reached = [(number, when) for number, when, still_open in rows
               if when is not None and not still_open]
    return min(reached, key=lambda item: item[1]) if reached else None


class _Evidence:
    """Filings and campaign launches of one incident, loaded once."""

    def __init__(self, incident: Incident):
        self.filings: dict[str, list[RegulatorFiling]] = {}
        rows = db.session.execute(
            select(RegulatorFiling)
            .where(RegulatorFiling.incident_id == incident.id, RegulatorFiling.rule_id.is_not(None))
            .order_by(RegulatorFiling.filed_at, RegulatorFiling.id)
        ).scalars()
        for filing in rows:
            self.filings.setdefault(filing.rule_id, []).append(filing)
        self.first_campaign = _campaign_that_reached(incident.id)
        self.reference = incident.reference

    def met(self, rule: Rule, stage_index: int) -> tuple[datetime | None, str | None, str | None]:
        """(when, by what, reference) for a rule's stage, or Nones."""
        options = []
        filings = self.filings.get(rule.id, [])
        if stage_index < len(filings):
            filing = filings[stage_index]
            label = " · ".join(part for part in (filing.authority, filing.reference) if part)
            options.append((filing.filed_at, "filing", label))
        if stage_index == 0 and rule.tells_individuals and self.first_campaign is not None:
            from portal.dispatch.campaigns import title  # (it imports the incidents' rules)

            number, when = self.first_campaign
            options.append((when, "campaign", title(self.reference, number)))
        if not options:
            return None, None, None
        return min(options, key=lambda option: option[0])


def board(incident: Incident, now: datetime | None = None) -> list[DeadlineStatus]:
    """The deadline board of ``incident``: one row per applicable rule and stage."""
    now = now or utcnow()
    evidence = _Evidence(incident)
    rows: list[DeadlineStatus] = []
    for rule in rules_for(incident.jurisdictions):
        stage_met: dict[str, datetime | None] = {}
        for index, deadline in enumerate(rule.deadlines):
            if deadline.counts_from:
                anchor = getattr(incident, deadline.counts_from)
            elif deadline.after_rule:
                other = get_rule(deadline.after_rule)
                anchor = evidence.met(other, 0)[0] if other else None
            else:
                anchor = stage_met.get(deadline.after_stage)
            met_at, met_by, met_reference = evidence.met(rule, index)
            stage_met[deadline.key] = met_at
            due = due_time(anchor, deadline) if anchor else None
            rows.append(_status(rule, deadline, anchor, due, met_at, met_by, met_reference, now))
    return rows


def _status(rule, deadline, anchor, due, met_at, met_by, met_reference, now) -> DeadlineStatus:
    remaining = None
    if met_at is not None:
        state = "met_late" if due is not None and met_at > due else "met"
    elif deadline.amount is None:
        state = "no_fixed_deadline"
    elif anchor is None:
        state = "waiting"
    else:
        remaining = due - now
        state = "overdue" if remaining.total_seconds() < 0 else "open"
    return DeadlineStatus(rule, deadline, anchor, due, met_at, met_by, met_reference, state,
                          remaining)


def next_due(incident: Incident, now: datetime | None = None) -> DeadlineStatus | None:
    """The open deadline falling due soonest (overdue ones first), if any."""
    pending = [row for row in board(incident, now) if row.state in ("open", "overdue")]
    return min(pending, key=lambda row: row.due_at) if pending else None
