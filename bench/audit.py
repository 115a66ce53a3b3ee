"""Benchmark: the interaction log on PostgreSQL — appends under concurrent writers, sealing
and verification.

    /work/venv/bin/python bench/audit.py appends [--writers 50] [--seconds 10] [--code DIR]
    /work/venv/bin/python bench/audit.py verify [--rows 1000000]

``appends`` creates a throw-away database on 127.0.0.1:5432 (user postgres), builds the
schema with the migrations of the code under test, then runs ``--writers`` processes
that each append with ``portal.audit.log.record`` and commit, one row per transaction,
for ``--seconds``; it prints appends per second. ``--code DIR`` runs another checkout's
code (the "before": ``git archive <commit> | tar -x -C DIR``). When the code has a
sealer (``portal.audit.log.seal``), one more process seals every second, as the
periodic job does, and the lag between a row's commit and its seal is sampled.

``verify`` seeds ``--rows`` unsealed rows with one INSERT ... SELECT, seals them
(``seal``) and runs ``verify`` over the whole log, printing rows per second of each.

The database is dropped at the end. Never run in CI.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _code_path(code: str | None) -> None:
    root = Path(code).resolve() if code else Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    os.chdir(root)


def _settings(url: str) -> dict:
    from portal.config import TestConfig
    from portal.security.crypto import generate_key

    settings = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=url, TESTING=False, PORTAL_DATA_KEYS=[generate_key()],
                    PORTAL_RQ_QUEUE="bench", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1})
    return settings


def _create_database(prefix: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return admin.url.set(database=name).render_as_string(hide_password=False), admin


def _drop_database(admin, url: str) -> None:
    from sqlalchemy import make_url, text

    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" '
                                "WITH (FORCE)"))
    admin.dispose()


def _cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU of a process (default: this one) from /proc."""
    fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _writer(url: str, number: int, start_at: float, stop_at: float, counts, cpu) -> None:
    from portal import create_app
    from portal.audit import log as audit
    from portal.extensions import db

    app = create_app(_settings(url))
    with app.app_context():
        backend = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar_one()
        db.session.commit()  # connected before the start
        done = 0
        time.sleep(max(0.0, start_at - time.time()))
        client, server = _cpu_seconds(), _cpu_seconds(backend)
        while time.time() < stop_at:
            audit.record("bench.append", details={"writer": number, "i": done})
            db.session.commit()
            done += 1
        counts[number] = done
        cpu[number] = (_cpu_seconds() - client, _cpu_seconds(backend) - server)


def _sealer(url: str, stop_at: float, lags, sealer_cpu) -> None:
    from sqlalchemy import text

    from portal import create_app
    from portal.audit import log as audit
    from portal.extensions import db

    app = create_app(_settings(url))
    with app.app_context():
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.commit()
        client, server, sealed = _cpu_seconds(), _cpu_seconds(backend), 0
        while time.time() < stop_at + 30:
            oldest = db.session.execute(text(
                "SELECT extract(epoch FROM now() - min(at)) FROM interaction "
                "WHERE seq IS NULL")).scalar()
            db.session.commit()
            if oldest is not None:
                lags.append(float(oldest))
            elif time.time() > stop_at:
                break
            sealed += audit.seal()
            time.sleep(1.0)
        sealer_cpu["all"] = (_cpu_seconds() - client, _cpu_seconds(backend) - server, sealed)


