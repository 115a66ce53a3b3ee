"""Who may work tickets: the one check shared by the queue and every ticket page."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models.staff import StaffIncident
from portal.models.ticket import Ticket
from portal.security.permissions import has_role

# Agents work tickets; managers and admins include the agent role.
TICKET_ROLE = "agent"


def visible_incident_ids(user) -> list[int] | None:
    """The incidents whose tickets and people ``user`` may see (None: every incident).

    An administrator may assign an agent to incidents (``/helpdesk/staff``); an agent
    with none assigned, and every manager and administrator, sees every incident.
    The queue, the people search and every ticket and person page ask here.
    """
    if not getattr(user, "is_authenticated", False):
        return []
    if has_role(user, "manager") or not getattr(user, "incidents_limited", False):
        return None  # the usual case reads nothing more than the signed-in account
    assigned = list(db.session.execute(
        select(StaffIncident.incident_id).where(StaffIncident.staff_id == user.id)
    ).scalars())
    return assigned  # limited with none left: nothing, never everything


def may_work(user, ticket: Ticket | None) -> bool:
    """Tell whether ``user`` may open and answer ``ticket``."""
    if ticket is None or not has_role(user, TICKET_ROLE):
        return False
    visible = visible_incident_ids(user)
    return visible is None or ticket.incident_id in visible
