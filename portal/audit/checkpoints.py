"""Signed checkpoints of the chain's head, full verification, and the chain's status.

A checkpoint states the head of the sealed chain (its place ``seq`` = the number of
rows, the last row's id and hash, the time) signed with Ed25519 under
``PORTAL_AUDIT_SIGNING_KEY``. It is written to ``PORTAL_AUDIT_CHECKPOINT_DIR`` and, when
``PORTAL_AUDIT_CHECKPOINT_EMAIL`` is set, mailed to that compliance address, so copies
live outside the database. ``verify_log`` then proves the log still *extends* each
checkpoint: the row at the checkpoint's place still carries the checkpointed hash. That
catches what the keyed chain alone cannot: the newest rows deleted.

Verifications and checkpoints are recorded in the log itself (``audit.verified``,
``audit.checkpointed``); ``status`` reads the latest of each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from sqlalchemy import select

from portal.audit import keys
from portal.audit import log as audit
from portal.extensions import db
from portal.models.base import utcnow
from portal.models.interaction import Interaction

FORMAT = "portal-audit-checkpoint/1"
VERIFIED = "audit.verified"
CHECKPOINTED = "audit.checkpointed"
log = logging.getLogger(__name__)


class ChainBroken(RuntimeError):
    """The chain does not verify: no checkpoint is signed over it."""

    def __init__(self, report: audit.ChainReport):
        super().__init__(f"interaction log broken at row {report.bad_id}: {report.reason}")
        self.report = report


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key (first 16 hex digits of SHA-256 of its bytes)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _signed_text(body: dict) -> bytes:
    return audit.canonical_json({"format": FORMAT, **body}).encode()


def sign(body: dict) -> dict:
    """The checkpoint document for ``body``: the body, its signature and the key's id."""
    private = keys.signing_key()
    return {
        "format": FORMAT,
        "checkpoint": body,
        "signature": base64.b64encode(private.sign(_signed_text(body))).decode(),
        "key_id": key_id(private.public_key()),
    }


def directory() -> Path | None:
    """Where checkpoints are written (created on first use); ``None`` when unset (tests)."""
    configured = current_app.config["PORTAL_AUDIT_CHECKPOINT_DIR"]
    if not configured:
        return None
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write(path: Path, document: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)  # never a half-written checkpoint under the real name


def _mail(document: dict) -> bool:
    address = current_app.config["PORTAL_AUDIT_CHECKPOINT_EMAIL"]
    if not address:
        return False
    from portal.dispatch.channels import ChannelError
    from portal.dispatch.channels import email as email_channel

    body = document["checkpoint"]
    text = (
        "Signed checkpoint of the interaction log. Keep this message: an auditor checks the "
        "log against it with `flask audit verify --checkpoint FILE` (save the JSON below "
        "as FILE).\n\n" + json.dumps(document, indent=2, sort_keys=True) + "\n"
    )
    try:
        email_channel.send(address, text,
                           subject=f"Interaction log checkpoint: {body['count']} rows")
    except ChannelError as exc:
        log.warning("checkpoint not mailed to the compliance address: %s", exc)
        return False
    return True


@dataclass
class CheckpointMade:
    document: dict
    path: Path
    emailed: bool
    copies: list[Path] = field(default_factory=list)


def make_checkpoint(out: Path | None = None) -> CheckpointMade:
    """Seal, verify the whole chain, then sign its head into the directory (and ``out``).

    Raises ``ChainBroken`` (after recording the failed verification) when the chain
    does not verify: a checkpoint never vouches for a broken log.
    """
    report = audit.verify()
    if not report.ok:
        record_verification(report, [])
        db.session.commit()
        raise ChainBroken(report)
    body = {"seq": report.head_seq, "last_row_id": report.head_id, "hash": report.head_hash,
            "count": report.checked, "at": utcnow().isoformat(timespec="seconds")}
    document = sign(body)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    folder = directory()
    if folder is None:
        raise RuntimeError("PORTAL_AUDIT_CHECKPOINT_DIR is not set")
    path = folder / f"checkpoint-{report.head_seq:012d}-{stamp}.json"
    _write(path, document)
    copies = []
    if out is not None:
        _write(out, document)
        copies.append(out)
    emailed = _mail(document)
    audit.record(CHECKPOINTED, details={
        "seq": body["seq"], "last_row_id": body["last_row_id"], "count": body["count"],
        "hash": body["hash"], "file": path.name, "emailed": emailed, "key_id": document["key_id"],
    })
    db.session.commit()
    return CheckpointMade(document, path, emailed, copies)


def checkpoint_job() -> None:
    """The periodic job: a checkpoint every ``PORTAL_AUDIT_CHECKPOINT_MINUTES``."""
    if directory() is None:
        return
    try:
        made = make_checkpoint()
    except ChainBroken as exc:
        log.error("no checkpoint: %s", exc)
        return
    log.info("audit checkpoint %s (%d rows)", made.path.name, made.document["checkpoint"]["count"])


def seal_job() -> None:
    """The periodic job: chain the rows committed since the last run."""
    audit.seal()


