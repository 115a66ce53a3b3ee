"""The interaction log: the one way to write it, the sealer that chains it, and the check.

Each row, once *sealed*, has a place in the chain (``seq``: 1, 2, 3 ...), the hash of
the row before it and its own hash: HMAC-SHA256 under ``PORTAL_AUDIT_KEY`` (a secret
that is never in the database) over the previous hash, its place and its *message*,
the JSON array of its fields with ``details`` represented by their digest. Without
the key nobody can write a row, or recompute the hashes after a changed one, that
``verify`` accepts; deleting the newest rows is caught by the signed checkpoints of
``portal.audit.checkpoints``.

``record`` adds the row to the caller's transaction, so an action and its log entry
commit or roll back together. On SQLite (one writer at a time) it seals the row at
once. On PostgreSQL it only inserts it: writers never wait on each other, and the
sealer (``seal``, a periodic job and the first step of ``audit verify`` and ``audit
checkpoint``) chains committed rows in id order a few seconds later. PostgreSQL builds
the messages it seals and verifies itself (``_PG_MESSAGE``), the same text as
``row_message`` builds in Python, and checks the details' digests in C, which is what
lets verification run at over a hundred thousand rows a second (``verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import make_transient_to_detached

from portal.audit import context as audit_context
from portal.audit.keys import audit_key
from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow
from portal.models.interaction import ACTOR_TYPES, Interaction

GENESIS = "0" * 64
REDACTED_KEY = "_redacted"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# One sealer at a time (any constant works; it only has to be the same in every process).
_SEAL_LOCK_KEY = 0x5EA1_0A0E


def canonical_json(value) -> str:
    """Serialise to the one canonical JSON text used for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest_details(details: dict) -> str:
    """SHA-256 of a details payload in canonical form."""
    return hashlib.sha256(canonical_json(details).encode()).hexdigest()


def at_micros(at: datetime) -> int:
    """Microseconds since 1970 (UTC): how the chain represents a row's time."""
    return (at - _EPOCH) // _MICROSECOND


def row_message(row: Interaction | dict) -> str:
    """The JSON array of a row's chained fields, exactly as ``_PG_MESSAGE`` writes it."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return json.dumps([
        get("id"), at_micros(get("at")), get("actor_type"), get("actor_id"), get("action"),
        get("incident_id"), get("person_id"), get("ticket_id"), get("campaign_id"),
        get("details_digest"), get("ip"),
    ], ensure_ascii=False)


# PostgreSQL's json_build_array writes '[1, "a", null]' as Python's json.dumps does.
_PG_MESSAGE = (
    "json_build_array(id, (extract(epoch FROM at) * 1000000)::bigint, actor_type, actor_id, "
    "action, incident_id, person_id, ticket_id, campaign_id, details_digest, ip)::text"
)
# Whether the stored details still match their digest (or are a bare redaction marker).
# PostgreSQL's json type keeps the text record() inserted: the canonical JSON.
_PG_DETAILS_OK = (
    "CASE WHEN redacted_at IS NULL "
    "THEN encode(sha256(convert_to(details::text, 'UTF8')), 'hex') = details_digest "
    "WHEN jsonb_typeof(details::jsonb) = 'object' "
    f"THEN details::jsonb - '{REDACTED_KEY}' = '{{}}'::jsonb ELSE false END"
)

_SELECT = "SELECT "  # the statements below are constants: no value is formatted into them
_PG_UNSEALED = text(_SELECT + "id, " + _PG_MESSAGE
                    + " FROM interaction WHERE seq IS NULL ORDER BY id LIMIT :limit")
_PG_CHAIN = text(_SELECT + "seq, id, prev_hash, hash, " + _PG_MESSAGE + ", " + _PG_DETAILS_OK
                 + " FROM interaction WHERE seq >= :first ORDER BY seq")
# Verification's fast path: the rows at places first..last as one text, a line per row:
# 't' if the details match their digest (else 'f'), the row's hash, then exactly the text
# its HMAC covers. A NULL field makes the line '-', which fails the check. JSON escapes
# control characters, so a line holds no newline unless a hash was tampered with (and
# then it fails the check too).
_PG_LINES = text(
    _SELECT + "string_agg(coalesce(CASE WHEN " + _PG_DETAILS_OK + " THEN 't' ELSE 'f' END "
    "|| hash || prev_hash || chr(31) || seq || chr(31) || " + _PG_MESSAGE + ", '-'), "
    "chr(10) ORDER BY seq) FROM interaction WHERE seq BETWEEN :first AND :last")


def chain_hash(key: bytes, prev_hash: str, seq: int, message: str) -> str:
    """A row's hash: HMAC-SHA256 under the audit key."""
    return hmac.digest(key, f"{prev_hash}\x1f{seq}\x1f{message}".encode(), "sha256").hex()


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
    if db.session.get_bind().dialect.name == "postgresql":
        _insert_in_postgres(row)
        return row
    # SQLite serialises writers itself, but only from a transaction's first write:
    # insert the row first, then read the chain's head while holding the write lock,
    # so two threads cannot chain to the same row.
    db.session.add(row)
    db.session.flush()
    head = db.session.execute(
        select(Interaction.seq, Interaction.hash)
        .where(Interaction.seq.is_not(None))
        .order_by(Interaction.seq.desc())
        .limit(1)
    ).first()
    row.seq = head.seq + 1 if head else 1
    row.prev_hash = head.hash if head else GENESIS
    row.hash = chain_hash(audit_key(), row.prev_hash, row.seq, row_message(row))
    db.session.flush()
    return row


