"""The interaction log: the one way to write it, and the check of its hash chain.

Each row's ``hash`` is SHA-256 over the previous row's hash and the row's own
fields (with ``details`` represented by its digest), so changing, deleting or
reordering any row breaks the chain at that row. ``record`` adds the row to the
caller's transaction, so an action and its log entry commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import make_transient_to_detached

from portal.audit import context as audit_context
from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow
from portal.models.interaction import ACTOR_TYPES, Interaction

GENESIS = "0" * 64
REDACTED_KEY = "_redacted"
# Any constant works; it only has to be the same in every process.
_PG_LOCK_KEY = 0x5EA1_0A0D


def canonical_json(value) -> str:
    """Serialise to the one canonical JSON text used for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest_details(details: dict) -> str:
    """SHA-256 of a details payload in canonical form."""
    return hashlib.sha256(canonical_json(details).encode()).hexdigest()


def _fields_after_prev(row: Interaction | dict) -> list:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    at: datetime = get("at")
    return [
        at.isoformat(timespec="microseconds"),
        get("actor_type"),
        get("actor_id"),
        get("action"),
        get("incident_id"),
        get("person_id"),
        get("ticket_id"),
        get("campaign_id"),
        get("details_digest"),
        get("ip"),
    ]


def _row_hash(prev_hash: str, row: Interaction | dict) -> str:
    fields = [prev_hash, *_fields_after_prev(row)]
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def hash_tail(row: Interaction | dict) -> str:
    """The canonical JSON hashed for ``row`` after its previous hash: ``["<prev>",`` + this.

    For a previous hash of hex digits (every hash, and GENESIS), ``'["' + prev + '",' +
    hash_tail(row)`` is exactly the text ``_row_hash`` hashes; PostgreSQL's
    ``interaction_append`` uses it to hash the row once it knows the previous hash.
    """
    return canonical_json(_fields_after_prev(row))[1:]


_PG_APPEND = text(
    "SELECT new_id, new_prev, new_hash FROM interaction_append("
    ":key, :genesis, :tail, :at, :actor_type, CAST(:actor_id AS integer), :action, "
    "CAST(:incident_id AS integer), CAST(:person_id AS integer), "
    "CAST(:ticket_id AS integer), CAST(:campaign_id AS integer), CAST(:details AS json), "
    ":details_digest, :ip)"
).bindparams(bindparam("at", type_=UTCDateTime()))


def _previous_hash(before_id: int | None = None) -> str:
    query = select(Interaction.hash).order_by(Interaction.id.desc()).limit(1)
    if before_id is not None:
        query = query.where(Interaction.id < before_id)
    return db.session.execute(query).scalar_one_or_none() or GENESIS


def record(
    action: str,
    *,
    actor_type: str | None = None,
    actor_id: int | None = None,
    incident_id: int | None = None,
    person_id: int | None = None,
    ticket_id: int | None = None,
    campaign_id: int | None = None,
    details: dict | None = None,
    ip: str | None = None,
) -> Interaction:
    """Append one interaction to the log within the current transaction.

    The actor defaults to the signed-in staff member or verified customer of the
    current request, else ``system``; the IP defaults to the request's. Both come
    from the request's ``portal.audit.context``, which the web layer keeps.
    """
    context = audit_context.current()
    if actor_type is None:
        actor_type, inferred_id = context.actor if context is not None else ("system", None)
        actor_id = actor_id if actor_id is not None else inferred_id
    if actor_type not in ACTOR_TYPES:
        raise ValueError(f"unknown actor type {actor_type!r}")
    if ip is None and context is not None:
        ip = context.ip
    payload = json.loads(canonical_json(details or {}))
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Write the transaction's other pending changes first, so they are not
        # written while the lock below is held.
        db.session.flush()
    row = Interaction(
        at=utcnow(),
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        incident_id=incident_id,
        person_id=person_id,
        ticket_id=ticket_id,
        campaign_id=campaign_id,
        details=payload,
        details_digest=digest_details(payload),
        ip=ip,
    )
    if postgres:
        _append_in_postgres(row)
        return row
    # SQLite serialises writers itself, but only from a transaction's first
    # write: insert a placeholder first, then read the previous row while
    # holding the write lock, so two threads cannot chain to the same row.
    row.prev_hash = row.hash = f"pending-{uuid.uuid4().hex}"
    db.session.add(row)
    db.session.flush()
    row.prev_hash = _previous_hash(before_id=row.id)
    row.hash = _row_hash(row.prev_hash, row)
    db.session.flush()
    return row


def _append_in_postgres(row: Interaction) -> None:
    """Insert ``row`` with ``interaction_append`` (migration 0006) in one round trip.

    The function takes the log's lock (held until this transaction ends), reads
    the newest hash and inserts the row with its hash. The row object then joins
    the session as the stored row, without another read.
    """
    found = db.session.execute(_PG_APPEND, {
        "key": _PG_LOCK_KEY, "genesis": GENESIS, "tail": hash_tail(row), "at": row.at,
        "actor_type": row.actor_type, "actor_id": row.actor_id, "action": row.action,
        "incident_id": row.incident_id, "person_id": row.person_id,
        "ticket_id": row.ticket_id, "campaign_id": row.campaign_id,
        "details": canonical_json(row.details), "details_digest": row.details_digest,
        "ip": row.ip,
    }).one()
    row.id, row.prev_hash, row.hash = found.new_id, found.new_prev, found.new_hash
    row.redacted_at = None
    make_transient_to_detached(row)
    db.session.add(row)


@dataclass
class ChainReport:
    """Outcome of a chain check: ``bad_id`` is the first broken row, if any."""

    checked: int
    bad_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.bad_id is None


def _rows(batch: int) -> Iterator[Interaction]:
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Interaction)
            .where(Interaction.id > last_id)
            .order_by(Interaction.id)
            .limit(batch)
        ).scalars().all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        db.session.expunge_all()


def verify(batch: int = 5000) -> ChainReport:
    """Walk the log in order and report the first row that breaks the chain."""
    expected_prev = GENESIS
    checked = 0
    for row in _rows(batch):
        if row.prev_hash != expected_prev:
            return ChainReport(
                checked, row.id, "does not follow the previous row (deleted or reordered)"
            )
        if row.redacted_at is None:
            if digest_details(row.details) != row.details_digest:
                return ChainReport(checked, row.id, "details were changed")
        elif set(row.details) != {REDACTED_KEY}:
            return ChainReport(checked, row.id, "redacted row carries details")
        if _row_hash(row.prev_hash, row) != row.hash:
            return ChainReport(checked, row.id, "row fields were changed")
        expected_prev = row.hash
        checked += 1
    return ChainReport(checked)


def redact_person(person_id: int) -> int:
    """Erase the details payload of a person's interactions, keeping the chain valid."""
    rows = db.session.execute(
        select(Interaction).where(
            Interaction.person_id == person_id, Interaction.redacted_at.is_(None)
        )
    ).scalars().all()
    now = utcnow()
    for row in rows:
        row.details = {REDACTED_KEY: sorted(row.details)}
        row.redacted_at = now
    return len(rows)
