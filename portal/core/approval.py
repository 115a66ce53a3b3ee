"""Four-eyes approval of versioned texts, written once for notices and answers.

A text (one language of a notice, one language of an answer) has numbered
versions. A version is written as a draft, sent for review where the workflow
has that step, and approved by a member of staff who neither created nor
edited it (the editors are read from the interaction log); approving moves the
text's previous approved version to the workflow's ``replaced`` state. Only
the ``editable`` states let a version's text change, and only a draft may be
deleted: ``guard`` enforces that, and the allowed transitions, whenever any
session flushes, so the rule holds on every code path. Each step is logged;
callers commit.

A model module describes its workflow with ``Workflow`` and calls ``guard``
right after the model class, so the invariant exists wherever the model does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import event, func, inspect, select

from portal.extensions import db

# The model modules import this module to describe and guard their versions, so
# it imports portal.models (and the log, which needs them) inside its functions.

APPROVED = "approved"
DRAFT = "draft"
IN_REVIEW = "in_review"


class ApprovalError(ValueError):
    """A workflow action that is not allowed; ``field`` names the input at fault, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
        self.message = message


class ImmutableVersionError(RuntimeError):
    """Something tried to change or delete a version its workflow has frozen."""


@dataclass(frozen=True)
class Workflow:
    """How one kind of versioned text moves from draft to approved.

    ``kind`` prefixes the log actions (``notice.approved``) and names the id in
    their details (``notice_version_id``). ``group`` names the columns that
    identify one text (its versions share them). ``frozen`` columns change only
    while the version is in an ``editable`` state. ``review`` is the state a
    version is approved from. ``stamps`` names the timestamp column set on
    entering a state, besides ``approved_at``.
    """

    model: type
    kind: str
    states: tuple[str, ...]
    transitions: Mapping[str, tuple[str, ...]]
    group: tuple[str, ...]
    frozen: tuple[str, ...]
    review: str = DRAFT
    replaced: str = "superseded"
    editable: tuple[str, ...] = (DRAFT,)
    stamps: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        named = {DRAFT, APPROVED, self.review, self.replaced, *self.editable, *self.stamps,
                 *self.transitions, *(to for tos in self.transitions.values() for to in tos)}
        unknown = named - set(self.states)
        if unknown:
            raise ValueError(f"{self.kind} workflow names unknown states {sorted(unknown)}")

    @property
    def id_key(self) -> str:
        return f"{self.kind}_version_id"

    @property
    def edit_actions(self) -> tuple[str, str]:
        return (f"{self.kind}.draft_created", f"{self.kind}.draft_saved")

    def allows(self, was: str, now: str) -> bool:
        """Tell whether a version may go from state ``was`` to ``now``."""
        return was == now or now in self.transitions.get(was, ())


# --- the invariant: frozen versions never change --------------------------------------


def guard(workflow: Workflow) -> None:
    """Refuse, at flush, changes to frozen versions, deletes of them and illegal transitions."""
    label = f"{workflow.kind} version"

    def refuse_changes(mapper, connection, target) -> None:
        state = inspect(target)
        history = state.attrs.state.history
        if history.deleted:
            was = history.deleted[0]
        elif history.added:  # set while expired: the stored state was never loaded
            table = mapper.local_table
            was = connection.scalar(select(table.c.state).where(table.c.id == target.id))
        else:
            was = target.state
        if not workflow.allows(was, target.state):
            raise ImmutableVersionError(
                f"{label} {target.id} cannot go from {was} to {target.state}")
        if was in workflow.editable:
            return
        changed = [name for name in workflow.frozen if state.attrs[name].history.has_changes()]
        if changed:
            raise ImmutableVersionError(
                f"{label} {target.id} is {was}; its {', '.join(changed)} cannot change")

    def refuse_delete(_mapper, _connection, target) -> None:
        if target.state != DRAFT:
            raise ImmutableVersionError(f"{label} {target.id} is {target.state}; kept forever")

    event.listen(workflow.model, "before_update", refuse_changes)
    event.listen(workflow.model, "before_delete", refuse_delete)


# --- reading ------------------------------------------------------------------------


def _where(workflow: Workflow, group: Mapping[str, Any]) -> list:
    return [getattr(workflow.model, name) == group[name] for name in workflow.group]


def group_of(workflow: Workflow, version) -> dict[str, Any]:
    """The values that identify the text ``version`` belongs to."""
    return {name: getattr(version, name) for name in workflow.group}


def latest(workflow: Workflow, state: str, group: Mapping[str, Any]):
    """The text's newest version in ``state``, or None."""
    model = workflow.model
    return db.session.execute(
        select(model).where(*_where(workflow, group), model.state == state)
        .order_by(model.version.desc()).limit(1)
    ).scalar_one_or_none()


def was_ever_approved(workflow: Workflow, group: Mapping[str, Any]) -> bool:
    """Tell whether any version of the text has been approved (and perhaps replaced since)."""
    model = workflow.model
    return bool(db.session.scalar(select(func.count(model.id)).where(
        *_where(workflow, group), model.state.in_((APPROVED, workflow.replaced)))))


