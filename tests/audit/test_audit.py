"""The interaction log's hash chain and ``flask audit verify``."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select, text, update

from portal.audit import log as audit
from portal.models import Interaction
from tests.support.race import run_together


def _write(db, n: int = 5) -> list[int]:
    ids = [audit.record(f"test.event{i}", details={"i": i, "text": "héllo"}).id for i in range(n)]
    db.session.commit()
    audit.seal()  # PostgreSQL: the sealer chains committed rows (SQLite: record did)
    return ids


def test_chain_links_each_row_to_the_previous(db):
    _write(db, 3)
    rows = db.session.execute(select(Interaction).order_by(Interaction.id)).scalars().all()
    assert rows[0].prev_hash == audit.GENESIS
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash
    assert audit.verify().ok
    assert audit.verify().checked == 3


def test_verify_command_passes_on_intact_log(db, runner):
    _write(db)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "5 rows verified" in result.output


def test_changed_details_are_detected(db, runner):
    ids = _write(db)
    db.session.execute(
        update(Interaction).where(Interaction.id == ids[2]).values(details={"i": 99})
    )
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {ids[2]}" in result.output
    assert "details were changed" in result.output


def test_changed_field_is_detected(db, runner):
    ids = _write(db)
    db.session.execute(
        update(Interaction).where(Interaction.id == ids[1]).values(action="test.forged")
    )
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {ids[1]}" in result.output


def test_recomputed_digest_still_breaks_the_chain(db):
    """A forger who fixes up details_digest still has to forge every later hash."""
    ids = _write(db)
    forged = {"i": 42}
    db.session.execute(
        update(Interaction)
        .where(Interaction.id == ids[1])
        .values(details=forged, details_digest=audit.digest_details(forged))
    )
    db.session.commit()
    report = audit.verify()
    assert not report.ok and report.bad_id == ids[1]


def test_deleted_row_is_detected(db, runner):
    ids = _write(db)
    db.session.execute(text("DELETE FROM interaction WHERE id = :id"), {"id": ids[2]})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {ids[3]}" in result.output
    assert "deleted or reordered" in result.output


def test_reordered_rows_are_detected(db):
    ids = _write(db)
    # Swap the positions of two rows by swapping their ids.
    for old, new in ((ids[1], 10_000), (ids[2], ids[1]), (10_000, ids[2])):
        db.session.execute(update(Interaction).where(Interaction.id == old).values(id=new))
    db.session.commit()
    report = audit.verify()
    assert not report.ok
    # The chain is walked in its own order (seq): the row at the second place now has ids[2].
    assert report.bad_id == ids[2]


def test_redaction_keeps_the_chain_verifiable(db, make_person):
    person, _ = make_person()
    audit.record("notice.viewed", person_id=person.id, details={"note": "personal remark"})
    audit.record("other.event", details={"x": 1})
    db.session.commit()
    assert audit.redact_person(person.id) == 1
    db.session.commit()
    row = db.session.execute(
        select(Interaction).where(Interaction.person_id == person.id)
    ).scalar_one()
    assert row.details == {audit.REDACTED_KEY: ["note"]}
    assert audit.verify().ok


def test_actor_is_inferred_from_the_signed_in_staff_member(client, db, make_staff, login):
    agent = make_staff("agent")
    login(agent)
    row = db.session.execute(
        select(Interaction).where(Interaction.action == "staff.login")
    ).scalar_one()
    assert (row.actor_type, row.actor_id) == ("staff", agent.id)
    assert row.ip == "127.0.0.1"


def test_parallel_writers_keep_one_chain(app, db):
    """Writers in parallel transactions never chain two rows to the same predecessor."""
    from sqlalchemy import func

    before = db.session.execute(select(func.count(Interaction.id))).scalar_one()
    db.session.commit()  # let the writers' transactions see a settled log
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                for i in range(8):
                    audit.record("test.parallel", details={"writer": n, "i": i})
                    db.session.commit()
                    if n % 2:  # sealers run while others write (one at a time seals)
                        audit.seal()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_together([partial(writer, n) for n in range(6)])
    assert errors == []
    audit.seal()
    db.session.expire_all()
    hashes = db.session.execute(select(Interaction.prev_hash)).scalars().all()
    assert len(hashes) == before + 48 and len(set(hashes)) == len(hashes)
    assert audit.verify().ok


@pytest.mark.postgres
def test_postgresql_builds_the_message_python_builds(db):
    """The sealer and verify read each row's message from PostgreSQL: it must be row_message."""
    audit.record("test.quoted", details={"note": 'a "quote", a \\ and ünïcode\n'},
                 ip="2001:db8::1", incident_id=None)
    audit.record("test.plain", actor_type="system")
    db.session.commit()
    rows = db.session.execute(select(Interaction).order_by(Interaction.id)).scalars().all()
    built = dict(db.session.execute(
        text("SELECT id, " + audit._PG_MESSAGE + " FROM interaction")).all())  # noqa: S608
    assert built == {row.id: audit.row_message(row) for row in rows}
    assert audit.verify().ok


