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
