"""``/helpdesk/``: where staff land after signing in."""

from __future__ import annotations

from flask import render_template

from helpdesk.dashboard import bp
from portal.incidents.queries import recent_incidents
from portal.security.permissions import staff_required
from portal.tickets.queries import open_ticket_count

RECENT_INCIDENTS = 20


@bp.get("/")
@staff_required("agent")
def index():
    """Overview: open tickets and incidents under way."""
    return render_template(
        "helpdesk/home.html", open_tickets=open_ticket_count(),
        incidents=recent_incidents(RECENT_INCIDENTS),
    )
