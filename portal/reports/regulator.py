"""The regulator report of one incident: facts, timeline, deadlines and evidence counts.

``build(incident)`` returns a plain dict with exactly the top-level keys of
``TOP_LEVEL_KEYS``, in that order (``docs/regulator-report.md`` maps the NAIC model
law §6, NYDFS 500.17 and GDPR Art. 33(3) items to its fields). It holds counts,
dates and the firm's own texts only: no person's name, contact, code or message
is ever read into it, which ``tests/reports/test_regulator.py`` checks.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from portal.extensions import db
from portal.incidents.deadlines import board
from portal.models import (
    Campaign,
    Incident,
    Interaction,
    NoticeVersion,
    Notification,
    Person,
    RegulatorFiling,
    Ticket,
)
from portal.models.base import utcnow
from portal.models.incident import NOTICE_TEXT_FIELDS
from portal.reports.dashboards import SENT_STATUSES, response_times
from portal.reports.sql import dialect

TOP_LEVEL_KEYS = ("incident", "timeline", "deadlines", "notifications", "tickets",
                  "interactions", "sample_notice")
FORMAT_VERSION = 1


def _when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def build(incident: Incident, sla_hours: int, now: datetime | None = None) -> dict:
    """The whole report as a JSON-ready dict."""
    now = now or utcnow()
    return {
        "incident": incident_facts(incident, now),
        "timeline": timeline(incident),
        "deadlines": deadlines(incident, now),
        "notifications": notifications(incident.id),
        "tickets": tickets(incident.id, sla_hours),
        "interactions": interactions(incident.id),
        "sample_notice": sample_notice(incident.id),
    }


def people_by_category(incident_id: int) -> dict[str, int]:
    """How many of the incident's people had each data category exposed."""
    if dialect() == "postgresql":
        sql = ("SELECT category, count(*) FROM person, "
               "json_array_elements_text(person.categories) AS category "
               "WHERE person.incident_id = :incident GROUP BY category ORDER BY category")
    else:
        sql = ("SELECT each.value, count(*) FROM person, json_each(person.categories) AS each "
               "WHERE person.incident_id = :incident GROUP BY each.value ORDER BY each.value")
    rows = db.session.execute(db.text(sql), {"incident": incident_id}).all()
    return {str(category): int(number) for category, number in rows}


def incident_facts(incident: Incident, now: datetime) -> dict:
    """What happened, when, to which data, and whom to contact."""
    people = db.session.scalar(
        select(func.count(Person.id)).where(Person.incident_id == incident.id)) or 0
    return {
        "reference": incident.reference,
        "title": incident.title,
        "status": incident.status,
        "insurer": incident.insurer_name,
        "summary": incident.summary,
        "occurred_from": _when(incident.occurred_from),
        "occurred_to": _when(incident.occurred_to),
        "discovered_at": _when(incident.discovered_at),
        "determined_at": _when(incident.determined_at),
        "contained_at": _when(incident.contained_at),
        "jurisdictions": list(incident.jurisdictions or []),
        "categories": list(incident.categories or []),
        "people_affected": int(people),
        "people_by_category": people_by_category(incident.id),
        "contacts": {
            "hotline": incident.contact_hotline,
            "hours": incident.contact_hours,
            "email": incident.contact_email,
            "postal_address": incident.contact_postal_address,
            "dpo": incident.dpo_contact,
        },
        "monitoring": {
            "provider": incident.monitoring_provider,
            "enroll_url": incident.monitoring_enroll_url,
            "enroll_by": _when(incident.monitoring_enroll_by),
            "description": incident.monitoring_description,
        } if incident.monitoring_provider else None,
        "report_generated_at": _when(now),
        "report_format_version": FORMAT_VERSION,
    }


