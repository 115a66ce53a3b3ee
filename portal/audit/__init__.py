"""The interaction log: the one way to write it (``record``), the sealer that chains it
under a key, signed checkpoints, verification and the chain's status; review queries.
"""

from __future__ import annotations


def init_app(app) -> None:
    """Register the log's periodic jobs (the sealer on PostgreSQL, the checkpoints) and the
    incident page's retention helper."""
    from portal.audit.checkpoints import checkpoint_job, seal_job
    from portal.core import periodic

    app.jinja_env.globals["retention_of"] = _retention_of

    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        periodic.every("audit.seal", seal_job, int(app.config["PORTAL_AUDIT_SEAL_SECONDS"]),
                       app=app)
    if app.config["PORTAL_AUDIT_CHECKPOINT_DIR"]:
        periodic.every("audit.checkpoint", checkpoint_job,
                       int(app.config["PORTAL_AUDIT_CHECKPOINT_MINUTES"]) * 60, app=app)


def _retention_of(incident) -> dict:
    """The incident page's retention block (``incidents/_retention.html``)."""
    from flask import current_app

    from portal.people.retention import retention_state

    return retention_state(incident, int(current_app.config["PORTAL_RETENTION_DAYS"]))