def appends(args) -> None:
    _code_path(args.code)
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal.audit import log as audit
    from portal.extensions import db
    from portal.models import Interaction

    url, admin = _create_database("bench_audit")
    try:
        app = create_app(_settings(url))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        sealing = hasattr(audit, "seal")
        context = multiprocessing.get_context("fork")
        manager = context.Manager()
        counts, lags, cpu, sealer_cpu = (manager.dict(), manager.list(), manager.dict(),
                                          manager.dict())
        start_at = time.time() + 3 + args.writers * 0.15  # every writer connected first
        stop_at = start_at + args.seconds
        processes = [context.Process(target=_writer, args=(url, n, start_at, stop_at, counts, cpu))
                     for n in range(args.writers)]
        if sealing:
            processes.append(context.Process(target=_sealer, args=(url, stop_at, lags, sealer_cpu)))
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        total = sum(counts.values())
        client = sum(c for c, _ in cpu.values())
        server = sum(s for _, s in cpu.values())
        print(f"code: {args.code or 'this checkout'}; sealer: {'yes' if sealing else 'no'}")
        print(f"{args.writers} writers, {args.seconds} s: {total} appends, "
              f"{total / args.seconds:,.0f} appends/s "
              f"(slowest writer {min(counts.values())}, fastest {max(counts.values())})")
        print(f"CPU per append: writer processes {client / total * 1000:.2f} ms, their "
              f"PostgreSQL backends {server / total * 1000:.2f} ms (load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        if sealing:
            print(f"seal lag (oldest unsealed row, sampled each second): max "
                  f"{max(lags, default=0):.1f} s")
            client, server, sealed = sealer_cpu.get("all", (0.0, 0.0, 0))
            if sealed:
                print(f"sealer: {sealed} rows; CPU per row sealed: sealer process "
                      f"{client / sealed * 1e6:.0f} us, its PostgreSQL backend "
                      f"{server / sealed * 1e6:.0f} us")
        with app.app_context():
            stored = db.session.scalar(select(func.count(Interaction.id)))
            started = time.perf_counter()
            report = audit.verify()
            seconds = time.perf_counter() - started
            print(f"rows stored {stored}; verify: ok={report.ok}, {report.checked} rows in "
                  f"{seconds:.2f} s")
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop_database(admin, url)


def verify(args) -> None:
    _code_path(None)
    from flask_migrate import upgrade
    from sqlalchemy import text

    from portal import create_app
    from portal.audit import log as audit
    from portal.extensions import db

    url, admin = _create_database("bench_verify")
    try:
        app = create_app(_settings(url))
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            # Canonical details text, as record() stores it: {"i":<n>}.
            db.session.execute(text(
                "INSERT INTO interaction (at, actor_type, actor_id, action, incident_id, "
                "details, details_digest, ip) SELECT now() - (:rows - g) * interval '1 ms', "
                "'staff', g % 50, 'bench.event', NULL, CAST('{\"i\":' || g || '}' AS json), "
                "encode(sha256(convert_to('{\"i\":' || g || '}', 'UTF8')), 'hex'), "
                "'192.0.2.' || (g % 250) FROM generate_series(1, :rows) AS g"),
                {"rows": args.rows})
            db.session.commit()
            with db.engine.connect() as connection:  # fresh statistics, as autovacuum would
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("ANALYZE interaction"))
            print(f"seeded {args.rows:,} unsealed rows in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            sealed = audit.seal(batch=args.batch)
            seconds = time.perf_counter() - started
            print(f"sealed {sealed:,} rows in {seconds:.1f} s: {sealed / seconds:,.0f} rows/s")
            for attempt in range(args.repeat):
                started = time.perf_counter()
                report = audit.verify(seal_first=False)
                seconds = time.perf_counter() - started
                print(f"verify #{attempt + 1}: ok={report.ok}, {report.checked:,} rows in "
                      f"{seconds:.2f} s: {report.checked / seconds:,.0f} rows/s")
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop_database(admin, url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    append_parser = commands.add_parser("appends")
    append_parser.add_argument("--writers", type=int, default=50)
    append_parser.add_argument("--seconds", type=float, default=10)
    append_parser.add_argument("--code", help="run another checkout's code (the 'before')")
    verify_parser = commands.add_parser("verify")
    verify_parser.add_argument("--rows", type=int, default=1_000_000)
    verify_parser.add_argument("--batch", type=int, default=20_000)
    verify_parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    {"appends": appends, "verify": verify}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
