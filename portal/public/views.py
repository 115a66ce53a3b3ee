"""``/incidents/<reference>``: an incident's substitute notice, when a manager published it.

Unknown and unpublished references get the same 404, so the page tells nobody which
incidents exist. It shows the firm's own texts only and logs nothing: it is public.
"""

from __future__ import annotations

from flask import abort, current_app, render_template

from portal.core.i18n import current_language
from portal.incidents.brand import brand_of
from portal.incidents.contacts import contact_text
from portal.public import bp
from portal.reports.substitute import published, summary_in


@bp.get("/incidents/<reference>")
def incident(reference: str):
    """The published substitute notice in the reader's language (else the incident's)."""
    found = published(reference)
    if found is None:
        abort(404)
    incident, notice = found
    summary, language = summary_in(notice, current_language(), incident.default_language)
    response = current_app.make_response(render_template(
        "public/incident.html", incident=incident, notice=notice, summary=summary,
        summary_language=language, brand=brand_of(incident),
        hours=contact_text(incident, "contact_hours", current_language())))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
