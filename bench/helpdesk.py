"""Benchmark: the agents' queue and ticket page under load (gunicorn + PostgreSQL).

    /work/venv/bin/python bench/helpdesk.py [--tickets 1000000] [--people 100000]
        [--interactions 10000000] [--agents 20] [--duration 30] [--workers 3]
        [--keep STATE.json | --reuse STATE.json | --drop STATE.json]
        [--only KIND] [--code DIR]

1. Creates a throw-away database on 127.0.0.1:5432 and runs ``flask db upgrade``.
2. Seeds one incident and ``--people`` affected people (``bench/portal_load.seed``:
   encrypted columns, blind indexes), 20 agents (production argon2 cost),
   ``--tickets`` tickets (3 messages each: customer, agent, customer) and
   ``--interactions`` sealed log rows, the last three server-side with
   ``INSERT ... SELECT generate_series`` (message bodies reuse a pool of real
   encrypted tokens, so the ticket page decrypts what it shows). One ticket in 20 is
   ``new``, one ``open``, one ``pending_customer``; the rest are resolved or closed.
   Due times spread from 50 hours late to 150 hours ahead.
3. Starts gunicorn (``PORTAL_ENV=production``, Redis for rate limits and presence).
4. Signs ``--agents`` agents in over HTTP, then each runs a closed loop for
   ``--duration`` seconds over a page mix: the ticket page of a random working
   ticket (half the requests: presence, a ``ticket.viewed`` row on arrival, the
   thread decrypted), the default queue, the queue's second page (keyset cursor
   from the first), and the queue filtered by each filter in turn, including a
   search by phone and by reference through the blind indexes.
5. Prints p50/p95/p99 per page kind and pages per second, then drops the database.

Seeding 1,000,000 tickets and 10,000,000 log rows takes several minutes, so a seeded
database can be kept and reused: ``--keep STATE.json`` keeps it and writes its name and
keys to ``STATE.json``; ``--reuse STATE.json`` runs against it (after ``flask db
upgrade``, so new indexes apply; nothing seeded, nothing dropped); ``--duration 0``
seeds without a run; ``--drop STATE.json`` drops it.

Never run in CI. The machine is shared: the report includes the load before the run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
from cryptography.fernet import Fernet

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import portal_load  # noqa: E402
from load_client import Connection  # noqa: E402

AGENT_PASSWORD = "bench agent password 2026"  # noqa: S105 - a throw-away database's
CSRF = re.compile(rb'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
NEXT = re.compile(rb'href="/helpdesk/tickets/\?[^"]*after=([0-9.\-]+)')
TOPICS = ("notice", "data", "monitoring", "fraud", "contact_details", "other")
BODIES = (
    "I received your letter. Which of my details were involved?",
    "Thank you for your message. The data involved was your contact details.",
    "Thanks. Should I cancel my card?",
    "Can you send me the activation code for credit monitoring again?",
    "Someone called me pretending to be from my bank. Is this related?",
    "Please update my email address.",
)


def seed_tickets(dsn: str, tickets: int, people: int, interactions: int, incident_id: int,
                 staff_ids: list[int], data_keys: list[str], index_key: str) -> dict:
    """Tickets, their messages and log rows, generated in PostgreSQL."""
    from portal.security.crypto import Keyring

    ring = Keyring(data_keys, index_key)
    tokens = [ring.encrypt(body, "ticket_message.body") for body in BODIES]
    timings = {}
    first_staff, staff_count = min(staff_ids), len(staff_ids)
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(
            """INSERT INTO ticket (incident_id, person_id, channel, status, topic, language,
                   assignee_id, created_at, updated_at, first_response_due, resolution_due,
                   first_response_at, resolved_at, closed_at, paused_at, paused_seconds,
                   last_customer_message_at, next_due_at)
               SELECT %(incident)s, 1 + g %% %(people)s,
                   CASE g %% 10 WHEN 0 THEN 'phone' WHEN 1 THEN 'email' ELSE 'web' END,
                   CASE WHEN g %% 20 = 0 THEN 'new' WHEN g %% 20 = 1 THEN 'open'
                        WHEN g %% 20 = 2 THEN 'pending_customer'
                        WHEN g %% 20 < 10 THEN 'resolved' ELSE 'closed' END,
                   (%(topics)s::text[])[1 + g %% 6], (ARRAY['en','es','fr','de'])[1 + g %% 4],
                   CASE WHEN g %% 20 = 0 OR g %% 7 = 0 THEN NULL
                        ELSE %(first_staff)s + g %% %(staff)s END,
                   now() - make_interval(hours => 1 + g %% 500),
                   now() - make_interval(hours => g %% 500),
                   now() + make_interval(hours => (g %% 200) - 50),
                   now() + make_interval(hours => (g %% 200) + 50),
                   CASE WHEN g %% 20 = 0 THEN NULL ELSE now() - make_interval(hours => 1) END,
                   CASE WHEN g %% 20 BETWEEN 3 AND 9 THEN now() END,
                   CASE WHEN g %% 20 >= 10 THEN now() END,
                   CASE WHEN g %% 20 = 2 THEN now() - make_interval(hours => 2) END, 0,
                   now() - make_interval(hours => g %% 500),
                   CASE WHEN g %% 20 = 0 THEN now() + make_interval(hours => (g %% 200) - 50)
                        WHEN g %% 20 = 1 THEN now() + make_interval(hours => (g %% 200) + 50)
                        WHEN g %% 20 = 2 THEN '9000-01-01 00:00:00+00'::timestamptz
                        ELSE '9999-12-31 00:00:00+00'::timestamptz END
               FROM generate_series(1, %(tickets)s) AS g""",
            {"incident": incident_id, "people": people, "topics": list(TOPICS),
             "first_staff": first_staff, "staff": staff_count, "tickets": tickets})
        timings["tickets_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        conn.execute(
            """INSERT INTO ticket_message (ticket_id, author_type, author_id, channel, body,
                   internal, deviated, created_at)
               SELECT t.id, CASE WHEN k = 2 THEN 'staff' ELSE 'customer' END,
                   CASE WHEN k = 2 THEN %(first_staff)s ELSE t.person_id END, 'web',
                   (%(tokens)s::text[])[1 + (t.id + k) %% %(pool)s], false, false,
                   t.created_at + make_interval(mins => k)
               FROM ticket t CROSS JOIN generate_series(1, 3) AS k""",
            {"first_staff": first_staff, "tokens": tokens, "pool": len(tokens)})
        timings["messages_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        conn.execute(
            """INSERT INTO interaction (at, actor_type, actor_id, action, incident_id,
                   person_id, ticket_id, details, details_digest, seq, prev_hash, hash)
               SELECT now() - make_interval(secs => %(rows)s - g), 'staff',
                   %(first_staff)s + g %% %(staff)s,
                   (ARRAY['ticket.viewed','ticket.replied','ticket.assigned',
                          'notice.viewed'])[1 + g %% 4],
                   %(incident)s, 1 + g %% %(people)s, 1 + g %% %(tickets)s, '{}'::json,
                   md5(g::text) || md5(g::text), g, lpad(to_hex(g - 1), 64, '0'),
                   lpad(to_hex(g), 64, '0')
               FROM generate_series(1, %(rows)s) AS g""",
            {"rows": interactions, "first_staff": first_staff, "staff": staff_count,
             "incident": incident_id, "people": people, "tickets": tickets})
        timings["interactions_s"] = round(time.perf_counter() - started, 1)
        conn.execute("VACUUM ANALYZE")
    return timings


def create_agents(env: dict, count: int) -> list[int]:
    """Agents with the production password hash, through the app's own model."""
    os.environ.update(env)
    from portal import create_app
    from portal.extensions import db
    from portal.models import StaffUser
    from portal.security.passwords import hash_password

    app = create_app()
    with app.app_context():
        hashed = hash_password(AGENT_PASSWORD)
        users = [StaffUser(email=f"agent{n}@bench.example", name=f"Agent {n}", role="agent",
                           password_hash=hashed) for n in range(count)]
        db.session.add_all(users)
        db.session.commit()
        ids = [user.id for user in users]
        db.engine.dispose()
    return ids


