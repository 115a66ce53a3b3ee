"""What every customer page shares: the never-cached response and the template helpers."""

from __future__ import annotations

from flask import current_app, g, render_template
from flask_babel import lazy_gettext as _l

from portal.core.i18n import use_page_zone
from portal.customer import bp
from portal.customer.session import current_person
from portal.incidents.brand import Brand, cached_incident_face, operator_brand
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


def _incident_face() -> tuple[Brand | None, str | None]:
    """The verified customer's insurer and time zone, once per request."""
    if "customer_face" not in g:
        person = current_person()
        g.customer_face = (cached_incident_face(person.incident_id) if person is not None
                           else (None, None))
    return g.customer_face


def customer_brand() -> Brand | None:
    """Who the page says is writing: the verified customer's insurer, else the operator.

    Before verification no incident is named (it would tell which incident a code
    belongs to): only ``PORTAL_OPERATOR_NAME``, when set.
    """
    return _incident_face()[0] or operator_brand()


def use_face(brand: Brand | None, time_zone: str | None) -> None:
    """Name the insurer and zone of the page being built (a page that has them saves a read)."""
    g.customer_face = (brand, time_zone)


@bp.app_context_processor
def _customer_context() -> dict:
    person = current_person()
    if person is not None:  # a verified customer reads times in the incident's zone
        use_page_zone(_incident_face()[1])
    return {"customer": person, "ticket_status": ticket_status,
            "customer_brand": customer_brand,
            "portal_time_zone": current_app.config["PORTAL_TIME_ZONE"]}
