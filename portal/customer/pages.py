"""What every customer page shares: the never-cached response and the template helpers."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

from portal.core.i18n import use_page_zone
from portal.customer import bp
from portal.customer.session import current_person
from portal.incidents.time_zones import incident_time_zone
from portal.security.headers import no_store

TICKET_STATUS_NAMES = {
    "new": _l("Received"),
    "open": _l("Being handled"),
    "pending_customer": _l("Waiting for your reply"),
    "resolved": _l("Answered"),
    "closed": _l("Closed"),
}


def page(template: str, status: int = 200, **context):
    """Render a customer page that must never be cached."""
    return no_store(current_app.make_response((render_template(template, **context), status)))


def ticket_status(status: str) -> str:
    """The customer-facing name of a ticket status."""
    return str(TICKET_STATUS_NAMES.get(status, status))


@bp.app_context_processor
def _customer_context() -> dict:
    person = current_person()
    if person is not None:  # a verified customer reads times in the incident's zone
        use_page_zone(incident_time_zone(person.incident_id))
    return {"customer": person, "ticket_status": ticket_status,
            "portal_time_zone": current_app.config["PORTAL_TIME_ZONE"]}
