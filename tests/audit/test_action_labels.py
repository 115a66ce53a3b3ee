"""Every action the code writes has a plain-language label (``portal/audit/labels.py``).

The source is scanned for ``record("name", ...)`` calls, for ``"success|failure"``
pairs handed to ``dispatch.messages.deliver`` and for the steps of the approval
workflows (``approval.log(WORKFLOW, "step", ...)`` and ``log(workflow, "step", ...)``,
logged as ``<kind>.<step>``). A ``record`` call whose name is not a string literal
must be listed in ``DYNAMIC`` with the names it can write, so no site is missed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [path for folder in ("portal", "helpdesk") for path in (ROOT / folder).rglob("*.py")]
ACTION = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
PAIR = re.compile(r"^([a-z0-9_]+\.[a-z0-9_]+)\|([a-z0-9_]+\.[a-z0-9_]+)$")
WORKFLOW_KINDS = ("notice", "answer")
REPLACED_STEPS = ("superseded", "retired")  # approval.log(workflow, workflow.replaced, ...)

# record(...) sites whose action is computed: "path:function" -> the names it can write
# (empty when the scan below finds them: approval steps, deliver()'s pairs).
DYNAMIC = {
    "portal/core/approval.py:log": (),
    "portal/dispatch/messages.py:deliver": (),
    "portal/audit/checkpoints.py:make_checkpoint": ("audit.checkpointed",),
    "portal/audit/checkpoints.py:record_verification": ("audit.verified",),
    "portal/dispatch/chunks.py:record_sms_opt_out": ("sms.opted_out", "sms.opted_in"),
    "portal/tickets/operations.py:_log": ("ticket.assigned", "ticket.status_changed",
                                          "ticket.note_added", "ticket.replied"),
    "portal/people/lookup.py:_check_limit": ("person.unlocked_refused",
                                             "person.code_resend_refused"),
    "portal/people/retention.py:purge": ("data.purged",),
    "portal/dispatch/callbacks.py:apply_status": ("sms.sent", "sms.delivered",
                                                  "sms.undelivered", "sms.failed"),
    "portal/dispatch/inbound.py:_ticket_for": ("ticket.created", "ticket.customer_replied"),
    "portal/dispatch/inbound.py:handle": ("sms.opted_out", "sms.opted_in"),
}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _written_actions() -> tuple[set[str], list[str]]:
    found: set[str] = set()
    unexplained: list[str] = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = path.relative_to(ROOT).as_posix()
        functions = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for child in ast.walk(node):
                    functions.setdefault(id(child), node.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                pair = PAIR.match(node.value)
                if pair:
                    found.update(pair.groups())
            if not isinstance(node, ast.Call) or not node.args:
                continue
            called = _name(node.func)
            first = node.args[0]
            if called == "record" and relative != "portal/audit/log.py":
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
                else:
                    site = f"{relative}:{functions.get(id(node), '?')}"
                    if site not in DYNAMIC:
                        unexplained.append(site)
            if called == "log" and len(node.args) >= 2:
                step = node.args[1]
                if isinstance(step, ast.Constant) and isinstance(step.value, str):
                    found.update(f"{kind}.{step.value}" for kind in WORKFLOW_KINDS)
    for kind in WORKFLOW_KINDS:
        found.update(f"{kind}.{step}" for step in REPLACED_STEPS)
    for names in DYNAMIC.values():
        found.update(names)
    return found, unexplained


def test_every_written_action_has_a_label():
    from portal.audit.labels import LABELS

    found, unexplained = _written_actions()
    assert not unexplained, (
        f"record() with a computed name at {unexplained}: list the site in DYNAMIC in "
        f"{__file__} and make the scan find its names")
    assert len(found) > 40
    bad = sorted(name for name in found if not ACTION.match(name))
    assert not bad, f"actions are dotted lower-case names: {bad}"
    # the approval workflows' kinds each have only their own steps
    found = {name for name in found
             if not (name.startswith("answer.") and name.endswith((".superseded",
                                                                   ".checklist_overridden")))
             and not (name.startswith("notice.") and name.endswith(".retired"))}
    missing = sorted(found - set(LABELS))
    assert not missing, f"add a label for each in portal/audit/labels.py: {missing}"


def test_labels_are_translated_plain_text(app):
    from flask_babel import force_locale

    from portal.audit.labels import LABELS, PREFIXES, label_for

    for name, label in {**LABELS, **PREFIXES}.items():
        assert str(label).strip(), name
    assert label_for("verify.succeeded") == "Customer verified their identity"
    assert label_for("verify.something_new") == "Customer verification"  # the family's
    assert label_for("unknown_thing") == "unknown_thing"
    with app.test_request_context(), force_locale("en"):
        assert label_for("log.exported") == "Interaction log exported"


def _written_detail_keys() -> set[str]:
    """Keys of the ``details`` the code writes: ``details={...}`` / ``details = {...}``
    literals and ``details["key"] = ...`` assignments."""
    keys: set[str] = set()
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            value = None
            keyword = isinstance(node, ast.keyword) and node.arg == "details"
            assigned = isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "details"
                for target in node.targets)
            if keyword or assigned:
                value = node.value
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                            and target.value.id == "details"
                            and isinstance(target.slice, ast.Constant)):
                        keys.add(target.slice.value)
            if isinstance(value, ast.Dict):
                keys.update(key.value for key in value.keys
                            if isinstance(key, ast.Constant) and isinstance(key.value, str))
    return keys


def test_every_written_detail_key_has_a_label():
    """The log page names each detail in words ("Changed from", "Matches"), not by its key."""
    from portal.audit.labels import DETAIL_LABELS
    from portal.audit.review import SAFE_KEYS

    # approval.log names the version a new approval replaced after the workflow's state
    written = _written_detail_keys() | {f"{step}_version" for step in REPLACED_STEPS}
    assert {"matches", "person_ids", "reason", "method"} <= written  # the scan finds them
    assert not sorted((written | SAFE_KEYS) - set(DETAIL_LABELS))


def test_log_page_names_details_in_the_reader_s_language(app):
    from flask_babel import force_locale

    from portal.audit.review import masked_details

    details = {"count": 3, "channel": "sms", "dry_run": True, "from": "en",
               "email": "someone@example.com"}
    with app.test_request_context(), force_locale("de"):
        shown = {item.key: (item.label, item.shown)
                 for item in masked_details(details, "campaign.created")}
    assert shown["count"] == ("Anzahl", "3")
    assert shown["channel"] == ("Kanal", "sms")
    assert shown["dry_run"] == ("Probelauf", "ja")
    assert shown["from"][0] == "Geändert von" and shown["from"][1] != "en"  # not safe: masked
    assert shown["email"][1] != "someone@example.com"
    with app.test_request_context(), force_locale("en"):
        assert masked_details({"unheard_of": 1}, "campaign.created")[0].label == "unheard of"
