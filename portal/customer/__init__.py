"""The customer-facing site: verification, the notice, FAQ, tickets and preferences."""

from flask import Blueprint

bp = Blueprint("customer", __name__)

from portal.customer.views import entry, faq, notice, tickets  # noqa: E402,F401  (routes)

__all__ = ["bp"]
