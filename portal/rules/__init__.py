"""Breach-notification rules, kept as data: one JSON file per rule in ``jurisdictions/``.

Each file names who is told, the deadline(s) and what they count from, the
elements the communication must contain, the source and the date last checked.
Rules change (California moved to 30 days in 2026): edit the JSON, bump
``last_checked``, and the loader validates it on the next start.

A deadline counts either from an incident timestamp (``"from": "discovered_at"``),
from the moment another rule was met (``"after_rule": "ca_1798_82"``: the
Attorney General's 15 days run from notifying the residents), or from the moment
an earlier stage of the same rule was met (``"after_stage": "initial"``).
``amount: null`` means "without undue delay": no fixed due time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

RULES_DIR = Path(__file__).resolve().parent / "jurisdictions"

RECIPIENTS = ("authority", "individuals", "media")
UNITS = ("hours", "calendar_days", "business_days", "months")
# Incident timestamps a deadline may count from.
ANCHORS = ("occurred_from", "occurred_to", "discovered_at", "determined_at", "contained_at")

RECIPIENT_LABELS = {
    "authority": _l("Authority"),
    "individuals": _l("Affected individuals"),
    "media": _l("Media"),
}
ANCHOR_LABELS = {
    "occurred_from": _l("start of the breach"),
    "occurred_to": _l("end of the breach"),
    "discovered_at": _l("discovery"),
    "determined_at": _l("determination"),
    "contained_at": _l("containment"),
}

# Every element key a rule may name, with a label for checklists and reports.
ELEMENT_LABELS = {
    # the individual notice
    "what_happened": _l("What happened (nature of the breach)"),
    "date_of_breach": _l("Date of the breach and date of discovery"),
    "information_involved": _l("Categories of data involved"),
    "likely_consequences": _l("Likely consequences"),
    "what_we_are_doing": _l("What the organisation is doing"),
    "what_you_can_do": _l("What the individual can do"),
    "contact_information": _l("Contact point"),
    "toll_free_contact": _l("Toll-free number plus email, website or postal address"),
    "dpo_contact": _l("Contact of the data protection officer or other contact point"),
    "law_enforcement_delay": _l("Whether notice was delayed by law enforcement"),
    "credit_bureaus": _l("Credit bureau phone numbers and addresses"),
    "identity_theft_protection": _l("Free identity-theft protection for at least 12 months"),
    "notice_format": _l("Titled \"Notice of Data Breach\" with the required headings"),
    "plain_language": _l("Clear and plain language"),
    # filings with authorities
    "delay_reasons": _l("Reasons for any delay beyond 72 hours"),
    "affected_count": _l("Number of people affected"),
    "sample_notice": _l("A sample copy of the notice sent to residents"),
    "event_date": _l("Date of the event"),
    "exposure_how": _l("How the information was exposed, including any service provider's role"),
    "discovery_how": _l("How the event was discovered"),
    "data_recovered": _l("Whether and how the information was recovered"),
    "event_source": _l("Source of the event"),
    "police_and_regulators": _l(
        "Whether a police report was filed or other regulators notified, and when"
    ),
    "data_elements": _l("Data elements acquired"),
    "compromise_period": _l("Period during which systems were compromised"),
    "affected_in_state": _l("Number of affected consumers in the state"),
    "internal_review": _l("Results of internal review"),
    "remediation": _l("Remediation efforts"),
    "privacy_policy_and_notice": _l("Privacy policy and the planned consumer notice"),
    "contact_person": _l("Name of a contact person"),
}


class RuleError(ValueError):
    """A rule file is malformed."""


@dataclass(frozen=True)
class Deadline:
    """One due time of a rule; ``amount`` None means "without undue delay"."""

    key: str
    label: str
    amount: int | None
    unit: str | None
    counts_from: str | None = None  # an incident timestamp (ANCHORS)
    after_rule: str | None = None  # counts from when that rule was met
    after_stage: str | None = None  # counts from when this rule's earlier stage was met
    strict: bool = True  # False: "where feasible" (e.g. GDPR's 72 hours)


@dataclass(frozen=True)
class Element:
    """An element the communication must (or, if not ``required``, should) contain."""

    key: str
    required: bool = True
    when_categories: tuple[str, ...] = ()  # only when one of these categories is involved

    @property
    def label(self) -> str:
        return str(ELEMENT_LABELS[self.key])

    def applies(self, categories) -> bool:
        """Tell whether the element is needed for an incident with ``categories``."""
        return not self.when_categories or bool(set(self.when_categories) & set(categories))


@dataclass(frozen=True)
class Source:
    citation: str
    url: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    jurisdiction: str
    recipient: str
    recipient_name: str
    deadlines: tuple[Deadline, ...]
    elements: tuple[Element, ...]
    source: Source
    last_checked: date
    applies_when: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def recipient_label(self) -> str:
        return str(RECIPIENT_LABELS[self.recipient])

    @property
    def tells_individuals(self) -> bool:
        return self.recipient == "individuals"


def _need(data: dict, key: str, where: str):
    if key not in data:
        raise RuleError(f"{where}: missing {key!r}")
    return data[key]


def _deadline(data: dict, where: str) -> Deadline:
    key = _need(data, "key", where)
    amount, unit = data.get("amount"), data.get("unit")
    if amount is not None and (not isinstance(amount, int) or amount <= 0):
        raise RuleError(f"{where}/{key}: amount must be a positive whole number or null")
    if (amount is None) != (unit is None):
        raise RuleError(f"{where}/{key}: amount and unit go together")
    if unit is not None and unit not in UNITS:
        raise RuleError(f"{where}/{key}: unit must be one of {', '.join(UNITS)}")
    anchors = [name for name in ("from", "after_rule", "after_stage") if data.get(name)]
    if len(anchors) != 1:
        raise RuleError(f"{where}/{key}: give exactly one of from, after_rule, after_stage")
    counts_from = data.get("from")
    if counts_from is not None and counts_from not in ANCHORS:
        raise RuleError(f"{where}/{key}: from must be one of {', '.join(ANCHORS)}")
    return Deadline(
        key=key,
        label=_l(_need(data, "label", where)),  # texts in the catalogs: portal/rules/extract.py
        amount=amount,
        unit=unit,
        counts_from=counts_from,
        after_rule=data.get("after_rule"),
        after_stage=data.get("after_stage"),
        strict=bool(data.get("strict", True)),
    )


def _element(data, where: str) -> Element:
    if isinstance(data, str):
        data = {"key": data}
    key = _need(data, "key", where)
    if key not in ELEMENT_LABELS:
        raise RuleError(f"{where}: unknown element {key!r}")
    return Element(
        key=key,
        required=bool(data.get("required", True)),
        when_categories=tuple(data.get("when_categories", ())),
    )


def parse_rule(data: dict, where: str = "rule") -> Rule:
    """Build a ``Rule`` from its JSON mapping; raises ``RuleError`` naming what is wrong."""
    rule_id = _need(data, "id", where)
    where = f"{where} ({rule_id})"
    recipient = _need(data, "recipient", where)
    if recipient not in RECIPIENTS:
        raise RuleError(f"{where}: recipient must be one of {', '.join(RECIPIENTS)}")
    deadlines = tuple(_deadline(item, where) for item in _need(data, "deadlines", where))
    if not deadlines:
        raise RuleError(f"{where}: at least one deadline is needed")
    stage_keys = {item.key for item in deadlines}
    for item in deadlines:
        if item.after_stage and item.after_stage not in stage_keys:
            raise RuleError(f"{where}: stage {item.key} follows unknown stage {item.after_stage}")
    source = _need(data, "source", where)
    try:
        checked = date.fromisoformat(_need(data, "last_checked", where))
    except (TypeError, ValueError) as exc:
        raise RuleError(f"{where}: last_checked must be an ISO date") from exc
    return Rule(
        id=rule_id,
        name=_l(_need(data, "name", where)),
        jurisdiction=_need(data, "jurisdiction", where),
        recipient=recipient,
        recipient_name=_l(data["recipient_name"]) if data.get("recipient_name") else "",
        deadlines=deadlines,
        elements=tuple(_element(item, where) for item in _need(data, "elements", where)),
        source=Source(citation=_need(source, "citation", where), url=source.get("url")),
        last_checked=checked,
        applies_when=data.get("applies_when", ""),
        notes=tuple(data.get("notes", ())),
    )


def load_rules(directory: Path = RULES_DIR) -> dict[str, Rule]:
    """Read and validate every ``*.json`` rule in ``directory``, keyed by id."""
    rules: dict[str, Rule] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RuleError(f"{path.name}: not valid JSON: {exc}") from exc
        rule = parse_rule(data, path.name)
        if rule.id != path.stem:
            raise RuleError(f"{path.name}: id {rule.id!r} must match the file name")
        rules[rule.id] = rule
    for rule in rules.values():
        for item in rule.deadlines:
            if item.after_rule and item.after_rule not in rules:
                raise RuleError(f"{rule.id}: deadline follows unknown rule {item.after_rule}")
    return rules


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule, keyed by id (loaded once per process)."""
    return load_rules()


