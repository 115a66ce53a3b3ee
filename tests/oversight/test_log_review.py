"""Issue 11 items 2 and 3: the log review page, its reveals and its CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from tests.support import csrf_token


@pytest.fixture
def seeded(app, db, make_incident, make_person, make_staff):
    """An incident, two people, a manager and rows of several kinds."""
    from portal.audit import log as audit

    incident = make_incident(reference="INC-LOG")
    other = make_incident(reference="INC-OTHER")
    person, _plain = make_person(incident, external_ref="P-TIME")
    stranger, _ = make_person(other, external_ref="P-ELSE")
    manager = make_staff("manager", email="boss@staff.example")
    agent = make_staff("agent", email="agent@staff.example")
    audit.record("verify.failed", actor_type="customer", incident_id=incident.id,
                 person_id=person.id, details={"reason": "mismatch", "failures": 1})
    audit.record("verify.succeeded", actor_type="customer", incident_id=incident.id,
                 person_id=person.id, details={"method": "postcode"})
    audit.record("staff.time_zone_changed", actor_type="staff", actor_id=agent.id,
                 details={"from": None, "to": "Europe/Berlin"})
    audit.record("incident.updated", actor_type="staff", actor_id=manager.id,
                 incident_id=incident.id,
                 details={"changes": {"title": "=HYPERLINK(\"http://evil\")"}})
    audit.record("verify.failed", actor_type="customer", incident_id=other.id,
                 person_id=stranger.id, details={"reason": "unknown_code"})
    db.session.commit()
    return {"incident": incident, "person": person, "manager": manager, "agent": agent}


def _rows(db):
    from portal.models import Interaction

    return db.session.execute(select(Interaction).order_by(Interaction.id)).scalars().all()


def test_agents_may_not_read_the_log(client, seeded, login):
    login(seeded["agent"])
    assert client.get("/helpdesk/log/").status_code == 403
    assert client.get("/helpdesk/log/export.csv").status_code == 403
    assert client.get("/helpdesk/log/1/reveal").status_code == 403


def test_filters_labels_and_masking(client, seeded, login):
    login(seeded["manager"])
    page = client.get("/helpdesk/log/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"].startswith("no-store")
    assert "Customer verified their identity" in page.text  # the label
    assert "verify.succeeded" in page.text  # and the dotted name
    assert "Europe/Berlin" not in page.text  # a personal value stays masked
    assert "HYPERLINK" not in page.text
    assert "Last checkpoint" in page.text  # the chain's status at the top

    only = client.get("/helpdesk/log/?action=verify.&incident=INC-LOG")
    assert only.text.count("<tr>") == 2 + 1  # two rows and the header row
    assert "unknown_code" not in only.text

    person = client.get("/helpdesk/log/?person=P-TIME")
    assert "Timeline of person P-TIME" in person.text
    assert person.text.count("<tr>") == 3

    by_actor = client.get("/helpdesk/log/?actor=agent@staff.example")
    assert by_actor.text.count("<tr>") == 2
    assert "staff.time_zone_changed" in by_actor.text
    customers = client.get("/helpdesk/log/?actor=customer&to=2999-01-01&from=2000-01-01")
    assert customers.text.count("<tr>") == 4


@pytest.mark.parametrize("query, name", [
    ("from=yesterday", "from"), ("actor=nobody@example.com", "actor"),
    ("incident=NOPE", "incident"), ("ticket=abc", "ticket"), ("action=DROP TABLE", "action"),
    ("from=2026-02-01&to=2026-01-01", "to"),
])
def test_bad_filters_are_named(client, seeded, login, query, name):
    login(seeded["manager"])
    page = client.get(f"/helpdesk/log/?{query}")
    assert page.status_code == 400
    assert f'href="#filter-{name}"' in page.text
    assert client.get(f"/helpdesk/log/export.csv?{query}").status_code == 400


def test_an_action_area_without_its_dot_is_a_prefix(client, seeded, login):
    login(seeded["manager"])
    row = "<code>verify.succeeded</code>"
    with_dot, without = (client.get(f"/helpdesk/log/?action={value}")
                         for value in ("verify.", "verify"))
    assert with_dot.status_code == without.status_code == 200
    assert without.text.count(row) == with_dot.text.count(row) == 1
    failed = "<code>verify.failed</code>"
    assert without.text.count(failed) == with_dot.text.count(failed) == 2  # both incidents


def test_dates_may_be_typed_as_the_page_writes_them(client, seeded, login):
    """29.11.2026 on a German page, 11/29/2026 on an English one, as well as ISO."""
    from datetime import date, timedelta

    login(seeded["manager"])
    today = date.today()
    before, after = today - timedelta(days=2), today + timedelta(days=2)
    german = client.get(f"/helpdesk/log/?lang=de&from={before:%d.%m.%Y}&to={after:%d.%m.%Y}")
    english = client.get(f"/helpdesk/log/?lang=en&from={before:%m/%d/%Y}&to={after:%m/%d/%Y}")
    iso = client.get(f"/helpdesk/log/?from={before.isoformat()}&to={after.isoformat()}")
    assert german.status_code == english.status_code == iso.status_code == 200
    row = "<code>verify.succeeded</code>"
    assert english.text.count(row) == iso.text.count(row) == german.text.count(row) == 1
    empty = client.get(f"/helpdesk/log/?lang=de&to={before:%d.%m.%Y}")
    assert empty.status_code == 200 and row not in empty.text
    wrong = client.get("/helpdesk/log/?lang=en&from=13/29/2026")  # no 13th month
    assert wrong.status_code == 400 and 'href="#filter-from"' in wrong.text


def test_filters_fold_only_when_none_is_in_use(client, seeded, login):
    """Eight fields would push the entries off a phone's screen: they fold, but never
    while a filter is in use or wrong (the page's script unfolds them on wide screens)."""
    login(seeded["manager"])
    assert '<details class="more-filters" id="log-filters">' in client.get("/helpdesk/log/").text
    two = client.get("/helpdesk/log/?action=verify.&incident=INC-LOG").text
    assert '<details class="more-filters" id="log-filters" open>' in two
    assert "(2 in use)" in two
    wrong = client.get("/helpdesk/log/?from=yesterday").text
    assert '<details class="more-filters" id="log-filters" open>' in wrong


def test_keyset_pages(app, db, client, seeded, login):
    from portal.audit import log as audit
    from portal.audit import review

    for number in range(7):
        audit.record("ticket.created", ticket_id=None, details={"topic": f"t{number}"})
    db.session.commit()
    filters = review.parse_filters({"action": "ticket.created"})
    first = review.page(filters, size=3)
    second = review.page(filters, first.next_before, size=3)
    third = review.page(filters, second.next_before, size=3)
    seen = [row.id for row in first.rows + second.rows + third.rows]
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)
    assert third.next_before is None
    login(seeded["manager"])
    assert client.get("/helpdesk/log/?before=abc").status_code == 200  # a bad cursor: page 1


