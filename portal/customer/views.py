"""Customer pages. Verification, notices and tickets build on this blueprint."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("customer", __name__)


@bp.get("/")
def index():
    """The landing page a customer reaches from a letter, SMS or e-mail."""
    return render_template("customer/index.html")
