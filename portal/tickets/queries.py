"""Counts over the ticket queue for the staff pages."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models.ticket import Ticket

# Tickets that still need an agent: neither answered nor closed.
QUEUE_STATUSES = ("new", "open", "pending_customer")


def open_ticket_count() -> int:
    """How many tickets are in the queue (``QUEUE_STATUSES``)."""
    return db.session.scalar(
        select(func.count(Ticket.id)).where(Ticket.status.in_(QUEUE_STATUSES))
    ) or 0
