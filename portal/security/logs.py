"""Keep notice codes out of request logs.

Customers arrive on ``/n/<code>`` links; a notice code is a credential. The
development server (werkzeug) and gunicorn's access log write request lines, so
a filter on their loggers replaces the code before anything is written.
"""

from __future__ import annotations

import logging
import re

_CODE_PATH = re.compile(r"/n/[^\s\"?]+")
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")


class RedactNoticeCodes(logging.Filter):
    """Rewrite ``/n/<code>`` in a record's message as ``/n/[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/n/" in message:
            record.msg = _CODE_PATH.sub("/n/[redacted]", message)
            record.args = ()
        return True


def install() -> None:
    """Attach the filter to the request loggers (once per process)."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(item, RedactNoticeCodes) for item in logger.filters):
            logger.addFilter(RedactNoticeCodes())
