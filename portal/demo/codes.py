"""Demo monitoring activation codes for the demo incident's pool."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from portal.audit import log as audit
from portal.extensions import db
from portal.models import ActivationCode, Incident
from portal.models.base import utcnow
from portal.security.crypto import code_index

DEMO_POOL_SIZE = 100
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _demo_code() -> str:
    """A vendor-style code such as ``EXMN-7K2D-QX9M-4TRB`` (synthetic)."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "EXMN-" + "-".join(body[i : i + 4] for i in range(0, 12, 4))


def seed_codes(incident: Incident, size: int = DEMO_POOL_SIZE) -> int:
    """Fill an empty pool with ``size`` demo codes; returns how many were added."""
    existing = db.session.scalar(
        select(func.count(ActivationCode.id)).where(ActivationCode.incident_id == incident.id)
    )
    if existing:
        return 0
    now = utcnow()
    for _ in range(size):
        code = _demo_code()
        db.session.add(ActivationCode(incident_id=incident.id, code=code,
                                      code_index=code_index(code), imported_at=now))
    db.session.flush()
    audit.record("activation_codes.imported", actor_type="system", incident_id=incident.id,
                 details={"added": size, "duplicates": 0, "rejected": 0, "via": "demo"})
    return size
