"""The insurer's logo, served from the app (no external assets).

The URL is named by the SHA-256 of the image, so it can be cached for a year: a
new logo has a new URL. Not behind verification: the logo names no person and a
digest can only be learnt from a page that shows it.
"""

from __future__ import annotations

from flask import abort, current_app

from portal.customer import bp
from portal.incidents.brand import logo_for_filename

YEAR_SECONDS = 365 * 24 * 3600


@bp.get("/logo/<filename>")
def insurer_logo(filename: str):
    """One incident's logo, by digest."""
    found = logo_for_filename(filename)
    if found is None:
        abort(404)
    data, media_type = found
    response = current_app.response_class(data, mimetype=media_type)
    response.headers["Cache-Control"] = f"public, max-age={YEAR_SECONDS}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response
