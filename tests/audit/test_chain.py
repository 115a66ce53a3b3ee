"""The keyed chain and signed checkpoints against someone with write access to the database.

Each case tampers the way issue 11 describes (newest rows deleted, a row rewritten
with every later hash recomputed without the key, a forged checkpoint, the wrong
public key) and expects ``flask audit verify`` to exit non-zero naming the problem.
Runs on SQLite and, with PORTAL_TEST_DB=postgresql, on PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, text, update

from portal.audit import checkpoints, keys
from portal.audit import log as audit
from portal.models import Interaction


@pytest.fixture
def app_settings(app_settings, tmp_path):
    app_settings["PORTAL_AUDIT_CHECKPOINT_DIR"] = str(tmp_path / "checkpoints")
    return app_settings


def _write(db, n: int, start: int = 0) -> list[int]:
    ids = [audit.record("test.event", details={"i": i}).id for i in range(start, start + n)]
    db.session.commit()
    audit.seal()
    return ids


def _verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


def _checkpoint(runner, *args) -> Path:
    result = runner.invoke(args=["audit", "checkpoint", *args])
    assert result.exit_code == 0, result.output
    return Path(result.output.split(" written to ")[1].split("\n")[0].strip())


def test_an_intact_log_verifies_against_its_checkpoints(db, runner, tmp_path):
    _write(db, 5)
    first = _checkpoint(runner, "--out", str(tmp_path / "copy.json"))
    _write(db, 3)
    _checkpoint(runner)
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output and "extends all 2 checkpoints" in result.output
    assert json.loads((tmp_path / "copy.json").read_text()) == json.loads(first.read_text())
    assert _verify(runner, "--checkpoint", str(tmp_path / "copy.json")).exit_code == 0


def test_deleting_the_newest_rows_is_caught_by_a_checkpoint(db, runner):
    ids = _write(db, 6)
    _checkpoint(runner)
    # The checkpoint's own log row and the newest written rows go.
    db.session.execute(delete(Interaction).where(Interaction.id >= ids[4]))
    db.session.commit()
    assert audit.verify().ok  # the chain alone cannot see a shortened end...
    result = _verify(runner)
    assert result.exit_code == 1  # ...the signed checkpoint does
    assert "rows deleted from the end" in result.output


def test_deleted_rows_replaced_by_new_ones_are_caught(db, runner):
    ids = _write(db, 4)
    _checkpoint(runner)
    db.session.execute(delete(Interaction).where(Interaction.id >= ids[2]))
    db.session.commit()
    _write(db, 4, start=100)  # the sealer chains new rows into the deleted places
    result = _verify(runner)
    assert result.exit_code == 1
    assert "no longer extends the checkpoint" in result.output


def test_a_rewritten_row_with_recomputed_hashes_is_caught(db, runner):
    """The forger recomputes the digest and every later hash, but has no key."""
    ids = _write(db, 5)
    rows = db.session.execute(select(Interaction).order_by(Interaction.seq)).scalars().all()
    forged_details = {"i": 42}
    guessed_key = b"not the key"
    prev = rows[1].prev_hash
    for row in rows[1:]:
        values = {}
        if row.id == ids[1]:
            values = {"details_digest": audit.digest_details(forged_details)}
            row.details_digest = values["details_digest"]
            # The forger stores the details as the canonical text record() stores.
            forge = ("UPDATE interaction SET details = CAST(:d AS json) WHERE id = :id"
                     if db.engine.dialect.name == "postgresql"
                     else "UPDATE interaction SET details = :d WHERE id = :id")
            db.session.execute(text(forge),
                               {"d": audit.canonical_json(forged_details), "id": row.id})
        digest = audit.chain_hash(guessed_key, prev, row.seq, audit.row_message(row))
        db.session.execute(update(Interaction).where(Interaction.id == row.id)
                           .values(prev_hash=prev, hash=digest, **values))
        prev = digest
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"BROKEN at row {ids[1]}" in result.output
    assert "keyed hash does not match" in result.output


def test_plain_sha256_as_the_old_chain_made_is_not_accepted(db):
    ids = _write(db, 2)
    row = db.session.get(Interaction, ids[0])
    unkeyed = hashlib.sha256(f"{row.prev_hash}\x1f{row.seq}\x1f{audit.row_message(row)}"
                             .encode()).hexdigest()
    db.session.execute(update(Interaction).where(Interaction.id == ids[0]).values(hash=unkeyed))
    db.session.commit()
    report = audit.verify()
    assert not report.ok and report.bad_id == ids[0]


def test_changed_details_are_caught(db, runner):
    ids = _write(db, 3)
    db.session.execute(update(Interaction).where(Interaction.id == ids[1])
                       .values(details={"i": 7}))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1 and "details were changed" in result.output


def test_a_forged_checkpoint_is_caught(db, runner):
    _write(db, 3)
    path = _checkpoint(runner)
    document = json.loads(path.read_text())
    document["checkpoint"]["count"] = document["checkpoint"]["seq"] = 2  # a shorter log, claimed
    path.write_text(json.dumps(document))
    result = _verify(runner)
    assert result.exit_code == 1
    assert "forged checkpoint" in result.output and path.name in result.output


def test_a_checkpoint_signed_with_another_key_is_forged(db, runner, tmp_path):
    _write(db, 3)
    path = _checkpoint(runner)
    document = json.loads(path.read_text())
    other = Ed25519PrivateKey.generate()
    signed = audit.canonical_json({"format": checkpoints.FORMAT, **document["checkpoint"]})
    document["signature"] = base64.b64encode(other.sign(signed.encode())).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    result = _verify(runner, "--checkpoint", str(forged))
    assert result.exit_code == 1 and "forged checkpoint" in result.output


def test_the_wrong_public_key_fails_and_the_right_one_passes(db, runner, tmp_path):
    _write(db, 3)
    _checkpoint(runner)
    printed = runner.invoke(args=["audit", "public-key"])
    assert printed.output.startswith("-----BEGIN PUBLIC KEY-----")
    right = tmp_path / "right.pem"
    right.write_text(printed.output)
    wrong = tmp_path / "wrong.pem"
    wrong.write_text(keys.public_key_pem(Ed25519PrivateKey.generate().public_key()))
    assert _verify(runner, "--public-key", str(right)).exit_code == 0
    result = _verify(runner, "--public-key", str(wrong))
    assert result.exit_code == 1 and "does not verify under the public key" in result.output
    not_a_key = tmp_path / "nonsense.pem"
    not_a_key.write_text("hello")
    result = _verify(runner, "--public-key", str(not_a_key))
    assert result.exit_code == 2 and "not a PEM Ed25519 public key" in result.output


def test_an_unreadable_checkpoint_is_named(db, runner, tmp_path):
    _write(db, 1)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = _verify(runner, "--checkpoint", str(bad))
    assert result.exit_code == 1 and "bad.json: unreadable: not JSON" in result.output


def test_no_checkpoint_is_signed_over_a_broken_chain(db, runner):
    ids = _write(db, 3)
    db.session.execute(update(Interaction).where(Interaction.id == ids[1])
                       .values(action="test.forged"))
    db.session.commit()
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1 and "no checkpoint written" in result.output
    assert checkpoints.checkpoint_files() == []
    assert checkpoints.status()["verification"]["result"] == "broken"


def test_status_reports_the_last_verification_and_checkpoint(db, runner):
    assert checkpoints.status() == {"verification": None, "checkpoint": None, "pending": 0}
    ids = _write(db, 4)
    _checkpoint(runner)
    assert _verify(runner).exit_code == 0
    state = checkpoints.status()
    assert state["verification"]["result"] == "intact" and state["verification"]["ok"]
    assert state["verification"]["rows"] >= 5 and state["verification"]["problem"] is None
    assert state["checkpoint"]["last_row_id"] == ids[-1] and state["checkpoint"]["count"] == 4
    assert state["checkpoint"]["at"] <= state["verification"]["at"]


def test_checkpoints_are_mailed_to_the_compliance_address(make_app, tmp_path):
    from portal.extensions import db
    from portal.models import OutboxMessage

    application = make_app(PORTAL_AUDIT_CHECKPOINT_DIR=str(tmp_path / "cp"),
                           PORTAL_AUDIT_CHECKPOINT_EMAIL="compliance@example.com")
    with application.app_context():
        audit.record("test.event")
        db.session.commit()
        made = checkpoints.make_checkpoint()
        assert made.emailed
        message = db.session.execute(select(OutboxMessage)).scalar_one()
        assert message.recipient == "compliance@example.com"
        assert made.document["signature"] in message.body
        db.session.execute(text("DELETE FROM outbox_message"))
        db.session.execute(text("DELETE FROM interaction"))
        db.session.commit()


def test_the_chain_is_keyed_by_the_setting(db):
    ids = _write(db, 1)
    row = db.session.get(Interaction, ids[0])
    expected = hmac.new(keys.audit_key(), f"{audit.GENESIS}\x1f1\x1f{audit.row_message(row)}"
                        .encode(), "sha256").hexdigest()
    assert row.seq == 1 and row.hash == expected
