"""``/healthz``: database and Redis reachability for load balancers and monitors."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from portal.core.jobs import redis_connection
from portal.extensions import csrf, db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """Report reachability only; error details go to the log, not the response."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means unreachable
        log.warning("health check: database unreachable", exc_info=True)
        db.session.rollback()
        checks["database"] = "unreachable"
    connection = redis_connection()
    if connection is None:
        checks["redis"] = "not configured"
    else:
        try:
            connection.ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001 - any failure means unreachable
            log.warning("health check: Redis unreachable", exc_info=True)
            checks["redis"] = "unreachable"
    healthy = checks["database"] == "ok" and checks["redis"] in {"ok", "not configured"}
    response = jsonify(status="ok" if healthy else "degraded", checks=checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
