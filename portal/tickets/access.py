"""Who may work tickets: the one check shared by the queue and every ticket page."""

from __future__ import annotations

from portal.models.ticket import Ticket
from portal.security.permissions import has_role

# Agents work tickets; managers and admins include the agent role.
TICKET_ROLE = "agent"


def visible_incident_ids(user) -> list[int] | None:
    """The incidents whose tickets ``user`` may see (None: every incident).

    Staff are not restricted to incidents today; a restriction goes here and
    applies to the queue and to every ticket page at once.
    """
    return None


def may_work(user, ticket: Ticket | None) -> bool:
    """Tell whether ``user`` may open and answer ``ticket``."""
    if ticket is None or not has_role(user, TICKET_ROLE):
        return False
    visible = visible_incident_ids(user)
    return visible is None or ticket.incident_id in visible