def test_a_time_window_is_read_in_time_order(app, db, client, seeded, login, monkeypatch,
                                             count_queries):
    """A view with ``from``/``to`` pages by (at, id), not by id: by id, a window in the past
    made PostgreSQL walk back through every newer row (docs/benchmarks.md, log page). Rows
    written out of time order (concurrent transactions) come in time order, ties by id,
    each once across the pages, on the page, through its links and in the export."""
    from datetime import UTC, datetime, timedelta

    from portal.audit import log as audit
    from portal.audit import review

    noon = datetime(2026, 3, 3, 12, tzinfo=UTC)
    minutes = [5, 1, 3, 3, 0, 4, 2, 3, 7 * 24 * 60]  # the last one is a week later
    moments = iter(noon + timedelta(minutes=m) for m in minutes)
    monkeypatch.setattr(audit, "utcnow", lambda: next(moments))
    ids = []
    for number in range(len(minutes)):
        ids.append(audit.record("ticket.created", details={"topic": f"topic-{number}x"}).id)
    db.session.commit()
    monkeypatch.undo()
    in_window = sorted(zip(minutes[:-1], ids[:-1], strict=True), reverse=True)
    expected = [row_id for _minute, row_id in in_window]
    assert expected != sorted(expected, reverse=True)  # time order is not id order here

    filters = review.parse_filters({"from": "2026-03-03", "to": "2026-03-03"})
    seen, before = [], None
    with count_queries as counted:
        while True:
            found = review.page(filters, before, size=3)
            seen += [row.id for row in found.rows]
            if found.next_before is None:
                break
            before = found.next_before
    assert seen == expected
    pages = [s for s in counted.statements if "interaction.details" in s]
    assert pages and all("ORDER BY interaction.at DESC, interaction.id DESC" in s
                         for s in pages)
    # Without a window the order stays by id (the other filters' indexes end in id).
    plain = review.page(review.parse_filters({"action": "ticket.created"}), size=20)
    assert [row.id for row in plain.rows] == sorted(ids, reverse=True)

    def shown(html: str) -> list[int]:  # the rows on a page, by the topic each carries
        return [row_id for row_id in ids if f"topic-{ids.index(row_id)}x" in html]

    login(seeded["manager"])
    window = "/helpdesk/log/?from=2026-03-03&to=2026-03-03"
    first = client.get(window).text
    assert sorted(shown(first)) == sorted(expected[:50])  # all eight fit on one page
    second = client.get(f"{window}&before={expected[2]}")
    assert second.status_code == 200
    assert sorted(shown(second.text)) == sorted(expected[3:])
    # A cursor naming no row starts from the newest rows of the window, as a bad one does.
    assert sorted(shown(client.get(f"{window}&before=999999").text)) == sorted(expected)

    for batch in (2, 3):  # a batch of 2 ends between the three rows of minute 3
        text = "".join(review.csv_chunks(filters, batch=batch))
        exported = [int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]]
        assert exported == expected[::-1], batch


