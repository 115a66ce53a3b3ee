"""Letters: print runs (batched PDFs in print order, an owner-only manifest), mailed, returned;
and the evidence export, on either database."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.dispatch import campaigns, evidence, letters
from portal.models import Letter, Notification
from tests.support import make_settings
from tests.support.customer import actions, interactions
from tests.support.dispatch import incident_with_people, rows


@pytest.fixture
def app_settings(database_url, data_keys, tmp_path):
    return make_settings(database_url, data_keys, DISPATCH_LETTER_DIR=str(tmp_path / "letters"),
                         DISPATCH_LETTER_BATCH_SIZE=2)


@pytest.fixture
def letter_campaign(db, make_incident, make_person):
    """Five people (English and Spanish) told by letter; one with a formula for a name."""
    incident, people = incident_with_people(db, make_incident, make_person, 5,
                                            languages=("en", "es"))
    person, plain = people[0]
    person.first_name = "=HYPERLINK(\"http://evil.example\")"
    person.postcode = "99999"
    db.session.commit()
    campaign, _summary = campaigns.launch(incident.id, ["letter"])
    assert len(rows(db, campaign.id)) == 5
    return incident, people, campaign


def _manifest(path: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


def test_a_print_run_batches_letters_in_print_order_with_owner_only_files(db, letter_campaign):
    incident, people, campaign = letter_campaign
    run = letters.print_run(campaign.id)
    assert (run.letters, run.failed, len(run.batches)) == (5, 0, 3)  # batches of two
    batches = sorted(letters.batches_of(campaign.id), key=lambda batch: batch.number)
    assert [batch.letters for batch in batches] == [2, 2, 1]
    directory = Path(batches[0].pdf_path).parent
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    manifest_ids = []
    for batch in batches:
        for name in (batch.pdf_path, batch.manifest_path):
            assert stat.S_IMODE(Path(name).stat().st_mode) == 0o600
        reader = PdfReader(batch.pdf_path)
        assert len(reader.pages) == batch.pages
        manifest = _manifest(batch.manifest_path)
        assert len(manifest) == batch.letters
        previous_last = 0
        for line in manifest:
            first, last = int(line["first_page"]), int(line["last_page"])
            assert first == previous_last + 1 and (last - first + 1) % 2 == 0  # duplex-safe
            previous_last = last
            page = reader.pages[first - 1].extract_text()
            assert f"{line['letter_id']}" in page  # the letter's id is printed on it
            assert line["address_line1"] in page
            manifest_ids.append(int(line["letter_id"]))
        assert previous_last == batch.pages
        # Print order: by postcode within the batch.
        assert [line["postcode"] for line in manifest] == sorted(
            line["postcode"] for line in manifest)
    letter_rows = [row for row in rows(db, campaign.id)]
    assert sorted(manifest_ids) == [row.id for row in letter_rows]
    assert {row.status for row in letter_rows} == {"sent"}
    assert all(row.sent_at and row.content_digest and row.notice_version_id
               and row.lease_until is None for row in letter_rows)
    # The formula in a name is neutralised in the manifest.
    cells = [line["name"] for batch in batches for line in _manifest(batch.manifest_path)]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    assert not any(cell.startswith("=") for cell in cells)
    # Each person's code and language reach their letter.
    by_id = {int(line["letter_id"]): line for batch in batches
             for line in _manifest(batch.manifest_path)}
    assert {line["language"] for line in by_id.values()} == {"en", "es"}
    assert [row.details["letters"] for row in interactions(db, "letters.printed")] == [2, 2, 1]
    # Nothing is left to print: a second run prints nothing.
    assert letters.print_run(campaign.id).letters == 0


def test_the_letter_shows_the_code_and_the_full_notice(db, letter_campaign):
    _incident, people, campaign = letter_campaign
    letters.print_run(campaign.id)
    text = "".join(page.extract_text() for batch in letters.batches_of(campaign.id)
                   for page in PdfReader(batch.pdf_path).pages)
    for _person, plain in people:
        assert plain["notice_code"] in text
    assert "What Happened" in text and "Your notice code:" in text
    assert "Su código" in text or "código" in text  # the Spanish reader's letter is Spanish
    assert "http://localhost/" in text


def test_claims_never_overlap_and_unprintable_letters_fail_with_a_reason(db, letter_campaign):
    _incident, people, campaign = letter_campaign
    person = people[1][0]
    person.address_line1 = None
    db.session.commit()
    person_id = person.id
    first = letters._claim(campaign.id, 3, letters.utcnow())
    second = letters._claim(campaign.id, 3, letters.utcnow())
    db.session.commit()
    assert len(first) == 3 and len(second) == 2
    assert not {row[0] for row in first} & {row[0] for row in second}
    db.session.execute(Notification.__table__.update().values(status="pending",
                                                              lease_until=None))
    db.session.commit()
    run = letters.print_run(campaign.id)
    assert (run.letters, run.failed) == (4, 1)
    failed = [row for row in rows(db, campaign.id) if row.status == "failed"]
    assert [(row.person_id, row.error_code) for row in failed] == [(person_id, "no_address")]


def test_mailed_and_returned_letters(db, letter_campaign, make_incident, make_person):
    _incident, _people, campaign = letter_campaign
    letters.print_run(campaign.id)
    first = min(letters.batches_of(campaign.id), key=lambda batch: batch.number)
    assert letters.mark_mailed(campaign.id, first.id, actor_id=None) == 2
    db.session.commit()
    assert letters.mark_mailed(campaign.id, first.id) == 0  # once only
    mailed_ids = list(db.session.execute(select(Letter.notification_id).where(
        Letter.batch_id == first.id).order_by(Letter.position)).scalars())
    statuses = {row.id: row.status for row in rows(db, campaign.id)}
    assert [statuses[item] for item in mailed_ids] == ["delivered", "delivered"]
    assert list(statuses.values()).count("sent") == 3

    # Another campaign's letter is not this campaign's to return.
    other_incident, _ = incident_with_people(db, make_incident, make_person, 1)
    other, _summary = campaigns.launch(other_incident.id, ["letter"])
    letters.print_run(other.id)
    foreign = rows(db, other.id)[0].id
    printed_not_mailed = next(item for item, status in statuses.items() if status == "sent")
    upload = (f"letter_id,name\n{mailed_ids[0]},A\n{printed_not_mailed},B\n{foreign},C\n"
              f"oops,D\n{mailed_ids[0]},again\n").encode()
    ids, problems = letters.parse_letter_ids(upload)
    assert ids == [mailed_ids[0], printed_not_mailed, foreign]
    assert problems == [(5, "oops")]
    outcome = letters.mark_returned(campaign.id, ids)
    db.session.commit()
    assert outcome.returned == [mailed_ids[0], printed_not_mailed]
    assert outcome.unknown == [foreign]
    statuses = {row.id: row for row in rows(db, campaign.id)}
    for item in outcome.returned:
        assert statuses[item].status == "undelivered"
        assert statuses[item].error_code == "returned"
    assert rows(db, other.id)[0].status == "sent"
    again = letters.mark_returned(campaign.id, [mailed_ids[0]])
    assert again.already == [mailed_ids[0]] and again.returned == []
    assert letters.letter_counts(campaign.id) == {
        "waiting": 0, "printing": 0, "printed": 2, "mailed": 1, "returned": 2, "failed": 0}
    assert actions(db, "letters.") == ["letters.printed"] * 3 + [
        "letters.mailed", "letters.printed", "letters.returned"]
    # A returned letter counts as undelivered: a new launch includes that person again.
    assert campaigns.preview(_incident.id, ["letter"])["letter"]["skipped"] == 3


def test_parse_letter_ids_plain_lines_and_bad_files():
    assert letters.parse_letter_ids(b"12\n\n 13 \n12\n") == ([12, 13], [])
    assert letters.parse_letter_ids(b"id\n7\n") == ([7], [])
    assert letters.parse_letter_ids(b"\xef\xbb\xbf5\r\n=1+1\r\n") == ([5], [(2, "=1+1")])
    with pytest.raises(letters.LetterError):
        letters.parse_letter_ids(b"\xff\xfe1\x002")


def test_evidence_has_one_formula_safe_row_per_message(db, letter_campaign):
    incident, people, campaign = letter_campaign
    people[2][0].external_ref = "=cmd|' /C calc'!A0"
    db.session.commit()
    letters.print_run(campaign.id)
    first = min(letters.batches_of(campaign.id), key=lambda batch: batch.number)
    letters.mark_mailed(campaign.id, first.id)
    db.session.commit()
    evidence.record_export(campaign.id, via="test")
    db.session.commit()
    text = "".join(evidence.csv_lines(campaign.id))
    lines = list(csv.DictReader(io.StringIO(text)))
    assert len(lines) == 5
    assert list(lines[0]) == list(evidence.COLUMNS)
    refs = {line["person_reference"] for line in lines}
    assert "'=cmd|' /C calc'!A0" in refs
    assert not any(line[key].startswith(("=", "+", "-", "@")) for line in lines for key in line)
    mailed = [line for line in lines if line["status"] == "delivered"]
    assert len(mailed) == 2
    for line in mailed:
        history = line["status_history"]
        assert history.index("created") < history.index("sending") < history.index("sent") \
            < history.index("mailed")
        assert line["letter_batch"] == "1" and line["letter_pages"]
        assert line["notice_version"] == "1" and len(line["content_digest"]) == 64
    assert {line["channel"] for line in lines} == {"letter"}
    assert not any(plain["last_name"] in text for _person, plain in people)
    logged = interactions(db, "campaign.evidence_exported")
    assert [(row.campaign_id, row.details) for row in logged] == [(campaign.id, {"via": "test"})]


def test_cli_letters_evidence_mailed_and_returned(db, runner, letter_campaign, tmp_path):
    _incident, _people, campaign = letter_campaign
    out = tmp_path / "print-house"
    result = runner.invoke(args=["campaigns", "letters", str(campaign.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Printed 5 letters in 3 batches" in result.output
    files = sorted(path.name for path in out.iterdir())
    assert files == ["batch-0001-manifest.csv", "batch-0001.pdf", "batch-0002-manifest.csv",
                     "batch-0002.pdf", "batch-0003-manifest.csv", "batch-0003.pdf"]
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in out.iterdir())
    result = runner.invoke(args=["campaigns", "letters-mailed", str(campaign.id),
                                 "--batch", "1"])
    assert result.exit_code == 0 and "2 letters marked as mailed" in result.output
    ids = [row.id for row in rows(db, campaign.id)]
    returned = tmp_path / "returned.csv"
    returned.write_text(f"{ids[0]}\nnot-an-id\n")
    result = runner.invoke(args=["campaigns", "letters-returned", str(campaign.id),
                                 "--file", str(returned)])
    assert result.exit_code == 1
    assert "line 2" in result.output and "1 letters recorded as returned" in result.output
    target = tmp_path / "evidence.csv"
    result = runner.invoke(args=["campaigns", "evidence", str(campaign.id), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote 5 messages" in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))) == 5
    result = runner.invoke(args=["campaigns", "evidence", "999999", "--out", str(target)])
    assert result.exit_code != 0 and "no campaign" in result.output


def test_a_print_run_that_died_is_recovered_and_printed_once(db, letter_campaign):
    from datetime import timedelta

    from portal.dispatch import chunks

    _incident, _people, campaign = letter_campaign
    claimed = letters._claim(campaign.id, 3, letters.utcnow() - timedelta(hours=1))
    db.session.commit()  # the run died here: three letters leased, nothing printed
    assert letters.letter_counts(campaign.id)["printing"] == 3
    assert chunks.release_expired_leases() == {campaign.id: [row[0] for row in claimed]}
    run = letters.print_run(campaign.id)
    assert (run.letters, run.failed) == (5, 0)
    printed = rows(db, campaign.id)
    assert {row.status for row in printed} == {"sent"}
    assert sorted(row.resend_count for row in printed) == [0, 0, 1, 1, 1]
