"""Benchmark: the customer portal under load (gunicorn + PostgreSQL, 100,000 people).

    /work/venv/bin/python bench/portal_load.py [--people 100000] [--workers 3]
        [--worker-class gthread] [--threads 2] [--duration 30] [--client wrk|python]

1. Creates a throw-away database on 127.0.0.1:5432 (user postgres) and runs
   ``flask --app wsgi db upgrade`` on it.
2. Seeds one incident with approved notice versions in en/es/fr/de and N
   affected people (bulk ``COPY`` of ``portal.people.identity.identity_columns`` rows,
   encrypted in worker processes). Every person's code, date of birth and
   postcode derive from their number, so the client can verify as anyone.
3. Starts gunicorn (``wsgi:app``, ``PORTAL_ENV=production``) with the per-IP
   customer verification limit raised through ``PORTAL_CUSTOMER_VERIFY_RATE_LIMIT``
   (every request of the benchmark comes from 127.0.0.1; the limit is for real
   visitors, not for this). Nothing else is changed from production settings;
   production needs Redis, so rate-limit counters live in Redis (``--redis-url``,
   database 13 of the local server by default).
4. From a second process (``bench/load_client.py``): verifies ``--sessions``
   people spread over the whole population (prepare: ``GET /n/<code>`` and
   ``GET /verify`` for a fresh session and CSRF token; then the ``POST /verify``
   requests timed on their own) at ``--concurrency`` connections.
5. Drives ``GET /notice`` with those verified sessions at ``--concurrency``
   connections for ``--duration`` seconds after a warm-up: ``wrk`` (Debian
   package) with ``bench/notice.lua`` rotating the cookies, or the Python client.
6. Counts responses other than 200 (a lost session would be a 302 to the code
   page) and the ``notice.viewed`` interactions written during the run (none
   expected: each session's first view, which is logged, happened in step 4),
   stops gunicorn, drops the database.

Prints a report and writes it as JSON to ``--json`` if given. Never run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.notices.advice import CATEGORY_KEYS  # noqa: E402

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
VENV_BIN = Path(sys.executable).parent
LANGS = ("en", "es", "fr", "de")
FIRST = ("Olivia", "James", "Amelia", "Noah", "Grace", "Lucía", "Chloé", "Lukas", "Mia", "Hugo")
LAST = ("Smith", "Jones", "Taylor", "García", "Martin", "Müller", "Weber", "Dubois", "Brown")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SEED = 20261124
RATE_LIMIT_FOR_BENCH = "1000000 per minute"

NARRATIVE = {
    "en": ("On 2 March an attacker used a stolen password to reach a copy of our policy database. "
           "The copy held details of customers and former customers.\n\n"
           "We found the access on 9 March, closed it the same day and called in outside "
           "specialists to find out exactly what was taken.",
           "We reset every administrator password, turned on two-step sign-in for all staff and "
           "told the police and the data protection authority.",
           "Criminals may use these details to send convincing messages that pretend to come "
           "from us, or to open accounts in your name.",
           "We are sorry this happened. We will update this notice if we learn more."),
    "es": ("El 2 de marzo un atacante usó una contraseña robada para acceder a una copia de "
           "nuestra base de datos de pólizas.\n\nDetectamos el acceso el 9 de marzo y lo "
           "cerramos ese mismo día.",
           "Cambiamos todas las contraseñas de administración y avisamos a la policía.",
           "Los delincuentes pueden enviarle mensajes convincentes que parecen nuestros.",
           "Lamentamos lo ocurrido. Actualizaremos este aviso si sabemos más."),
    "fr": ("Le 2 mars, un attaquant a utilisé un mot de passe volé pour accéder à une copie de "
           "notre base de contrats.\n\nNous avons détecté l'accès le 9 mars et l'avons fermé.",
           "Nous avons changé tous les mots de passe d'administration et prévenu la police.",
           "Des criminels pourraient vous envoyer des messages convaincants en notre nom.",
           "Nous regrettons cet incident. Nous mettrons cet avis à jour si nous en savons plus."),
    "de": ("Am 2. März nutzte ein Angreifer ein gestohlenes Passwort, um auf eine Kopie unserer "
           "Vertragsdatenbank zuzugreifen.\n\nWir entdeckten den Zugriff am 9. März und "
           "beendeten ihn am selben Tag.",
           "Wir haben alle Administrator-Passwörter geändert und die Polizei informiert.",
           "Kriminelle könnten Ihnen überzeugende Nachrichten in unserem Namen senden.",
           "Es tut uns leid. Wir aktualisieren diesen Hinweis, wenn wir mehr erfahren."),
}


# --- the synthetic population ------------------------------------------------------------


def plain_person(n: int) -> dict:
    """Person number ``n``'s plain details (deterministic, so the client can verify as them)."""
    rng = random.Random(SEED * 10_000_000 + n)
    code = "".join(rng.choice(CROCKFORD) for _ in range(12))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    dob = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
    return {
        "notice_code": f"{code[:4]}-{code[4:8]}-{code[8:]}",
        "first_name": first,
        "last_name": last,
        "date_of_birth": dob.isoformat(),
        "postcode": f"{rng.randrange(10000, 99999)}",
        "policy_number": f"POL-{rng.randrange(10**8, 10**9)}",
        "email": f"{first.lower()}.{n}@example.com",
        "phone": f"+1415{rng.randrange(200, 999)}{rng.randrange(0, 10000):04d}",
        "address_line1": f"{rng.randrange(1, 9999)} Main Street",
        "city": "San Francisco",
        "region": "CA",
        "country": "US",
        "language": rng.choice(LANGS),
        "categories": sorted(rng.sample(CATEGORY_KEYS, rng.randint(1, 4))),
    }


