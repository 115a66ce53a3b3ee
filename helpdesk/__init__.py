"""The staff side: sign-in, the agents' queue and the managers' tools."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the staff blueprints and the session loader."""
    from helpdesk.auth import bp as auth_bp
    from helpdesk.auth.session import init_login_manager
    from helpdesk.home import bp as home_bp

    init_login_manager(app)
    app.register_blueprint(auth_bp, url_prefix="/staff")
    app.register_blueprint(home_bp, url_prefix="/helpdesk")
    from helpdesk.incidents import bp as incidents_bp

    app.register_blueprint(incidents_bp, url_prefix="/helpdesk/incidents")
    from helpdesk.imports import bp as imports_bp  # persons import under an incident

    app.register_blueprint(imports_bp, url_prefix="/helpdesk/incidents/<reference>/imports")
