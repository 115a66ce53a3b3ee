"""The monitoring activation-code pool: vendor import and assignment on first request."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import func, select, text

from portal.models import ActivationCode, Interaction
from portal.people.activation import (
    CodeFileError,
    assign_activation_code,
    import_codes,
    pool_counts,
)
from tests.support.race import run_together


def _write(path, lines, bom=False):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\n".join(lines).encode() + b"\n")
    return path


def test_import_stores_codes_encrypted_and_skips_duplicates(db, make_incident, tmp_path):
    incident = make_incident()
    path = _write(tmp_path / "v.csv", ["serial,code", "1,AAAA-BBBB-1111", "2,AAAA-BBBB-2222",
                                       "3,aaaa-bbbb-1111", "4,!", "5,AAAA-BBBB-3333"], bom=True)
    summary = import_codes(incident.id, path)
    assert summary.line() == "added 3, duplicates 1, rejected 1"
    assert summary.rejected[0][0] == 5
    again = import_codes(incident.id, path)
    assert (again.added, again.duplicates) == (0, 4)
    assert pool_counts(incident.id) == (3, 0)
    raw = db.session.execute(text("SELECT code FROM activation_code LIMIT 1")).scalar_one()
    assert raw.startswith("A") and "BBBB" not in raw  # stored as an AES-GCM token (version 1)
    logged = db.session.execute(
        select(Interaction.details).where(Interaction.action == "activation_codes.imported")
    ).scalars().all()
    assert logged[0] == {"added": 3, "duplicates": 1, "rejected": 1}


def test_import_refuses_a_file_without_code_column(db, make_incident, tmp_path):
    incident = make_incident()
    with pytest.raises(CodeFileError, match="no 'code' column"):
        import_codes(incident.id, _write(tmp_path / "v.csv", ["serial", "1"]))
    with pytest.raises(CodeFileError, match="no such file"):
        import_codes(incident.id, tmp_path / "missing.csv")


def test_codes_cli(db, runner, make_incident, tmp_path):
    incident = make_incident()
    path = _write(tmp_path / "v.csv", ["code", "CODE-0001", "CODE-0002"])
    result = runner.invoke(args=["codes", "import", str(path), "--incident", incident.reference])
    assert result.exit_code == 0, result.output
    assert "added 2, duplicates 0, rejected 0" in result.output
    assert "pool: 2 codes, 0 assigned, 2 free" in result.output
    bad = runner.invoke(args=["codes", "import", str(path), "--incident", "NOPE"])
    assert bad.exit_code != 0 and "no incident" in bad.output


def test_assignment_is_stable_and_logged_without_the_code(db, make_incident, make_person,
                                                          tmp_path):
    incident = make_incident()
    import_codes(incident.id, _write(tmp_path / "v.csv", ["code", "CODE-0001", "CODE-0002"]))
    first, _ = make_person(incident=incident)
    second, _ = make_person(incident=incident)
    third, _ = make_person(incident=incident)
    code = assign_activation_code(first.id)
    assert code in {"CODE-0001", "CODE-0002"}
    assert assign_activation_code(first.id) == code
    other = assign_activation_code(second.id)
    assert other and other != code
    assert assign_activation_code(third.id) is None  # the pool is empty
    assert pool_counts(incident.id) == (2, 2)
    logs = db.session.execute(
        select(Interaction).where(Interaction.action == "activation_code.assigned")
    ).scalars().all()
    assert [log.person_id for log in logs] == [first.id, second.id]
    assert all("CODE" not in str(log.details) for log in logs)


def test_codes_of_another_incident_are_not_assigned(db, make_incident, make_person, tmp_path):
    mine, other = make_incident(), make_incident()
    import_codes(other.id, _write(tmp_path / "v.csv", ["code", "CODE-0001"]))
    person, _ = make_person(incident=mine)
    assert assign_activation_code(person.id) is None


@pytest.mark.postgres
def test_concurrent_requests_never_share_a_code(app, db, make_incident, make_person, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrency of the claim is tested on PostgreSQL")
    incident = make_incident()
    lines = ["code"] + [f"CODE-{n:04d}" for n in range(30)]
    import_codes(incident.id, _write(tmp_path / "v.csv", lines))
    people = [make_person(incident=incident)[0].id for _ in range(20)]
    results: dict[int, list[str | None]] = {pid: [] for pid in people}
    errors = []

    def worker(person_ids):
        try:
            with app.app_context():
                for pid in person_ids:
                    results[pid].append(assign_activation_code(pid))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # every person is asked for by two threads at once
    run_together([partial(worker, people) for _ in range(2)]
                 + [partial(worker, list(reversed(people))) for _ in range(2)])
    assert not errors
    given = {pid: set(codes) for pid, codes in results.items()}
    assert all(len(codes) == 1 and None not in codes for codes in given.values())
    assert len({codes.pop() for codes in given.values()}) == 20
    assert db.session.scalar(
        select(func.count(ActivationCode.id)).where(ActivationCode.person_id.isnot(None))) == 20
