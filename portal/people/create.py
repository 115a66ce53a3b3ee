"""One affected person from plain values: the one constructor outside the bulk import.

The demo seed and the test fixtures use it, so every path computes the same
columns as the import does for a new person: encrypted fields, blind indexes,
verification digests and the row digest a later re-import compares against.
"""

from __future__ import annotations

from portal.models import Person
from portal.people.identity import identity_columns


def import_row_digest(values: dict) -> str:
    """The row digest the import stores for these plain values (see ``imports.rows``)."""
    from portal.imports.rows import COLUMNS, digest_of

    plain = {name: values.get(name) for name in COLUMNS}
    plain["categories"] = list(values.get("categories") or ())
    return digest_of(plain)


def new_person(incident_id: int, values: dict) -> Person:
    """A new, unsaved ``Person`` of ``incident_id`` from plain, validated ``values``.

    ``values`` holds ``external_ref``, ``notice_code``, the fields of
    ``PLAIN_FIELDS`` that are known, and optionally ``language`` (default ``en``)
    and ``categories``. The caller adds it to the session and commits.
    """
    values = {"language": "en", "categories": [], **values}
    return Person(
        incident_id=incident_id,
        external_ref=values["external_ref"],
        language=values["language"],
        categories=list(values["categories"]),
        row_digest=import_row_digest(values),
        **identity_columns(values),
    )