def _seed_worker_init(data_keys: list[str], index_key: str) -> None:
    from flask import Flask

    from portal.security.crypto import EXTENSION_KEY, Keyring

    app = Flask("bench-seed-worker")
    app.extensions[EXTENSION_KEY] = Keyring(data_keys, index_key)
    app.app_context().push()


def _seed_rows(incident_id: int, start: int, stop: int) -> list[tuple]:
    from portal.people.identity import PLAIN_FIELDS, identity_columns
    from portal.security.crypto import keyring

    ring = keyring()
    now = datetime.now(UTC)
    rows = []
    for n in range(start, stop):
        plain = plain_person(n)
        columns = identity_columns(plain)
        for name in (*PLAIN_FIELDS, "notice_code"):
            if columns[name] is not None:
                columns[name] = ring.encrypt(columns[name], f"person.{name}")
        rows.append((incident_id, f"BENCH-{n:08d}", plain["language"],
                     json.dumps(plain["categories"]), *(columns[name] for name in COPY_IDENTITY),
                     True, True, False, False, 0, now, now))
    return rows


COPY_IDENTITY = (
    "first_name", "last_name", "date_of_birth", "postcode", "policy_number", "email", "phone",
    "address_line1", "address_line2", "city", "region", "country", "notice_code", "code_index",
    "email_index", "phone_index", "policy_index", "name_dob_index", "postcode_digest",
    "dob_digest", "policy_last4_digest",
)
COPY_COLUMNS = ("incident_id", "external_ref", "language", "categories", *COPY_IDENTITY,
                "consent_sms", "consent_email", "sms_opt_out", "email_opt_out",
                "failed_verifications", "created_at", "updated_at")


