"""Notice codes never reach a request log, whatever the spelling of ``/n/<code>``.

Real servers, real log output: werkzeug's development server in a thread, and
gunicorn in a subprocess writing its access and error logs to files.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from portal.security.logs import redact

CODE = "7K2D-QX9M-4TRB"
BARE = CODE.replace("-", "")
GROUPS = CODE.split("-")
ROOT = Path(__file__).resolve().parents[2]

# Every spelling a client could use to send a code in a request line.
SPELLINGS = [
    f"/n/{CODE}",
    f"/N/{CODE}",
    f"/n/{CODE.lower()}",
    f"/n/{BARE}",
    f"/N/{BARE.lower()}",
    f"/n/{CODE}?lang=de&utm_source=sms",
    f"/n/{BARE}?x=1",
    f"/%6E/{CODE}",
    f"/%6e/{CODE.lower()}",
    f"/%4E/{BARE}",
    f"/%2Fn%2F{CODE}",
    f"/%2fN%2f{BARE}",
    f"/n%2F{CODE}",
    f"/%252Fn%252F{CODE}",
    "/n/%37%4B%32%44-%51%58%39%4D-%34%54%52%42",
    f"//n//{CODE}",
    f"/x/../n/{CODE}",
    f"/verify?next=/n/{CODE}",
    f"/verify?next=%2Fn%2F{BARE}",
]


def _leaks(text: str) -> list[str]:
    """Every form of the code found in ``text`` (raw or percent-decoded, any case)."""
    forms = [text]
    for _ in range(3):
        forms.append(unquote(forms[-1]))
    found = []
    for form in forms:
        lowered = form.lower()
        for needle in (CODE, BARE, *GROUPS):
            if needle.lower() in lowered:
                found.append(needle)
    return sorted(set(found))


def _request(port: int, path: str) -> int:
    # Generous: the first request waits for the worker to boot on a loaded machine.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        # skip_host/accept_encoding off: the path goes on the wire exactly as written.
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.putheader("Referer", f"http://127.0.0.1:{port}/n/{CODE}")
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_redact_catches_every_spelling(spelling):
    line = f'127.0.0.1 - - [now] "GET {spelling} HTTP/1.1" 303 - "http://x/N/{BARE}" "curl"'
    redacted = redact(line)
    assert _leaks(redacted) == [], redacted
    assert "/n/[redacted]" in redacted
    assert redacted.startswith('127.0.0.1 - - [now] "GET ')


def test_redact_leaves_other_lines_alone():
    line = '127.0.0.1 - - [now] "GET /verify?lang=de%20x HTTP/1.1" 200 -'
    assert redact(line) == line


def test_werkzeug_server_log_has_no_code(app, tmp_path):
    from werkzeug.serving import make_server

    log_file = tmp_path / "werkzeug.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(name) for name in ("werkzeug", "portal")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        statuses = [_request(server.server_port, path) for path in SPELLINGS]
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
        handler.close()
    text = log_file.read_text()
    assert text.count("HTTP/1.1") >= len(SPELLINGS), text  # every request was logged
    assert 303 in statuses and 404 in statuses
    assert _leaks(text) == [], text


_APP_MODULE = """
from portal import create_app
from portal.config import TestConfig

settings = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
settings["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + __file__ + ".sqlite3"
app = create_app(settings)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("gunicorn did not start listening")


def test_gunicorn_access_and_error_logs_have_no_code(tmp_path):
    (tmp_path / "logapp.py").write_text(_APP_MODULE)
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--chdir", str(tmp_path), "--access-logfile", str(access_log),
         "--error-logfile", str(error_log), "--log-level", "debug", "logapp:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port, process)
        for path in SPELLINGS:
            _request(port, path)
    finally:
        process.terminate()
        process.wait(timeout=30)
    access = access_log.read_text()
    assert len(access.splitlines()) >= len(SPELLINGS), access  # every request was logged
    assert _leaks(access) == [], access
    errors = error_log.read_text()
    assert _leaks(errors) == [], errors


@pytest.mark.parametrize("line", [
    "GET /helpdesk/tickets/?q=%2B14155550123&status=open HTTP/1.1",
    "GET /helpdesk/people/?Q=jo%40example.com HTTP/1.1",
    "GET /staff/login?next=/helpdesk/people/?q%3Djo%2540example.com HTTP/1.1",
    "GET /helpdesk/tickets/?status=open&q=7K2D-QX9M-4TRB HTTP/1.1",
])
def test_search_values_stay_out_of_request_logs(line):
    """Staff search by phone, e-mail or notice code: a ``q=`` value is never logged
    (the pages post their searches; a typed or old link still gets here)."""
    cleaned = redact(line)
    assert "[redacted]" in cleaned
    for secret in ("14155550123", "jo@", "jo%40", "jo%2540", "QX9M"):
        assert secret not in cleaned, cleaned
    assert "status=open" in cleaned or "status" not in line
