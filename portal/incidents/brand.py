"""Who is writing to the customer: the insurer's display name and optional logo.

Each incident names its insurer (``Incident.insurer_name``); a manager may add a
logo, PNG or JPEG only, at most ``INSURER_LOGO_MAX_BYTES``, recognised by its
magic bytes and decoded once with Pillow before it is kept. The logo is stored in
the database and served by the app at a URL named by the SHA-256 of its bytes, so
the URL changes whenever the logo does and the response can be cached for a year.

Before a customer is verified the portal cannot say which incident a code belongs
to without revealing it; those pages show ``PORTAL_OPERATOR_NAME`` when set, and
no insurer otherwise (``operator_brand``).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from portal.audit import log as audit
from portal.core import lists
from portal.extensions import db
from portal.incidents.operations import IncidentError
from portal.models import Incident

# Media type -> (magic bytes, Pillow format name, file extension).
LOGO_TYPES = {
    "image/png": (b"\x89PNG\r\n\x1a\n", "PNG", "png"),
    "image/jpeg": (b"\xff\xd8\xff", "JPEG", "jpg"),
}
# Larger images are refused before decoding (a small file can claim huge dimensions).
MAX_LOGO_PIXELS = 2000 * 2000


@dataclass(frozen=True)
class Brand:
    """The name (and logo, when there is one) a customer page, PDF or message shows."""

    name: str
    logo_digest: str | None = None
    logo_type: str | None = None

    @property
    def logo_filename(self) -> str | None:
        """``<digest>.<ext>``, the last part of the logo's URL; None without a logo."""
        if not self.logo_digest or self.logo_type not in LOGO_TYPES:
            return None
        return f"{self.logo_digest}.{LOGO_TYPES[self.logo_type][2]}"


# The incidents' faces, kept per process and incident (portal.core.lists).
FACES = lists.KeptList("incident_faces", frozenset({Incident.__tablename__}),
                       seconds="NOTICE_STAMP_SECONDS", size="NOTICE_CACHE_SIZE")


def brand_of(incident: Incident | None) -> Brand | None:
    """The incident's brand; None when it names no insurer."""
    if incident is None or not incident.insurer_name:
        return None
    return Brand(incident.insurer_name, incident.insurer_logo_digest, incident.insurer_logo_type)


def incident_face(incident_id: int) -> tuple[Brand | None, str | None]:
    """The incident's brand (None when it names no insurer) and time zone, in one query."""
    row = db.session.execute(
        select(Incident.insurer_name, Incident.insurer_logo_digest, Incident.insurer_logo_type,
               Incident.time_zone)
        .where(Incident.id == incident_id)
    ).first()
    if row is None:
        return None, None
    return (Brand(row[0], row[1], row[2]) if row[0] else None), row[3]


def cached_incident_face(incident_id: int) -> tuple[Brand | None, str | None]:
    """The incident's brand and time zone, kept per process for ``NOTICE_STAMP_SECONDS``
    (a kept list, ``portal.core.lists``: an edit of the incident committed in this process
    shows at once, one from another process within those seconds).

    Every verified customer page names the insurer and shows times in the
    incident's zone; reading both at most once per interval per process, instead of
    once per request, keeps the notice page at one statement (as the notice is).
    """
    return lists.kept(FACES, incident_id, lambda: incident_face(incident_id))


def operator_brand() -> Brand | None:
    """The portal-wide operator shown before verification (``PORTAL_OPERATOR_NAME``), if set."""
    name = current_app.config["PORTAL_OPERATOR_NAME"]
    return Brand(name) if name else None


def max_logo_bytes() -> int:
    return int(current_app.config["INSURER_LOGO_MAX_BYTES"])


def logo_problem(data: bytes) -> tuple[str | None, str | None]:
    """``(media_type, None)`` for an acceptable logo, else ``(None, problem)``.

    Problems: ``empty``, ``too_large``, ``not_image`` (neither PNG nor JPEG by its
    first bytes), ``unreadable`` (does not decode as what it claims to be, or is
    too large in pixels).
    """
    if not data:
        return None, "empty"
    if len(data) > max_logo_bytes():
        return None, "too_large"
    media_type = next((kind for kind, (magic, _f, _e) in LOGO_TYPES.items()
                       if data.startswith(magic)), None)
    if media_type is None:
        return None, "not_image"
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=[LOGO_TYPES[media_type][1]]) as image:
            width, height = image.size
            if width * height > MAX_LOGO_PIXELS:
                return None, "unreadable"
            image.verify()
    except Exception:  # noqa: BLE001 - any decoding failure means the file is not usable
        return None, "unreadable"
    return media_type, None


PROBLEM_TEXT = {
    "empty": "the file is empty",
    "too_large": "the file is larger than INSURER_LOGO_MAX_BYTES",
    "not_image": "only PNG and JPEG images are accepted",
    "unreadable": "the image cannot be read, or is larger than 2000 by 2000 pixels",
}


def set_logo(incident: Incident, data: bytes) -> bool:
    """Keep ``data`` as the incident's logo and log it; False when it is the same logo.

    Raises ``IncidentError`` (field ``logo``) for a file ``logo_problem`` refuses.
    """
    media_type, problem = logo_problem(data)
    if problem is not None:
        raise IncidentError("logo", PROBLEM_TEXT[problem])
    digest = hashlib.sha256(data).hexdigest()
    before = incident.insurer_logo_digest
    if before == digest:
        return False
    incident.insurer_logo = data
    incident.insurer_logo_type = media_type
    incident.insurer_logo_digest = digest
    db.session.flush()
    audit.record("incident.logo_set", incident_id=incident.id, details={
        "reference": incident.reference, "type": media_type, "bytes": len(data),
        "changes": {"insurer_logo_digest": [before, digest]},
    })
    return True


def remove_logo(incident: Incident) -> bool:
    """Remove the incident's logo and log it; False when there was none."""
    before = incident.insurer_logo_digest
    if before is None:
        return False
    incident.insurer_logo = None
    incident.insurer_logo_type = None
    incident.insurer_logo_digest = None
    db.session.flush()
    audit.record("incident.logo_removed", incident_id=incident.id, details={
        "reference": incident.reference, "changes": {"insurer_logo_digest": [before, None]},
    })
    return True


def logo_for_filename(filename: str) -> tuple[bytes, str] | None:
    """``(bytes, media_type)`` of the logo served as ``filename``, or None."""
    digest, _dot, extension = filename.partition(".")
    if len(digest) != 64 or not all(char in "0123456789abcdef" for char in digest):
        return None
    row = db.session.execute(
        select(Incident.insurer_logo, Incident.insurer_logo_type)
        .where(Incident.insurer_logo_digest == digest).limit(1)
    ).first()
    if row is None or row[0] is None or row[1] not in LOGO_TYPES:
        return None
    if LOGO_TYPES[row[1]][2] != extension:
        return None
    return bytes(row[0]), row[1]


def logo_bytes(incident_id: int) -> bytes | None:
    """The incident's logo (for the PDF), or None."""
    data = db.session.execute(
        select(Incident.insurer_logo).where(Incident.id == incident_id)
    ).scalar_one_or_none()
    return bytes(data) if data else None