def seed(dsn: str, people: int, data_keys: list[str], index_key: str) -> int:
    """Insert the incident, its four approved notice versions and ``people`` persons."""
    now = datetime.now(UTC)
    with psycopg.connect(dsn, autocommit=False) as conn:
        incident_id = conn.execute(
            """INSERT INTO incident (reference, title, status, summary, occurred_from,
                   occurred_to, discovered_at, determined_at, jurisdictions, categories,
                   default_language, verification_method, contact_hotline, contact_hours,
                   contact_email, contact_postal_address, dpo_contact, monitoring_provider,
                   monitoring_enroll_url, monitoring_enroll_by, created_at, updated_at)
               VALUES ('BENCH', 'Benchmark incident', 'active', 'Policy database copy',
                   %s, %s, %s, %s, '["naic_668_s6"]', %s, 'en', 'postcode',
                   '+1 800 555 0142', 'Mon-Fri 8-20, Sat 9-17', 'help@insurer.example',
                   '1 Insurance Plaza, Hartford, CT 06103', 'dpo@insurer.example',
                   'ExampleWatch', 'https://monitoring.example/enrol', %s, %s, %s)
               RETURNING id""",
            (now - timedelta(days=20), now - timedelta(days=18), now - timedelta(days=11),
             now - timedelta(days=10), json.dumps(list(CATEGORY_KEYS)),
             (now + timedelta(days=90)).date(), now, now),
        ).fetchone()[0]
        for language, (happened, doing, consequences, other) in NARRATIVE.items():
            conn.execute(
                """INSERT INTO notice_version (incident_id, version, language, state,
                       what_happened, what_we_are_doing, likely_consequences, other_information,
                       checklist_overrides, approved_at, created_at, updated_at)
                   VALUES (%s, 1, %s, 'approved', %s, %s, %s, %s, '{}', %s, %s, %s)""",
                (incident_id, language, happened, doing, consequences, other, now, now, now),
            )
        conn.commit()

        chunk = 5000
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2,
                                 initializer=_seed_worker_init,
                                 initargs=(data_keys, index_key)) as pool:
            futures = [pool.submit(_seed_rows, incident_id, start, min(start + chunk, people))
                       for start in range(0, people, chunk)]
            with conn.cursor() as cursor:
                for future in futures:
                    statement = f"COPY person ({', '.join(COPY_COLUMNS)}) FROM STDIN"
                    with cursor.copy(statement) as copy:
                        for row in future.result():
                            copy.write_row(row)
            conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    return incident_id


# --- database and server -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1."):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port}")


def start_gunicorn(env: dict, port: int, args, cwd: Path = ROOT) -> subprocess.Popen:
    command = [str(VENV_BIN / "gunicorn"), "wsgi:app", "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.workers), "--worker-class", args.worker_class,
               "--backlog", "2048", "--log-level", "warning"]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
        if args.worker_connections:
            command += ["--worker-connections", str(args.worker_connections)]
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    _wait_for(port)
    return process


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- clients and reporting ---------------------------------------------------------------


def busy_percent(seconds: float = 3.0) -> float:
    """Share of all CPUs busy over ``seconds`` (other work on the machine, before a run)."""

    def sample() -> tuple[int, int]:
        first = Path("/proc/stat").read_text().split("\n")[0]
        fields = [int(value) for value in first.split()[1:9]]
        return sum(fields), fields[3] + fields[4]

    total1, idle1 = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return round(100 * (1 - (idle2 - idle1) / max(1, total2 - total1)), 1)


def host_speed_ms(rounds: int = 5) -> float:
    """Milliseconds one core takes for a fixed pure-Python loop (best of ``rounds``).

    Machines of the same kind differ: on one the helpdesk's ticket page cost 7 ms of CPU, on
    another, idle, with the same code and database, 16 ms. Printed with each run so a
    reader can tell a slower host from slower code; lower is faster. It measures the
    interpreter on one core, as the application uses it, not the database or the disk.
    """
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        sum(i * i for i in range(1_000_000))
        best = min(best, time.process_time() - start)
    return round(1000 * best, 1)


def server_cpu_seconds(master: subprocess.Popen) -> float:
    """CPU seconds used so far by gunicorn's worker processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for child in Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split():
        try:
            stat = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(stat[11]) + int(stat[12])
    return total / ticks


def _proc_cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(dsn: str, name: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving database ``name``."""
    with psycopg.connect(dsn) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,))]
    return sum(_proc_cpu_seconds(pid) for pid in pids)


