"""Retention: when an incident's personal data is due for erasure, and the purge itself.

``purge(incident_id)`` anonymises every person of the incident: every encrypted column,
blind index and digest of the person row is erased (found from the model's column types,
so a personal column added later is erased too), the external reference replaced; the
categories, language, channel choices and counters stay, so every aggregate still adds
up. Rows elsewhere that belong to those people lose their encrypted values as well
(notification contents, activation codes), ticket messages keep their text with the
people's values and anything shaped like an e-mail address, phone number, date or notice
code replaced by ``[redacted]``, and the interaction log's rows about them are redacted
the GDPR way (details replaced by the names of their keys), which keeps the chain
verifiable. The purge logs itself (``data.purged``), with counts only.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from portal.audit import log as audit
from portal.extensions import db
from portal.models import (
    ActivationCode,
    Incident,
    Interaction,
    Notification,
    Person,
    Ticket,
    TicketMessage,
)
from portal.models.base import utcnow
from portal.security.crypto import BlindIndex, EncryptedString, format_code

REDACTED = "[redacted]"
PURGED = "data.purged"
BATCH = 500
# Shapes of personal values written in free text, whoever they belong to.
_PATTERNS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|\+?\d[\d ().-]{5,}\d"  # phone numbers, policy and account numbers
    r"|\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b"  # dates
    r"|\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b",  # notice codes
)
_TEXT_FIELDS = ("first_name", "last_name", "email", "phone", "postcode", "policy_number",
                "date_of_birth", "address_line1", "address_line2", "city", "notice_code",
                "external_ref")


def retention_until(incident: Incident, days: int) -> datetime:
    """When the incident's people are due for purging: ``days`` after containment (or the
    latest of the incident's dates that is set)."""
    start = (incident.contained_at or incident.determined_at or incident.discovered_at
             or incident.created_at)
    return start + timedelta(days=days)


def retention_state(incident: Incident, days: int) -> dict:
    """What the incident page shows: the date, whether it passed, people purged so far."""
    until = retention_until(incident, days)
    purged = db.session.execute(
        select(db.func.count(Person.id)).where(Person.incident_id == incident.id,
                                               Person.anonymised_at.is_not(None))
    ).scalar_one()
    total = db.session.execute(
        select(db.func.count(Person.id)).where(Person.incident_id == incident.id)
    ).scalar_one()
    return {"until": until, "due": until <= utcnow(), "days": days, "purged": purged,
            "people": total, "command": f"flask --app wsgi data purge --incident "
                                        f"{incident.reference}"}


@dataclass
class PurgeSummary:
    """What a purge did (or, in a dry run, would do): counts, never values."""

    reference: str
    dry_run: bool
    people: int = 0
    already_anonymised: int = 0
    related_rows: dict[str, int] = field(default_factory=dict)
    ticket_messages: int = 0
    log_rows: int = 0

    def lines(self) -> list[str]:
        verb = "would" if self.dry_run else "did"
        done = [f"{self.people} people anonymised ({self.already_anonymised} were already)"]
        done += [f"{count} {name} rows cleared" for name, count in
                 sorted(self.related_rows.items())]
        done += [f"{self.ticket_messages} ticket messages redacted",
                 f"{self.log_rows} log rows redacted (the chain stays verifiable)"]
        head = f"purge of incident {self.reference} ({verb}):"
        return [head, *(f"  {line}" for line in done)]

    def details(self) -> dict:
        return {"reference": self.reference, "people": self.people,
                "already_anonymised": self.already_anonymised,
                "related_rows": self.related_rows, "ticket_messages": self.ticket_messages,
                "log_rows": self.log_rows}


def _personal_columns(model) -> list:
    return [column for column in model.__table__.columns
            if isinstance(column.type, (EncryptedString, BlindIndex))]


def _erased(column) -> str | None:
    if column.nullable:
        return None
    # A NOT NULL index (unique): a random value that derives from nothing.
    return secrets.token_hex(32) if isinstance(column.type, BlindIndex) else ""


def _values_of(person: Person) -> set[str]:
    values = set()
    for name in _TEXT_FIELDS:
        value = getattr(person, name, None)
        if value and len(value.strip()) >= 2:
            values.add(value.strip())
            if name == "notice_code":
                values.add(format_code(value))
            if name == "phone":
                values.add(value.lstrip("+"))
    return values


