"""Benchmark: the managers' dashboards (and, when present, the log page and export) at scale.

    /work/venv/bin/python bench/oversight.py [--interactions 10000000] [--tickets 1000000]
        [--people 1000000] [--runs 15] [--keep] [--url postgresql+psycopg://...]

Creates a throw-away PostgreSQL database on 127.0.0.1:5432 (user postgres), builds
the schema with the migrations and seeds it in SQL (``generate_series``): one big
incident holding 90 % of everything (the worst case for its dashboards) and a
second one, ``--people`` people with two notifications each, ``--tickets`` tickets
with a staff reply for each answered one, and ``--interactions`` log rows spread
over 60 days across the actions the dashboards read and others. The log rows'
hashes are random, not a chain: they exist to be counted, not verified.

It then signs a manager in through the real form and times full page renders
(``GET /helpdesk/reports/<reference>?days=N``: the snapshot row, template and SVG)
``--runs`` times each, after one warm-up; each dashboard query alone; and the
snapshot's computation (all five queries and the write: the periodic job's work). With ``--url`` it
reuses a seeded database (no seeding, nothing dropped); ``--keep`` keeps the new one.
When the oversight log page (``/helpdesk/log``) and its CSV export exist, their
times are measured as well. Never run in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.config import TestConfig  # noqa: E402
from portal.security.crypto import generate_key  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench password for the reports"  # noqa: S105 - a throw-away database's manager
DAY_SECONDS = 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def settings(url: str) -> dict:
    values = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    values.update(SQLALCHEMY_DATABASE_URI=url, PORTAL_DATA_KEYS=[generate_key()],
                  WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    return values


def step(label: str, connection, sql: str, **params) -> None:
    started = time.perf_counter()
    connection.execute(text(sql), params)
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


def seed(url: str, people: int, tickets: int, interactions: int, manager_hash: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("SET synchronous_commit = off"))
        # Bulk load: foreign keys are not checked row by row (the seed is consistent by
        # construction); superuser only, this session only.
        c.execute(text("SET session_replication_role = replica"))
        c.execute(text("SET maintenance_work_mem = '512MB'"))
        ids = {}
        for ref in ("BENCH-BIG", "BENCH-SMALL"):
            ids[ref] = c.execute(text(
                "INSERT INTO incident (reference, title, status, jurisdictions, categories, "
                "default_language, verification_method, time_zone, contact_translations, "
                "created_at, updated_at) VALUES (:ref, 'Benchmark incident', 'active', "
                "'[\"gdpr_art33\"]', '[\"contact_details\"]', 'en', 'postcode', 'UTC', '{}', "
                "now() - interval '90 days', now()) RETURNING id"), {"ref": ref}).scalar_one()
        big, small = ids["BENCH-BIG"], ids["BENCH-SMALL"]
        c.execute(text(
            "INSERT INTO staff_user (email, name, password_hash, role, active, failed_logins, "
            "session_version, created_at) SELECT 'agent' || g || '@bench.example', "
            "'Agent ' || g, 'x', 'agent', true, 0, 1, now() FROM generate_series(1, 20) g"))
        c.execute(text(
            "INSERT INTO staff_user (email, name, password_hash, role, active, failed_logins, "
            "session_version, created_at) VALUES ('manager@bench.example', 'Manager', :hash, "
            "'manager', true, 0, 1, now())"), {"hash": manager_hash})
        answer = c.execute(text(
            "INSERT INTO answer (key, category, public, created_at) VALUES ('bench', 'general', "
            "false, now()) RETURNING id")).scalar_one()
        version = c.execute(text(
            "INSERT INTO answer_version (answer_id, language, version, title, body, state, "
            "created_at) VALUES (:a, 'en', 1, 'T', 'B', 'approved', now()) RETURNING id"),
            {"a": answer}).scalar_one()
        print(f"seeding {people:,} people, {tickets:,} tickets, {interactions:,} interactions",
              flush=True)
        step("people", c,
             "INSERT INTO person (incident_id, external_ref, code_index, language, categories, "
             "consent_sms, consent_email, sms_opt_out, email_opt_out, failed_verifications, "
             "created_at, updated_at, last_verified_at) "
             "SELECT CASE WHEN g % 10 = 0 THEN :small ELSE :big END, 'EXT-' || g, "
             "md5('code' || g), 'en', '[\"contact_details\"]', true, true, false, false, 0, "
             "now(), now(), CASE WHEN g % 5 < 2 THEN now() - (g % 30) * interval '1 day' END "
             "FROM generate_series(1, :n) g", big=big, small=small, n=people)
        first_person = c.execute(text("SELECT min(id) FROM person")).scalar_one()
        for ref, incident in ids.items():
            c.execute(text(
                "INSERT INTO campaign (incident_id, name, notice_version, channels, fallback, "
                "status, created_at, launched_at) VALUES (:i, :name, 1, '[\"sms\", \"email\"]', "
                "true, 'running', now(), now() - interval '40 days')"),
                {"i": incident, "name": f"{ref} wave"})
        step("notifications (sms for all, email for half)", c,
             "INSERT INTO notification (campaign_id, person_id, channel, status, attempts, "
             "resend_count, created_at, updated_at, sent_at) "
             "SELECT c.id, p.id, ch.channel, "
             "(ARRAY['delivered','delivered','delivered','delivered','sent','undelivered',"
             "'failed','pending','delivered','sent'])[(p.id % 10) + 1], 1, 0, now(), now(), "
             "CASE WHEN p.id % 10 NOT IN (6, 7) THEN now() - interval '39 days' END "
             "FROM person p JOIN campaign c ON c.incident_id = p.incident_id "
             "CROSS JOIN (VALUES ('sms'), ('email')) AS ch(channel) "
             "WHERE ch.channel = 'sms' OR p.id % 2 = 0")
        step("activation codes (1 in 10 revealed)", c,
             "INSERT INTO activation_code (incident_id, code, code_index, person_id, "
             "assigned_at, imported_at) SELECT incident_id, 'x', md5('act' || id), id, now(), "
             "now() FROM person WHERE id % 10 = 3")
        step("tickets", c,
             "INSERT INTO ticket (incident_id, person_id, channel, status, topic, language, "
             "created_at, updated_at, first_response_due, first_response_at, resolved_at, "
             "paused_seconds, next_due_at) SELECT CASE WHEN g % 10 = 0 THEN :small ELSE :big END, "
             ":p0 + g % :people, 'web', "
             "(ARRAY['new','open','pending_customer','resolved','closed'])[(g % 5) + 1], "
             "(ARRAY['general','monitoring','identity','letter'])[(g % 4) + 1], 'en', "
             "t, t, t + interval '24 hours', "
             "CASE WHEN g % 5 > 0 THEN t + (g % 50) * interval '1 hour' END, "
             "CASE WHEN g % 5 >= 3 THEN t + (g % 90) * interval '1 hour' END, 0, "
             "t + interval '24 hours' "
             "FROM generate_series(1, :n) g, "
             "LATERAL (SELECT now() - (g % (60 * 86400)) * interval '1 second' AS t) s",
             big=big, small=small, p0=first_person, people=people, n=tickets)
        step("ticket replies", c,
             "INSERT INTO ticket_message (ticket_id, author_type, author_id, channel, body, "
             "internal, answer_version_id, deviated, created_at) "
             "SELECT t.id, 'staff', 1 + t.id % 20, 'web', 'x', false, "
             "CASE WHEN t.id % 5 > 0 THEN :v END, t.id % 10 = 1, t.first_response_at "
             "FROM ticket t WHERE t.first_response_at IS NOT NULL", v=version)
        # Rebuilding the log's indexes after the load is several times faster than
        # maintaining them row by row.
        indexes = c.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'interaction' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)")).all()
        uniques = c.execute(text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'interaction'::regclass AND contype = 'u'")).all()
        for index_name, _ in indexes:
            c.execute(text(f'DROP INDEX "{index_name}"'))
        for constraint, _ in uniques:
            c.execute(text(f'ALTER TABLE interaction DROP CONSTRAINT "{constraint}"'))
        staff_ids = [found for (found,) in c.execute(text(
            "SELECT id FROM staff_user ORDER BY id"))]
        campaigns = [found for (found,) in c.execute(text("SELECT id FROM campaign ORDER BY id"))]
        c.execute(text("TRUNCATE interaction"))  # the migrations' own rows
        first_ticket = c.execute(text("SELECT min(id) FROM ticket")).scalar_one() or 0
        started = time.perf_counter()
        seed_log(url, interactions, incidents=(big, small), first_person=first_person,
                 people=people, first_ticket=first_ticket, tickets=tickets, staff_ids=staff_ids,
                 campaigns=campaigns)
        print(f"  interactions (chained, COPY): {time.perf_counter() - started:.1f} s",
              flush=True)
        started = time.perf_counter()
        for _, definition in indexes:
            c.execute(text(definition))
        for constraint, definition in uniques:
            c.execute(text(f'ALTER TABLE interaction ADD CONSTRAINT "{constraint}" {definition}'))
        print(f"  interaction indexes rebuilt: {time.perf_counter() - started:.1f} s")
        step("analyze", c, "ANALYZE")
    engine.dispose()


# The log rows' shapes: (action, actor, details). Actor "staff" takes one of the
# agents; details are stored as their canonical JSON text, as record() stores them.
LOG_SHAPES = (
    ("notice.viewed", "customer", {}), ("notice.viewed", "customer", {}),
    ("verify.failed", "customer", {"reason": "postcode"}),
    ("verify.failed", "customer", {"reason": "postcode"}),
    ("verify.succeeded", "customer", {"method": "postcode"}),
    ("verify.locked", "system", {"minutes": 30}),
    ("ticket.created", "customer", {"channel": "web"}),
    ("ticket.replied", "staff", {"channel": "web"}),
    ("sms.delivered", "system", {"channel": "sms"}),
    ("staff.login", "staff", {}),
)


def seed_log(url: str, rows: int, *, incidents: tuple[int, int], first_person: int,
             people: int, first_ticket: int, tickets: int, staff_ids: list[int],
             campaigns: list[int], key: bytes | None = None) -> None:
    """COPY ``rows`` interactions into an empty log, sealed as the product seals them.

    Each row's hash is ``portal.audit.log.chain_hash`` under the application's audit key
    over ``row_message`` (the Python twin of the message PostgreSQL builds when sealing
    and verifying), so ``audit verify`` walks a real chain. Ids, ``seq`` and times rise
    together over the last 60 days. The caller drops the log's indexes first; this
    connection sets ``session_replication_role = replica`` (no foreign-key or
    append-only trigger per row: the seed is consistent by construction).
    """
    import psycopg

    from portal.audit.log import GENESIS, canonical_json, chain_hash, digest_details, row_message

    key = key or TestConfig.PORTAL_AUDIT_KEY.encode()
    big, small = incidents
    agents = staff_ids[:-1] or staff_ids
    shapes = [(action, actor, canonical_json(details), digest_details(details))
              for action, actor, details in LOG_SHAPES]
    end = datetime.now(UTC).replace(microsecond=0)
    step_us = (60 * DAY_SECONDS * 1_000_000) // max(rows, 1)
    first_us = (end - timedelta(days=60) - _EPOCH) // timedelta(microseconds=1)
    columns = ("id, at, actor_type, actor_id, action, incident_id, person_id, ticket_id, "
               "campaign_id, details, details_digest, ip, seq, prev_hash, hash")
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    prev = GENESIS
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute("SET synchronous_commit = off")
        with connection.cursor().copy(f"COPY interaction ({columns}) FROM STDIN") as copy:
            lines = []
            for g in range(1, rows + 1):
                action, actor, details, digest = shapes[g % 10]
                actor_id = agents[(g // 10) % len(agents)] if actor == "staff" else None
                incident = None if g % 20 == 0 else small if g % 20 == 1 else big
                person = first_person + g % people
                ticket = first_ticket + g % tickets if action.startswith("ticket.") else None
                campaign = campaigns[0] if action == "sms.delivered" and campaigns else None
                ip = f"192.0.2.{g % 250}" if actor == "customer" else None
                at = _EPOCH + timedelta(microseconds=first_us + g * step_us)
                message = row_message({
                    "id": g, "at": at, "actor_type": actor, "actor_id": actor_id,
                    "action": action, "incident_id": incident, "person_id": person,
                    "ticket_id": ticket, "campaign_id": campaign, "details_digest": digest,
                    "ip": ip})
                digest_hex = chain_hash(key, prev, g, message)
                lines.append("\t".join((
                    str(g), at.isoformat(), actor, _copy(actor_id), action, _copy(incident),
                    str(person), _copy(ticket), _copy(campaign), details, digest, _copy(ip),
                    str(g), prev, digest_hex)))
                prev = digest_hex
                if len(lines) == 20000:
                    copy.write("\n".join(lines) + "\n")
                    lines.clear()
                    if g % 1_000_000 == 0:
                        print(f"    {g:,} rows", flush=True)
            if lines:
                copy.write("\n".join(lines) + "\n")
        connection.execute("SELECT setval(pg_get_serial_sequence('interaction', 'id'), %s)",
                           (max(rows, 1),))


def _copy(value) -> str:
    return "\\N" if value is None else str(value)


def timed(function, runs: int) -> list[float]:
    function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return (f"median {statistics.median(ordered):7.1f} ms  p95 {p95:7.1f} ms  "
            f"max {ordered[-1]:7.1f} ms")


def measure(url: str, runs: int) -> None:
    from portal.extensions import db
    from portal.models import Incident
    from portal.reports import dashboards

    app = create_app(settings(url))
    with app.app_context():
        incident = db.session.execute(
            db.select(Incident).where(Incident.reference == "BENCH-BIG")).scalar_one()
        counts = db.session.execute(text(
            "SELECT (SELECT count(*) FROM interaction), (SELECT count(*) FROM ticket), "
            "(SELECT count(*) FROM person), (SELECT count(*) FROM notification)")).one()
        print(f"database: {counts[0]:,} interactions, {counts[1]:,} tickets, "
              f"{counts[2]:,} people, {counts[3]:,} notifications")
        incident_id = incident.id
        print("\nqueries alone (BENCH-BIG, 30 days):")
        window = dashboards.window(30)
        since = dashboards.start_of(window)
        for name, function in (
            ("funnel", lambda: dashboards.funnel(incident_id)),
            ("tickets per day", lambda: dashboards.tickets_per_day(incident_id, window)),
            ("response times", lambda: dashboards.response_times(incident_id, since, 24)),
            ("answers by agent", lambda: dashboards.answers_by_agent(incident_id, window)),
            ("verification per day",
             lambda: dashboards.verification_per_day(incident_id, window)),
        ):
            print(f"  {name:22} {summary(timed(function, runs))}", flush=True)
            db.session.rollback()
        from portal.reports import snapshots

        print("\nsnapshot computed (all five dashboards, stored; what the periodic job does):")
        for reference, days in (("BENCH-BIG", 30), ("BENCH-BIG", 90), ("BENCH-SMALL", 30)):
            found = db.session.execute(
                db.select(Incident.id).where(Incident.reference == reference)).scalar_one()
            times = timed(lambda found=found, days=days: snapshots.refresh(found, days),
                          max(1, runs // 5))
            print(f"  {reference} {days} days{'':12} {summary(times)}", flush=True)
    client = app.test_client()
    response = client.post("/staff/login", data={"email": "manager@bench.example",
                                                 "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    print("\nfull page renders from a fresh snapshot (GET: snapshot row + template + SVG):")
    for path in ("/helpdesk/reports/BENCH-BIG?days=30", "/helpdesk/reports/BENCH-BIG?days=90",
                 "/helpdesk/reports/BENCH-SMALL?days=30"):
        def get(path=path):
            assert client.get(path).status_code == 200
        print(f"  {path:40} {summary(timed(get, runs))}", flush=True)
    print("\nregulator report (GET, built from scratch on every download):")
    for kind in ("json", "pdf"):
        def report(kind=kind):
            assert client.get(f"/helpdesk/incidents/BENCH-BIG/report.{kind}").status_code == 200
        print(f"  {'report.' + kind:40} {summary(timed(report, max(1, runs // 5)))}", flush=True)


# --- the log page and its export over HTTP, and verify ----------------------------------

LOG_VIEWS = (
    ("default (newest 50)", ""),
    ("actor = an agent", "actor=agent8@bench.example"),
    ("actor = staff, few entries", "actor=manager@bench.example"),
    ("actor = customer", "actor=customer"),
    ("actor = system", "actor=system"),
    ("person", "person=EXT-123457"),
    ("action prefix verify.", "action=verify."),
    ("action staff.login", "action=staff.login"),
    ("incident BENCH-SMALL", "incident=BENCH-SMALL"),
    ("incident + action prefix", "incident=BENCH-SMALL&action=verify."),
    ("agent + action prefix", "actor=agent8@bench.example&action=ticket."),
    ("one day, a month ago", "from={day}&to={day}"),
    ("one day + action prefix", "from={day}&to={day}&action=verify."),
    ("one day + an agent", "from={day}&to={day}&actor=agent8@bench.example"),
    ("a month back to now, agent", "from={day}&actor=agent8@bench.example"),
    ("page 20 of actor = agent", "actor=agent8@bench.example&before={deep}"),
)
EXPORT_FILTER = "action=verify.succeeded"  # one row in ten: 1,000,000 of 10,000,000


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_status(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory field (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        if children.exists():
            found += [int(child) for child in children.read_text().split()]
    return found


def _backends(url: str) -> list[int]:
    engine = create_engine(ADMIN_URL)
    with engine.connect() as c:
        pids = [pid for (pid,) in c.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :name"),
            {"name": make_url(url).database})]
    engine.dispose()
    return pids


def _cpu_of(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            found[pid] = _proc_cpu(pid)
    return found


def _cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def http_app():
    """The application gunicorn serves for this bench (``OVERSIGHT_BENCH_URL``, one data key)."""
    values = settings(os.environ["OVERSIGHT_BENCH_URL"])
    values["PORTAL_DATA_KEYS"] = [os.environ["OVERSIGHT_BENCH_DATA_KEY"]]
    return create_app(values)


class Gunicorn:
    """``gunicorn -w N`` serving ``http_app`` on a free port, for the ``with`` block."""

    def __init__(self, url: str, workers: int):
        self.url, self.workers = url, workers

    def __enter__(self):
        import socket
        import subprocess

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = dict(os.environ, OVERSIGHT_BENCH_URL=self.url,
                   OVERSIGHT_BENCH_DATA_KEY=generate_key())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b",
             f"127.0.0.1:{self.port}", "--chdir", str(Path(__file__).parent),
             "--timeout", "600", "--log-level", "warning", "oversight:http_app()"], env=env,
            stdout=subprocess.DEVNULL)
        import requests

        try:
            for _ in range(300):
                try:
                    requests.get(f"{self.base}/staff/login", timeout=60)
                    break
                except requests.RequestException:
                    time.sleep(0.5)
        except BaseException:
            self.__exit__()
            raise
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers_pids(self) -> list[int]:
        return _children(self.process.pid)

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(30)


def _manager_session(base: str):
    import requests

    session = requests.Session()
    response = session.post(f"{base}/staff/login", data={
        "email": "manager@bench.example", "password": PASSWORD}, allow_redirects=False)
    assert response.status_code == 302, response.status_code
    return session


def measure_log_pages(url: str, runs: int, managers: int, workers: int) -> None:
    """p50/p95 of the log page per filter, ``managers`` signed-in clients at once."""
    from concurrent.futures import ThreadPoolExecutor

    engine = create_engine(url)
    with engine.connect() as c:
        day = c.execute(text("SELECT (now() - interval '30 days')::date")).scalar_one()
        deep = c.execute(text(
            "SELECT id FROM interaction WHERE actor_type = 'staff' AND actor_id = "
            "(SELECT id FROM staff_user WHERE email = 'agent8@bench.example') "
            "ORDER BY id DESC OFFSET 1000 LIMIT 1")).scalar() or 1
    engine.dispose()
    views = [(label, query.format(day=day, deep=deep)) for label, query in LOG_VIEWS]
    print(f"\nlog page over HTTP: gunicorn -w {workers}, {managers} managers at once, "
          f"{runs} rounds of {len(views)} views (load {os.getloadavg()[0]:.1f}):", flush=True)
    with Gunicorn(url, workers) as server:
        sessions = [_manager_session(server.base) for _ in range(managers)]
        for session in sessions:  # warm-up: every view once
            for _, query in views:
                assert session.get(f"{server.base}/helpdesk/log/?{query}").status_code == 200
        times: dict[str, list[float]] = {label: [] for label, _ in views}
        backends = _backends(url)
        cpu_before = _cpu_of(server.workers_pids() + backends)

        def client(session) -> None:
            for _ in range(runs):
                for label, query in views:
                    started = time.perf_counter()
                    response = session.get(f"{server.base}/helpdesk/log/?{query}")
                    times[label].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (label, response.status_code)

        started = time.perf_counter()
        with ThreadPoolExecutor(managers) as pool:
            list(pool.map(client, sessions))
        elapsed = time.perf_counter() - started
        cpu = _cpu_spent(cpu_before, _cpu_of(server.workers_pids() + backends))
        requests_done = sum(len(found) for found in times.values())
        for label, found in times.items():
            print(f"  {label:28} {summary(found)}", flush=True)
        everything = [value for found in times.values() for value in found]
        print(f"  {'all views':28} {summary(everything)}")
        print(f"  {requests_done} requests in {elapsed:.1f} s; CPU per request (gunicorn "
              f"workers + PostgreSQL backends): {cpu / requests_done * 1000:.0f} ms; load "
              f"{os.getloadavg()[0]:.1f}", flush=True)
    explain_log_queries(url, views)


def explain_log_queries(url: str, views) -> None:
    """EXPLAIN ANALYZE of each view's page query, as ``review.page`` runs it: plan head, time."""
    from sqlalchemy import event
    from werkzeug.datastructures import MultiDict

    from portal.audit import review
    from portal.extensions import db

    app = create_app(settings(url))
    print("\nthe page query of each view (EXPLAIN ANALYZE, first plan lines):")
    with app.app_context(), app.test_request_context():
        ran: list[tuple[str, object]] = []

        def keep(_conn, _cursor, statement, parameters, _context, _many):
            ran.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            for label, query in views:
                args = MultiDict([pair.split("=", 1) for pair in query.split("&") if pair])
                before = review.parse_before(args.pop("before", None))
                ran.clear()
                review.page(review.parse_filters(args), before, size=50)
                # The page's own read (a cursor's time lookup may run before it).
                sql, parameters = next(item for item in reversed(ran)
                                       if "FROM interaction" in item[0] and "LIMIT" in item[0])
                plan = [line for (line,) in db.session.connection().exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters)]
                nodes = [line.strip() for line in plan if "->" in line or line is plan[0]][:4]
                print(f"  {label}: {plan[-1].strip()}")
                for node in nodes:
                    print(f"      {node[:140]}")
                db.session.rollback()
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)


