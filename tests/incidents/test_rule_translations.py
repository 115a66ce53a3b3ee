"""Rule names and deadline labels go through the catalogs (issue 13, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale

from portal.rules import all_rules
from portal.rules.extract import rule_texts

ROOT = Path(__file__).resolve().parents[2]


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    rules_only = [(pattern, method) for pattern, method in method_map
                  if pattern.startswith("portal/rules/")]
    assert rules_only, "babel.cfg must map the rule files to their extractor"
    return {message for _file, _line, message, _comments, _context in
            extract_from_dir(str(ROOT), rules_only, options_map)}


def test_translate_extract_picks_up_every_rule_text():
    extracted = _extracted()
    for path in (ROOT / "portal/rules/jurisdictions").glob("*.json"):
        texts = rule_texts(json.loads(path.read_text(encoding="utf-8")))
        assert texts and set(texts) <= extracted, path.name


def _translated(language: str) -> set[str]:
    """Ids the catalog translates, plus those waiting in translations/pending/."""
    with (ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        done = {message.id for message in read_po(handle) if message.id and message.string}
    for path in (ROOT / "translations" / "pending").glob("*.json"):
        done |= {key for key, values in json.loads(path.read_text(encoding="utf-8")).items()
                 if values.get(language)}
    return done


def test_every_rule_text_is_translated_or_waiting_to_be():
    extracted = _extracted()
    for language in ("es", "fr", "de"):
        assert not extracted - _translated(language), language


def test_rules_show_their_texts_through_gettext(app, monkeypatch):
    from flask_babel import Domain

    seen = []
    real = Domain.gettext

    def spy(self, string, **variables):
        seen.append(string)
        return real(self, string, **variables)

    monkeypatch.setattr(Domain, "gettext", spy)
    rule = all_rules()["gdpr_art33"]
    source = json.loads((ROOT / "portal/rules/jurisdictions/gdpr_art33.json").read_text(
        encoding="utf-8"))
    with app.test_request_context(), force_locale("de"):
        assert str(rule.name) and str(rule.deadlines[0].label) and str(rule.recipient_name)
    assert set(rule_texts(source)) <= set(seen)