def test_reveal_needs_a_reason_and_is_logged(app, db, client, seeded, login):
    login(seeded["manager"])
    row = next(row for row in _rows(db) if row.action == "staff.time_zone_changed")
    url = f"/helpdesk/log/{row.id}/reveal"
    asked = client.get(url)
    assert asked.status_code == 200 and "Europe/Berlin" not in asked.text
    token = csrf_token(client, url)
    refused = client.post(url, data={"reason": "", "csrf_token": token})
    assert refused.status_code == 400 and "Europe/Berlin" not in refused.text
    shown = client.post(url, data={"reason": "Customer complaint 42", "csrf_token": token})
    assert shown.status_code == 200 and "Europe/Berlin" in shown.text
    logged = _rows(db)[-1]
    assert logged.action == "log.revealed"
    assert logged.actor_id == seeded["manager"].id
    assert logged.details == {"interaction_id": row.id, "reason": "Customer complaint 42"}
    assert client.post(url, data={"reason": "no token here"}).status_code == 400
    assert client.get("/helpdesk/log/999999/reveal").status_code == 404


def test_references_are_found_as_typed_on_the_phone(client, seeded, login):
    """In small letters: the log finds the person and the incident all the same."""
    login(seeded["manager"])
    exact = client.get("/helpdesk/log/?person=P-TIME&incident=INC-LOG")
    typed = client.get("/helpdesk/log/?person=p-time&incident=inc-log")
    assert exact.status_code == typed.status_code == 200
    assert "Customer verified their identity" in typed.text
    assert typed.text.count("verify.succeeded") == exact.text.count("verify.succeeded") > 0


def test_typed_reasons_are_masked_on_the_page_and_in_the_export(app, db, client, seeded,
                                                               login):
    """A reason a member of staff typed may name a person: masked like a personal value,
    on the page and in the CSV, while a reason from a fixed vocabulary shows."""
    from portal.audit import log as audit
    from portal.audit.review import TYPED_DETAILS

    typed = "caller Jane Tester +14155550001"
    for action, key in sorted(TYPED_DETAILS):
        audit.record(action, actor_type="staff", actor_id=seeded["manager"].id,
                     incident_id=seeded["incident"].id, details={key: typed})
    audit.record("pii.revealed", actor_type="staff", actor_id=seeded["agent"].id,
                 incident_id=seeded["incident"].id,
                 details={"field": "phone", "reason": "verify_identity"})
    db.session.commit()
    login(seeded["manager"])
    page = client.get("/helpdesk/log/?incident=INC-LOG")
    export = client.get("/helpdesk/log/export.csv?incident=INC-LOG")
    assert page.status_code == export.status_code == 200
    for text in (page.text, export.text):
        assert "Jane Tester" not in text and "4155550001" not in text
        assert "verify_identity" in text
    shown = {row["action"]: row["details"] for row in csv.DictReader(io.StringIO(export.text))}
    assert {action for action, _key in TYPED_DETAILS} <= shown.keys()
    assert all(shown[action] == "reason=•••" for action, _key in TYPED_DETAILS)


def test_export_is_filtered_formula_safe_and_logged(app, db, client, seeded, login):
    login(seeded["manager"])
    before = len(_rows(db))
    response = client.get("/helpdesk/log/export.csv?incident=INC-LOG")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["incident"] for row in rows} == {"INC-LOG"}
    # the export's own entry is written first, so the file records its own making
    assert {row["action"] for row in rows} == {"verify.failed", "verify.succeeded",
                                               "incident.updated", "log.exported"}
    assert "HYPERLINK" not in response.text
    logged = _rows(db)[before]
    assert logged.action == "log.exported"
    assert logged.details == {"filters": {"incident": "INC-LOG"}, "via": "web"}


