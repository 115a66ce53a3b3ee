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
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

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
                actor_id = agents[g % len(agents)] if actor == "staff" else None
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
    if "audit_log.index" in app.view_functions:
        def log_page():
            assert client.get("/helpdesk/log/").status_code == 200
        print(f"  {'/helpdesk/log/':40} {summary(timed(log_page, runs))}", flush=True)
    else:
        print("  (no /helpdesk/log on this branch: log page and export not measured)")
    export = next((rule.rule for rule in app.url_map.iter_rules()
                   if rule.endpoint == "audit_log.export"), None)
    if export:
        import resource

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        response = client.get(f"{export}?action=notice.viewed", buffered=False)
        lines = sum(chunk.count(b"\n") for chunk in response.response)
        response.close()
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  export of {lines - 1:,} rows: {elapsed:.1f} s, peak RSS {before:.0f} -> "
              f"{after:.0f} MB", flush=True)


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
    args = parser.parse_args()
    if args.url:
        measure(args.url, args.runs)
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
            measure(url, args.runs)
    finally:
        if args.keep:
            print(f"kept: --url {url}")
        else:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