_PG_INSERT = text(
    "INSERT INTO interaction (at, actor_type, actor_id, action, incident_id, person_id, "
    "ticket_id, campaign_id, details, details_digest, ip) VALUES (:at, :actor_type, "
    ":actor_id, :action, :incident_id, :person_id, :ticket_id, :campaign_id, "
    "CAST(:details AS json), :details_digest, :ip) RETURNING id"
).bindparams(bindparam("at", type_=UTCDateTime()))


def _insert_in_postgres(row: Interaction) -> None:
    """Insert ``row`` unsealed in one statement, taking no lock; the sealer chains it.

    The details are stored as their canonical JSON text (the json type keeps it), so
    verification can check their digest inside the database. The row object then joins
    the session as the stored row, without another read.
    """
    db.session.flush()  # the rows this one refers to, first
    row.id = db.session.execute(_PG_INSERT, {
        "at": row.at, "actor_type": row.actor_type, "actor_id": row.actor_id,
        "action": row.action, "incident_id": row.incident_id, "person_id": row.person_id,
        "ticket_id": row.ticket_id, "campaign_id": row.campaign_id,
        "details": canonical_json(row.details), "details_digest": row.details_digest,
        "ip": row.ip,
    }).scalar_one()
    row.seq = row.prev_hash = row.hash = row.redacted_at = None
    make_transient_to_detached(row)
    db.session.add(row)


# --- sealing ------------------------------------------------------------------------------


def _head(connection: Connection) -> tuple[int, str]:
    found = connection.execute(
        select(Interaction.seq, Interaction.hash)
        .where(Interaction.seq.is_not(None))
        .order_by(Interaction.seq.desc())
        .limit(1)
    ).first()
    return (found.seq, found.hash) if found else (0, GENESIS)


def _unsealed_messages(connection: Connection, limit: int) -> list[tuple[int, str]]:
    if connection.dialect.name == "postgresql":
        return [tuple(found) for found in connection.execute(_PG_UNSEALED, {"limit": limit})]
    columns = Interaction.__table__.c
    rows = connection.execute(
        select(columns.id, columns.at, columns.actor_type, columns.actor_id, columns.action,
               columns.incident_id, columns.person_id, columns.ticket_id, columns.campaign_id,
               columns.details_digest, columns.ip)
        .where(columns.seq.is_(None)).order_by(columns.id).limit(limit)
    ).mappings()
    return [(row["id"], row_message(row)) for row in rows]


