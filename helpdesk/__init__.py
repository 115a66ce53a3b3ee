"""The staff side: sign-in, the agents' queue and the managers' tools."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the staff blueprints and the session loader."""
    from helpdesk.auth import bp as auth_bp
    from helpdesk.auth.session import init_login_manager
    from helpdesk.dashboard import bp as dashboard_bp
    from helpdesk.imports import bp as imports_bp
    from helpdesk.incidents import bp as incidents_bp
    from helpdesk.notices import bp as notices_bp

    init_login_manager(app)
    app.register_blueprint(auth_bp, url_prefix="/staff")
    app.register_blueprint(dashboard_bp, url_prefix="/helpdesk")
    app.register_blueprint(incidents_bp, url_prefix="/helpdesk/incidents")
    app.register_blueprint(notices_bp, url_prefix="/helpdesk/incidents")
    # the persons import lives under an incident
    app.register_blueprint(imports_bp, url_prefix="/helpdesk/incidents/<reference>/imports")
    _register_areas(app)


def _register_areas(app: Flask) -> None:
    """The agents' and managers' areas (one package each; see DESIGN §3)."""
    from helpdesk.answers import bp as answers_bp
    from helpdesk.campaigns import bp as campaigns_bp
    from helpdesk.log import bp as log_bp
    from helpdesk.people import bp as people_bp
    from helpdesk.reports import bp as reports_bp
    from helpdesk.reports import incident_bp as incident_reports_bp
    from helpdesk.staff import bp as staff_bp
    from helpdesk.tickets import bp as tickets_bp

    # campaigns live under an incident
    app.register_blueprint(campaigns_bp, url_prefix="/helpdesk/incidents/<reference>/campaigns")

    app.register_blueprint(tickets_bp, url_prefix="/helpdesk/tickets")

    app.register_blueprint(people_bp, url_prefix="/helpdesk/people")

    app.register_blueprint(answers_bp, url_prefix="/helpdesk/answers")

    app.register_blueprint(log_bp, url_prefix="/helpdesk/log")

    app.register_blueprint(reports_bp, url_prefix="/helpdesk/reports")
    # the regulator report and the substitute notice live under an incident
    app.register_blueprint(incident_reports_bp, url_prefix="/helpdesk/incidents/<reference>")

    app.register_blueprint(staff_bp, url_prefix="/helpdesk/staff")
