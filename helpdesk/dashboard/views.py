"""``/helpdesk/``: where staff land after signing in."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from helpdesk.dashboard import bp
from portal.extensions import db
from portal.models import Incident, Person, Ticket
from portal.security.permissions import staff_required

OPEN_STATUSES = ("new", "open", "pending_customer")


@bp.get("/")
@staff_required("agent")
def index():
    """Overview: open tickets and incidents under way."""
    open_tickets = db.session.scalar(
        select(func.count(Ticket.id)).where(Ticket.status.in_(OPEN_STATUSES))
    )
    incidents = db.session.execute(
        select(Incident.reference, Incident.title, Incident.status, func.count(Person.id))
        .outerjoin(Person, Person.incident_id == Incident.id)
        .group_by(Incident.id)
        .order_by(Incident.created_at.desc())
        .limit(20)
    ).all()
    return render_template(
        "helpdesk/home.html", open_tickets=open_tickets or 0, incidents=incidents
    )