@pytest.mark.postgres
def test_verify_reads_the_log_in_batches_of_one_text_per_row(db, count_queries):
    """The fast walk's shape (what makes 10M rows verify in seconds) must not regress
    to a statement per row or one unbounded read: one aggregate per ``batch`` places,
    then one row-by-row read of whatever was sealed after the walk began."""
    ids = _write(db, 7)
    with count_queries as counted:
        report = audit.verify(batch=3, seal_first=False)
    assert report.ok and report.checked == 7, report
    assert report.head_id == ids[-1]
    assert report.head_hash == db.session.get(Interaction, ids[-1]).hash
    batches = [s for s in counted.statements if "string_agg" in s]
    assert len(batches) == 3  # places 1-3, 4-6, 7-9
    assert all("BETWEEN" in s for s in batches)
    row_by_row = [s for s in counted.statements if "seq >=" in s and "string_agg" not in s]
    assert len(row_by_row) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("where", [1, 3, 4, 6])
def test_a_break_in_any_batch_is_named_by_the_row_by_row_walk(db, where):
    ids = _write(db, 7)
    db.session.execute(
        update(Interaction).where(Interaction.id == ids[where]).values(action="test.forged"))
    db.session.commit()
    report = audit.verify(batch=2, seal_first=False)
    assert not report.ok and report.bad_id == ids[where]
    assert report.checked == where and "keyed hash" in report.reason


@pytest.mark.postgres
def test_a_row_deleted_inside_a_batch_is_caught(db):
    ids = _write(db, 7)
    db.session.execute(text("DELETE FROM interaction WHERE id = :id"), {"id": ids[3]})
    db.session.commit()
    report = audit.verify(batch=3, seal_first=False)
    assert not report.ok and report.bad_id == ids[4] and report.checked == 3
    assert "does not follow" in report.reason


@pytest.mark.postgres
def test_a_row_whose_hash_was_erased_is_caught(db):
    """A NULL field makes the fast walk's line unreadable: it stops, the slow walk names it."""
    ids = _write(db, 4)
    db.session.execute(text("UPDATE interaction SET hash = NULL WHERE id = :id"), {"id": ids[-1]})
    db.session.commit()
    report = audit.verify(batch=2, seal_first=False)
    assert not report.ok and report.bad_id == ids[-1]


# --- the actor: set per request by the web layer, never read from the request here -------


def _rows(db, action: str) -> list[Interaction]:
    return list(db.session.execute(
        select(Interaction).where(Interaction.action == action).order_by(Interaction.id)
    ).scalars())


def test_a_verified_customer_is_the_actor_of_their_requests(client, db, make_person):
    from tests.support.customer import sign_in

    person, plain = make_person()
    sign_in(client, plain)  # verify.succeeded is recorded after the session starts
    (succeeded,) = _rows(db, "verify.succeeded")
    assert (succeeded.actor_type, succeeded.actor_id) == ("customer", person.id)
    assert succeeded.ip == "127.0.0.1"
    from tests.support import csrf_token

    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    (signed_out,) = _rows(db, "customer.signed_out")
    assert (signed_out.actor_type, signed_out.actor_id) == ("customer", person.id)


def test_a_signed_in_staff_member_is_the_actor_of_their_requests(client, db, make_staff, login):
    from tests.support import csrf_token

    user = make_staff("manager")
    login(user)
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/helpdesk/")})
    (logout,) = _rows(db, "staff.logout")
    assert (logout.actor_type, logout.actor_id) == ("staff", user.id)
    assert logout.ip == "127.0.0.1"


def test_a_cli_command_records_the_system_without_an_address(app, client, db, runner,
                                                            make_staff, login):
    login(make_staff())  # a request first: nothing of it may stay behind for the command

    @app.cli.command("audit-probe")
    def probe():
        audit.record("test.cli_probe")
        db.session.commit()

    result = runner.invoke(args=["audit-probe"])
    assert result.exit_code == 0, result.output
    (row,) = _rows(db, "test.cli_probe")
    assert (row.actor_type, row.actor_id, row.ip) == ("system", None, None)


def test_staff_come_before_a_customer_in_one_context():
    from portal.audit import context as audit_context

    opened = audit_context.begin(ip="192.0.2.1", staff_id=5)
    try:
        audit_context.set_customer(9)
        assert audit_context.current().actor == ("staff", 5)  # staff before a customer
        audit_context.set_staff(None)
        assert audit_context.current().actor == ("customer", 9)
    finally:
        audit_context.end(opened)
    assert audit_context.current() is None


def test_the_log_reads_nothing_from_flask():
    import ast
    import inspect

    from portal.audit import context as audit_context

    for module in (audit, audit_context):
        tree = ast.parse(inspect.getsource(module))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for alias in node.names}
        assert not any(name and name.split(".")[0] in {"flask", "flask_login"}
                       for name in imported), module.__name__
