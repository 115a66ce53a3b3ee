"""Notice versions: drafts, checklist overrides, four-eyes approval, immutability.

One language's notice moves ``draft -> approved -> superseded``. There is at most
one draft per incident and language; changing an approved text means saving a
new draft (the next version number) that says what changed. Approving needs a
manager who neither created nor edited the draft, and a checklist without
missing required elements (or a recorded reason for each). Approving supersedes
the language's previous approved version. Everything is logged; callers commit.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import event, func, inspect, select

from portal.audit import log as audit
from portal.extensions import db
from portal.models import Incident, Interaction, NoticeVersion
from portal.models.base import utcnow
from portal.notices.checklist import blocking_items, checklist

TEXT_FIELDS = ("what_happened", "what_we_are_doing", "likely_consequences",
               "other_information", "what_changed")
TEXT_LIMIT = 20000
FROZEN_FIELDS = (*TEXT_FIELDS, "checklist_overrides", "language", "version", "incident_id")
EDIT_ACTIONS = ("notice.draft_created", "notice.draft_saved")


class NoticeError(ValueError):
    """A notice action that is not allowed; ``field`` names the input at fault, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
        self.message = message


class ImmutableNoticeError(RuntimeError):
    """Something tried to change an approved or superseded notice version."""


@event.listens_for(NoticeVersion, "before_update")
def _refuse_changes_to_approved(_mapper, _connection, target: NoticeVersion) -> None:
    state = inspect(target)
    history = state.attrs.state.history
    was = history.deleted[0] if history.deleted else target.state
    if was == "draft":
        return
    changed = [name for name in FROZEN_FIELDS if state.attrs[name].history.has_changes()]
    if changed:
        raise ImmutableNoticeError(
            f"notice version {target.id} is {was}; its {', '.join(changed)} cannot change"
        )


@event.listens_for(NoticeVersion, "before_delete")
def _refuse_deleting_approved(_mapper, _connection, target: NoticeVersion) -> None:
    if target.state != "draft":
        raise ImmutableNoticeError(f"notice version {target.id} is {target.state}; kept forever")


def versions(incident_id: int, language: str | None = None) -> list[NoticeVersion]:
    """The incident's versions (of one language, if given), newest first."""
    query = select(NoticeVersion).where(NoticeVersion.incident_id == incident_id)
    if language:
        query = query.where(NoticeVersion.language == language)
    return list(db.session.execute(
        query.order_by(NoticeVersion.language, NoticeVersion.version.desc())
    ).scalars())


def get_version(incident_id: int, language: str, number: int) -> NoticeVersion | None:
    return db.session.execute(select(NoticeVersion).where(
        NoticeVersion.incident_id == incident_id, NoticeVersion.language == language,
        NoticeVersion.version == number,
    )).scalar_one_or_none()


def current_draft(incident_id: int, language: str) -> NoticeVersion | None:
    return db.session.execute(select(NoticeVersion).where(
        NoticeVersion.incident_id == incident_id, NoticeVersion.language == language,
        NoticeVersion.state == "draft",
    ).order_by(NoticeVersion.version.desc()).limit(1)).scalar_one_or_none()


def latest_approved(incident_id: int, language: str) -> NoticeVersion | None:
    """The approved version of exactly this language (no fallback)."""
    return db.session.execute(select(NoticeVersion).where(
        NoticeVersion.incident_id == incident_id, NoticeVersion.language == language,
        NoticeVersion.state == "approved",
    ).order_by(NoticeVersion.version.desc()).limit(1)).scalar_one_or_none()


def needs_what_changed(incident_id: int, language: str) -> bool:
    """Tell whether a new draft must say what changed (a version was approved before)."""
    count = db.session.scalar(select(func.count(NoticeVersion.id)).where(
        NoticeVersion.incident_id == incident_id, NoticeVersion.language == language,
        NoticeVersion.state.in_(("approved", "superseded")),
    ))
    return bool(count)


def _clean(fields: dict, incident_id: int, language: str) -> dict:
    clean = {}
    for name in TEXT_FIELDS:
        value = (fields.get(name) or "").replace("\r\n", "\n").strip()
        if len(value) > TEXT_LIMIT:
            raise NoticeError(_("The text is longer than %(limit)d characters.", limit=TEXT_LIMIT),
                              name)
        clean[name] = value
    if needs_what_changed(incident_id, language) and not clean["what_changed"]:
        raise NoticeError(_("Say what changed since the approved version."), "what_changed")
    clean["what_changed"] = clean["what_changed"] or None
    return clean


