"""What every customer page shares: the never-cached response and the template helpers."""

from __future__ import annotations

from flask import current_app, g, render_template
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from portal.customer import bp
from portal.customer.session import current_person
from portal.incidents.brand import Brand, cached_incident_brand, operator_brand
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


def customer_brand() -> Brand | None:
    """Who the page says is writing: the verified customer's insurer, else the operator.

    Before verification no incident is named (it would tell which incident a code
    belongs to): only ``PORTAL_OPERATOR_NAME``, when set. Read once per request.
    """
    if "customer_brand" not in g:
        person = current_person()
        brand = cached_incident_brand(person.incident_id) if person is not None else None
        g.customer_brand = brand or operator_brand()
    return g.customer_brand


def use_brand(brand: Brand | None) -> None:
    """Name this insurer on the page being built (a page that has it already saves a read)."""
    g.customer_brand = brand or operator_brand()


@bp.app_context_processor
def _customer_context() -> dict:
    return {"customer": current_person(), "ticket_status": ticket_status,
            "customer_brand": customer_brand}


@bp.app_template_filter("longdate")
def _longdate(value) -> str:
    return format_date(value, "long") if value else ""
