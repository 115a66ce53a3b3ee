"""The rules kept as data: every file loads, ids are stable, bad files are refused."""

from __future__ import annotations

import json
from datetime import date

import pytest

from portal.rules import (
    ANCHORS,
    ELEMENT_LABELS,
    RuleError,
    all_rules,
    get_rule,
    load_rules,
    notice_elements,
    parse_rule,
)

EXPECTED = {
    "gdpr_art33", "gdpr_art34", "hipaa_individuals", "hipaa_hhs", "hipaa_media",
    "ca_1798_82", "ca_ag", "naic_668_s6", "nydfs_500_17", "dora_art19",
}


def test_every_rule_loads_with_source_and_date():
    rules = all_rules()
    assert set(rules) == EXPECTED
    for rule in rules.values():
        assert rule.source.citation
        assert isinstance(rule.last_checked, date)
        assert rule.recipient in ("authority", "individuals", "media")
        assert rule.elements
        for element in rule.elements:
            assert element.key in ELEMENT_LABELS


def test_deadlines_match_the_legal_summary():
    def first(rule_id):
        return get_rule(rule_id).deadlines[0]

    assert (first("gdpr_art33").amount, first("gdpr_art33").unit) == (72, "hours")
    assert first("gdpr_art33").strict is False  # "where feasible"
    assert first("gdpr_art34").amount is None  # without undue delay
    assert (first("hipaa_individuals").amount, first("hipaa_individuals").unit) == (
        60, "calendar_days")
    assert (first("ca_1798_82").amount, first("ca_1798_82").counts_from) == (30, "discovered_at")
    assert (first("ca_ag").amount, first("ca_ag").after_rule) == (15, "ca_1798_82")
    assert (first("naic_668_s6").amount, first("naic_668_s6").counts_from) == (72, "determined_at")
    assert (first("nydfs_500_17").amount, first("nydfs_500_17").counts_from) == (
        72, "determined_at")
    dora = get_rule("dora_art19").deadlines
    assert [stage.key for stage in dora] == ["initial", "intermediate", "final"]
    assert dora[1].after_stage == "initial"
    for rule in all_rules().values():
        for deadline in rule.deadlines:
            assert deadline.counts_from in (None, *ANCHORS)


def test_recipients():
    assert get_rule("gdpr_art34").tells_individuals
    assert get_rule("ca_1798_82").tells_individuals
    assert get_rule("hipaa_media").recipient == "media"
    assert get_rule("ca_ag").recipient == "authority"


def test_notice_elements_merge_and_depend_on_categories():
    plain = {element.key for element, _ in notice_elements(
        ["gdpr_art33", "gdpr_art34", "ca_1798_82"], ["contact_details"])}
    assert {"what_happened", "likely_consequences", "dpo_contact", "law_enforcement_delay",
            "date_of_breach", "notice_format"} <= plain
    assert "credit_bureaus" not in plain
    assert "sample_notice" not in plain  # authority rules do not shape the individual notice
    with_ssn = dict((element.key, (element, rules)) for element, rules in notice_elements(
        ["gdpr_art34", "ca_1798_82"], ["national_id"]))
    assert "credit_bureaus" in with_ssn
    element, rules = with_ssn["information_involved"]
    assert element.required  # California requires what GDPR only recommends
    assert {rule.id for rule in rules} == {"gdpr_art34", "ca_1798_82"}


def _valid() -> dict:
    return {
        "id": "x_rule", "name": "X", "jurisdiction": "X", "recipient": "authority",
        "deadlines": [{"key": "k", "label": "L", "amount": 3, "unit": "business_days",
                       "from": "determined_at"}],
        "elements": ["what_happened"], "source": {"citation": "X s. 1"},
        "last_checked": "2026-11-24",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recipient": "press"}, "recipient"),
        ({"elements": ["no_such_element"]}, "unknown element"),
        ({"last_checked": "yesterday"}, "last_checked"),
        ({"deadlines": [{"key": "k", "label": "L", "amount": 3, "unit": "weeks",
                         "from": "determined_at"}]}, "unit"),
        ({"deadlines": [{"key": "k", "label": "L", "amount": 3, "unit": "hours"}]}, "exactly one"),
        ({"deadlines": [{"key": "k", "label": "L", "amount": 3, "unit": "hours",
                         "from": "lunchtime"}]}, "from must be"),
        ({"deadlines": [{"key": "k", "label": "L", "amount": 3, "unit": "hours",
                         "after_stage": "nope"}]}, "unknown stage"),
    ],
)
def test_malformed_rules_are_refused_with_a_reason(change, message):
    data = _valid()
    data.update(change)
    with pytest.raises(RuleError, match=message):
        parse_rule(data)


def test_loader_checks_file_names_and_references(tmp_path):
    (tmp_path / "x_rule.json").write_text(json.dumps(_valid()))
    assert set(load_rules(tmp_path)) == {"x_rule"}
    (tmp_path / "other.json").write_text(json.dumps(_valid()))
    with pytest.raises(RuleError, match="match the file name"):
        load_rules(tmp_path)
    (tmp_path / "other.json").unlink()
    relative = _valid()
    relative["id"] = "y_rule"
    relative["deadlines"] = [{"key": "k", "label": "L", "amount": 1, "unit": "hours",
                              "after_rule": "missing"}]
    (tmp_path / "y_rule.json").write_text(json.dumps(relative))
    with pytest.raises(RuleError, match="unknown rule"):
        load_rules(tmp_path)
    (tmp_path / "y_rule.json").write_text("{not json")
    with pytest.raises(RuleError, match="not valid JSON"):
        load_rules(tmp_path)
