"""Printed letters: print runs of batched PDFs with a manifest, then mailed or returned.

The engine leaves a campaign's ``channel='letter'`` notifications ``pending``. A
print run takes them a batch at a time, the way a chunk job takes SMS: it claims
the batch's rows with a lease (``pending → sending``; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two runs never print one letter), commits, renders every person's
full notice with the ``/notice.pdf`` builder into one PDF in print order, writes
the print house's manifest CSV next to it, and only then records the batch and
marks its letters ``sent``. A run that dies in between leaves leased rows that
the lease recovery puts back to ``pending``.

The files hold names and postal addresses, decrypted only into them: they are
written owner-only (0600, in a 0700 directory) under ``DISPATCH_LETTER_DIR``.

After the run, the print house mails a batch (``mark_mailed``: its letters become
``delivered``, the presumption for first-class post) and letters that come back
are uploaded by id (``mark_returned``: ``undelivered``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update

from portal.audit import log as audit
from portal.audit.log import canonical_json
from portal.core.csv_cells import safe_row
from portal.dispatch.campaigns import finish_if_done
from portal.extensions import db
from portal.incidents.brand import logo_bytes
from portal.models import Campaign, Letter, LetterBatch, Notification, Person
from portal.models.base import utcnow
from portal.notices.build import build_for_person
from portal.notices.pdf import Recipient, add_notice, new_document
from portal.people.activation import assigned_code

MANIFEST_COLUMNS = ("letter_id", "batch", "position", "first_page", "last_page", "language",
                    "name", "address_line1", "address_line2", "city", "region", "postcode",
                    "country")
# Letters that cannot be printed end ``failed`` with one of these codes.
NO_ADDRESS, NO_NOTICE, ANONYMISED = "no_address", "no_notice", "anonymised"
RETURNED = "returned"
# A returned-letters upload: at most this many ids are named in the log entry.
LOGGED_IDS = 1000


class LetterError(Exception):
    """A letters operation that cannot be done; ``message`` is shown to the manager."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class PrintRun:
    """What one print run produced."""

    batches: list[int] = field(default_factory=list)  # LetterBatch ids
    letters: int = 0
    failed: int = 0


@dataclass
class Returned:
    """Outcome of a returned-letters upload."""

    returned: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)


# --- print runs -------------------------------------------------------------------------


def letter_dir(campaign_id: int) -> Path:
    """The campaign's owner-only directory of print files (created on first use)."""
    root = letters_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = root / f"campaign-{campaign_id}"
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def letters_root() -> Path:
    """``DISPATCH_LETTER_DIR``, or ``letters/`` in the instance folder when it is empty."""
    configured = current_app.config["DISPATCH_LETTER_DIR"]
    return Path(configured or Path(current_app.instance_path) / "letters")


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)


def pending_letters(campaign_id: int) -> int:
    """How many of the campaign's letters wait for a print run."""
    return db.session.execute(
        select(func.count()).select_from(Notification).where(
            Notification.campaign_id == campaign_id, Notification.channel == "letter",
            Notification.status == "pending")
    ).scalar_one()


def _claim(campaign_id: int, limit: int, now: datetime) -> list[tuple[int, int]]:
    """Lease up to ``limit`` pending letters of the campaign: ``[(notification id, person id)]``."""
    lease = now + timedelta(seconds=current_app.config["DISPATCH_LEASE_SECONDS"])
    picked = (select(Notification.id)
              .where(Notification.campaign_id == campaign_id, Notification.channel == "letter",
                     Notification.status == "pending")
              .order_by(Notification.id).limit(limit))
    statement = update(Notification)
    if db.session.get_bind().dialect.name == "postgresql":
        # A materialised CTE locks exactly ``limit`` rows (a plain IN (subquery) may
        # re-evaluate it and claim more), skipping rows another run holds.
        chosen = picked.with_for_update(skip_locked=True).cte("picked").prefix_with(
            "MATERIALIZED")
        statement = statement.where(Notification.id == chosen.c.id)
    else:
        statement = statement.where(Notification.id.in_(picked.scalar_subquery()))
    statement = statement.values(
        status="sending", lease_until=lease, sending_at=now, updated_at=now,
        attempts=Notification.attempts + 1,
    ).returning(Notification.id, Notification.person_id)
    rows = db.session.execute(statement, execution_options={"synchronize_session": False})
    return [(row[0], row[1]) for row in rows]


def _address_lines(person: Person) -> list[str]:
    town = " ".join(part for part in (person.postcode, person.city) if part)
    return [line for line in (person.address_line1, person.address_line2, town, person.region,
                              person.country) if line]


