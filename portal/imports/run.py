"""Streaming CSV import of an incident's affected persons.

``import_persons(incident_id, path)`` reads the file twice: a quick first pass
checks the header and that every byte is UTF-8 (so an undecodable file is
refused before anything is written), the second streams records in batches.
For each batch the existing persons are looked up by ``external_ref``; rows
are validated and new rows encrypted (in worker processes for large files),
new rows are written in one bulk statement (``COPY`` on PostgreSQL) and the
batch is committed. Memory stays flat whatever the file size, apart from a
compact set of digests used to spot repeated ``external_ref`` values.

Re-importing a file changes nothing (each person keeps a digest of the row it
was imported from); a changed row updates the person and logs
``person.updated`` with the names of the changed fields. Each import logs one
``persons.imported`` with its counts. Batches commit one by one, so a crash
leaves the batches before it imported; running the import again completes it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import TextIO

from flask import current_app
from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    String,
    any_,
    column,
    func,
    literal,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY

from portal.audit import log as audit
from portal.extensions import db
from portal.imports.csv_file import (  # noqa: F401 - re-exported: the importer's API
    ErrorWriter,
    Header,
    ImportFileError,
    ImportSummary,
    RowError,
    SeenRefs,
    check_file,
    errors_csv,
    records,
    safe_cell,
)
from portal.imports.pgcopy import SIGNATURE, TRAILER, copy_statement, replace_fields
from portal.imports.rows import (
    COLUMNS,
    INSERT_COLUMNS,
    N_,
    BatchJob,
    BatchResult,
    Changed,
    NewRow,
    Problem,
    Record,
    Rejected,
    RowContext,
    Unchanged,
    process_batch,
    regenerate_code,
)
from portal.models import Incident, Person
from portal.people.identity import PLAIN_FIELDS, identity_columns
from portal.security.crypto import Keyring, code_index, keyring

BATCH_SIZE = 2000
PARALLEL_MIN_BYTES = 4 * 1024 * 1024  # smaller files are validated in-process
MAX_KEPT_ERRORS = 1000
ANALYZE_AFTER = 20_000  # rows inserted before PostgreSQL's statistics are first refreshed


def _among(column_, values: list[str]):
    """``column IN values``; one array parameter on PostgreSQL instead of thousands."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column_ == any_(literal(values, ARRAY(String)))
    return column_.in_(values)