# --- verification against checkpoints -----------------------------------------------------


@dataclass
class CheckpointResult:
    name: str
    problem: str | None = None
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def read(path: Path) -> dict:
    """A checkpoint document from a file; ``ValueError`` naming what is wrong."""
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read it ({exc.__class__.__name__})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a checkpoint (format is not {FORMAT})")
    body = document.get("checkpoint")
    if not isinstance(body, dict) or not isinstance(body.get("seq"), int) or not isinstance(
            body.get("hash"), str) or not isinstance(document.get("signature"), str):
        raise ValueError("not a checkpoint (fields missing)")
    return document


def check(document: dict, public_key: Ed25519PublicKey, report: audit.ChainReport) -> str | None:
    """The problem with the log against one checkpoint document, or ``None``."""
    body = document["checkpoint"]
    try:
        signature = base64.b64decode(document["signature"], validate=True)
        public_key.verify(signature, _signed_text(body))
    except (InvalidSignature, ValueError):
        return ("forged checkpoint: its signature does not verify under the public key "
                f"{key_id(public_key)}")
    seq = body["seq"]
    if seq == 0:
        return None
    found = audit.row_at(seq)
    if found is None:
        return (f"rows deleted from the end: the checkpoint covers {seq} rows (last row id "
                f"{body.get('last_row_id')}), the log now ends at {report.head_seq}")
    row_id, row_hash = found
    if row_hash != body["hash"] or row_id != body.get("last_row_id"):
        return (f"the log no longer extends the checkpoint: the row at place {seq} (id {row_id}) "
                "is not the one signed (rows deleted or rewritten)")
    if not report.ok and seq > report.head_seq:
        return f"the chain is broken before the checkpoint's place {seq}"
    return None


def checkpoint_files() -> list[Path]:
    """Every checkpoint in the directory, oldest place first."""
    folder = directory()
    return sorted(folder.glob("checkpoint-*.json")) if folder is not None else []


@dataclass
class Verification:
    report: audit.ChainReport
    checkpoints: list[CheckpointResult]

    @property
    def ok(self) -> bool:
        return self.report.ok and all(result.ok for result in self.checkpoints)

    def problems(self) -> list[str]:
        found = []
        if not self.report.ok:
            found.append(f"row {self.report.bad_id}: {self.report.reason}")
        found += [f"checkpoint {result.name}: {result.problem}"
                  for result in self.checkpoints if not result.ok]
        return found


def verify_log(files: list[Path] | None = None,
               public_key: Ed25519PublicKey | None = None) -> Verification:
    """Seal, walk the chain, check it extends every checkpoint; record the outcome."""
    report = audit.verify()
    public_key = public_key or keys.public_key()
    results = []
    for path in (checkpoint_files() if files is None else files):
        try:
            document = read(path)
        except ValueError as exc:
            results.append(CheckpointResult(path.name, f"unreadable: {exc}"))
            continue
        results.append(CheckpointResult(path.name, check(document, public_key, report),
                                        document["checkpoint"]["seq"]))
    outcome = Verification(report, results)
    record_verification(report, results)
    db.session.commit()
    return outcome


def record_verification(report: audit.ChainReport, results: list[CheckpointResult]) -> None:
    """Log a verification (``audit.verified``) for ``status`` and the log's readers."""
    problems = [f"{result.name}: {result.problem}" for result in results if not result.ok]
    audit.record(VERIFIED, details={
        "result": "intact" if report.ok and not problems else "broken",
        "rows": report.checked,
        "bad_id": report.bad_id,
        "reason": report.reason,
        "checkpoints": len(results),
        "checkpoint_problems": problems,
    })


# --- status for the oversight pages and the regulator report -------------------------------


def _latest(action: str) -> Interaction | None:
    return db.session.execute(
        select(Interaction).where(Interaction.action == action)
        .order_by(Interaction.id.desc()).limit(1)
    ).scalar_one_or_none()


def status() -> dict:
    """The chain's last verification and last checkpoint, from the log.

    ``{"verification": {"at", "result" ("intact"|"broken"), "ok", "rows", "problem"} | None,
    "checkpoint": {"at", "last_row_id", "count", "seq", "key_id"} | None,
    "pending": rows not yet sealed}``.
    """
    verification = checkpoint = None
    found = _latest(VERIFIED)
    if found is not None:
        details = found.details
        problem = None
        if details.get("bad_id") is not None:
            problem = f"row {details['bad_id']}: {details.get('reason')}"
        elif details.get("checkpoint_problems"):
            problem = "; ".join(details["checkpoint_problems"])
        verification = {"at": found.at, "result": details.get("result"),
                        "ok": details.get("result") == "intact", "rows": details.get("rows"),
                        "problem": problem}
    found = _latest(CHECKPOINTED)
    if found is not None:
        details = found.details
        checkpoint = {"at": found.at, "last_row_id": details.get("last_row_id"),
                      "count": details.get("count"), "seq": details.get("seq"),
                      "key_id": details.get("key_id")}
    return {"verification": verification, "checkpoint": checkpoint,
            "pending": audit.pending_count()}
