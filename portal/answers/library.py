"""The approved-answer library: answers, their texts per language, four-eyes approval.

An answer (a key, a category, the "public FAQ" flag, optionally one incident) has
one text per language, each with numbered versions that move
``draft -> in_review -> approved -> retired`` by the rule written once in
``portal.core.approval``: a manager who neither wrote nor edited a version approves
it or sends it back; approving retires the language's previous approved version;
approved versions never change (a change is a new version). Texts may name only the
placeholders the reply composer fills (``PLACEHOLDERS``); a draft naming any other,
or that does not parse, is refused. Every change is logged; callers commit.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from portal.answers import render
from portal.audit import log as audit
from portal.core import approval
from portal.extensions import db
from portal.models import Answer, AnswerVersion, Incident
from portal.models.answer import ANSWER_WORKFLOW

WORKFLOW = ANSWER_WORKFLOW
LibraryError = approval.ApprovalError

# The values a reply (and the public FAQ) fills in: render.py's sandbox exposes these only.
PLACEHOLDERS = render.PLACEHOLDERS
CATEGORIES = {
    "incident": _l("The incident"),
    "verification": _l("Verification and codes"),
    "protection": _l("Protecting yourself"),
    "monitoring": _l("Credit monitoring"),
    "contact": _l("Contact and hours"),
    "account": _l("Preferences and messages"),
    "other": _l("Other"),
}
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
TITLE_LIMIT = 300
BODY_LIMIT = 10000

_PARSER = SandboxedEnvironment()


def languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def category_name(key: str) -> str:
    return str(CATEGORIES.get(key, key))


# --- reading ------------------------------------------------------------------------


def get_answer(answer_id: int) -> Answer | None:
    return db.session.get(Answer, answer_id)


def versions_of(answer_id: int) -> list[AnswerVersion]:
    """The answer's versions, by language then newest first."""
    return list(db.session.execute(
        select(AnswerVersion).where(AnswerVersion.answer_id == answer_id)
        .order_by(AnswerVersion.language, AnswerVersion.version.desc())
    ).scalars())


def get_version(answer_id: int, language: str, number: int) -> AnswerVersion | None:
    return db.session.execute(select(AnswerVersion).where(
        AnswerVersion.answer_id == answer_id, AnswerVersion.language == language,
        AnswerVersion.version == number)).scalar_one_or_none()


def _group(answer_id: int, language: str) -> dict:
    return {"answer_id": answer_id, "language": language}


def latest_approved(answer_id: int, language: str) -> AnswerVersion | None:
    return approval.latest(WORKFLOW, "approved", _group(answer_id, language))


def pending(answer_id: int, language: str) -> AnswerVersion | None:
    """The language's version being written or reviewed, if any."""
    return (approval.latest(WORKFLOW, "draft", _group(answer_id, language))
            or approval.latest(WORKFLOW, "in_review", _group(answer_id, language)))


def editors(version: AnswerVersion) -> set[int]:
    """Staff ids who created or edited the version."""
    return approval.editors(WORKFLOW, version)


def review_problems(version: AnswerVersion, staff_id: int) -> list[str]:
    """Why ``staff_id`` may not approve or send back ``version`` (empty when they may)."""
    return approval.approval_problems(WORKFLOW, version, staff_id)


# --- checking texts -----------------------------------------------------------------


# A text is plain words and ``{{ name }}``: no filters, attributes, calls or statements.
_PLAIN_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name)


def placeholders_in(text: str) -> set[str]:
    """The placeholder names a text uses; LibraryError unless it is plain ``{{ name }}``s."""
    try:
        tree = _PARSER.parse(text)
    except TemplateSyntaxError as error:
        raise LibraryError(_("A placeholder is written wrongly (line %(line)d): use "
                             "{{ name }}.", line=error.lineno or 1), "body") from None
    if not all(isinstance(node, _PLAIN_NODES) for node in tree.find_all(nodes.Node)):
        raise LibraryError(_("Only plain placeholders such as {{ hotline }} are allowed: no "
                             "filters, calls or other template code."), "body")
    return set(meta.find_undeclared_variables(tree))


