"""Webhooks: Twilio's status callbacks and inbound text messages (signature-checked).

CSRF-exempt (Twilio cannot hold a token); every request must carry a valid
``X-Twilio-Signature`` for ``PORTAL_BASE_URL`` + path + query, the address Twilio
was given, so a TLS proxy or another port in front does not break the check.
"""

from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)

from portal.webhooks import views  # noqa: E402,F401  (routes register on import)

__all__ = ["bp"]
