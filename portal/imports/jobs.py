"""Imports uploaded through the helpdesk: the stored upload and the background job.

The upload is kept in the ``import_run`` row encrypted with the keyring (so a
worker on another machine can read it) and erased as soon as the job has read it.
``run_import`` is the job: it takes the run's id, imports through
``portal.imports.run`` and records progress and counts on the row as it goes.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile

from portal.audit import log as audit
from portal.extensions import db
from portal.imports.csv_file import in_line_order
from portal.imports.rows import N_
from portal.imports.run import MAX_KEPT_ERRORS, ImportFileError, ImportSummary, import_persons
from portal.models import ImportRun
from portal.models.base import utcnow
from portal.security.crypto import keyring

log = logging.getLogger(__name__)
ERRORS_SAMPLE = 200
UNEXPECTED = N_("The import stopped because of an unexpected error; see the log.")
UPLOAD_CONTEXT = "import_run.upload"  # the associated data of an upload's token


def create_run(incident_id: int, staff_id: int | None, filename: str, data: bytes,
               dry_run: bool = False) -> ImportRun:
    """Store an upload as a queued run and log it (the caller commits)."""
    run = ImportRun(
        incident_id=incident_id,
        created_by_id=staff_id,
        filename=os.path.basename(filename)[:255] or "upload.csv",
        status="queued",
        dry_run=dry_run,
        total_bytes=len(data),
        upload=keyring().encrypt_bytes(data, UPLOAD_CONTEXT),
        errors_sample=[],
    )
    db.session.add(run)
    db.session.flush()
    audit.record("persons.import_queued", incident_id=incident_id,
                 details={"import_run_id": run.id, "bytes": len(data), "dry_run": dry_run})
    return run


def _record_counts(run: ImportRun, summary: ImportSummary) -> None:
    run.imported = summary.imported
    run.updated = summary.updated
    run.unchanged = summary.unchanged
    run.rejected = summary.rejected


def run_import(run_id: int) -> str:
    """Job: import the upload of one run; returns the run's final status."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "queued":
        return run.status if run is not None else "missing"
    run.status = "running"
    run.started_at = utcnow()
    db.session.commit()
    incident_id, actor_id, dry_run = run.incident_id, run.created_by_id, run.dry_run
    read = {"bytes": 0}
    errors = io.StringIO()
    handle, path = tempfile.mkstemp(prefix="portal-import-", suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(keyring().decrypt_bytes(run.upload, UPLOAD_CONTEXT))

        def progress(count: int) -> None:
            read["bytes"] += count

        def on_batch(summary: ImportSummary) -> None:
            current = db.session.get(ImportRun, run_id)
            current.processed_bytes = read["bytes"]
            _record_counts(current, summary)
            if dry_run:  # a dry run writes nothing else, so progress can be committed
                db.session.commit()

        summary = import_persons(incident_id, path, dry_run=dry_run, errors_out=errors,
                                 progress=progress, on_batch=on_batch,
                                 actor=("staff", actor_id), via="web")
    except ImportFileError as exc:
        db.session.rollback()
        run = db.session.get(ImportRun, run_id)
        run.status = "failed"
        run.error_message = str(exc)
        run.error_reason = exc.record  # its page says it in the reader's language
    except Exception:
        log.exception("import run %s failed", run_id)
        db.session.rollback()
        run = db.session.get(ImportRun, run_id)
        run.status = "failed"
        unexpected = ImportFileError(UNEXPECTED)
        run.error_message, run.error_reason = str(unexpected), unexpected.record
    else:
        run = db.session.get(ImportRun, run_id)
        run.status = "finished"
        run.processed_bytes = run.total_bytes
        _record_counts(run, summary)
        run.errors_sample = [
            {"line": e.line, "column": e.column, "code": e.code, "params": e.params}
            for e in summary.errors[:ERRORS_SAMPLE]
        ]
        if summary.rejected:
            run.errors_csv = in_line_order(errors.getvalue())
        if summary.rejected > MAX_KEPT_ERRORS:
            log.info("import run %s: %s rejected rows", run_id, summary.rejected)
    finally:
        os.unlink(path)
    run.upload = None
    run.finished_at = utcnow()
    db.session.commit()
    return run.status
