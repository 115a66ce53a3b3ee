"""``/helpdesk/``: where staff land after signing in."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from helpdesk.dashboard import bp
from portal.incidents.queries import recent_incidents
from portal.security.permissions import staff_required
from portal.tickets.access import visible_incident_ids
from portal.tickets.queries import open_ticket_count

RECENT_INCIDENTS = 20


@bp.get("/")
@staff_required("agent")
def index():
    """Overview: open tickets and incidents under way."""
    visible = visible_incident_ids(current_user)  # an agent limited to some incidents
    return render_template(
        "helpdesk/home.html", open_tickets=open_ticket_count(visible),
        incidents=recent_incidents(RECENT_INCIDENTS, visible),
    )