def _clean_text(title: str, body: str) -> dict:
    title = " ".join((title or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not title:
        raise LibraryError(_("Give the answer a title."), "title")
    if len(title) > TITLE_LIMIT:
        raise LibraryError(_("The title is longer than %(limit)d characters.",
                             limit=TITLE_LIMIT), "title")
    if not body:
        raise LibraryError(_("Write the answer's text."), "body")
    if len(body) > BODY_LIMIT:
        raise LibraryError(_("The text is longer than %(limit)d characters.",
                             limit=BODY_LIMIT), "body")
    for field, text in (("title", title), ("body", body)):
        try:
            unknown = sorted(placeholders_in(text) - set(PLACEHOLDERS))
        except LibraryError as error:
            raise LibraryError(error.message, field) from None
        if unknown:
            raise LibraryError(_("Unknown placeholder: %(names)s. Allowed: %(allowed)s.",
                                 names=", ".join(unknown),
                                 allowed=", ".join(PLACEHOLDERS)), field)
    return {"title": title, "body": body}


def _clean_settings(category: str, incident_id: int | None) -> None:
    if category not in CATEGORIES:
        raise LibraryError(_("Choose a category from the list."), "category")
    if incident_id is not None and db.session.get(Incident, incident_id) is None:
        raise LibraryError(_("Choose an incident from the list."), "incident_id")


# --- steps --------------------------------------------------------------------------


def create_answer(key: str, category: str, public: bool, incident_id: int | None,
                  language: str, title: str, body: str, staff_id: int) -> AnswerVersion:
    """Create an answer with its first draft in ``language``; log both."""
    key = (key or "").strip().lower()
    if not KEY_PATTERN.match(key):
        raise LibraryError(_("A key is 2 to 80 lowercase letters, digits, dots, dashes or "
                             "underscores, e.g. faq.credit_freeze."), "key")
    if db.session.scalar(select(Answer.id).where(Answer.key == key)) is not None:
        raise LibraryError(_("An answer with this key exists."), "key")
    if language not in languages():
        raise LibraryError(_("Choose a language from the list."), "language")
    _clean_settings(category, incident_id)
    text = _clean_text(title, body)
    answer = Answer(key=key, category=category, public=bool(public), incident_id=incident_id)
    db.session.add(answer)
    db.session.flush()
    audit.record("answer.created", actor_type="staff", actor_id=staff_id,
                 incident_id=incident_id,
                 details={"answer_id": answer.id, "key": key, "category": category,
                          "public": bool(public)})
    return approval.save_draft(WORKFLOW, _group(answer.id, language), text, staff_id)


def change_settings(answer: Answer, category: str, public: bool, incident_id: int | None,
                    staff_id: int) -> dict:
    """Change an answer's category, FAQ flag or incident; log what changed (returned)."""
    _clean_settings(category, incident_id)
    wanted = {"category": category, "public": bool(public), "incident_id": incident_id}
    changes = {name: [getattr(answer, name), value] for name, value in wanted.items()
               if getattr(answer, name) != value}
    if not changes:
        return changes
    for name, (_old, value) in changes.items():
        setattr(answer, name, value)
    db.session.flush()
    audit.record("answer.settings_changed", actor_type="staff", actor_id=staff_id,
                 incident_id=answer.incident_id,
                 details={"answer_id": answer.id, "key": answer.key, "changes": changes})
    return changes


def save_draft(answer: Answer, language: str, title: str, body: str,
               staff_id: int) -> AnswerVersion:
    """Create the language's draft (the next version) or update it; log the change.

    A version waiting for review must be approved or sent back first.
    """
    if language not in languages():
        raise LibraryError(_("Choose a language from the list."), "language")
    waiting = approval.latest(WORKFLOW, "in_review", _group(answer.id, language))
    if waiting is not None:
        raise LibraryError(_("Version %(number)d is waiting for review: it must be approved "
                             "or sent back before the text changes.", number=waiting.version))
    return approval.save_draft(WORKFLOW, _group(answer.id, language),
                               _clean_text(title, body), staff_id)


def submit(version: AnswerVersion, staff_id: int) -> None:
    """Send a draft for review."""
    approval.submit(WORKFLOW, version, staff_id)


def send_back(version: AnswerVersion, staff_id: int, note: str = "") -> None:
    """Return a version in review to its draft (by a reviewer who did not write it)."""
    problems = review_problems(version, staff_id)
    if problems:
        raise LibraryError(" ".join(problems))
    note = " ".join((note or "").split())
    if len(note) > 1000:
        raise LibraryError(_("The note is longer than 1000 characters."), "note")
    approval.send_back(WORKFLOW, version, staff_id, **({"note": note} if note else {}))


def approve(version: AnswerVersion, staff_id: int) -> AnswerVersion | None:
    """Approve a version in review (four eyes); return the version it retires, if any."""
    return approval.approve(WORKFLOW, version, staff_id)


def retire(version: AnswerVersion, staff_id: int) -> None:
    """Withdraw an approved version: the language no longer has this answer."""
    approval.retire(WORKFLOW, version, staff_id)
