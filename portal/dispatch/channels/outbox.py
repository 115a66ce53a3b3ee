"""The development outbox: messages are kept in the database instead of sent.

Used when ``OUTBOX_ENABLED`` is on (the embedded default and the tests). The
message is added to the caller's transaction; the caller commits. The outbox
page shows codes masked (``masked``); a start with the outbox on that other
machines can reach is warned about (``exposure_warning``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from sqlalchemy import select

from portal.extensions import db
from portal.models.campaign import OutboxMessage

MASK = "••••"
# A code in a link (any spelling of /n/, with or without dashes) and a code on its own.
_LINK = re.compile(r"(/n/)([0-9A-Za-z]{4})[0-9A-Za-z-]*", re.IGNORECASE)
_CODE = re.compile(r"\b([0-9A-Za-z]{4})-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}\b")
# A staff member's one-time set-up link: whoever holds it chooses that account's password.
_SETUP = re.compile(r"(/staff/setup/)[^\s<>\"']+")


def store(channel: str, recipient: str, body: str, subject: str | None = None) -> str:
    """Keep a message in the outbox and return its provider id."""
    provider_id = f"outbox-{channel}-{uuid.uuid4().hex}"
    db.session.add(
        OutboxMessage(
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            provider_id=provider_id,
        )
    )
    db.session.flush()
    return provider_id


def recent(limit: int) -> list[OutboxMessage]:
    """The newest ``limit`` outbox messages, newest first."""
    return list(db.session.execute(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    ).scalars())


def get(message_id: int) -> OutboxMessage | None:
    """One outbox message, or ``None``."""
    return db.session.get(OutboxMessage, message_id)


def masked(text: str) -> str:
    """``text`` with every notice code masked but its first group (``/n/7K2D-••••-••••``)
    and every staff set-up link's token masked whole."""
    text = _SETUP.sub(lambda match: f"{match.group(1)}{MASK}", text)
    text = _LINK.sub(lambda match: f"{match.group(1)}{match.group(2)}-{MASK}-{MASK}", text)
    return _CODE.sub(lambda match: f"{match.group(1)}-{MASK}-{MASK}", text)


def holds_setup_link(text: str) -> bool:
    """Whether ``text`` carries a staff set-up link (only administrators may see it whole:
    a manager who could would choose an invited administrator's password)."""
    return _SETUP.search(text or "") is not None


def is_loopback(host: str | None) -> bool:
    """Tell whether ``host`` (a name or address, no DNS lookup) is this machine only."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(config: Mapping, bind_host: str | None = None) -> str | None:
    """The warning to print when the outbox is on and other machines may reach the portal.

    Checks the public base URL and, when given, the address the server binds to.
    """
    if not config["OUTBOX_ENABLED"]:
        return None
    exposed = []
    base_host = urlsplit(config["PORTAL_BASE_URL"]).hostname
    if not is_loopback(base_host):
        exposed.append(f"PORTAL_BASE_URL is {config['PORTAL_BASE_URL']}")
    if bind_host is not None and not is_loopback(bind_host):
        exposed.append(f"the server listens on {bind_host}")
    if not exposed:
        return None
    rule = "!" * 78
    return "\n".join([
        rule,
        "WARNING: the development outbox is ON and the portal is reachable from other "
        "machines",
        f"({'; '.join(exposed)}).",
        "Text messages and e-mails are NOT sent: they are kept in the database, notice codes",
        "included, and managers can read them at /dev/outbox. Do not use this for real people.",
        "Set PORTAL_ENV=production (which refuses the outbox), or PORTAL_OUTBOX=0 with Twilio",
        "and SMTP settings, or serve on 127.0.0.1 only.",
        rule,
    ])