def redis_cpu_seconds() -> float:
    """CPU seconds used so far by the local redis-server (0 if it is not found)."""
    found = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True)
    return sum(_proc_cpu_seconds(int(pid)) for pid in found.stdout.split())


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_client(*arguments: str) -> dict:
    output = subprocess.run([sys.executable, str(ROOT / "bench" / "load_client.py"), *arguments],
                            check=True, capture_output=True, text=True)
    return json.loads(output.stdout)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(number) * _UNITS[unit], 2)


def run_wrk(port: int, cookies: Path, concurrency: int, seconds: float) -> dict:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "notice.lua"), f"http://127.0.0.1:{port}/notice",
         "--", str(cookies)],
        check=True, capture_output=True, text=True,
    ).stdout
    result = {"stage": "GET /notice (wrk)", "raw": output}
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    result["requests_per_s"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    for pct in ("50", "90", "99"):
        result[f"p{pct}_ms"] = _ms(re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M)[1])
    result["max_ms"] = _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)[1])
    bad = re.search(r"Responses other than 200: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    result["errors"] = int(bad.group(1)) if bad else None
    result["socket_errors"] = errors.group(1) if errors else None
    return result


def count_views(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*) FROM interaction WHERE action = 'notice.viewed'").fetchone()[0]


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), "unknown")
    versions = {}
    for name in ("flask", "sqlalchemy", "gunicorn", "psycopg", "jinja2", "werkzeug"):
        try:
            from importlib.metadata import version
            versions[name] = version(name)
        except Exception:  # noqa: BLE001, S112 - report what is there
            continue
    with psycopg.connect(ADMIN_DSN) as conn:
        versions["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    versions["wrk"] = (wrk.stdout + wrk.stderr).split("\n")[0].strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "versions": versions}


def line(stage: dict) -> str:
    return (f"{stage['stage']}: {stage['requests']} requests, {stage['requests_per_s']}/s, "
            f"p50 {stage.get('p50_ms')} ms, p90 {stage.get('p90_ms')} ms, "
            f"p99 {stage.get('p99_ms')} ms, max {stage.get('max_ms')} ms, "
            f"errors {stage.get('errors')}")


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # clean up (gunicorn, database) on kill too
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=4000,
                        help="people verified (spread over the population); their sessions "
                             "then drive the notice page")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--worker-class", default="gthread", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--worker-connections", type=int, default=None,
                        help="gunicorn's per-worker connection cap (gthread); default: "
                             "concurrency / workers, rounded up, + 2 (0: gunicorn's 1000)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk")
    parser.add_argument("--keep-server", action="store_true",
                        help="leave gunicorn and the database up (for profiling); Ctrl-C ends")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13",
                        help="production requires Redis (rate-limit counters, jobs)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.worker_connections is None:
        # Without a cap one worker takes almost every keep-alive connection (seen: 49 of
        # 50), leaving the other processes idle: docs/benchmarks.md, docs/deployment.md.
        args.worker_connections = -(-args.concurrency // args.workers) + 2

    name = f"bench_portal_{uuid.uuid4().hex[:8]}"
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    workdir = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    data_keys, index_key = [Fernet.generate_key().decode()], uuid.uuid4().hex * 2
    port = _free_port()
    env = dict(os.environ, PORTAL_ENV="production", DATABASE_URL=dsn,
               SECRET_KEY=uuid.uuid4().hex * 2, PORTAL_DATA_KEYS=",".join(data_keys),
               PORTAL_INDEX_KEY=index_key, PORTAL_BASE_URL=f"http://127.0.0.1:{port}",
               PORTAL_CUSTOMER_VERIFY_RATE_LIMIT=RATE_LIMIT_FOR_BENCH, REDIS_URL=args.redis_url)
    report: dict = {"machine": machine(), "settings": {
        "people": args.people, "sessions": args.sessions, "workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads if args.worker_class == "gthread" else 1,
        "worker_connections": args.worker_connections or 1000,
        "concurrency": args.concurrency, "duration_s": args.duration, "client": args.client,
        "PORTAL_CUSTOMER_VERIFY_RATE_LIMIT": RATE_LIMIT_FOR_BENCH, "REDIS_URL": args.redis_url}}
    server = None
    try:
        subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                       env=env, check=True, capture_output=True)
        started = time.perf_counter()
        seed(dsn, args.people, data_keys, index_key)
        report["seed_seconds"] = round(time.perf_counter() - started, 1)
        print(f"database {name}: {args.people} people seeded in {report['seed_seconds']} s",
              flush=True)

        sample = random.Random(SEED).sample(range(args.people), min(args.sessions, args.people))
        creds = workdir / "creds.jsonl"
        with creds.open("w") as handle:
            for n in sample:
                plain = plain_person(n)
                handle.write(json.dumps({"code": plain["notice_code"],
                                         "dob": plain["date_of_birth"],
                                         "postcode": plain["postcode"]}) + "\n")

        report["background_cpu_percent_before"] = busy_percent()
        report["loadavg_before"] = os.getloadavg()
        print(f"other work on the machine before the run: "
              f"{report['background_cpu_percent_before']}% CPU busy, load average "
              f"{report['loadavg_before'][0]:.2f}", flush=True)
        server = start_gunicorn(env, port, args)
        cookies = workdir / "cookies.txt"
        verify = run_client("verify", "--port", str(port), "--concurrency",
                            str(args.concurrency), "--creds", str(creds),
                            "--cookies-out", str(cookies))
        report["verify"] = verify
        print(line(verify["prepare"]), flush=True)
        print(line(verify["post"]), flush=True)
        print(line(verify["first_view"]), flush=True)
        print(f"full verification flows (3 requests each): {verify['full_flows_per_s']}/s",
              flush=True)

        common = ("--port", str(port), "--concurrency", str(args.concurrency),
                  "--cookies", str(cookies))
        if args.client == "wrk":
            run_wrk(port, cookies, args.concurrency, args.warmup)
        else:
            run_client("notice", *common, "--duration", str(args.warmup))
        before = count_views(dsn)
        cpu_client, cpu_server = client_cpu_seconds(), server_cpu_seconds(server)
        cpu_database, cpu_redis = database_cpu_seconds(dsn, name), redis_cpu_seconds()
        if args.client == "wrk":
            notice = run_wrk(port, cookies, args.concurrency, args.duration)
        else:
            notice = run_client("notice", *common, "--duration", str(args.duration))["notice"]
        notice["client_cpu_s"] = round(client_cpu_seconds() - cpu_client, 1)
        notice["server_workers_cpu_s"] = round(server_cpu_seconds(server) - cpu_server, 1)
        notice["postgres_cpu_s"] = round(database_cpu_seconds(dsn, name) - cpu_database, 1)
        notice["redis_cpu_s"] = round(redis_cpu_seconds() - cpu_redis, 1)
        notice["notice_viewed_rows"] = count_views(dsn) - before
        report["notice"] = notice
        print(line(notice), flush=True)
        print(f"notice.viewed interactions written during the run: "
              f"{notice['notice_viewed_rows']}; CPU seconds: client {notice['client_cpu_s']}, "
              f"gunicorn workers {notice['server_workers_cpu_s']}, PostgreSQL "
              f"{notice['postgres_cpu_s']}, Redis {notice['redis_cpu_s']} "
              f"(of {(os.cpu_count() or 1) * args.duration:.0f} available)", flush=True)
        if args.keep_server:
            print(f"gunicorn on http://127.0.0.1:{port}, cookies in {cookies}; Ctrl-C ends",
                  flush=True)
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop(server)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    targets = {}
    if "notice" in report:
        notice = report["notice"]
        targets["notice >= 500/s"] = notice["requests_per_s"] >= 500
        targets["notice p99 <= 200 ms"] = (notice["p99_ms"] or 1e9) <= 200
        targets["notice no errors"] = notice.get("errors") == 0
    if "verify" in report:
        targets["verify POST >= 200/s"] = report["verify"]["post"]["requests_per_s"] >= 200
    report["targets_met"] = targets
    print("targets: " + ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in targets.items()))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