def ensure_answer_library(env: dict) -> int:
    """The demo's library of approved answers (13 answers in 4 languages), as a firm
    would have on day two, so the ticket page lists them as it does for real; added
    once (also to a database kept before the bench seeded it). Returns how many."""
    os.environ.update(env)
    from sqlalchemy import func, select

    from portal import create_app
    from portal.demo.answers import ANSWERS
    from portal.extensions import db
    from portal.models import Answer, AnswerVersion, StaffUser
    from portal.models.base import utcnow

    app = create_app()
    with app.app_context():
        if db.session.execute(select(func.count(Answer.id))).scalar():
            db.engine.dispose()
            return 0
        author, approver = (StaffUser(email=f"{role}@bench.example", name=role.title(),
                                      role="manager", password_hash="!")
                            for role in ("author", "approver"))
        db.session.add_all([author, approver])
        db.session.flush()
        for key, (category, public, texts) in ANSWERS.items():
            answer = Answer(key=key, category=category, public=public)
            db.session.add(answer)
            db.session.flush()
            db.session.add_all(
                AnswerVersion(answer_id=answer.id, language=language, version=1, title=title,
                              body=body, state="approved", author_id=author.id,
                              approved_by_id=approver.id, approved_at=utcnow())
                for language, (title, body) in texts.items())
        db.session.commit()
        db.engine.dispose()
    return len(ANSWERS)