def test_csv_cells_are_neutralised(app, db, seeded):
    from portal.audit import log as audit
    from portal.audit import review

    audit.record("=cmd|' /C calc'!A0", details={"reason": "+1+1"})
    db.session.commit()
    text = "".join(review.csv_chunks(review.parse_filters({}), batch=2))
    rows = list(csv.reader(io.StringIO(text)))
    last = rows[-1]
    assert last[4].startswith("'=")
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert len(rows) == 1 + 6


def test_export_reads_plain_rows_in_batches(app, db, seeded, count_queries):
    """The export's speed (1,000,000 rows in under a minute, docs/benchmarks.md) rests on
    reading plain rows a batch at a time: no ORM object per row, no statement per row."""
    from sqlalchemy import event, func

    from portal.audit import review
    from portal.models import Interaction

    total = db.session.execute(select(func.count(Interaction.id))).scalar_one()
    loaded = []

    def on_load(target, context):
        loaded.append(target)

    event.listen(Interaction, "load", on_load)
    try:
        with count_queries as counted:
            text = "".join(review.csv_chunks(review.parse_filters({}), batch=2))
    finally:
        event.remove(Interaction, "load", on_load)
    assert loaded == []
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + total
    reads = [s for s in counted.statements if "interaction.hash" in s]
    assert len(reads) == -(-total // 2) + 1  # the batches, then the empty read that ends it
    # people joined; staff and incident names looked up only when a batch brings new ones
    assert len(counted) <= 3 * len(reads)
    assert not [s for s in counted.statements if s.lstrip().startswith("SELECT person.")]


def test_the_person_filter_names_the_incidents_for_the_reference_index(app, db, seeded,
                                                                     count_queries, client,
                                                                     login):
    """Without ``incident``, the person filter lists the incidents so PostgreSQL probes the
    (incident, reference) index instead of reading every person (docs/benchmarks.md)."""
    login(seeded["manager"])
    with count_queries as counted:
        page = client.get("/helpdesk/log/?person=P-TIME")
    assert page.status_code == 200
    reads = [s for s in counted.statements if "person.external_ref IN (" in s]
    assert reads and all("person.incident_id IN (SELECT incident.id" in s for s in reads)


@pytest.mark.postgres
def test_the_log_review_indexes_exist(db):
    """Migration 0026: the staff actors' index and the incident-and-action statistics that
    keep filtered log pages off a backward walk of the whole log."""
    from sqlalchemy import text

    index = db.session.execute(text(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_interaction_staff_actor'"
    )).scalar_one()
    assert "(actor_id, id)" in index and "'staff'" in index
    kinds = db.session.execute(text(
        "SELECT stxkind FROM pg_statistic_ext WHERE stxname = 'interaction_incident_action'"
    )).scalar_one()
    assert "m" in kinds


def test_cli_export_writes_the_filtered_log_and_logs_itself(app, db, runner, seeded, tmp_path):
    out = tmp_path / "log.csv"
    result = runner.invoke(args=["audit", "export", "--out", str(out), "--action", "verify.",
                                 "--incident", "INC-LOG"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert sorted(row["action"] for row in rows) == ["verify.failed", "verify.succeeded"]
    logged = _rows(db)[-1]
    assert logged.action == "log.exported" and logged.actor_type == "system"
    assert logged.details == {"filters": {"action": "verify.", "incident": "INC-LOG"},
                              "via": "cli"}


def test_cli_export_names_bad_options_and_writes_nothing(app, db, runner, seeded, tmp_path):
    out = tmp_path / "log.csv"
    count = len(_rows(db))
    result = runner.invoke(args=["audit", "export", "--out", str(out), "--from", "soon",
                                 "--incident", "NOPE"])
    assert result.exit_code == 2
    assert "--from:" in result.output and "--incident:" in result.output
    assert not out.exists()
    assert len(_rows(db)) == count


@pytest.mark.postgres
def test_a_time_window_walks_the_time_index(app, db, seeded):
    """On PostgreSQL the window's page is a backward walk of ``ix_interaction_at`` (ties
    sorted incrementally), not of the primary key through every newer row: 1.3-1.5 s
    against 0.1 ms at 10,000,000 rows (docs/benchmarks.md, log page)."""
    from portal.audit import review
    from tests.support.plans import plan_without_seqscan, statements_of

    window = review.parse_filters({"from": "2026-03-03", "to": "2026-03-03"})
    (statement, parameters), = [
        found for found in statements_of(db, lambda: review.page(window), "FROM interaction")
        if "LIMIT" in found[0]]
    plan = plan_without_seqscan(db, statement, parameters)
    assert "Index Scan Backward using ix_interaction_at" in plan, plan
