"""Benchmark: import N synthetic affected persons into PostgreSQL.

    /work/venv/bin/python bench/import_persons.py [--rows 1000000] [--naive-rows 20000]

Creates a throw-away database on 127.0.0.1:5432 (user postgres), builds the
schema, writes a CSV of N synthetic rows, imports it with the real importer
(``portal.imports.run.import_persons``), imports it a second time (nothing may
change), then imports the first ``--naive-rows`` rows into a second incident
with a naive one-ORM-object-per-row loop and compares rows per second. The
database is dropped at the end.

Memory: the main process's peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``), and, sampled from /proc every
0.2 s, the largest worker's and the peak of the summed RSS of the main process,
the fork server and the workers. CPU: ``getrusage`` for the main process,
/proc for the workers and for the PostgreSQL backend serving the import (so
the figures stay meaningful on a machine other work is also using).
Never run in CI.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.config import TestConfig  # noqa: E402
from portal.imports.csv_file import Header  # noqa: E402
from portal.imports.rows import COLUMNS, RowContext, validate  # noqa: E402
from portal.security.crypto import generate_key  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CATS = ("national_id", "payment_card", "bank_account", "health", "policy_details",
        "claims_details", "date_of_birth", "contact_details")
FIRST = ("Olivia", "James", "Amelia", "Noah", "Grace", "Lucía", "Chloé", "Lukas", "Mia", "Hugo")
LAST = ("Smith", "Jones", "Taylor", "García", "Martin", "Müller", "Weber", "Dubois", "Brown")


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    """Synthetic, valid rows (US numbers in the 555-01xx fiction range are not used: the
    importer checks validity, so real-looking area codes with random subscriber numbers)."""
    rng = random.Random(seed)
    start = date(1940, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow([
                f"EXT-{n:08d}", first, last,
                (start + timedelta(days=rng.randrange(0, 365 * 60))).isoformat(),
                f"{rng.randrange(10000, 99999)}", f"POL-{rng.randrange(10**8, 10**9)}",
                f"{first.lower()}.{n}@example.com",
                f"(415) {rng.randrange(200, 999)}-{rng.randrange(0, 10000):04d}",
                f"{rng.randrange(1, 9999)} Main Street", "" if n % 3 else "Apt 4",
                "San Francisco", "CA", "US", rng.choice(("en", "es", "fr", "de")),
                ";".join(sorted(rng.sample(CATS, rng.randint(1, 4)))), "",
            ])


def maxrss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user+system) of this process, and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds (user+system) of another local process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProcessSampler(threading.Thread):
    """Samples this process and its descendants (the fork server's workers) from /proc.

    Workers are grandchildren (they start from a fork server), so getrusage
    cannot see them; every 0.2 s this records their CPU time and the peak of
    the summed resident set size of all the importer's processes.
    """

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.cpu: dict[int, float] = {}
        self.peak_total_rss = 0.0
        self.peak_worker_rss = 0.0

    @staticmethod
    def _tree(root: int) -> list[int]:
        """``root`` and its descendants, from each thread's /proc children list (cheap:
        scanning every process of the machine cost this process ~1.5 % of a CPU)."""
        found, todo = [], [root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    todo.extend(int(child) for child in children.read_text().split())
                except OSError:
                    continue
        return found

    @staticmethod
    def _rss_mb(pid: int) -> float:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.wait(0.2):
            total = 0.0
            for pid in self._tree(me):
                rss = self._rss_mb(pid)
                total += rss
                if pid != me:
                    self.peak_worker_rss = max(self.peak_worker_rss, rss)
                    cpu = process_cpu(pid)
                    if cpu == cpu:  # not NaN
                        self.cpu[pid] = cpu
            self.peak_total_rss = max(self.peak_total_rss, total)


def naive_import(db, incident_id: int, path: Path, limit: int, ctx: RowContext) -> int:
    """One ORM object per row, validated by the same rules, flushed every row."""
    from portal.imports.rows import digest_of
    from portal.models import Person
    from portal.people.identity import identity_columns
    from portal.security.crypto import generate_code

    count = 0
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for fields in reader:
            if count >= limit:
                break
            values, problems = validate(fields, ctx, date.today())
            if problems:
                continue
            existing = db.session.execute(
                select(Person).where(Person.incident_id == incident_id,
                                     Person.external_ref == values["external_ref"])
            ).scalar_one_or_none()
            if existing is not None:
                continue
            plain = dict(values, notice_code=generate_code())
            person = Person(incident_id=incident_id, external_ref=values["external_ref"],
                            language=values["language"], categories=values["categories"],
                            row_digest=digest_of(values), **identity_columns(plain))
            db.session.add(person)
            db.session.flush()
            count += 1
    db.session.commit()
    return count


def cost_breakdown(path: Path, ctx: RowContext, data_key: str, rows: int = 10_000) -> None:
    """CPU microseconds per row of each step, measured in this process on ``rows`` rows."""
    from datetime import UTC, datetime

    from cryptography.fernet import Fernet

    from portal.imports.pgcopy import CopyRows
    from portal.imports.rows import (
        ENCRYPTED,
        INSERT_COLUMNS,
        PERSON_CONTEXTS,
        complete_row,
        digest_of,
        encrypt_columns,
        plain_columns,
    )
    from portal.security.crypto import generate_code, keyring

    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        records = [fields for _, fields in zip(range(rows), reader, strict=False)]
    today = date.today()

    def timed(label, func):
        started = time.process_time()
        result = func()
        print(f"  {label:55} {(time.process_time() - started) / len(records) * 1e6:7.1f} us/row",
              flush=True)
        return result

    print(f"CPU cost per row, one process, {len(records)} rows:", flush=True)
    values = timed("validate (phone, email, date, categories...)",
                   lambda: [validate(fields, ctx, today)[0] for fields in records])
    digests = timed("row digest", lambda: [digest_of(v) for v in values])
    timed("generate_code() alone (included in the next line)",
          lambda: [generate_code() for _ in values])
    columns = timed("identity_columns() + generate_code()",
                    lambda: [plain_columns(v, d) for v, d in zip(values, digests, strict=True)])
    fields = sum(1 for row in columns for name in ENCRYPTED if row[name] is not None)
    fernet = Fernet(data_key)
    timed(f"Fernet.encrypt, one call per field ({fields / len(records):.1f} fields/row)",
          lambda: [fernet.encrypt(row[name].encode()) for row in columns for name in ENCRYPTED
                   if row[name] is not None])
    ring = keyring()
    timed("Keyring.encrypt (AES-GCM), one call per field",
          lambda: [ring.encrypt(row[name], context) for row in columns
                   for name, context in zip(ENCRYPTED, PERSON_CONTEXTS, strict=True)
                   if row[name] is not None])
    timed("encrypt_columns (Keyring.encrypt_many, AES-GCM), one call per batch",
          lambda: encrypt_columns(columns, ring))
    now = datetime.now(UTC)
    copy_rows = CopyRows(INSERT_COLUMNS, 1, now)
    timed("binary COPY tuple", lambda: [copy_rows.row(complete_row(c, 1, v, now))
                                        for c, v in zip(columns, values, strict=True)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--skip-reimport", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the main process")
    parser.add_argument("--breakdown", action="store_true",
                        help="measure the CPU cost of each step per row first")
    args = parser.parse_args()

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    csv_path = workdir / "persons.csv"
    try:
        settings = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
        settings.update(SQLALCHEMY_DATABASE_URI=url, TESTING=False,
                        PORTAL_DATA_KEYS=[generate_key()],
                        PORTAL_DEFAULT_REGION="US", PORTAL_RQ_QUEUE="bench")
        app = create_app(settings)
        with app.app_context():
            from portal.extensions import db
            from portal.imports.run import _row_context, import_persons
            from portal.models import Incident, Person

            upgrade()  # the schema production gets, interaction_append included
            fast_incident = Incident(reference="BENCH", title="Benchmark")
            naive_incident = Incident(reference="NAIVE", title="Naive benchmark")
            db.session.add_all([fast_incident, naive_incident])
            db.session.commit()
            fast_id, naive_id = fast_incident.id, naive_incident.id

            started = time.perf_counter()
            write_csv(csv_path, args.rows)
            size_mb = csv_path.stat().st_size / 1e6
            print(f"generated {args.rows} rows ({size_mb:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)

            if args.breakdown:
                cost_breakdown(csv_path, _row_context(fast_incident, Header(
                                   tuple(range(len(COLUMNS))), len(COLUMNS))),
                               settings["PORTAL_DATA_KEYS"][0])
            rss_before = maxrss_mb()
            backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            pg_before = process_cpu(backend)
            print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
            cpu_before = cpu_seconds()
            sampler = ProcessSampler()
            sampler.start()
            started = time.perf_counter()
            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
            summary = import_persons(fast_id, csv_path, workers=args.workers,
                                     batch_size=args.batch_size, via="bench")
            fast_seconds = time.perf_counter() - started
            if args.profile:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            cpu_after = cpu_seconds()
            sampler.stop.set()
            sampler.join()
            main_cpu = cpu_after[0] - cpu_before[0]
            worker_cpu = sum(sampler.cpu.values())  # fork server and workers
            pg_used = process_cpu(backend) - pg_before
            print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)
            stored = db.session.scalar(
                select(func.count(Person.id)).where(Person.incident_id == fast_id))
            print(f"streaming import: {summary.line()}; {stored} stored", flush=True)
            print(f"  wall time {fast_seconds:.1f} s, {args.rows / fast_seconds:,.0f} rows/s",
                  flush=True)
            print(f"  CPU time (user+system): main process {main_cpu:.1f} s, workers "
                  f"{worker_cpu:.1f} s, PostgreSQL backend {pg_used:.1f} s; total "
                  f"{main_cpu + worker_cpu + pg_used:.1f} s", flush=True)
            print(f"  peak RSS: main process {maxrss_mb():.0f} MB (before the import "
                  f"{rss_before:.0f} MB), largest worker {sampler.peak_worker_rss:.0f} MB, "
                  f"all processes together {sampler.peak_total_rss:.0f} MB", flush=True)

            if not args.skip_reimport:
                started = time.perf_counter()
                again = import_persons(fast_id, csv_path, workers=args.workers,
                                       batch_size=args.batch_size, via="bench")
                print(f"second import of the same file: {again.line()} in "
                      f"{time.perf_counter() - started:.1f} s", flush=True)

            ctx = _row_context(naive_incident, Header(tuple(range(len(COLUMNS))), len(COLUMNS)))
            limit = min(args.naive_rows, args.rows)
            naive_backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            naive_pg_before = process_cpu(naive_backend)
            naive_cpu_before = cpu_seconds()[0]
            started = time.perf_counter()
            naive_count = naive_import(db, naive_id, csv_path, limit, ctx)
            naive_seconds = time.perf_counter() - started
            naive_cpu = (cpu_seconds()[0] - naive_cpu_before
                         + process_cpu(naive_backend) - naive_pg_before)
            naive_rate = naive_count / naive_seconds
            fast_rate = args.rows / fast_seconds
            print(f"naive ORM import of {naive_count} rows: {naive_seconds:.1f} s, "
                  f"{naive_rate:,.0f} rows/s, CPU {naive_cpu / naive_count * 1e6:,.0f} us/row",
                  flush=True)
            fast_cpu = main_cpu + worker_cpu + pg_used
            print(f"ratio streaming/naive: {fast_rate / naive_rate:.1f}x in rows per second; "
                  f"{naive_cpu / naive_count / (fast_cpu / args.rows):.1f}x in CPU per row "
                  f"(streaming {fast_cpu / args.rows * 1e6:,.0f} us/row, all processes)",
                  flush=True)
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        csv_path.unlink(missing_ok=True)
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
