"""Notice versions: drafts, checklist overrides, four-eyes approval, immutability.

One language's notice moves ``draft -> approved -> superseded``. There is at most
one draft per incident and language; changing an approved text means saving a
new draft (the next version number) that says what changed. Approving needs a
manager who neither created nor edited the draft, and a checklist without
missing required elements (or a recorded reason for each). Approving supersedes
the language's previous approved version. Everything is logged; callers commit.
The rule itself (states, transitions, four eyes, frozen versions, the log
entries) is ``portal.core.approval``'s; this module adds the notice's text and
checklist checks.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core import approval
from portal.extensions import db
from portal.models import Incident, NoticeVersion
from portal.models.base import utcnow
from portal.models.incident import NOTICE_TEXT_FIELDS as TEXT_FIELDS
from portal.models.incident import NOTICE_WORKFLOW as WORKFLOW
from portal.notices.checklist import blocking_items, checklist

TEXT_LIMIT = 20000

# The four-eyes workflow's errors under the names notice callers know.
NoticeError = approval.ApprovalError
ImmutableNoticeError = approval.ImmutableVersionError


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
    return approval.latest(WORKFLOW, "draft", {"incident_id": incident_id, "language": language})


def latest_approved(incident_id: int, language: str) -> NoticeVersion | None:
    """The approved version of exactly this language (no fallback)."""
    return approval.latest(WORKFLOW, "approved",
                           {"incident_id": incident_id, "language": language})


def needs_what_changed(incident_id: int, language: str) -> bool:
    """Tell whether a new draft must say what changed (a version was approved before)."""
    return approval.was_ever_approved(WORKFLOW, {"incident_id": incident_id,
                                                 "language": language})


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
    return approval.save_draft(WORKFLOW, {"incident_id": incident.id, "language": language},
                               clean, editor_id, checklist_overrides={})


def editors(version: NoticeVersion) -> set[int]:
    """Staff ids who created or edited the version (from the interaction log)."""
    return approval.editors(WORKFLOW, version)


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
    approval.log(WORKFLOW, "checklist_overridden", version, staff_id,
                 element=element, reason=reason)


def approval_problems(version: NoticeVersion, approver_id: int) -> list[str]:
    """Why ``approver_id`` may not approve ``version`` now (empty when they may)."""
    problems = approval.approval_problems(WORKFLOW, version, approver_id)
    if version.state != "draft":
        return problems
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
    return approval.approve(WORKFLOW, version, approver_id, problems=approval_problems,
                            details=lambda approved: {"overridden": sorted(
                                (approved.checklist_overrides or {}).keys())})
