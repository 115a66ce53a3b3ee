"""CPU per page of the agents' pages, in one process, against a kept bench database.

    /work/venv/bin/python bench/helpdesk_profile.py STATE.json [--pages 200]
        [--kind ticket|queue|filter|search|all] [--calls] [--profile out.prof] [--top 40]
        [--save DIR] [--tree DEPTH [--tree-min PERCENT]] [--statements]

``STATE.json`` is what ``bench/helpdesk.py --keep`` wrote. The app is built as the
benchmark's gunicorn builds it (``PORTAL_ENV=production``, same keys, Redis), an agent
signs in through Flask's test client, and each page kind is requested ``--pages``
times after a warm-up. It prints, per kind, the CPU milliseconds per page of this
process (the application's Python) and of the database's backends (PostgreSQL), and
how many of the pages set a cookie.
On a shared machine CPU time still grows with the load (caches, a busy host), so
``--calls`` adds the number of Python function calls per page, which the load does
not change at all. ``--profile`` writes a cProfile (CPU time) of the chosen kinds
and prints the top functions; ``--save DIR`` writes each kind's first page;
``--tree DEPTH`` prints where the calls are: Python calls per page counted under
each path of functions below Flask's ``wsgi_app``, DEPTH levels deep, the paths with
at least ``--tree-min`` per cent of them (1); ``--statements`` counts the SQL statements a
page (also exact) and prints one page's.

A measurement aid for docs/benchmarks.md (helpdesk): never run in CI.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import os
import pstats
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(BENCH))  # after ROOT: bench/helpdesk.py must not hide the package

import portal_load  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_helpdesk", BENCH / "helpdesk.py")
bench_helpdesk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_helpdesk)
while sys.path[0] == str(BENCH):  # it puts bench/ first again
    sys.path.pop(0)

CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def kinds(state: dict, rng: random.Random) -> dict:
    """Page kind -> a function giving the next path."""
    tickets, people = state["tickets"], state["people"]

    def ticket() -> str:
        ticket_id = 20 * rng.randrange(0, tickets // 20) + rng.choice((20, 21, 22))
        return f"/helpdesk/tickets/{min(ticket_id, tickets)}"

    def search() -> str:
        n = rng.randrange(people)
        if rng.random() < 0.5:
            return "/helpdesk/tickets/?q=" + quote(portal_load.plain_person(n)["phone"])
        return "/helpdesk/tickets/?q=" + quote(f"BENCH-{n:08d}")

    filters = ("status=open", "assignee=me", "assignee=none", "channel=phone", "language=de",
               "incident=BENCH", "sla=breached", "sla=due_today", "q=monitoring")
    return {
        "ticket": ticket,
        "queue": lambda: "/helpdesk/tickets/",
        "filter": lambda: "/helpdesk/tickets/?" + rng.choice(filters),
        "search": search,
    }


def backend_cpu(database: str) -> float:
    return bench_helpdesk.backend_cpu_seconds(database)


def print_statements(app, run, pages: int) -> None:
    """SQL statements a page (a figure the load does not change), and one page's."""
    from sqlalchemy import event

    from portal.extensions import db

    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    print(f"    {len(seen) / pages:.1f} statements a page; the last page's:")
    for statement in seen[-round(len(seen) / pages):]:
        print(f"      {statement[:int(os.environ.get('BENCH_SQL_WIDTH', 160))]}")