def timeline(incident: Incident) -> list[dict]:
    """Every dated event of the incident's handling, oldest first."""
    events: list[dict] = []
    for name in ("occurred_from", "occurred_to", "discovered_at", "determined_at",
                 "contained_at"):
        value = getattr(incident, name)
        if value is not None:
            events.append({"at": value, "event": name.removesuffix("_at")})
    for version in db.session.execute(
            select(NoticeVersion.language, NoticeVersion.version, NoticeVersion.approved_at)
            .where(NoticeVersion.incident_id == incident.id,
                   NoticeVersion.approved_at.is_not(None))):
        events.append({"at": version.approved_at, "event": "notice_approved",
                       "language": version.language, "version": version.version})
    for campaign in db.session.execute(
            select(Campaign.id, Campaign.name, Campaign.channels, Campaign.notice_version,
                   Campaign.launched_at, Campaign.completed_at)
            .where(Campaign.incident_id == incident.id)):
        if campaign.launched_at is not None:
            events.append({"at": campaign.launched_at, "event": "campaign_launched",
                           "campaign": campaign.name, "campaign_id": campaign.id,
                           "channels": list(campaign.channels or []),
                           "notice_version": campaign.notice_version})
        if campaign.completed_at is not None:
            events.append({"at": campaign.completed_at, "event": "campaign_completed",
                           "campaign": campaign.name, "campaign_id": campaign.id})
    for filing in db.session.execute(
            select(RegulatorFiling.authority, RegulatorFiling.rule_id,
                   RegulatorFiling.filed_at, RegulatorFiling.reference)
            .where(RegulatorFiling.incident_id == incident.id)):
        events.append({"at": filing.filed_at, "event": "filing", "authority": filing.authority,
                       "rule": filing.rule_id, "reference": filing.reference})
    events.extend(_substitute_events(incident.id))
    events.sort(key=lambda event: event["at"])
    for event in events:
        event["at"] = _when(event["at"])
    return events


def _substitute_events(incident_id: int) -> list[dict]:
    from portal.reports.substitute import events_of

    return events_of(incident_id)


def deadlines(incident: Incident, now: datetime) -> list[dict]:
    """Each applicable rule's deadlines: due, met or missed, and by what margin."""
    rows = []
    for status in board(incident, now):
        margin = None
        if status.due_at is not None and status.met_at is not None:
            margin = int((status.due_at - status.met_at).total_seconds())
        elif status.due_at is not None:
            margin = int((status.due_at - now).total_seconds())
        rows.append({
            "rule": status.rule.id,
            "name": str(status.rule.name),
            "recipient": status.rule.recipient,
            "deadline": status.deadline.key,
            "strict": status.deadline.strict,
            "clock_started_at": _when(status.anchor_at),
            "due_at": _when(status.due_at),
            "state": status.state,
            "met_at": _when(status.met_at),
            "met_by": status.met_by,
            "met_reference": status.met_reference,
            # positive: met (or still open) with this many seconds to spare; negative: late
            "margin_seconds": margin,
        })
    return rows


def notifications(incident_id: int) -> dict:
    """Notification counts by channel and status, with the first and last send per channel."""
    rows = db.session.execute(
        select(Notification.channel, Notification.status, func.count(),
               func.min(Notification.sent_at), func.max(Notification.sent_at))
        .join(Campaign, Campaign.id == Notification.campaign_id)
        .where(Campaign.incident_id == incident_id)
        .group_by(Notification.channel, Notification.status)
    ).all()
    by_channel: dict[str, dict] = {}
    total = 0
    for channel, status, number, first, last in rows:
        entry = by_channel.setdefault(channel, {"by_status": {}, "total": 0,
                                                "first_sent_at": None, "last_sent_at": None})
        entry["by_status"][status] = int(number)
        entry["total"] += int(number)
        total += int(number)
        if first is not None and (entry["first_sent_at"] is None or first < entry["first_sent_at"]):
            entry["first_sent_at"] = first
        if last is not None and (entry["last_sent_at"] is None or last > entry["last_sent_at"]):
            entry["last_sent_at"] = last
    for entry in by_channel.values():
        entry["first_sent_at"] = _when(entry["first_sent_at"])
        entry["last_sent_at"] = _when(entry["last_sent_at"])
    sent = sum(entry["by_status"].get(status, 0)
               for entry in by_channel.values() for status in SENT_STATUSES)
    firsts = [entry["first_sent_at"] for entry in by_channel.values() if entry["first_sent_at"]]
    lasts = [entry["last_sent_at"] for entry in by_channel.values() if entry["last_sent_at"]]
    return {
        "total": total,
        "sent": sent,
        "first_sent_at": min(firsts) if firsts else None,
        "last_sent_at": max(lasts) if lasts else None,
        "by_channel": dict(sorted(by_channel.items())),
        "by_jurisdiction": by_jurisdiction(incident_id),
    }


