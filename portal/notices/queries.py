"""Reads behind the notice pages: what a person last read, who wrote or approved a version.

Read-only helpers for the customer and managers' views; the versions themselves and
their workflow live in ``portal.notices.workflow``.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Interaction, StaffUser

# The person's recent views scanned for the language asked; older ones are not looked at.
RECENT_VIEWS = 20


def last_viewed_version(person_id: int, language: str) -> int | None:
    """The notice version this person last viewed in ``language``, from the log."""
    rows = db.session.execute(
        select(Interaction.details)
        .where(Interaction.person_id == person_id, Interaction.action == "notice.viewed")
        .order_by(Interaction.id.desc())
        .limit(RECENT_VIEWS)
    ).scalars()
    for details in rows:
        if isinstance(details, dict) and details.get("language") == language:
            version = details.get("version")
            return version if isinstance(version, int) else None
    return None


def staff_names(*ids: int | None) -> dict[int, str]:
    """The names of these staff members by id (``None`` ids are ignored)."""
    wanted = {staff_id for staff_id in ids if staff_id}
    if not wanted:
        return {}
    rows = db.session.execute(select(StaffUser.id, StaffUser.name).where(
        StaffUser.id.in_(wanted))).all()
    return dict(rows)