def _cookie_of(response) -> str | None:
    return response.cookie()


async def sign_in(port: int, email: str) -> str:
    conn = Connection("127.0.0.1", port)
    page = await conn.request("GET", "/staff/login")
    cookie = _cookie_of(page)
    token = CSRF.search(page.body).group(1).decode()
    form = f"csrf_token={quote(token)}&email={quote(email)}&password={quote(AGENT_PASSWORD)}"
    response = await conn.request("POST", "/staff/login", cookie=cookie, form=form)
    conn.close()
    if response.status != 302:
        raise RuntimeError(f"sign-in of {email} answered {response.status}")
    return _cookie_of(response) or cookie


def page_mix(rng: random.Random, tickets: int, phones: list[str], refs: list[str]):
    """(kind, path) of the next request."""
    roll = rng.random()
    if roll < 0.5:
        ticket_id = 20 * rng.randrange(0, tickets // 20) + rng.choice((20, 21, 22))
        return "ticket page", f"/helpdesk/tickets/{min(ticket_id, tickets)}"
    if roll < 0.6:
        return "queue (default)", "/helpdesk/tickets/"
    filters = [
        ("queue status=open", "status=open"), ("queue assignee=me", "assignee=me"),
        ("queue assignee=none", "assignee=none"), ("queue channel=phone", "channel=phone"),
        ("queue language=de", "language=de"), ("queue incident", "incident=BENCH"),
        ("queue sla=breached", "sla=breached"), ("queue sla=due_today", "sla=due_today"),
        ("queue q=topic", "q=monitoring"),
        ("search by phone", "q=" + quote(rng.choice(phones))),
        ("search by reference", "q=" + quote(rng.choice(refs))),
        ("queue page 2", None),
    ]
    kind, query = rng.choice(filters)
    return kind, (f"/helpdesk/tickets/?{query}" if query else None)


async def drive(port: int, cookies: list[str], seconds: float, tickets: int,
                phones: list[str], refs: list[str], only: str = "",
                rate: float = 0.0) -> dict:
    """Each agent loads pages for ``seconds``: back to back (a closed loop, the
    throughput at saturation), or with ``rate`` pages/s in all, each agent on its own
    fixed schedule. Paced latency counts from when the page was due, not when it was
    sent, so a server that falls behind is not excused by the agents waiting for it."""
    samples: dict[str, list[float]] = {}
    statuses: dict[int, int] = {}
    slices: dict[int, list[float]] = {}  # latencies by the 5-second slice a page was due in
    begin = time.perf_counter()
    stop_at = begin + seconds
    interval = len(cookies) / rate if rate else 0.0

    async def agent(n: int, cookie: str) -> None:
        rng = random.Random(n)
        conn = Connection("127.0.0.1", port)
        cursor = None
        due = begin + interval * n / len(cookies)  # agents spread over one interval
        while time.perf_counter() < stop_at:
            kind, path = page_mix(rng, tickets, phones, refs)
            while only and not kind.startswith(only):  # --only: one kind of page
                kind, path = page_mix(rng, tickets, phones, refs)
            if path is None:
                if cursor is None:
                    kind, path = "queue (default)", "/helpdesk/tickets/"
                else:
                    path = f"/helpdesk/tickets/?after={cursor}"
            started = time.perf_counter()
            if interval:
                if due > started:
                    await asyncio.sleep(due - started)
                started, due = due, due + interval
                if started >= stop_at:
                    break
            response = await conn.request("GET", path, cookie=cookie)
            samples.setdefault(kind, []).append(time.perf_counter() - started)
            slices.setdefault(int((started - begin) // 5), []).append(
                time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if kind == "queue (default)":
                found = NEXT.search(response.body)
                cursor = found.group(1).decode() if found else None
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(agent(n, cookie) for n, cookie in enumerate(cookies)))
    elapsed = time.perf_counter() - started
    report = {"seconds": round(elapsed, 1), "statuses": statuses,
              "pages": sum(len(v) for v in samples.values())}
    report["pages_per_s"] = round(report["pages"] / elapsed, 1)
    report["kinds"] = {kind: _percentiles(values) for kind, values in sorted(samples.items())}
    report["all"] = _percentiles([x for values in samples.values() for x in values])
    # Whether slow pages came together (a stall of the host or the server) or throughout.
    report["p95_ms_by_5s"] = [_percentiles(slices[n])["p95_ms"] for n in sorted(slices)]
    return report


def host_cpu_ticks() -> tuple[int, int]:
    """The whole machine's busy and stolen CPU ticks so far (``/proc/stat``): steal is
    time the hypervisor gave this machine's cores to someone else."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:3]) + sum(fields[5:7])  # user nice system irq softirq
    return busy, (fields[7] if len(fields) > 7 else 0)


def backend_cpu_seconds(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to ``database``."""
    with psycopg.connect(portal_load.ADMIN_DSN, autocommit=True) as admin:
        pids = [row[0] for row in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, PermissionError):
            continue
        total += int(stat[11]) + int(stat[12])
    return total / ticks


def _percentiles(values: list[float]) -> dict:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def main() -> int:
    signal.signal(signal.SIGTERM, portal_load._interrupt)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rate", type=float, default=0.0, metavar="PAGES_PER_S",
                        help="pace the agents to this many pages/s in all (each on a fixed "
                             "schedule, latency counted from when a page was due) instead "
                             "of the closed loop, whose latency is agents / throughput")
    parser.add_argument("--only", default="", metavar="KIND",
                        help='only pages whose kind starts with KIND ("ticket page", '
                             '"queue (default)", "queue status=open", "search", ...): '
                             "CPU per page of that kind")
    parser.add_argument("--code", type=Path, default=ROOT, metavar="DIR",
                        help="serve the application from this checkout (before/after runs)")
    parser.add_argument("--keep", type=Path, metavar="STATE",
                        help="keep the seeded database; its name and keys go to STATE")
    parser.add_argument("--reuse", type=Path, metavar="STATE",
                        help="run against the database kept in STATE (not seeded or dropped)")
    parser.add_argument("--drop", type=Path, metavar="STATE",
                        help="drop the database kept in STATE and exit")
    args = parser.parse_args()
    args.worker_class, args.worker_connections = "gthread", -(-args.agents // args.workers) + 2

    if args.drop:
        state = json.loads(args.drop.read_text())
        with psycopg.connect(portal_load.ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{state["name"]}" WITH (FORCE)')
        args.drop.unlink()
        print(f"dropped {state['name']}")
        return 0
    if args.reuse:
        state = json.loads(args.reuse.read_text())
        args.tickets, args.people = state["tickets"], state["people"]
        args.interactions, args.agents = state["interactions"], state["agents"]
    else:
        state = {"name": f"bench_helpdesk_{uuid.uuid4().hex[:8]}",
                 "data_keys": [Fernet.generate_key().decode()],
                 "index_key": uuid.uuid4().hex * 2, "secret_key": uuid.uuid4().hex * 2,
                 "audit_key": uuid.uuid4().hex * 2,
                 "audit_signing_key": base64.b64encode(os.urandom(32)).decode(),
                 "tickets": args.tickets, "people": args.people,
                 "interactions": args.interactions, "agents": args.agents}
    name = state["name"]
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    if not args.reuse:
        with psycopg.connect(portal_load.ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        if args.keep:
            args.keep.write_text(json.dumps(state, indent=2))
    data_keys, index_key = state["data_keys"], state["index_key"]
    port = portal_load._free_port()
    env = dict(os.environ, PORTAL_ENV="production", DATABASE_URL=dsn,
               SECRET_KEY=state["secret_key"], PORTAL_DATA_KEYS=",".join(data_keys),
               PORTAL_INDEX_KEY=index_key, PORTAL_BASE_URL=f"http://127.0.0.1:{port}",
               PORTAL_AUDIT_KEY=state["audit_key"],
               PORTAL_AUDIT_SIGNING_KEY=state["audit_signing_key"],
               PORTAL_AUDIT_CHECKPOINT_DIR=tempfile.mkdtemp(prefix="bench-helpdesk-"),
               PORTAL_STAFF_LOGIN_RATE_LIMIT="100000 per minute",
               # Its agents search by address (?q=), which counts against the look-up budget,
               # and open ten pages a second each, which the page budget would refuse.
               PORTAL_STAFF_LOOKUP_RATE_LIMIT="100000 per minute",
               PORTAL_STAFF_PAGE_RATE_LIMIT="100000 per minute", REDIS_URL=args.redis_url)
    report: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                    "settings": vars(args) | {"json": str(args.json)}, "database": name}
    server = None
    try:
        started = time.perf_counter()
        subprocess.run([str(portal_load.VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
                       cwd=args.code, env=env, check=True, capture_output=True)
        report["upgrade_s"] = round(time.perf_counter() - started, 1)
        if not args.reuse:
            started = time.perf_counter()
            incident_id = portal_load.seed(dsn, args.people, data_keys, index_key)
            report["seed_people_s"] = round(time.perf_counter() - started, 1)
            staff_ids = create_agents(env, args.agents)
            report["seed"] = seed_tickets(dsn, args.tickets, args.people, args.interactions,
                                          incident_id, staff_ids, data_keys, index_key)
            print(f"database {name}: {args.people} people in {report['seed_people_s']} s, "
                  f"{args.tickets} tickets, {args.interactions} log rows: {report['seed']}",
                  flush=True)
        report["answers_added"] = ensure_answer_library(env)
        if args.duration <= 0:
            return 0
        rng = random.Random(7)
        sample = [rng.randrange(args.people) for _ in range(200)]
        phones = [portal_load.plain_person(n)["phone"] for n in sample]
        refs = [f"BENCH-{n:08d}" for n in sample]

        report["loadavg_before"] = os.getloadavg()
        report["background_cpu_percent_before"] = portal_load.busy_percent()
        report["host_speed_ms"] = portal_load.host_speed_ms()
        # The interpreter gunicorn runs under (this virtualenv's): its build alone moved the
        # CPU a page by a sixth to a quarter (docs/benchmarks.md, helpdesk, eighth round).
        report["python"] = f"{platform.python_version()} ({os.path.realpath(sys.executable)})"
        print(f"before the run: {report['background_cpu_percent_before']}% CPU busy, load "
              f"{report['loadavg_before'][0]:.2f}, host speed {report['host_speed_ms']} ms "
              f"(a fixed Python loop on one core; lower is faster), Python "
              f"{report['python']}", flush=True)
        server = portal_load.start_gunicorn(env, port, args, cwd=args.code)

        async def run() -> dict:
            cookies = [await sign_in(port, f"agent{n}@bench.example")
                       for n in range(args.agents)]
            await drive(port, cookies, args.warmup, args.tickets, phones, refs, args.only,
                        args.rate)
            cpu = portal_load.server_cpu_seconds(server), backend_cpu_seconds(name)
            host = host_cpu_ticks()
            client = time.process_time()
            result = await drive(port, cookies, args.duration, args.tickets, phones, refs,
                                 args.only, args.rate)
            result["client_cpu_ms_per_page"] = round(
                1000 * (time.process_time() - client) / result["pages"], 1)
            # CPU per page, which the machine's other work does not inflate (much).
            result["app_cpu_ms_per_page"] = round(
                1000 * (portal_load.server_cpu_seconds(server) - cpu[0]) / result["pages"], 1)
            result["db_cpu_ms_per_page"] = round(
                1000 * (backend_cpu_seconds(name) - cpu[1]) / result["pages"], 1)
            ticks = os.sysconf("SC_CLK_TCK") * result["seconds"] * (os.cpu_count() or 1)
            busy, steal = (now - then for now, then in zip(host_cpu_ticks(), host, strict=True))
            result["host_busy_percent"] = round(100 * busy / ticks, 1)
            result["host_steal_percent"] = round(100 * steal / ticks, 1)
            return result

        report["run"] = asyncio.run(run())
        run_report = report["run"]
        print(f"{run_report['pages']} pages in {run_report['seconds']} s: "
              f"{run_report['pages_per_s']} pages/s, statuses {run_report['statuses']}; CPU per "
              f"page: gunicorn {run_report['app_cpu_ms_per_page']} ms, PostgreSQL "
              f"{run_report['db_cpu_ms_per_page']} ms, this client "
              f"{run_report['client_cpu_ms_per_page']} ms"
              + (f"; paced at {args.rate:g} pages/s" if args.rate else "; closed loop"))
        for kind, values in run_report["kinds"].items():
            print(f"  {kind:24} n={values['n']:6} p50 {values['p50_ms']:7.1f} ms  "
                  f"p95 {values['p95_ms']:7.1f} ms  p99 {values['p99_ms']:7.1f} ms")
        every = run_report["all"]
        print(f"  {'all':24} n={every['n']:6} p50 {every['p50_ms']:7.1f} ms  "
              f"p95 {every['p95_ms']:7.1f} ms  p99 {every['p99_ms']:7.1f} ms")
        print(f"  machine {run_report['host_busy_percent']}% busy, "
              f"{run_report['host_steal_percent']}% stolen by the host; p95 by 5 s: "
              + " ".join(f"{v:.0f}" for v in run_report["p95_ms_by_5s"]) + " ms", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        portal_load.stop(server)
        if args.keep or args.reuse:
            print(f"kept {name}: --reuse {args.keep or args.reuse}", flush=True)
        else:
            with psycopg.connect(portal_load.ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if "run" in report:
        kinds = report["run"]["kinds"]
        pages = [v["p95_ms"] for k, v in kinds.items() if not k.startswith("search")]
        searches = [v["p95_ms"] for k, v in kinds.items() if k.startswith("search")]
        # None: that kind of page was not in this run (--only).
        targets = {
            # Paced: the server kept up with the schedule (the last pages may end a
            # little after the duration, hence 1 % slack) at 200 pages/s or more.
            "pages >= 200/s": report["run"]["pages_per_s"] >= 200 if not args.rate
            else args.rate >= 200 and report["run"]["pages_per_s"] >= 0.99 * args.rate,
            "queue and ticket page p95 <= 100 ms": all(p <= 100 for p in pages) if pages
            else None,
            "search by phone/reference p95 <= 50 ms": all(p <= 50 for p in searches)
            if searches else None,
            "no errors": set(report["run"]["statuses"]) == {200},
        }
        report["targets_met"] = targets
        print("targets: " + ", ".join(
            f"{k}: {'not measured' if v is None else 'met' if v else 'NOT met'}"
            for k, v in targets.items()))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
