"""Filling an approved answer's placeholders for one ticket, in a sandbox.

Answer texts are Jinja templates written by staff; they render in an
``ImmutableSandboxedEnvironment`` that sees only ``PLACEHOLDERS`` (no globals,
no filters beyond Jinja's safe built-ins, no attribute access to Python objects:
every value is a plain string). The result is plain text, escaped where shown.
"""

from __future__ import annotations

import difflib

from flask import current_app
from flask_babel import force_locale
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from portal.answers.choose import approved_one
from portal.extensions import db
from portal.models.answer import AnswerVersion
from portal.models.incident import Incident
from portal.models.person import Person
from portal.models.ticket import Ticket

PLACEHOLDERS = ("first_name", "incident", "categories", "hotline", "hours", "enroll_by",
                "portal_url")


class RenderError(ValueError):
    """An answer text that cannot be filled (syntax, unknown placeholder, unsafe code)."""


EXTENSION_KEY = "portal.answers.sandbox"


def _environment() -> ImmutableSandboxedEnvironment:
    """This application's sandbox for answer texts (made on first use; it caches templates)."""
    env = current_app.extensions.get(EXTENSION_KEY)
    if env is None:
        env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                            keep_trailing_newline=False)
        env.globals.clear()
        env = current_app.extensions.setdefault(EXTENSION_KEY, env)
    return env


def normalise_text(value: str) -> str:
    """Text as stored: Unix newlines, no trailing spaces on lines, stripped."""
    lines = (value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def unknown_placeholders(text: str) -> list[str]:
    """Names an answer text uses that are not placeholders (raises RenderError on bad syntax)."""
    try:
        names = meta.find_undeclared_variables(_environment().parse(text))
    except TemplateError as exc:
        raise RenderError(str(exc)) from exc
    return sorted(names - set(PLACEHOLDERS))


def fill(text: str, values: dict[str, str]) -> str:
    """Fill an answer text with ``values`` (only ``PLACEHOLDERS`` are passed in)."""
    context = {name: str(values.get(name) or "") for name in PLACEHOLDERS}
    try:
        return normalise_text(_environment().from_string(text).render(context))
    except TemplateError as exc:  # SecurityError and UndefinedError are TemplateErrors
        raise RenderError(str(exc)) from exc


def placeholder_values(ticket: Ticket, language: str) -> dict[str, str]:
    """The placeholder values for a ticket's customer, in ``language``."""
    person = db.session.get(Person, ticket.person_id) if ticket.person_id else None
    incident = db.session.get(Incident, ticket.incident_id) if ticket.incident_id else None
    return values_for(incident, person, language)


def values_for(incident: Incident | None, person: Person | None, language: str, *,
               public: bool = False) -> dict[str, str]:
    """Every placeholder's value for ``person`` of ``incident``, in ``language``.

    ``public``: for the portal's FAQ, read by anyone: no name and no categories,
    which concern one person.
    """
    from portal.core.i18n import format_when
    from portal.incidents.contacts import contact_text
    from portal.notices.advice import category_name

    with force_locale(language):
        categories = [] if public else [category_name(key) for key in (
            (person.categories if person else None) or (incident.categories if incident else [])
            or [])]
        return {
            "first_name": "" if public else ((person.first_name if person else "") or ""),
            "incident": incident.title if incident else "",
            "categories": ", ".join(str(name) for name in categories),
            "hotline": (incident.contact_hotline if incident else "") or "",
            "hours": (contact_text(incident, "contact_hours", language) if incident else "")
            or "",
            "enroll_by": format_when(incident.monitoring_enroll_by, "long")
            if incident and incident.monitoring_enroll_by else "",
            "portal_url": current_app.config["PORTAL_BASE_URL"].rstrip("/") + "/",
        }


def fill_for_ticket(version: AnswerVersion, ticket: Ticket) -> str:
    """An answer version's body filled for a ticket's customer."""
    return fill(version.body, placeholder_values(ticket, version.language))


def approved_version(version_id: int, ticket: Ticket) -> AnswerVersion | None:
    """An answer version an agent may send on ``ticket``, else ``None``: approved, in the
    ticket's language, for no particular incident or for the ticket's own (the composer
    list's rule, ``choose.approved_one``)."""
    return approved_one(version_id, ticket.language, ticket.incident_id)


def deviation(filled: str, sent: str) -> str | None:
    """The unified diff from the filled answer to the sent text, or None if they agree."""
    filled, sent = normalise_text(filled), normalise_text(sent)
    if filled == sent:
        return None
    return "\n".join(difflib.unified_diff(filled.split("\n"), sent.split("\n"),
                                          "answer", "sent", lineterm=""))
