"""Managers' dashboards, the regulator report and the substitute notice, per incident.

``bp`` serves ``/helpdesk/reports``; ``incident_bp`` serves the pages that live
under an incident (``/helpdesk/incidents/<reference>/report.json`` and the
substitute notice editor).
"""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="../templates")
incident_bp = Blueprint("incident_reports", __name__, template_folder="../templates")

from helpdesk.reports import views  # noqa: E402,F401  (routes register on import)
