"""The development outbox: messages are kept in the database instead of sent.

Used when ``OUTBOX_ENABLED`` is on (the embedded default and the tests). The
message is added to the caller's transaction; the caller commits.
"""

from __future__ import annotations

import uuid

from portal.extensions import db
from portal.models.campaign import OutboxMessage


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