def _sample_rss(pids_of, stop, peaks: dict) -> None:
    while not stop.is_set():
        for pid in pids_of():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                peaks[pid] = max(peaks.get(pid, 0.0), _proc_status(pid, "VmRSS"))
        stop.wait(0.1)


def measure_exports(url: str) -> None:
    """The 1,000,000-row export over HTTP and from the CLI: time, size, peak RSS, CPU."""
    import subprocess
    import threading


    print(f"\nexport of {EXPORT_FILTER} (load {os.getloadavg()[0]:.1f}):", flush=True)
    with Gunicorn(url, 1) as server:
        session = _manager_session(server.base)
        assert session.get(f"{server.base}/helpdesk/log/").status_code == 200  # warm
        worker = server.workers_pids()[0]
        base_rss = _proc_status(worker, "VmRSS")
        backends = _backends(url)
        cpu_before = _cpu_of([worker, *backends])
        peaks: dict = {}
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(lambda: [worker], stop, peaks))
        sampler.start()
        started = time.perf_counter()
        size = lines = 0
        samples = []
        with session.get(f"{server.base}/helpdesk/log/export.csv?{EXPORT_FILTER}",
                         stream=True) as response:
            assert response.status_code == 200, response.status_code
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                lines += chunk.count(b"\n")
                if len(samples) < size // (50 << 20):  # RSS each 50 MB of output
                    samples.append((size >> 20, _proc_status(worker, "VmRSS")))
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        cpu = _cpu_spent(cpu_before, _cpu_of([worker, *backends]))
        print(f"  web /helpdesk/log/export.csv: {lines - 1:,} rows, {size / 2**20:.0f} MB in "
              f"{elapsed:.1f} s ({(lines - 1) / elapsed:,.0f} rows/s); worker RSS "
              f"{base_rss:.0f} MB before, peak {peaks.get(worker, 0):.0f} MB (VmHWM "
              f"{_proc_status(worker, 'VmHWM'):.0f} MB); CPU {cpu:.1f} s "
              f"(worker + PostgreSQL)", flush=True)
        print("    RSS as the file grew: " + ", ".join(
            f"{mb} MB->{rss:.0f}" for mb, rss in samples))
    out = Path(f"/tmp/oversight-export-{uuid.uuid4().hex[:8]}.csv")
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "cli-export", "--url", url,
                              "--out", str(out)])
    peaks = {}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_rss, args=(lambda: [child.pid], stop, peaks))
    sampler.start()
    child.wait()
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    with out.open("rb") as handle:
        rows = sum(1 for _ in handle) - 1
    print(f"  flask audit export --out FILE --action verify.succeeded: {rows:,} rows, "
          f"{out.stat().st_size / 2**20:.0f} MB in {elapsed:.1f} s (process start included); "
          f"peak RSS {peaks.get(child.pid, 0):.0f} MB (sampled)", flush=True)
    out.unlink()


