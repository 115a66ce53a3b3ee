"""Keep notice codes, staff set-up tokens and search values out of request logs.

Customers arrive on ``/n/<code>`` links; a notice code is a credential. The
development server (werkzeug), gunicorn (access and error logs) and Flask's own
error log write request lines, so a filter on their loggers replaces the code
before anything is written.

Every spelling is caught, not only ``/n/``: a request line is logged as the
client sent it, so ``/N/``, ``/%6E/``, ``%2Fn%2F`` (and double encodings) would
slip past a plain match. Each run of non-blank characters is percent-decoded
(a few rounds) and, if the decoded text holds ``/n/`` in any case, everything
from there to the end of the run (query string included) is replaced.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "portal")
REDACTED = "/n/[redacted]"

_RUN = re.compile(r"[^\s\"'<>]+")
# Notice codes (/n/<code>) and staff set-up tokens (/staff/setup/<token>).
_MARKER = re.compile(r"/n/|/staff/setup/", re.IGNORECASE)
# Catches escaped or encoded spellings before decoding: %2F, %6E, %25..., N or n between slashes.
_SUSPECT = re.compile(r"%[0-9a-f]{2}|/n/|/staff/setup/", re.IGNORECASE)
_DECODE_ROUNDS = 4
# A search's value (``q=``): staff search by phone, e-mail or notice code.
_SEARCH = re.compile(r"([?&]q=)[^&#]*", re.IGNORECASE)


def _decoded(run: str) -> str:
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(run)
        if decoded == run:
            break
        run = decoded
    return run


def _redact_run(match: re.Match) -> str:
    run = match.group(0)
    if not _SUSPECT.search(run) and "q=" not in run.lower():
        return run
    decoded = _decoded(run).replace("\\", "/")
    marker = _MARKER.search(decoded)
    if marker is not None:
        return decoded[: marker.start()] + marker.group(0).lower() + "[redacted]"
    searched = _SEARCH.sub(r"\1[redacted]", decoded)
    return searched if searched != decoded else run


def redact(message: str) -> str:
    """Replace every ``/n/<code>`` in ``message``, whatever its spelling."""
    return _RUN.sub(_redact_run, message)


class RedactNoticeCodes(logging.Filter):
    """Rewrite ``/n/<code>`` in a record's message as ``/n/[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def install() -> None:
    """Attach the filter to the request loggers (once per process)."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(item, RedactNoticeCodes) for item in logger.filters):
            logger.addFilter(RedactNoticeCodes())
