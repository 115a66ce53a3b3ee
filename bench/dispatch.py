"""Benchmark: a campaign by SMS and e-mail to N people on PostgreSQL with two rq workers.

    /work/venv/bin/python bench/dispatch.py [--people 20000] [--workers 2]

Creates a throw-away PostgreSQL database (127.0.0.1:5432, user postgres), builds the
schema, creates N people with an approved notice, then launches a campaign by SMS and
e-mail (rate limits off) into loopback sinks run by this process: a Twilio Messages
API stub (Twilio's real client talks to it) and an aiosmtpd SMTP sink. Measures:
row creation (the launch's INSERT ... SELECT), the end-to-end send rate with
``--workers`` ``flask worker --burst`` processes, CPU seconds per message of the
workers, PostgreSQL backends, Redis and this process (the sinks), Redis memory
sampled every 0.2 s, and SMS renders per second in one process. Uses Redis database
13 and a queue of its own; drops the database at the end. Never run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.config import TestConfig  # noqa: E402
from portal.security.crypto import generate_code, generate_key  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"
SID = "AC" + "9" * 32


def twilio_stub() -> tuple[ThreadingHTTPServer, list]:
    counter = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API does
        wbufsize = 1 << 16  # headers and body in one write: no Nagle / delayed-ACK stall

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            counter[0] += 1
            body = json.dumps({"sid": f"SM{uuid.uuid4().hex}", "status": "queued",
                               "to": form["To"][0]}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counter


def smtp_sink():
    from aiosmtpd.controller import Controller

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            Sink.count += len(envelope.rcpt_tos)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, Sink


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(f"/proc/{entry.name}/comm").read_text().strip() == "postgres":
                    total += process_cpu(int(entry.name))
            except OSError:
                pass
    return total


class PostgresCPU:
    """CPU of every postgres process seen while sampling, exited ones included.

    A worker's backend exits when the worker does, taking its CPU time out of /proc
    before a reading at the end could see it; sampling every 0.1 s keeps each
    process's last value (what a backend used in its last 0.1 s may be missed).
    """

    def __init__(self):
        self.before: dict[int, float] = {}  # processes alive at the start: their CPU then
        self.last: dict[int, float] = {}
        self.stopping = threading.Event()
        self.before = self._read()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    @staticmethod
    def _read() -> dict[int, float]:
        values = {}
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                    values[int(entry.name)] = process_cpu(int(entry.name))
            except OSError:
                continue
        return values

    def _loop(self) -> None:
        while not self.stopping.wait(0.1):
            self.last.update(self._read())

    def stop(self) -> float:
        """CPU-seconds used by postgres processes since the start."""
        self.stopping.set()
        self.thread.join()
        self.last.update(self._read())
        return sum(value - self.before.get(pid, 0.0) for pid, value in self.last.items())


def redis_cpu(connection) -> float:
    info = connection.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--clone-to", type=int, default=0,
                        help="Copy the people in SQL (new refs and code digests) up to this "
                             "many, to time row creation at a size the encrypting import "
                             "cannot build in minutes.")
    parser.add_argument("--no-send", action="store_true",
                        help="Time the launch's row creation only; start no worker.")
    args = parser.parse_args()

    from redis import Redis

    redis = Redis.from_url(REDIS_URL)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bench_dispatch_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    queue_name = f"bench-{uuid.uuid4().hex[:6]}"
    stub, stub_count = twilio_stub()
    controller, sink = smtp_sink()
    data_key = generate_key()
    settings = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    settings.update(
        SQLALCHEMY_DATABASE_URI=url, TESTING=False, PORTAL_DATA_KEYS=[data_key],
        REDIS_URL=REDIS_URL, PORTAL_RQ_QUEUE=queue_name, OUTBOX_ENABLED=False,
        TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="bench", TWILIO_FROM="+15005550006",
        TWILIO_API_BASE=f"http://127.0.0.1:{stub.server_address[1]}",
        SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False,
        DISPATCH_SMS_PER_SECOND=0, DISPATCH_EMAIL_PER_SECOND=0, DISPATCH_CHUNK_SIZE=args.chunk,
        PORTAL_BASE_URL="https://notices.example-insurer.com")
    try:
        app = create_app(settings)
        with app.app_context():
            from flask_migrate import upgrade

            from portal.dispatch import campaigns
            from portal.dispatch.notice_messages import wording
            from portal.extensions import db
            from portal.models import Incident, NoticeVersion, Notification, Person
            from portal.models.base import utcnow
            from portal.people.create import new_person

            upgrade()
            incident = Incident(reference="BENCH", title="Benchmark", status="active",
                                insurer_name="Demo Mutual Insurance")
            db.session.add(incident)
            db.session.flush()
            version = NoticeVersion(incident_id=incident.id, version=1, language="en",
                                    state="approved", what_happened="Someone got in.",
                                    approved_at=utcnow())
            db.session.add(version)
            db.session.commit()
            started = time.perf_counter()
            for start in range(0, args.people, 2000):
                db.session.add_all([new_person(incident.id, {
                    "external_ref": f"B{n:08d}", "first_name": "Jamie", "last_name": f"T{n}",
                    "date_of_birth": "1980-01-02", "postcode": f"{n % 99999:05d}",
                    "email": f"p{n}@customer.example", "phone": f"+1415{n % 10_000_000:07d}",
                    "notice_code": generate_code(), "language": "en",
                    "categories": ["contact_details"]})
                    for n in range(start, min(start + 2000, args.people))])
                db.session.commit()
            print(f"people: {args.people} created in {time.perf_counter() - started:.1f} s",
                  flush=True)
            if args.clone_to > args.people:
                started = time.perf_counter()
                copies = -(-args.clone_to // args.people) - 1
                columns = [column.name for column in Person.__table__.columns
                           if column.name != "id"]
                changed = {"external_ref": "external_ref || '-' || g",
                           "code_index": "encode(sha256(convert_to(code_index || g, 'UTF8')), "
                                         "'hex')"}
                names = ", ".join(columns)
                values = ", ".join(changed.get(column, column) for column in columns)
                copy = f"INSERT INTO person ({names}) SELECT {values} FROM person "  # noqa: S608
                copy += "CROSS JOIN generate_series(1, :copies) AS g WHERE incident_id = :incident"
                db.session.execute(text(copy), {"copies": copies,
                                                         "incident": incident.id})
                db.session.commit()
                # What autovacuum does to a freshly imported table before anyone can
                # launch (insert threshold: 20 % new rows): statistics, visibility map
                # and hint bits, which the launch's scan would otherwise write.
                with db.engine.connect() as vacuum:
                    vacuum.execution_options(isolation_level="AUTOCOMMIT").execute(
                        text("VACUUM (ANALYZE) person"))
                total = db.session.execute(select(func.count(Person.id))).scalar_one()
                print(f"people: copied in SQL to {total} in "
                      f"{time.perf_counter() - started:.1f} s", flush=True)

            words = wording(incident.id, "en", version.id)
            link = "https://notices.example-insurer.com/n/"
            started = time.perf_counter()
            for _n in range(200_000):
                words.render_sms(link + "7K2D-QX9M-4TRB")
            renders = 200_000 / (time.perf_counter() - started)
            print(f"SMS renders: {renders:,.0f}/s in one process", flush=True)

            memory = {"peak": redis.info("memory")["used_memory"], "run": True}
            base_memory = memory["peak"]

            def sample():
                while memory["run"]:
                    memory["peak"] = max(memory["peak"], redis.info("memory")["used_memory"])
                    time.sleep(0.2)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            # Launch without workers: rows and jobs only (the workers start after).
            # The launch's own backend's CPU stays meaningful on a busy machine.
            backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            db.session.commit()
            backend_before, pg_launch_before = process_cpu(backend), postgres_cpu()
            started = time.perf_counter()
            if os.environ.get("BENCH_PROFILE_LAUNCH"):
                import cProfile
                import pstats

                profile = cProfile.Profile()
                campaign, summary = profile.runcall(campaigns.launch, incident.id,
                                                    ["sms", "email"])
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            else:
                campaign, summary = campaigns.launch(incident.id, ["sms", "email"])
            campaign_id = campaign.id
            created = time.perf_counter() - started
            same = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() == backend
            db.session.commit()
            backend_cpu = process_cpu(backend) - backend_before
            pg_launch = postgres_cpu() - pg_launch_before
            messages = summary.created["sms"] + summary.created["email"]
            print(f"launch: {messages} rows + {redis.llen(f'rq:queue:{queue_name}')} jobs in "
                  f"{created:.2f} s ({created / messages * 1e6:.0f} s per million rows, "
                  f"jobs queued included); PostgreSQL CPU: the launch's backend "
                  f"{backend_cpu:.1f} s{'' if same else ' (connection changed: partial)'}, "
                  f"all postgres processes {pg_launch:.1f} s", flush=True)
            if args.no_send:
                print(f"load average: {os.getloadavg()[0]:.1f}", flush=True)
                return 0
            if os.environ.get("BENCH_PROFILE_WORKER"):  # chunks in this process, profiled
                import cProfile
                import pstats

                from portal.dispatch import chunks

                profile = cProfile.Profile()
                started = time.perf_counter()
                done = 0
                for channel in ("sms", "email"):
                    for _n in range(4):
                        done += profile.runcall(chunks.send_chunk, campaign_id, channel)
                elapsed = time.perf_counter() - started
                print(f"profiled: {done} messages in {elapsed:.2f} s in one process "
                      f"({done / elapsed:,.0f}/s)")
                pstats.Stats(profile).sort_stats("tottime").print_stats(30)
                return 0
            env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL,
                       PORTAL_RQ_QUEUE=queue_name, PORTAL_DATA_KEYS=data_key,
                       PORTAL_INDEX_KEY=TestConfig.PORTAL_INDEX_KEY,
                       SECRET_KEY=TestConfig.SECRET_KEY, PORTAL_OUTBOX="0",
                       PORTAL_BASE_URL=settings["PORTAL_BASE_URL"], TWILIO_ACCOUNT_SID=SID,
                       TWILIO_AUTH_TOKEN="bench", TWILIO_FROM="+15005550006",
                       TWILIO_API_BASE=settings["TWILIO_API_BASE"], SMTP_HOST="127.0.0.1",
                       SMTP_PORT=str(controller.port), SMTP_STARTTLS="0",
                       DISPATCH_SMS_PER_SECOND="0", DISPATCH_EMAIL_PER_SECOND="0",
                       DISPATCH_CHUNK_SIZE=str(args.chunk))
            env.pop("TWILIO_EDGE", None)
            env.pop("TWILIO_REGION", None)
            pg_sampler, redis_before = PostgresCPU(), redis_cpu(redis)
            self_before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            workers = [subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(args.workers)]
            for worker in workers:
                worker.wait()
            elapsed = time.perf_counter() - started
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            self_after = resource.getrusage(resource.RUSAGE_SELF)
            memory["run"] = False
            pg_cpu = pg_sampler.stop()
            rd_cpu = redis_cpu(redis) - redis_before
            sink_cpu = (self_after.ru_utime + self_after.ru_stime
                        - self_before.ru_utime - self_before.ru_stime)
            db.session.remove()
            sent = db.session.execute(select(func.count(Notification.id)).where(
                Notification.campaign_id == campaign_id, Notification.status == "sent")
            ).scalar_one()
            not_sent = db.session.execute(
                select(Notification.status, Notification.error_code, func.count())
                .where(Notification.campaign_id == campaign_id,
                       Notification.status != "sent")
                .group_by(Notification.status, Notification.error_code)).all()
            worker_cpu = children.ru_utime + children.ru_stime
            print(f"sent: {sent}/{messages} (stub {stub_count[0]}, sink {sink.count}) in "
                  f"{elapsed:.1f} s = {sent / elapsed:,.0f} messages/s with "
                  f"{args.workers} workers", flush=True)
            if not_sent:
                print("not sent when the workers stopped (status, error code, rows): "
                      + "; ".join(f"{row[0]}, {row[1]}, {row[2]}" for row in not_sent),
                      flush=True)
            print(f"CPU per message: workers {worker_cpu / sent * 1e3:.2f} ms (all "
                  f"{args.workers} together), PostgreSQL {pg_cpu / sent * 1e3:.2f} ms, Redis "
                  f"{rd_cpu / sent * 1e3:.3f} ms, sinks (this process) "
                  f"{sink_cpu / sent * 1e3:.2f} ms", flush=True)
            print(f"Redis memory: {base_memory / 1e6:.1f} MB before, peak "
                  f"{memory['peak'] / 1e6:.1f} MB; jobs left: "
                  f"{len(redis.keys(f'rq:job:{queue_name}-*'))}", flush=True)
            print(f"load average: {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        stub.shutdown()
        controller.stop()
        for key in redis.scan_iter(f"*{queue_name}*"):
            redis.delete(key)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
