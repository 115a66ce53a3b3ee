"""Indexes the managers' dashboards and the regulator report read (migration 0019).

Declared here rather than in the owning model modules so the reports area adds
them in one place; each leads with the incident so a dashboard reads one range.
"""

from __future__ import annotations

from sqlalchemy import Index

from portal.models.interaction import Interaction
from portal.models.ticket import Ticket

# Verification failures and lockouts per day, notice views per person: by incident,
# action and time, with the person in the index so counting people reads no rows.
INTERACTION_INCIDENT_ACTION = Index(
    "ix_interaction_incident_action_at",
    Interaction.incident_id, Interaction.action, Interaction.at, Interaction.person_id,
)
# Tickets opened and resolved per day.
TICKET_INCIDENT_CREATED = Index("ix_ticket_incident_created", Ticket.incident_id,
                                Ticket.created_at)
TICKET_INCIDENT_RESOLVED = Index("ix_ticket_incident_resolved", Ticket.incident_id,
                                 Ticket.resolved_at)
