"""The customer-facing site: verification, the notice, FAQ, tickets and preferences.

A blueprint only: its forms, its session and one views module per page; the work is
done by the domain packages (people, notices, tickets, answers).
"""

from flask import Blueprint

bp = Blueprint("customer", __name__)

from portal.customer.session import load_customer  # noqa: E402

bp.before_request(load_customer)

from portal.customer import pages  # noqa: E402,F401  (template helpers)
from portal.customer.views import (  # noqa: E402,F401
    brand,
    entry,
    faq,
    notice,
    preferences,
    tickets,
)

__all__ = ["bp"]
