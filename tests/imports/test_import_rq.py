"""With Redis configured, an upload is queued and the rq worker imports it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import ImportRun, Person
from tests.imports.test_import_cli_web import _upload
from tests.support import REDIS_URL, make_settings
from tests.support.imports import csv_text, good_row

pytestmark = pytest.mark.redis


@pytest.fixture
def app_settings(database_url, data_keys, redis):
    return make_settings(database_url, data_keys, REDIS_URL=REDIS_URL)


def test_upload_is_queued_then_imported_by_the_worker(app, db, client, login, make_staff,
                                                      make_incident, runner, redis):
    from portal.core import jobs
    incident = make_incident()
    login(make_staff("manager"))
    response = _upload(client, incident, csv_text([good_row(1), good_row(2, email="bad")]))
    run_url = response.location
    waiting = client.get(run_url)
    assert "Waiting to start" in waiting.text
    assert 'data-running="true"' in waiting.text and "csp_nonce" not in waiting.text
    assert re.search(r'<script nonce="[^"]+">', waiting.text)
    assert client.get(f"{run_url}/progress").get_json()["done"] is False
    try:
        result = runner.invoke(args=["worker", "--burst"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        run = db.session.execute(select(ImportRun)).scalar_one()
        assert run.status == "finished", result.output and (run.imported, run.rejected) == (1, 1)
        assert db.session.scalar(select(func.count(Person.id))) == 1
        done = client.get(run_url)
        assert "Finished" in done.text and "<script" not in done.text
    finally:
        queue_name = jobs.queue().name
        jobs.queue().delete(delete_jobs=True)
        for key in redis.scan_iter(f"rq:*{queue_name}*"):
            redis.delete(key)
        for key in redis.scan_iter("rq:*import-run-*"):  # run ids restart in every test
            redis.delete(key)