def cli_export(url: str, out: str) -> None:
    """Run ``flask audit export`` in this process; print its RSS before and at the end."""
    app = create_app(settings(url))
    runner = app.test_cli_runner()
    before = _proc_status(os.getpid(), "VmRSS")
    started = time.perf_counter()
    result = runner.invoke(args=["audit", "export", "--out", out, "--action",
                                 EXPORT_FILTER.split("=")[1]])
    assert result.exit_code == 0, result.output
    print(f"    (CLI process: RSS {before:.0f} MB after start-up, VmHWM "
          f"{_proc_status(os.getpid(), 'VmHWM'):.0f} MB at the end; export "
          f"{time.perf_counter() - started:.1f} s, CPU {_proc_cpu(os.getpid()):.1f} s)",
          flush=True)


def measure_verify(url: str, repeat: int) -> None:
    """``audit verify`` over the whole log: rows/s and CPU per row (Python, PostgreSQL)."""
    import resource

    from portal.audit import log as audit
    from portal.extensions import db

    app = create_app(settings(url))
    with app.app_context():
        for attempt in range(repeat):
            backends = _backends(url)
            cpu_before = _cpu_of(backends)
            own = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            report = audit.verify()
            elapsed = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            python = (after.ru_utime + after.ru_stime) - (own.ru_utime + own.ru_stime)
            server = _cpu_spent(cpu_before, _cpu_of(_backends(url)))
            print(f"verify #{attempt + 1}: ok={report.ok}, {report.checked:,} rows in "
                  f"{elapsed:.1f} s: {report.checked / elapsed:,.0f} rows/s; CPU per row: "
                  f"Python {python / report.checked * 1e6:.1f} us, PostgreSQL "
                  f"{server / report.checked * 1e6:.1f} us; load {os.getloadavg()[0]:.1f}",
                  flush=True)
            assert report.ok, report
        db.session.remove()
        db.engine.dispose()