def _among_digests(column_, digests: list[str]):
    """``column IN digests`` for hex digests: on PostgreSQL one comma-joined text split by
    the server, which costs the client far less than dumping a 2,000-element array."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column_ == any_(func.string_to_array(literal(",".join(digests), String), ","))
    return column_.in_(digests)


# --- writing ---------------------------------------------------------------------------

# Columns of ``person`` without the encrypting types: values arrive already encrypted.
_BOOLEANS = ("consent_sms", "consent_email", "sms_opt_out", "email_opt_out")
_raw_person = table(
    "person",
    *[
        column(name, JSON if name == "categories" else Boolean if name in _BOOLEANS
               else Integer if name in ("incident_id", "failed_verifications")
               else Person.__table__.c[name].type if name in ("created_at", "updated_at")
               else String)
        for name in INSERT_COLUMNS
    ],
)
_COPY_PERSON = copy_statement("person", INSERT_COLUMNS)


def _insert_rows(rows: list) -> None:
    """Write prepared rows: one binary COPY on PostgreSQL, dicts through Core elsewhere."""
    connection = db.session.connection()
    if isinstance(rows[0], bytes):
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(_COPY_PERSON) as copy:
            copy.write(b"".join((SIGNATURE, *rows, TRAILER)))
        cursor.close()
    else:
        connection.execute(_raw_person.insert(), rows)


def _new_code(row, ring: Keyring):
    """Replace the generated notice code of a prepared row (a dict or a COPY tuple)."""
    if isinstance(row, dict):
        return regenerate_code(row, ring)
    columns = regenerate_code({}, ring)
    return replace_fields(row, INSERT_COLUMNS, columns)


# --- the import ------------------------------------------------------------------------


class _Run:
    """State of one import while it runs."""

    def __init__(self, incident: Incident, dry_run: bool, errors_out, actor, today: date,
                 ref_pos: int):
        self.incident_id = incident.id
        self.dry_run = dry_run
        self.summary = ImportSummary(dry_run=dry_run)
        self.error_writer = ErrorWriter(errors_out)
        self.actor_type, self.actor_id = actor
        self.today = today
        self.ref_pos = ref_pos
        self.seen_refs = SeenRefs()
        self.seen_codes: dict[str, int] = {}
        self.inserted = 0
        self.analysed_at = 0
        self.ring = keyring()  # the application's, kept in app.extensions
        # An incident without persons at the start can only hold rows of this import, whose
        # external_refs SeenRefs has already checked: no batch needs looking up. (Were another
        # import of the same incident to run at once, the unique constraint stops one of them.)
        self.started_empty = db.session.execute(
            select(Person.id).where(Person.incident_id == incident.id).limit(1)
        ).first() is None

    def reject(self, line: int, problems: list[Problem]) -> None:
        self.summary.rejected += 1
        for problem in problems:
            error = RowError(line, problem.column, problem.code, problem.params)
            self.error_writer.write(error)
            if len(self.summary.errors) < MAX_KEPT_ERRORS:
                self.summary.errors.append(error)

    # a batch: dedupe and look up before validation, write after
    def prepare(self, records: list[Record]) -> tuple[list[Record], dict[str, str]]:
        fresh, existing_refs = [], []
        for record in records:
            line, fields = record
            if isinstance(fields, str):
                self.reject(line, [Problem("", "csv_invalid", {"reason": fields})])
                continue
            ref = fields[self.ref_pos].strip() if len(fields) > self.ref_pos else ""
            if ref:
                first = self.seen_refs.add(ref, line)
                if first is not None:
                    self.reject(line, [Problem("external_ref", "duplicate_ref", {"line": first})])
                    continue
                existing_refs.append(ref)
            fresh.append(record)
        existing = {}
        if existing_refs and not self.started_empty:
            existing = dict(db.session.execute(
                select(Person.external_ref, Person.row_digest).where(
                    Person.incident_id == self.incident_id,
                    _among(Person.external_ref, existing_refs),
                )
            ).all())
        return fresh, existing

    def store(self, results: list[BatchResult]) -> None:
        wanted = [result.code_index for result in results
                  if type(result) is NewRow and result.code_index is not None]
        taken = set()
        if wanted:
            taken = set(
                db.session.execute(
                    select(Person.code_index).where(_among_digests(Person.code_index, wanted))
                ).scalars()
            )
        inserts = []
        for result in results:
            kind = type(result)
            if kind is Rejected:
                self.reject(result.line, result.problems)
            elif kind is Unchanged:
                self.summary.unchanged += 1
            elif kind is Changed:
                self._update(result)
            else:
                line, row, index = result.line, result.row, result.code_index
                if result.notice_code:
                    first = self.seen_codes.get(index)
                    if first is not None:
                        self.reject(line, [Problem("notice_code", "code_duplicate_file",
                                                   {"line": first})])
                        continue
                    if index in taken:
                        self.reject(line, [Problem("notice_code", "code_taken", {})])
                        continue
                    self.seen_codes[index] = line
                elif index is not None and index in taken:
                    row = _new_code(row, self.ring)
                self.summary.imported += 1
                if row is not None and not self.dry_run:
                    inserts.append(row)
        if not self.dry_run and inserts:
            _insert_rows(inserts)
            self.inserted += len(inserts)
            if self.inserted >= max(ANALYZE_AFTER, 2 * self.analysed_at):
                self._analyse()

    def _analyse(self) -> None:
        """Refresh PostgreSQL's statistics as the table grows.

        Without it the planner keeps the estimate of the table before the
        import and looks up each batch's references with sequential scans.
        Only the columns the import looks up by are sampled (the table's size
        is refreshed all the same): a full ANALYZE sorts a sample of all forty
        columns and cost a third of the server's CPU on 100,000 rows.
        Autovacuum still analyses the whole table afterwards.
        """
        self.analysed_at = self.inserted
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE person (incident_id, external_ref, code_index)")

    def _update(self, result: Changed) -> None:
        line, ref, values, digest = result
        person = db.session.execute(
            select(Person).where(Person.incident_id == self.incident_id,
                                 Person.external_ref == ref)
        ).scalar_one()
        code = values["notice_code"]
        if code and code_index(code) != person.code_index:
            index = code_index(code)
            owner = db.session.execute(
                select(Person.id).where(Person.code_index == index)
            ).scalar_one_or_none()
            if owner is not None or index in self.seen_codes:
                self.reject(line, [Problem("notice_code", "code_taken", {})])
                return
            self.seen_codes[index] = line
        plain = {name: values[name] for name in PLAIN_FIELDS}
        plain["notice_code"] = code or person.notice_code
        changed = [name for name in (*PLAIN_FIELDS, "notice_code")
                   if (getattr(person, name) or None) != (plain[name] or None)]
        if person.language != values["language"]:
            changed.append("language")
        if sorted(person.categories or []) != values["categories"]:
            changed.append("categories")
        self.summary.updated += 1
        if self.dry_run:
            return
        for name, value in identity_columns(plain).items():
            if getattr(person, name) != value:
                setattr(person, name, value)
        person.language = values["language"]
        person.categories = values["categories"]
        person.row_digest = digest
        audit.record("person.updated", actor_type=self.actor_type, actor_id=self.actor_id,
                     incident_id=self.incident_id, person_id=person.id,
                     details={"fields": sorted(changed), "via": "import"})


def _row_context(incident: Incident, header: Header) -> RowContext:
    config = current_app.config
    return RowContext(
        positions=header.positions,
        width=header.width,
        default_region=str(config["PORTAL_DEFAULT_REGION"]).upper(),
        languages=tuple(config["LANGUAGES"]),
        default_language=incident.default_language or "en",
    )


def _worker_init(data_keys: list[str], index_key: str) -> None:
    """Give a worker process the keyring (the only application state rows need).

    The keys arrive as arguments; the keyring lives in the worker's own
    application's ``extensions``, as in any other application.
    """
    from flask import Flask

    from portal.security.crypto import EXTENSION_KEY

    app = Flask("portal-import-worker")
    app.extensions[EXTENSION_KEY] = Keyring(data_keys, index_key)
    app.app_context().push()


def _worker_context():
    """Workers start from a fresh fork server, not from this process.

    A plain fork would hand each worker this process's database connections;
    if the import were killed, those workers would keep its transaction open.
    """
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["portal.imports.rows"])
    return context


def _worker_count(path: Path, workers: int | None) -> int:
    if workers is not None:
        return max(0, workers)
    if path.stat().st_size < PARALLEL_MIN_BYTES:
        return 0
    return min(4, os.cpu_count() or 1)


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_persons(
    incident_id: int,
    path: str | os.PathLike,
    *,
    dry_run: bool = False,
    errors_out: TextIO | None = None,
    progress: Callable[[int], None] | None = None,
    on_batch: Callable[[ImportSummary], None] | None = None,
    actor: tuple[str, int | None] = ("system", None),
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    via: str = "cli",
) -> ImportSummary:
    """Import an affected-persons CSV into an incident; return the counts and errors.

    Raises ``ImportFileError`` (writing nothing) when the file cannot be
    processed. ``progress`` receives the number of bytes read as the file is
    read; ``on_batch`` runs inside each batch's transaction, before it commits.
    ``workers`` overrides the number of worker processes (0: validate in-process).
    """
    path = Path(path)
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise ImportFileError(N_("no incident with id %(id)s"), {"id": incident_id})
    header = check_file(path)
    run = _Run(incident, dry_run, errors_out, actor, date.today(),
               ref_pos=header.positions[COLUMNS.index("external_ref")])
    ctx = _row_context(incident, header)
    job = BatchJob(
        incident_id=incident.id,
        prepare=not dry_run,
        as_copy=db.session.get_bind().dialect.name == "postgresql",
        today=run.today,
    )
    count = _worker_count(path, workers)
    pool = None
    if count:
        pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=_worker_context(),
            initializer=_worker_init,
            initargs=(list(current_app.config["PORTAL_DATA_KEYS"]),
                      current_app.config["PORTAL_INDEX_KEY"]),
        )
    pending: deque[Future] = deque()

    def finish(results) -> None:
        run.store(results)
        if on_batch is not None:
            on_batch(run.summary)
        if not dry_run:
            db.session.commit()

    try:
        for batch in _batches(records(path, progress), batch_size):
            fresh, existing = run.prepare(batch)
            if pool is None:
                finish(process_batch(ctx, job, fresh, existing))
                continue
            pending.append(pool.submit(process_batch, ctx, job, fresh, existing))
            if len(pending) >= count * 2:
                finish(pending.popleft().result())
        while pending:
            finish(pending.popleft().result())
        if not dry_run:
            audit.record("persons.imported", actor_type=run.actor_type, actor_id=run.actor_id,
                         incident_id=run.incident_id,
                         details={**run.summary.counts(), "via": via})
            db.session.commit()
    except BaseException:
        db.session.rollback()
        for future in pending:
            future.cancel()
        if not dry_run:
            _record_failure(run, via)
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    # A batch's early rejects (repeated references) come before its other problems: list
    # the problems kept in line order (a stable sort keeps a line's columns in order).
    run.summary.errors.sort(key=lambda error: error.line)
    return run.summary


def _record_failure(run: _Run, via: str) -> None:
    """Log what was committed before an import stopped part-way."""
    try:
        audit.record("persons.import_failed", actor_type=run.actor_type, actor_id=run.actor_id,
                     incident_id=run.incident_id, details={**run.summary.counts(), "via": via})
        db.session.commit()
    except Exception:  # noqa: BLE001 - the original error matters more
        db.session.rollback()