def seal_batch(connection: Connection, key: bytes, limit: int = 5000) -> int:
    """Chain up to ``limit`` unsealed rows after the head, in id order; return how many.

    The caller holds the sealer's lock (or is the only writer) and commits.
    """
    pending = _unsealed_messages(connection, limit)
    if not pending:
        return 0
    seq, prev = _head(connection)
    ids, seqs, prevs, hashes = [], [], [], []
    for row_id, message in pending:
        seq += 1
        digest = chain_hash(key, prev, seq, message)
        ids.append(row_id)
        seqs.append(seq)
        prevs.append(prev)
        hashes.append(digest)
        prev = digest
    if connection.dialect.name == "postgresql":
        connection.execute(text(
            "UPDATE interaction AS i SET seq = v.seq, prev_hash = v.prev, hash = v.hash "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), "
            "CAST(:prevs AS text[]), CAST(:hashes AS text[])) AS v(id, seq, prev, hash) "
            "WHERE i.id = v.id"), {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes})
    else:
        connection.execute(
            text("UPDATE interaction SET seq = :seq, prev_hash = :prev, hash = :hash "
                 "WHERE id = :id"),
            [{"id": i, "seq": s, "prev": p, "hash": h}
             for i, s, p, h in zip(ids, seqs, prevs, hashes, strict=True)])
    return len(ids)


def seal(batch: int = 5000) -> int:
    """Chain every committed row not yet sealed, commit; return how many were sealed.

    One sealer runs at a time: if another holds the lock, this returns 0 at once (that
    one seals these rows). On SQLite ``record`` seals each row itself; this then only
    finds rows inserted by other means.
    """
    total = 0
    while True:
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            locked = connection.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _SEAL_LOCK_KEY}
            ).scalar_one()
            if not locked:
                db.session.rollback()
                return total
        sealed = seal_batch(connection, audit_key(), batch)
        db.session.commit()
        total += sealed
        if sealed < batch:
            return total


def pending_count() -> int:
    """How many committed rows are waiting for the sealer."""
    return db.session.execute(
        select(func.count()).select_from(Interaction).where(Interaction.seq.is_(None))
    ).scalar_one()


# --- verification -------------------------------------------------------------------------


@dataclass
class ChainReport:
    """Outcome of a chain check: ``bad_id`` is the first broken row, if any.

    ``head_seq``/``head_id``/``head_hash`` describe the last row that verified;
    ``pending`` counts rows not yet sealed (not covered by the check).
    """

    checked: int
    bad_id: int | None = None
    reason: str | None = None
    head_seq: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    pending: int = 0

    @property
    def ok(self) -> bool:
        return self.bad_id is None


def _pg_rows(first_seq: int, batch: int) -> Iterator[tuple]:
    """(seq, id, prev_hash, hash, message, details_ok) from ``first_seq`` on, in chain order."""
    result = db.session.connection().execute(
        _PG_CHAIN, {"first": first_seq},
        execution_options={"stream_results": True, "yield_per": batch})
    try:
        yield from result
    finally:
        result.close()


def _fetch_lines(engine: Engine, first: int, last: int) -> list[str]:
    """The chain lines of the rows at places ``first`` to ``last``, on a connection of its own."""
    with engine.connect() as connection:
        found = connection.execute(_PG_LINES, {"first": first, "last": last}).scalar()
    return found.split("\n") if found else []