def run(args) -> None:
    """Measure what ``--only`` names on the seeded database ``args.url``."""
    only = set(args.only.split(","))
    print(f"uptime: {os.getloadavg()}", flush=True)
    if "dashboards" in only:
        measure(args.url, args.runs)
    if "log" in only:
        measure_log_pages(args.url, args.runs, args.managers, args.workers)
    if "export" in only:
        measure_exports(args.url)
    if "verify" in only:
        measure_verify(args.url, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--seed-only", action="store_true",
                        help="seed, print the --url to reuse and keep the database")
    parser.add_argument("--url", help="a seeded database to reuse (no seeding, not dropped)")
    parser.add_argument("--only", default="dashboards,log,export,verify",
                        help="what to measure, comma-separated: dashboards, log, export, "
                             "verify")
    parser.add_argument("--managers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("command", nargs="?", help=argparse.SUPPRESS)  # cli-export (internal)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command == "cli-export":
        cli_export(args.url, args.out)
        return
    if args.url:
        run(args)
        return
    from flask_migrate import upgrade

    name = f"portal_bench_reports_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        app = create_app(settings(url))
        with app.app_context():
            upgrade()
            from portal.extensions import db
            from portal.security.passwords import hash_password

            manager_hash = hash_password(PASSWORD)
            db.engine.dispose()
        started = time.perf_counter()
        seed(url, args.people, args.tickets, args.interactions, manager_hash)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        if args.seed_only:
            args.keep = True
        else:
            args.url = url
            run(args)
    finally:
        if args.keep:
            print(f"kept: --url {url}")
        else:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
