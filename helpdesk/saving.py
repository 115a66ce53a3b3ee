"""The managers' pages' one way to save: commit, or roll back and show why.

::

    with saving(form) as saved:
        incident = create_incident(...)
    if saved:
        flash(...)
        return redirect(...)

A domain error (``IncidentError``, ``NoticeError``: anything with a ``message`` and
an optional ``field``) rolls the transaction back and is shown on the form's field
it names, else flashed. With ``conflict`` set, a database integrity error (another
manager saving the same row at the same moment) is rolled back and that message
flashed; ``saved.conflict`` then says so. Other exceptions propagate untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.incidents.operations import IncidentError
from portal.notices.workflow import NoticeError
from portal.security.staff_accounts import StaffError

DOMAIN_ERRORS = (IncidentError, NoticeError, StaffError)


@dataclass
class Saved:
    """How a ``saving`` block ended: committed (truthy), failed, or lost a conflict."""

    ok: bool = False
    conflict: bool = False

    def __bool__(self) -> bool:
        return self.ok


def show_error(form, error) -> None:
    """Put a domain error on the form field it names, else flash it."""
    field = getattr(form, error.field or "", None) if form is not None else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@contextmanager
def saving(form=None, *, conflict: str | None = None) -> Iterator[Saved]:
    """Run the block in the request's transaction; commit it, or roll back and report."""
    saved = Saved()
    try:
        yield saved
    except DOMAIN_ERRORS as error:
        db.session.rollback()
        show_error(form, error)
        return
    except IntegrityError:
        if conflict is None:
            raise
        db.session.rollback()
        flash(conflict, "error")
        saved.conflict = True
        return
    db.session.commit()
    saved.ok = True