def _pg_fast_walk(key: bytes, batch: int, workers: int) -> tuple[int, str]:
    """Check the chain from its start while every row passes; return where that stopped.

    Returns ``(seq, hash)`` of the last row that passed (``(0, GENESIS)`` for none).
    Rows are read ``batch`` places at a time as one text each (``_PG_LINES``), by
    ``workers`` threads on their own connections, ahead of the hashing here; the
    places up to the head seen at the start are covered. A row that fails any check
    (or anything unexpected) stops the walk: ``verify`` re-reads from there row by
    row and names the problem.
    """
    top = db.session.execute(text("SELECT max(seq) FROM interaction")).scalar() or 0
    db.session.commit()  # the walk reads on other connections; hold no snapshot here
    engine = db.engine
    mac = hmac.new(key, digestmod="sha256")
    copy = mac.copy
    seq, prev = 0, GENESIS
    starts = iter(range(1, top + 1, batch))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit-verify") as pool:
        pending: deque = deque()

        def submit() -> None:
            start = next(starts, None)
            if start is not None:
                pending.append(pool.submit(_fetch_lines, engine, start, start + batch - 1))

        for _ in range(workers + 1):
            submit()
        try:
            while pending:
                lines = pending.popleft().result()
                submit()
                for line in lines:
                    # 't', the row's hash, then exactly what it hashes: prev, place, message.
                    if line[:1] != "t" or not line.startswith(f"{prev}\x1f{seq + 1}\x1f", 65):
                        return seq, prev
                    check = copy()
                    check.update(line[65:].encode())
                    if check.hexdigest() != line[1:65]:
                        return seq, prev
                    prev = line[1:65]
                    seq += 1
        finally:
            for future in pending:
                future.cancel()
    return seq, prev


def _details_ok(row) -> bool:
    if row["redacted_at"] is None:
        return digest_details(row["details"]) == row["details_digest"]
    return isinstance(row["details"], dict) and set(row["details"]) <= {REDACTED_KEY}


def _sqlite_rows(batch: int) -> Iterator[tuple]:
    columns = Interaction.__table__.c
    last = 0
    while True:
        rows = db.session.execute(
            select(columns).where(columns.seq > last).order_by(columns.seq).limit(batch)
        ).mappings().all()
        if not rows:
            return
        for row in rows:
            yield (row["seq"], row["id"], row["prev_hash"], row["hash"], row_message(row),
                   _details_ok(row))
        last = rows[-1]["seq"]


def verify(batch: int = 20000, *, seal_first: bool = True, workers: int = 2) -> ChainReport:
    """Walk the sealed log in chain order and report the first row that breaks it.

    With ``seal_first`` (the default) the rows committed but not yet sealed are sealed
    first, so the check covers every committed row; this commits the session. On
    PostgreSQL a fast walk (``_pg_fast_walk``) covers the chain while it is intact and
    the row-by-row walk below takes over where it stopped: at a broken row, to name
    the problem, or at the rows sealed during the walk.
    """
    if seal_first:
        seal()
    key = audit_key()
    expected_prev = GENESIS
    expected_seq = 1
    if db.session.get_bind().dialect.name == "postgresql":
        passed, expected_prev = _pg_fast_walk(key, batch, workers)
        expected_seq = passed + 1
        rows = _pg_rows(expected_seq, batch)
    else:
        rows = _sqlite_rows(batch)
    digest = hmac.digest
    last_id = None
    report = None
    for seq, row_id, prev_hash, row_hash, message, details_ok in rows:
        if seq != expected_seq or prev_hash != expected_prev:
            report = ChainReport(expected_seq - 1, row_id,
                                 "does not follow the previous row (rows deleted or reordered)")
            break
        if not details_ok:
            report = ChainReport(expected_seq - 1, row_id, "details were changed")
            break
        if digest(key, f"{prev_hash}\x1f{seq}\x1f{message}".encode(), "sha256").hex() != row_hash:
            report = ChainReport(expected_seq - 1, row_id,
                                 "row fields were changed (its keyed hash does not match)")
            break
        expected_prev = row_hash
        expected_seq = seq + 1
        last_id = row_id
    if report is None:
        report = ChainReport(expected_seq - 1)
    if hasattr(rows, "close"):
        rows.close()
    if last_id is None and expected_seq > 1:  # the fast walk covered the head
        found = row_at(expected_seq - 1)
        last_id = found[0] if found else None
    report.head_seq, report.head_id, report.head_hash = expected_seq - 1, last_id, expected_prev
    report.pending = pending_count()
    return report


def row_at(seq: int) -> tuple[int, str] | None:
    """``(id, hash)`` of the row at place ``seq`` in the chain, if there is one."""
    found = db.session.execute(
        select(Interaction.id, Interaction.hash).where(Interaction.seq == seq)
    ).first()
    return (found.id, found.hash) if found else None


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