UNKNOWN_RESIDENCE = "unknown"
# Told: a message delivered, or sent (an e-mail accepted, a letter mailed) with no failure back.
REACHED_STATUSES = ("sent", "delivered")


def by_jurisdiction(incident_id: int) -> dict[str, dict]:
    """Per residence (``US-CA``, ``DE``…; ``unknown`` without a recognised country): the
    affected people, those reached (``REACHED_STATUSES``), and messages by channel
    and status. Three grouped queries on the incident's people; no address is decrypted."""
    residence = func.coalesce(Person.residence, UNKNOWN_RESIDENCE)
    found: dict[str, dict] = {}
    for code, number in db.session.execute(
        select(residence, func.count()).where(Person.incident_id == incident_id)
        .group_by(residence)
    ):
        found[code] = {"people": int(number), "reached": 0, "by_channel": {}}
    for code, channel, status, number in db.session.execute(
        select(residence, Notification.channel, Notification.status, func.count())
        .join(Notification, Notification.person_id == Person.id)
        .where(Person.incident_id == incident_id)
        .group_by(residence, Notification.channel, Notification.status)
    ):
        entry = found.setdefault(code, {"people": 0, "reached": 0, "by_channel": {}})
        entry["by_channel"].setdefault(channel, {})[status] = int(number)
    for code, number in db.session.execute(
        select(residence, func.count(func.distinct(Person.id)))
        .join(Notification, Notification.person_id == Person.id)
        .where(Person.incident_id == incident_id, Notification.status.in_(REACHED_STATUSES))
        .group_by(residence)
    ):
        found[code]["reached"] = int(number)
    return {code: found[code] for code in sorted(found)}


def tickets(incident_id: int, sla_hours: int) -> dict:
    """Ticket counts by topic and status, and first-response times against the SLA."""
    rows = db.session.execute(
        select(Ticket.topic, Ticket.status, func.count())
        .where(Ticket.incident_id == incident_id)
        .group_by(Ticket.topic, Ticket.status)
    ).all()
    by_topic: dict[str, dict[str, int]] = {}
    by_status: dict[str, int] = {}
    for topic, status, number in rows:
        by_topic.setdefault(topic, {})[status] = int(number)
        by_status[status] = by_status.get(status, 0) + int(number)
    times = response_times(incident_id, None, sla_hours)
    return {
        "total": sum(by_status.values()),
        "by_status": dict(sorted(by_status.items())),
        "by_topic": dict(sorted(by_topic.items())),
        "first_response": {
            "sla_hours": sla_hours,
            "met": times.met,
            "missed": times.missed,
            "waiting_within_sla": times.waiting,
            "waiting_overdue": times.waiting_overdue,
            "average_seconds": (round(times.average_seconds)
                                if times.average_seconds is not None else None),
        },
    }


def chain_status() -> dict:
    """The log's last recorded verification and latest checkpoint (``checkpoints.status()``).

    ``intact`` is the last verification's result (``None`` if the log was never verified:
    ``flask audit verify`` or the checkpoint job records one).
    """
    from portal.audit import checkpoints

    found = _jsonable(checkpoints.status())
    verification = found.get("verification")
    return {"source": "checkpoints", "intact": verification["ok"] if verification else None,
            **found}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (datetime, date)):
        return _when(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def interactions(incident_id: int) -> dict:
    """How many log rows concern the incident, and whether the whole log verifies."""
    count = db.session.scalar(
        select(func.count(Interaction.id)).where(Interaction.incident_id == incident_id)) or 0
    return {"count": int(count), "chain": chain_status()}


def sample_notice(incident_id: int) -> dict:
    """The approved notice text in each language (the template, never a person's copy)."""
    found = db.session.execute(
        select(NoticeVersion)
        .where(NoticeVersion.incident_id == incident_id, NoticeVersion.state == "approved")
        .order_by(NoticeVersion.language)
    ).scalars()
    return {
        version.language: {
            "version": version.version,
            "approved_at": _when(version.approved_at),
            **{name: getattr(version, name) for name in NOTICE_TEXT_FIELDS
               if getattr(version, name)},
        }
        for version in found
    }