def print_call_tree(run, pages: int, depth: int, share: float = 0.01) -> None:
    """Python calls (and calls into C) per page under each path below ``wsgi_app``."""
    counts: Counter = Counter()

    def label(code) -> str:
        return f"{code.co_name} ({code.co_filename.rsplit('/', 2)[-2:][-1]}:{code.co_firstlineno})"

    def hook(frame, event, arg):
        if event not in ("call", "c_call"):
            return
        chain, f = [], frame
        while f is not None and f.f_code.co_name != "wsgi_app":
            chain.append(f.f_code)
            f = f.f_back
        if f is None:
            return
        chain.reverse()
        path = tuple(label(code) for code in chain[:depth])
        if event == "c_call" and len(path) < depth:
            path += (getattr(arg, "__qualname__", str(arg)),)
        counts[()] += 1
        for end in range(1, len(path) + 1):
            counts[path[:end]] += 1

    sys.setprofile(hook)
    try:
        run()
    finally:
        sys.setprofile(None)
    total = counts[()]
    print(f"    {total // pages:,} calls a page below wsgi_app")
    for path, n in sorted(counts.items()):
        if path and n >= total * share:
            print(f"    {n // pages:7,} {'  ' * (len(path) - 1)}{path[-1]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("state", type=Path)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--kind", default="all")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--agent", type=int, default=0)
    parser.add_argument("--calls", action="store_true",
                        help="also count Python function calls per page (cProfile, 20 pages): "
                             "a figure the machine's load does not change")
    parser.add_argument("--save", type=Path, help="write each kind's first page here")
    parser.add_argument("--statements", action="store_true",
                        help="also count SQL statements per page, and print one page's")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--tree", type=int, default=0, metavar="DEPTH",
                        help="print Python calls per page by path below wsgi_app (20 pages)")
    parser.add_argument("--tree-min", type=float, default=1.0, metavar="PERCENT",
                        help="--tree prints the paths with at least this share of the calls")
    args = parser.parse_args()
    state = json.loads(args.state.read_text())
    name = state["name"]
    os.environ.update(
        PORTAL_ENV="production", DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}",
        SECRET_KEY=state["secret_key"], PORTAL_DATA_KEYS=",".join(state["data_keys"]),
        PORTAL_INDEX_KEY=state["index_key"], PORTAL_BASE_URL="https://localhost",
        PORTAL_AUDIT_KEY=state["audit_key"],
        PORTAL_AUDIT_SIGNING_KEY=state["audit_signing_key"],
        PORTAL_AUDIT_CHECKPOINT_DIR=tempfile.mkdtemp(prefix="bench-helpdesk-profile-"),
        PORTAL_STAFF_LOGIN_RATE_LIMIT="100000 per minute",
        PORTAL_STAFF_LOOKUP_RATE_LIMIT="100000 per minute",
        PORTAL_STAFF_PAGE_RATE_LIMIT="100000 per minute", REDIS_URL=args.redis_url)
    bench_helpdesk.ensure_answer_library(dict(os.environ))  # as bench/helpdesk.py does
    from portal import create_app

    app = create_app()
    client = app.test_client()
    https = {"base_url": "https://localhost"}  # production cookies are Secure
    page = client.get("/staff/login", **https)
    token = CSRF.search(page.text).group(1)
    signed_in = client.post("/staff/login", data={
        "csrf_token": token, "email": f"agent{args.agent}@bench.example",
        "password": bench_helpdesk.AGENT_PASSWORD},
        headers={"Referer": "https://localhost/staff/login"}, **https)
    if signed_in.status_code != 302:
        raise SystemExit(f"sign-in answered {signed_in.status_code}")
    rng = random.Random(7)
    paths = kinds(state, rng)
    chosen = list(paths) if args.kind == "all" else args.kind.split(",")
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
    print(f"load {os.getloadavg()[0]:.2f}, host speed "
          f"{bench_helpdesk.portal_load.host_speed_ms()} ms (lower is faster); "
          f"{args.pages} pages per kind", flush=True)
    for kind in chosen:
        for _ in range(20):  # warm-up: templates compiled, pools filled
            assert client.get(paths[kind](), **https).status_code == 200
        urls = [paths[kind]() for _ in range(args.pages)]
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{kind}.html").write_bytes(client.get(urls[0], **https).data)
        db_before, cpu_before, wall = backend_cpu(name), time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        sizes = cookies = 0
        for url in urls:
            response = client.get(url, **https)
            assert response.status_code == 200, (url, response.status_code)
            sizes += len(response.data)
            cookies += "Set-Cookie" in response.headers
        if profiler:
            profiler.disable()
        # Taken before the counted pages below: cProfile's hooks would inflate the CPU.
        app_s, db_s = time.process_time() - cpu_before, backend_cpu(name) - db_before
        wall_ms = 1000 * (time.perf_counter() - wall) / args.pages
        calls = ""
        if args.calls:
            counter = cProfile.Profile()
            counter.enable()
            for url in urls[:20]:
                client.get(url, **https)
            counter.disable()
            total = sum(nc for _cc, nc, _tt, _ct, _callers in
                        pstats.Stats(counter).stats.values())
            calls = f", {total // 20:,} Python calls/page"
        if args.statements:
            print_statements(app, lambda some=urls[:20]: [client.get(url, **https) for url in some],
                             20)
        if args.tree:
            print_call_tree(lambda some=urls[:20]: [client.get(url, **https) for url in some],
                            20, args.tree, args.tree_min / 100)
        app_ms, db_ms = 1000 * app_s / args.pages, 1000 * db_s / args.pages
        print(f"  {kind:8} app {app_ms:6.2f} ms  db {db_ms:5.2f} ms  total "
              f"{app_ms + db_ms:6.2f} ms CPU/page  (wall {wall_ms:6.2f} ms, "
              f"{sizes // args.pages} bytes, {cookies} set a cookie{calls})", flush=True)
    if profiler:
        profiler.dump_stats(args.profile)
        pstats.Stats(str(args.profile)).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
