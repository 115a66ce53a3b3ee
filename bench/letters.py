"""Benchmark: print runs of letters and the evidence export.

    /work/venv/bin/python bench/letters.py [--people 2000] [--batch 500]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Creates a throw-away database (PostgreSQL on 127.0.0.1:5432 by default, or SQLite with
``--url sqlite``), migrates it, adds an incident with approved notices in two languages
and ``--people`` people with postal addresses (through ``new_person``: encrypted columns
and blind indexes, as an import writes them), launches a letter campaign and times:

- the print run: letters/s and pages/s (wall and CPU of this process), per batch of
  ``--batch`` letters (one PDF and one manifest each);
- the evidence export of that campaign with an SMS and an e-mail row per person added
  in SQL (three rows per person), streamed to /dev/null: rows/s and the peak memory the
  stream adds.

Never run in CI.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.config import TestConfig  # noqa: E402
from portal.security.crypto import generate_key  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def settings(url: str, letters_dir: str, batch: int) -> dict:
    values = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    values.update(SQLALCHEMY_DATABASE_URI=url, PORTAL_DATA_KEYS=[generate_key()],
                  DISPATCH_LETTER_DIR=letters_dir, DISPATCH_LETTER_BATCH_SIZE=batch)
    return values


def timed(label: str, func):
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    return result, wall, cpu


def run(url: str, people: int, batch: int) -> None:
    from flask_migrate import upgrade

    from portal.dispatch import campaigns, evidence, letters
    from portal.extensions import db
    from portal.models import Incident, NoticeVersion
    from portal.models.base import utcnow
    from portal.people.create import new_person
    from portal.security.crypto import generate_code

    with tempfile.TemporaryDirectory() as letters_dir:
        app = create_app(settings(url, letters_dir, batch))
        with app.app_context():
            upgrade()
            incident = Incident(reference="BENCH-LETTERS", title="Benchmark", status="active",
                                jurisdictions=["gdpr_art34"],
                                categories=["contact_details", "date_of_birth"],
                                contact_hotline="+1 800 555 0100", insurer_name="Bench Mutual")
            db.session.add(incident)
            db.session.flush()
            for language in ("en", "de"):
                db.session.add(NoticeVersion(
                    incident_id=incident.id, version=1, language=language, state="approved",
                    what_happened="Someone read customer records without permission. " * 6,
                    what_we_are_doing="We closed the access and called in specialists. " * 4,
                    likely_consequences="You may receive convincing phishing messages. " * 4,
                    other_information="", approved_at=utcnow()))
            db.session.commit()

            def add_people():
                for n in range(people):
                    db.session.add(new_person(incident.id, {
                        "external_ref": f"B-{n:07d}", "first_name": "Alex",
                        "last_name": f"Bench{n}", "date_of_birth": "1980-01-02",
                        "postcode": f"{10000 + n % 80000}", "policy_number": f"POL{n:08d}",
                        "address_line1": f"{n} Example Street", "city": "Springfield",
                        "country": "US", "notice_code": generate_code(),
                        "language": ("en", "de")[n % 2],
                        "categories": ["contact_details", "date_of_birth"]}))
                    if n % 1000 == 999:
                        db.session.commit()
                db.session.commit()

            timed(f"{people} people added", add_people)
            campaign, _ = campaigns.launch(incident.id, ["letter"])
            run_result, wall, cpu = timed("print run", lambda: letters.print_run(campaign.id))
            pages = sum(item.pages for item in letters.batches_of(campaign.id))
            print(f"  {run_result.letters} letters, {pages} pages in {len(run_result.batches)} "
                  f"batches: {run_result.letters / wall:.0f} letters/s, {pages / wall:.0f} "
                  f"pages/s wall; {cpu / run_result.letters * 1000:.1f} ms CPU per letter",
                  flush=True)

            with db.engine.begin() as connection:  # an SMS and an e-mail row per person too
                for channel, status in (("sms", "delivered"), ("email", "sent")):
                    connection.execute(text(
                        "INSERT INTO notification (campaign_id, person_id, channel, status, "
                        "attempts, resend_count, provider_id, content_digest, created_at, "
                        "sent_at, delivered_at, updated_at) "
                        "SELECT :c, p.id, :channel, :status, 1, 0, 'SM' || p.id, "
                        "'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', "
                        ":now, :now, :now, :now FROM person p"), {
                            "c": campaign.id, "now": utcnow(), "channel": channel,
                            "status": status})
            total = db.session.execute(text(
                "SELECT count(*) FROM notification WHERE campaign_id = :c"),
                {"c": campaign.id}).scalar_one()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

            def export():
                with open("/dev/null", "w") as sink:
                    for chunk in evidence.csv_lines(campaign.id):
                        sink.write(chunk)

            _, wall, cpu = timed(f"evidence export of {total} rows", export)
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(f"  {total / wall:.0f} rows/s; peak RSS grew by {(after - before) / 1024:.1f} MB",
                  flush=True)
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--url", default=ADMIN_URL, help="PostgreSQL admin URL, or 'sqlite'")
    args = parser.parse_args()
    if args.url == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/bench.sqlite3", args.people, args.batch)
        return
    name = f"bench_letters_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(args.url.rsplit("/", 1)[0] + f"/{name}", args.people, args.batch)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