def editors(workflow: Workflow, version) -> set[int]:
    """Staff ids who created or edited the version (from the interaction log)."""
    from portal.models.interaction import Interaction

    query = select(Interaction.actor_id, Interaction.details).where(
        Interaction.action.in_(workflow.edit_actions), Interaction.actor_type == "staff")
    if hasattr(version, "incident_id"):
        query = query.where(Interaction.incident_id == version.incident_id)
    found = {actor for actor, details in db.session.execute(query).all()
             if actor is not None and (details or {}).get(workflow.id_key) == version.id}
    if version.author_id is not None:
        found.add(version.author_id)
    return found


# --- the log ------------------------------------------------------------------------


def log(workflow: Workflow, step: str, version, staff_id: int | None, **details) -> None:
    """Log ``<kind>.<step>`` for the version, by the member of staff who took the step."""
    from portal.audit import log as audit

    audit.record(
        f"{workflow.kind}.{step}", actor_type="staff" if staff_id is not None else "system",
        actor_id=staff_id, incident_id=getattr(version, "incident_id", None),
        details={workflow.id_key: version.id, "language": version.language,
                 "version": version.version, **details},
    )


# --- steps --------------------------------------------------------------------------


def save_draft(workflow: Workflow, group: Mapping[str, Any], fields: Mapping[str, Any],
               editor_id: int, **defaults):
    """Create the text's draft or update the existing one; log the change.

    ``fields`` are the cleaned values (empty optional ones as None); ``defaults``
    are further columns of a new draft.
    """
    model = workflow.model
    draft = latest(workflow, DRAFT, group)
    if draft is None:
        number = (db.session.scalar(select(func.max(model.version)).where(
            *_where(workflow, group))) or 0) + 1
        draft = model(**group, version=number, state=DRAFT, author_id=editor_id,
                      **defaults, **fields)
        db.session.add(draft)
        db.session.flush()
        log(workflow, "draft_created", draft, editor_id,
            changes={name: [None, value] for name, value in fields.items() if value})
        return draft
    changes = {name: [getattr(draft, name) or None, value or None]
               for name, value in fields.items()
               if (getattr(draft, name) or None) != (value or None)}
    if not changes:
        return draft
    for name in changes:
        setattr(draft, name, fields[name])
    db.session.flush()
    log(workflow, "draft_saved", draft, editor_id, changes=changes)
    return draft


def _move(workflow: Workflow, version, state: str) -> None:
    version.state = state
    stamp = workflow.stamps.get(state)
    if stamp:
        setattr(version, stamp, _now())


def _now():
    from portal.models.base import utcnow

    return utcnow()


def submit(workflow: Workflow, version, staff_id: int) -> None:
    """Send a draft for review."""
    if version.state != DRAFT or not workflow.allows(DRAFT, IN_REVIEW):
        raise ApprovalError(_("Only a draft can be sent for review."))
    _move(workflow, version, IN_REVIEW)
    db.session.flush()
    log(workflow, "submitted", version, staff_id)


def send_back(workflow: Workflow, version, staff_id: int, **details) -> None:
    """Return a version in review to its draft, to be edited again (``details`` are logged)."""
    if version.state != IN_REVIEW:
        raise ApprovalError(_("Version %(number)d is not waiting for review.",
                              number=version.version))
    _move(workflow, version, DRAFT)
    db.session.flush()
    log(workflow, "sent_back", version, staff_id, **details)


def retire(workflow: Workflow, version, staff_id: int) -> None:
    """Withdraw an approved version without a successor."""
    if version.state != APPROVED or not workflow.allows(APPROVED, workflow.replaced):
        raise ApprovalError(_("Only an approved version can be retired."))
    _move(workflow, version, workflow.replaced)
    db.session.flush()
    log(workflow, workflow.replaced, version, staff_id)


def approval_problems(workflow: Workflow, version, approver_id: int) -> list[str]:
    """Why ``approver_id`` may not approve ``version`` now by the four-eyes rule."""
    if version.state != workflow.review:
        if workflow.review == DRAFT:
            return [_("Version %(number)d is not a draft.", number=version.version)]
        return [_("Version %(number)d is not waiting for review.", number=version.version)]
    if approver_id in editors(workflow, version):
        return [_("You wrote or edited this version: another manager or an admin must "
                  "approve it.")]
    return []


def approve(workflow: Workflow, version, approver_id: int,
            problems: Callable[[Any, int], list[str]] | None = None,
            details: Callable[[Any], dict] | None = None):
    """Approve a version if nothing stands in the way; replace the text's approved one.

    ``problems(version, approver_id)`` lists the reasons to refuse (by default the
    four-eyes rule, ``approval_problems``); ``details(version)`` adds to the log
    entry. Returns the replaced version, if any.
    """
    # Lock the row (PostgreSQL) so two approvers at once cannot both succeed.
    db.session.refresh(version, with_for_update=True)
    found = (problems or (lambda v, a: approval_problems(workflow, v, a)))(version, approver_id)
    if found:
        raise ApprovalError(" ".join(found))
    previous = latest(workflow, APPROVED, group_of(workflow, version))
    if previous is not None:
        _move(workflow, previous, workflow.replaced)
        db.session.flush()
    _move(workflow, version, APPROVED)
    version.approved_by_id = approver_id
    version.approved_at = _now()
    db.session.flush()
    log(workflow, "approved", version, approver_id, author_id=version.author_id,
        **{f"{workflow.replaced}_version": previous.version if previous else None},
        **(details(version) if details else {}))
    return previous