def redact_text(text: str | None, values: set[str]) -> str | None:
    """``text`` with each of ``values`` (any case) and every value-shaped word replaced."""
    if not text:
        return text
    for value in sorted(values, key=len, reverse=True):
        text = re.sub(re.escape(value), REDACTED, text, flags=re.IGNORECASE)
    return _PATTERNS.sub(REDACTED, text)


def _contains(text: str, values: set[str]) -> bool:
    lowered = text.lower()
    return bool(_PATTERNS.search(text)) or any(value.lower() in lowered for value in values)


def _anonymise(person: Person) -> None:
    for column in _personal_columns(Person):
        setattr(person, column.key, _erased(column))
    person.external_ref = f"purged-{person.id}"
    person.session_nonce = None
    person.anonymised_at = utcnow()


def _clear_related(person_ids: list[int], summary: PurgeSummary) -> None:
    """Erase the encrypted values of rows that belong to these people."""
    for model in (Notification, ActivationCode):
        columns = _personal_columns(model)
        rows = db.session.execute(
            select(model).where(model.person_id.in_(person_ids))).scalars().all()
        for row in rows:
            for column in columns:
                setattr(row, column.key, _erased(column))
            if model is Notification:
                row.last_error = None
        if rows:
            summary.related_rows[model.__tablename__] = (
                summary.related_rows.get(model.__tablename__, 0) + len(rows))


def _redact_log_rows(rows, summary: PurgeSummary) -> None:
    now = utcnow()
    for row in rows:
        row.details = {audit.REDACTED_KEY: sorted(row.details)}
        row.redacted_at = now
        summary.log_rows += 1


def purge(incident_id: int, *, dry_run: bool = False) -> PurgeSummary:
    """Anonymise the incident's people and redact what mentions them; commit (or, with
    ``dry_run``, roll everything back) and return what was done."""
    incident = db.session.get(Incident, incident_id)
    summary = PurgeSummary(incident.reference, dry_run)
    known: set[str] = set()
    last = 0
    while True:
        people = db.session.execute(
            select(Person).where(Person.incident_id == incident_id, Person.id > last)
            .order_by(Person.id).limit(BATCH)).scalars().all()
        if not people:
            break
        batch_ids = [person.id for person in people]
        for person in people:
            if person.anonymised_at is not None:
                summary.already_anonymised += 1
                continue
            known |= _values_of(person)
            _anonymise(person)
            summary.people += 1
        _clear_related(batch_ids, summary)
        last = batch_ids[-1]
        db.session.flush()

    people = select(Person.id).where(Person.incident_id == incident_id)
    tickets = select(Ticket.id).where(or_(Ticket.incident_id == incident_id,
                                          Ticket.person_id.in_(people)))
    for message in db.session.execute(
            select(TicketMessage).where(TicketMessage.ticket_id.in_(tickets))
            .execution_options(yield_per=BATCH)).scalars():
        redacted = redact_text(message.body, known)
        if redacted != message.body:
            message.body = redacted
            summary.ticket_messages += 1
    db.session.flush()

    # The log: every row about these people or their tickets, and the incident's other
    # rows whose details mention a personal value. Redacted rows leave the query.
    about_them = or_(Interaction.person_id.in_(people), Interaction.ticket_id.in_(tickets))
    while rows := db.session.execute(
            select(Interaction).where(Interaction.redacted_at.is_(None), about_them)
            .order_by(Interaction.id).limit(BATCH)).scalars().all():
        _redact_log_rows(rows, summary)
        db.session.flush()
    last = 0
    while rows := db.session.execute(
            select(Interaction).where(
                Interaction.redacted_at.is_(None), Interaction.incident_id == incident_id,
                Interaction.action != PURGED, Interaction.id > last)
            .order_by(Interaction.id).limit(BATCH)).scalars().all():
        last = rows[-1].id
        _redact_log_rows([row for row in rows
                          if _contains(audit.canonical_json(row.details), known)], summary)
        db.session.flush()

    if dry_run:
        db.session.rollback()
        return summary
    audit.record(PURGED, incident_id=incident_id, details=summary.details())
    db.session.commit()
    return summary
