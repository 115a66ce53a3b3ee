"""Counts over the ticket queue for the staff pages."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models.ticket import Ticket

# Tickets that still need an agent: neither answered nor closed.
QUEUE_STATUSES = ("new", "open", "pending_customer")


def open_ticket_count(incident_ids: list[int] | None = None) -> int:
    """How many tickets are in the queue (``QUEUE_STATUSES``); with ``incident_ids``,
    of those incidents only."""
    query = select(func.count(Ticket.id)).where(Ticket.status.in_(QUEUE_STATUSES))
    if incident_ids is not None:
        query = query.where(Ticket.incident_id.in_(incident_ids))
    return db.session.scalar(query) or 0