def save_draft(incident: Incident, language: str, fields: dict, editor_id: int) -> NoticeVersion:
    """Create the language's draft or update the existing one; log the change."""
    clean = _clean(fields, incident.id, language)
    draft = current_draft(incident.id, language)
    if draft is None:
        number = (db.session.scalar(select(func.max(NoticeVersion.version)).where(
            NoticeVersion.incident_id == incident.id, NoticeVersion.language == language,
        )) or 0) + 1
        draft = NoticeVersion(incident_id=incident.id, language=language, version=number,
                              state="draft", author_id=editor_id, checklist_overrides={},
                              **clean)
        db.session.add(draft)
        db.session.flush()
        audit.record("notice.draft_created", incident_id=incident.id, details={
            "notice_version_id": draft.id, "language": language, "version": number,
            "changes": {name: [None, value] for name, value in clean.items() if value},
        })
        return draft
    changes = {name: [getattr(draft, name) or None, value or None]
               for name, value in clean.items() if (getattr(draft, name) or "") != value}
    if not changes:
        return draft
    for name in changes:
        setattr(draft, name, clean[name])
    db.session.flush()
    audit.record("notice.draft_saved", incident_id=incident.id, details={
        "notice_version_id": draft.id, "language": language, "version": draft.version,
        "changes": changes,
    })
    return draft


def update_version(version: NoticeVersion, fields: dict, editor_id: int) -> NoticeVersion:
    """Change a draft's text; approved and superseded versions are refused."""
    if version.state != "draft":
        raise NoticeError(_("An approved version cannot be changed: save a new version instead."))
    incident = db.session.get(Incident, version.incident_id)
    return save_draft(incident, version.language, fields, editor_id)


def editors(version: NoticeVersion) -> set[int]:
    """Staff ids who created or edited the version (from the interaction log)."""
    rows = db.session.execute(select(Interaction.actor_id, Interaction.details).where(
        Interaction.incident_id == version.incident_id,
        Interaction.action.in_(EDIT_ACTIONS),
        Interaction.actor_type == "staff",
    )).all()
    found = {actor for actor, details in rows
             if actor is not None and (details or {}).get("notice_version_id") == version.id}
    if version.author_id is not None:
        found.add(version.author_id)
    return found


def record_override(version: NoticeVersion, element: str, reason: str, staff_id: int) -> None:
    """Record why the version may be approved without a missing element; log it."""
    if version.state != "draft":
        raise NoticeError(_("An approved version cannot be changed."))
    reason = (reason or "").strip()
    if not reason:
        raise NoticeError(_("Give the reason for going ahead without this element."), "reason")
    if len(reason) > 1000:
        raise NoticeError(_("The reason is longer than 1000 characters."), "reason")
    incident = db.session.get(Incident, version.incident_id)
    items = {item.key: item for item in checklist(incident, version)}
    if element not in items:
        raise NoticeError(_("This element is not on the notice's checklist."), "element")
    if items[element].status not in ("missing", "overridden"):
        raise NoticeError(_("This element is not missing."), "element")
    overrides = dict(version.checklist_overrides or {})
    overrides[element] = {"reason": reason, "by": staff_id, "at": utcnow().isoformat()}
    version.checklist_overrides = overrides
    db.session.flush()
    audit.record("notice.checklist_overridden", incident_id=incident.id, details={
        "notice_version_id": version.id, "language": version.language,
        "version": version.version, "element": element, "reason": reason,
    })


def approval_problems(version: NoticeVersion, approver_id: int) -> list[str]:
    """Why ``approver_id`` may not approve ``version`` now (empty when they may)."""
    if version.state != "draft":
        return [_("Version %(number)d is not a draft.", number=version.version)]
    problems = []
    if approver_id in editors(version):
        problems.append(_("You wrote or edited this version: another manager or an "
                          "admin must approve it."))
    if not (version.what_happened or "").strip():
        problems.append(_("What Happened is empty."))
    incident = db.session.get(Incident, version.incident_id)
    for item in blocking_items(checklist(incident, version)):
        problems.append(_("Missing: %(element)s. Add it, or record a reason to go ahead "
                           "without it.", element=item.label))
    return problems


def approve(version: NoticeVersion, approver_id: int) -> NoticeVersion | None:
    """Approve a draft (four eyes, complete checklist); supersede the previous approved one.

    Returns the superseded version, if any.
    """
    # Lock the row (PostgreSQL) so two managers approving at once cannot both succeed.
    db.session.refresh(version, with_for_update=True)
    problems = approval_problems(version, approver_id)
    if problems:
        raise NoticeError(" ".join(problems))
    previous = latest_approved(version.incident_id, version.language)
    if previous is not None:
        previous.state = "superseded"
        db.session.flush()
    version.state = "approved"
    version.approved_by_id = approver_id
    version.approved_at = utcnow()
    db.session.flush()
    audit.record("notice.approved", incident_id=version.incident_id, details={
        "notice_version_id": version.id, "language": version.language,
        "version": version.version, "author_id": version.author_id,
        "superseded_version": previous.version if previous else None,
        "overridden": sorted((version.checklist_overrides or {}).keys()),
    })
    return previous