def _name(person: Person) -> str:
    return " ".join(part for part in (person.first_name, person.last_name) if part)


def _print_key(item: tuple[int, Person]) -> tuple:
    """Print order: by country and postcode (the post's sorting), then letter id."""
    letter_id, person = item
    return ((person.country or "").upper(), (person.postcode or "").upper(), letter_id)


def _notice_digest(notice) -> str:
    return hashlib.sha256(canonical_json(asdict(notice)).encode()).hexdigest()


def _manifest(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(MANIFEST_COLUMNS)
    for row in rows:
        writer.writerow(safe_row(row))
    return buffer.getvalue().encode("utf-8")


def _next_number(campaign_id: int) -> int:
    if db.session.get_bind().dialect.name == "postgresql":
        # Two runs of one campaign number their batches one after the other.
        db.session.execute(select(Campaign.id).where(Campaign.id == campaign_id)
                           .with_for_update())
    current = db.session.execute(
        select(func.max(LetterBatch.number)).where(LetterBatch.campaign_id == campaign_id)
    ).scalar_one()
    return (current or 0) + 1


def print_batch(campaign_id: int, *, actor_id: int | None = None) -> LetterBatch | None:
    """Claim, render and record one batch of the campaign's pending letters.

    Returns the batch, or ``None`` when no letter was waiting (or all that were
    claimed could not be printed: those end ``failed`` with the reason).
    """
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise LetterError("no such campaign")
    if campaign.status == "paused":  # a print run is a claim like any other: none while paused
        return None
    size = current_app.config["DISPATCH_LETTER_BATCH_SIZE"]
    now = utcnow()
    claimed = _claim(campaign_id, size, now)
    if not claimed:
        db.session.rollback()
        return None
    batch = LetterBatch(campaign_id=campaign_id, number=_next_number(campaign_id),
                        created_by_id=actor_id, letters=0, pages=0, created_at=now)
    db.session.add(batch)
    db.session.commit()  # the lease and the batch's number hold; nothing is held open
    batch_id, number, incident_id = batch.id, batch.number, campaign.incident_id

    people = {person.id: person for person in db.session.execute(
        select(Person).where(Person.id.in_([person_id for _, person_id in claimed]))
    ).scalars()}
    printable, failures = [], []
    for letter_id, person_id in claimed:
        person = people.get(person_id)
        if person is None or person.anonymised_at is not None:
            failures.append((letter_id, ANONYMISED))
        elif not person.address_line1:
            failures.append((letter_id, NO_ADDRESS))
        else:
            printable.append((letter_id, person))
    printable.sort(key=_print_key)

    base_url = current_app.config["PORTAL_BASE_URL"].rstrip("/") + "/"
    logo = logo_bytes(incident_id)
    document = new_document()
    document.set_title(f"Letters, campaign {campaign_id}, batch {number}")
    placed, manifest_rows = [], []
    built = {}  # one build per language and set of categories, not one per person
    for letter_id, person in printable:
        key = (person.language, tuple(sorted(person.categories or ())))
        if key not in built:
            built[key] = build_for_person(person)
        notice = built[key]
        if notice is None:
            failures.append((letter_id, NO_NOTICE))
            continue
        recipient = Recipient(letter_id=letter_id, name=_name(person),
                              address_lines=_address_lines(person),
                              notice_code=person.notice_code, portal_url=base_url)
        first, last = add_notice(document, notice, assigned_code(person.id),
                                 logo if notice.brand and notice.brand.logo_digest else None,
                                 recipient=recipient, even_pages=True)
        position = len(placed) + 1
        placed.append((letter_id, position, first, last, notice))
        manifest_rows.append([letter_id, number, position, first, last, notice.language,
                              _name(person), person.address_line1, person.address_line2,
                              person.city, person.region, person.postcode, person.country])
    for person in people.values():  # decrypted people leave the session once printed
        db.session.expunge(person)
    people.clear()

    directory = letter_dir(campaign_id)
    pdf_path = manifest_path = None
    pages = 0
    if placed:
        pdf_path = directory / f"batch-{number:04d}.pdf"
        manifest_path = directory / f"batch-{number:04d}-manifest.csv"
        _write_private(pdf_path, bytes(document.output()))
        _write_private(manifest_path, _manifest(manifest_rows))
        pages = placed[-1][3]
    manifest_rows.clear()

    done = utcnow()
    batch = db.session.get(LetterBatch, batch_id)
    batch.letters, batch.pages = len(placed), pages
    batch.pdf_path = str(pdf_path) if pdf_path else None
    batch.manifest_path = str(manifest_path) if manifest_path else None
    if placed:
        db.session.add_all(Letter(notification_id=letter_id, batch_id=batch_id, position=position,
                                  first_page=first, last_page=last, printed_at=done)
                           for letter_id, position, first, last, _ in placed)
        db.session.execute(update(Notification), [
            {"id": letter_id, "status": "sent", "sent_at": done, "lease_until": None,
             "updated_at": done, "notice_version_id": notice.notice_version_id,
             "content_digest": _notice_digest(notice)}
            for letter_id, _, _, _, notice in placed])
    if failures:
        db.session.execute(update(Notification), [
            {"id": letter_id, "status": "failed", "failed_at": done, "lease_until": None,
             "updated_at": done, "error_code": reason, "last_error": reason}
            for letter_id, reason in failures])
    audit.record("letters.printed", actor_type="staff" if actor_id else None, actor_id=actor_id,
                 incident_id=incident_id, campaign_id=campaign_id,
                 details={"batch": number, "batch_id": batch_id, "letters": len(placed),
                          "pages": pages, "failed": len(failures)})
    db.session.commit()
    return batch if placed else None


def print_run(campaign_id: int, *, actor_id: int | None = None,
              max_batches: int | None = None) -> PrintRun:
    """Print every pending letter of the campaign, batch after batch."""
    run = PrintRun()
    while max_batches is None or len(run.batches) < max_batches:
        before = pending_letters(campaign_id)
        if not before:
            break
        batch = print_batch(campaign_id, actor_id=actor_id)
        if batch is None:
            after = pending_letters(campaign_id)
            run.failed += before - after
            if after >= before:  # another run holds the rest
                break
            continue
        run.batches.append(batch.id)
        run.letters += batch.letters
        run.failed += before - pending_letters(campaign_id) - batch.letters
    if run.batches or run.failed:
        finish_if_done(campaign_id)  # a campaign with letters completes once they are printed
    return run


def print_run_job(campaign_id: int, actor_id: int | None = None) -> dict:
    """The job behind the page's "Print letters" button (takes ids)."""
    run = print_run(campaign_id, actor_id=actor_id)
    return {"batches": run.batches, "letters": run.letters, "failed": run.failed}


# --- reading batches ----------------------------------------------------------------------


def batches_of(campaign_id: int) -> list[LetterBatch]:
    """The campaign's print batches, newest first."""
    return list(db.session.execute(
        select(LetterBatch).where(LetterBatch.campaign_id == campaign_id)
        .order_by(LetterBatch.number.desc())
    ).scalars())


def batch_of(campaign_id: int, batch_id: int) -> LetterBatch | None:
    """A batch of this campaign (``None`` for another campaign's batch)."""
    return db.session.execute(
        select(LetterBatch).where(LetterBatch.id == batch_id,
                                  LetterBatch.campaign_id == campaign_id)
    ).scalar_one_or_none()


def letter_counts(campaign_id: int) -> dict[str, int]:
    """Letters by state: waiting, printing, printed, mailed, returned, failed."""
    rows = db.session.execute(
        select(Notification.status, func.count()).where(
            Notification.campaign_id == campaign_id, Notification.channel == "letter")
        .group_by(Notification.status)
    ).all()
    by_status = dict(rows)
    returned = db.session.execute(
        select(func.count()).select_from(Letter).join(
            Notification, Notification.id == Letter.notification_id)
        .where(Notification.campaign_id == campaign_id, Letter.returned_at.is_not(None))
    ).scalar_one()
    return {
        "waiting": by_status.get("pending", 0),
        "printing": by_status.get("sending", 0),
        "printed": by_status.get("sent", 0),
        "mailed": by_status.get("delivered", 0),
        "returned": returned,
        "failed": by_status.get("failed", 0),
    }


def read_file(batch: LetterBatch, kind: str) -> bytes:
    """The batch's PDF (``kind='pdf'``) or manifest (``'manifest'``) bytes."""
    name = batch.pdf_path if kind == "pdf" else batch.manifest_path
    if not name:
        raise LetterError("this batch has no file")
    path = Path(name)
    root = letters_root().resolve()
    if root not in path.resolve().parents:
        raise LetterError("the batch's file lies outside the letters directory")
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise LetterError("the batch's file is missing from the letters directory") from error


def record_download(batch: LetterBatch, kind: str, actor_id: int | None) -> None:
    """Log that a batch's file (names and addresses) was read."""
    campaign = db.session.get(Campaign, batch.campaign_id)
    audit.record("letters.downloaded", actor_type="staff" if actor_id else None,
                 actor_id=actor_id, incident_id=campaign.incident_id, campaign_id=campaign.id,
                 details={"batch": batch.number, "file": kind, "letters": batch.letters})


# --- mailed and returned ------------------------------------------------------------------


def mark_mailed(campaign_id: int, batch_id: int, *, actor_id: int | None = None,
                at: datetime | None = None) -> int:
    """Record that the print house mailed a batch; its printed letters become ``delivered``.

    Returns how many letters moved (0 when the batch was already marked).
    """
    batch = batch_of(campaign_id, batch_id)
    if batch is None:
        raise LetterError("no such batch")
    if batch.mailed_at is not None:
        return 0
    when = at or utcnow()
    batch.mailed_at, batch.mailed_by_id = when, actor_id
    ids = select(Letter.notification_id).where(Letter.batch_id == batch_id,
                                               Letter.returned_at.is_(None))
    db.session.execute(update(Letter).where(Letter.batch_id == batch_id,
                                            Letter.returned_at.is_(None))
                       .values(mailed_at=when), execution_options={"synchronize_session": False})
    moved = db.session.execute(
        update(Notification).where(Notification.id.in_(ids), Notification.status == "sent")
        .values(status="delivered", delivered_at=when, updated_at=when),
        execution_options={"synchronize_session": False}).rowcount
    campaign = db.session.get(Campaign, campaign_id)
    audit.record("letters.mailed", actor_type="staff" if actor_id else None, actor_id=actor_id,
                 incident_id=campaign.incident_id, campaign_id=campaign_id,
                 details={"batch": batch.number, "letters": moved,
                          "mailed_at": when.isoformat()})
    return moved


_ID = re.compile(r"^\s*(\d{1,18})\s*$")


def parse_letter_ids(data: bytes) -> tuple[list[int], list[tuple[int, str]]]:
    """Letter ids from an uploaded CSV: ``(ids, [(line, bad value)])``.

    One id per line, or a ``letter_id`` column (so the print house's manifest,
    cut down to the returned letters, can be uploaded as it is). Blank lines are
    skipped; a first line that is not a number is taken as the header.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LetterError("The file must be UTF-8 text.", field="file") from error
    ids, problems, column, seen = [], [], 0, set()
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if line == 1:
            header = [cell.strip().lower() for cell in row]
            if "letter_id" in header:
                column = header.index("letter_id")
                continue
            if not _ID.match(row[0]):
                continue
        cell = row[column] if column < len(row) else ""
        match = _ID.match(cell)
        if match is None:
            problems.append((line, cell.strip()[:40]))
            continue
        value = int(match.group(1))
        if value not in seen:
            seen.add(value)
            ids.append(value)
    return ids, problems


def mark_returned(campaign_id: int, letter_ids: list[int], *,
                  actor_id: int | None = None) -> Returned:
    """Record letters that came back undelivered: they become ``undelivered``."""
    outcome = Returned()
    if not letter_ids:
        return outcome
    found = {}
    for start in range(0, len(letter_ids), 1000):
        part = letter_ids[start:start + 1000]
        found.update((row[0], row[1]) for row in db.session.execute(
            select(Letter.notification_id, Letter.returned_at)
            .join(Notification, Notification.id == Letter.notification_id)
            .where(Notification.campaign_id == campaign_id, Letter.notification_id.in_(part))))
    now = utcnow()
    for letter_id in letter_ids:
        if letter_id not in found:
            outcome.unknown.append(letter_id)
        elif found[letter_id] is not None:
            outcome.already.append(letter_id)
        else:
            outcome.returned.append(letter_id)
    for start in range(0, len(outcome.returned), 1000):
        part = outcome.returned[start:start + 1000]
        db.session.execute(update(Letter).where(Letter.notification_id.in_(part))
                           .values(returned_at=now, returned_by_id=actor_id),
                           execution_options={"synchronize_session": False})
        db.session.execute(
            update(Notification).where(Notification.id.in_(part),
                                       Notification.status.in_(("sent", "delivered")))
            .values(status="undelivered", failed_at=now, updated_at=now, error_code=RETURNED,
                    last_error="returned by post"),
            execution_options={"synchronize_session": False})
    if outcome.returned:
        campaign = db.session.get(Campaign, campaign_id)
        audit.record("letters.returned", actor_type="staff" if actor_id else None,
                     actor_id=actor_id, incident_id=campaign.incident_id,
                     campaign_id=campaign_id,
                     details={"letters": len(outcome.returned),
                              "ids": outcome.returned[:LOGGED_IDS]})
    return outcome