def get_rule(rule_id: str) -> Rule | None:
    """The rule with this id, or None."""
    return all_rules().get(rule_id)


def rules_for(rule_ids) -> list[Rule]:
    """The known rules among ``rule_ids``, in the order given (unknown ids skipped)."""
    rules = all_rules()
    return [rules[rule_id] for rule_id in rule_ids or () if rule_id in rules]


def rule_choices() -> list[tuple[str, str]]:
    """(id, name) pairs for forms."""
    return [(rule.id, rule.name) for rule in all_rules().values()]


def notice_elements(rule_ids, categories) -> list[tuple[Element, list[Rule]]]:
    """The individual-notice elements the given rules need, each with the rules asking for it.

    Only rules that tell individuals contribute; an element is required if any rule
    requires it, and elements tied to categories apply only when one is involved.
    """
    merged: dict[str, tuple[Element, list[Rule]]] = {}
    for rule in rules_for(rule_ids):
        if not rule.tells_individuals:
            continue
        for element in rule.elements:
            if not element.applies(categories):
                continue
            if element.key in merged:
                known, asking = merged[element.key]
                if element.required and not known.required:
                    known = element
                merged[element.key] = (known, [*asking, rule])
            else:
                merged[element.key] = (element, [rule])
    order = list(ELEMENT_LABELS)
    return sorted(merged.values(), key=lambda pair: order.index(pair[0].key))
