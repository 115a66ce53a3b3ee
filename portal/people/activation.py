"""The credit-monitoring activation-code pool of an incident.

The vendor sends a CSV of codes; ``import_codes`` stores them encrypted with a
blind index (a code seen before, in this file or earlier, is skipped).
``assign_activation_code`` hands a person one code from the pool the first time
it is asked and the same code ever after. On PostgreSQL the claim is one
``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``, so
concurrent requests never get the same code; SQLite serialises writers anyway.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.audit import log as audit
from portal.extensions import db
from portal.models import ActivationCode, Person
from portal.models.base import utcnow
from portal.security.crypto import code_index

BATCH_SIZE = 1000
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-_.]{2,62}[A-Za-z0-9]")


class CodeFileError(Exception):
    """The vendor file could not be read (nothing was written)."""


@dataclass
class CodeImportSummary:
    added: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def line(self) -> str:
        return (f"added {self.added}, duplicates {self.duplicates}, "
                f"rejected {len(self.rejected)}")


def _rows(path: Path):
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip().lower() for name in next(reader, [])]
            if "code" not in header:
                raise CodeFileError("line 1: the header has no 'code' column")
            position = header.index("code")
            start = reader.line_num + 1
            for fields in reader:
                if any(part.strip() for part in fields):
                    value = fields[position].strip() if len(fields) > position else ""
                    yield start, value
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise CodeFileError(f"the file is not UTF-8 ({exc.reason})") from None
    except csv.Error as exc:
        raise CodeFileError(f"not valid CSV ({exc})") from None


def import_codes(
    incident_id: int, path: str | Path, *, actor=("system", None)
) -> CodeImportSummary:
    """Add a vendor's activation codes to an incident's pool and commit; log the counts."""
    path = Path(path)
    if not path.is_file():
        raise CodeFileError(f"no such file: {path}")
    summary = CodeImportSummary()
    list(_rows(path))  # read it all once first: a broken file writes nothing
    seen: set[str] = set()
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        if not batch:
            return
        stored = set(db.session.execute(
            select(ActivationCode.code_index).where(
                ActivationCode.code_index.in_([index for index, _ in batch]))
        ).scalars())
        fresh = [{"incident_id": incident_id, "code": code, "code_index": index,
                  "imported_at": utcnow()} for index, code in batch if index not in stored]
        summary.duplicates += len(batch) - len(fresh)
        if fresh:
            db.session.execute(ActivationCode.__table__.insert(), fresh)
        summary.added += len(fresh)
        batch.clear()

    for line, value in _rows(path):
        if not _CODE.fullmatch(value):
            summary.rejected.append((line, "is not an activation code (4-64 letters or digits)"))
            continue
        index = code_index(value)
        if index in seen:
            summary.duplicates += 1
            continue
        seen.add(index)
        batch.append((index, value))
        if len(batch) >= BATCH_SIZE:
            flush()
    flush()
    actor_type, actor_id = actor
    audit.record("activation_codes.imported", actor_type=actor_type, actor_id=actor_id,
                 incident_id=incident_id,
                 details={"added": summary.added, "duplicates": summary.duplicates,
                          "rejected": len(summary.rejected)})
    db.session.commit()
    return summary


def pool_counts(incident_id: int) -> tuple[int, int]:
    """``(codes in the pool, codes assigned)`` for an incident."""
    total, assigned = db.session.execute(
        select(func.count(ActivationCode.id), func.count(ActivationCode.person_id)).where(
            ActivationCode.incident_id == incident_id)
    ).one()
    return total, assigned


def assigned_code(person_id: int) -> str | None:
    """The activation code already given to this person, without assigning one."""
    return db.session.execute(
        select(ActivationCode.code).where(ActivationCode.person_id == person_id)
    ).scalar_one_or_none()


def assign_activation_code(person_id: int) -> str | None:
    """The person's activation code, assigning one from the pool on first request.

    Returns ``None`` when the incident's pool is empty. A new assignment is
    logged (``activation_code.assigned``, without the code) and committed.
    """
    code = assigned_code(person_id)
    if code is not None:
        return code
    incident_id = db.session.execute(
        select(Person.incident_id).where(Person.id == person_id)
    ).scalar_one_or_none()
    if incident_id is None:
        return None
    free = (
        select(ActivationCode.id)
        .where(ActivationCode.incident_id == incident_id, ActivationCode.person_id.is_(None))
        .order_by(ActivationCode.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claim = (
        update(ActivationCode)
        .where(ActivationCode.id == free, ActivationCode.person_id.is_(None))
        .values(person_id=person_id, assigned_at=utcnow())
        .returning(ActivationCode.id, ActivationCode.code)
        .execution_options(synchronize_session=False)
    )
    try:
        with db.session.begin_nested():
            row = db.session.execute(claim).one_or_none()
    except IntegrityError:
        # A concurrent request for the same person won the race: use its code.
        db.session.commit()
        return assigned_code(person_id)
    if row is None:
        db.session.rollback()
        return None
    audit.record("activation_code.assigned", incident_id=incident_id, person_id=person_id,
                 details={"activation_code_id": row.id})
    db.session.commit()
    return row.code
