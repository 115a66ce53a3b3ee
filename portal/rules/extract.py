"""Babel extractor for the rule files: the texts staff read go into the catalogs.

``babel.cfg`` maps ``portal/rules/jurisdictions/*.json`` to ``extract_rules``, so
``flask translate extract``/``update`` pick up each rule's name, the name of who
is told and each deadline's label; ``portal.rules`` shows them through gettext.
The legal notes and citations stay in English, as the sources are.
"""

from __future__ import annotations

import json

# The keys whose values are shown on the deadline board and the checklist.
TRANSLATED_KEYS = ("name", "recipient_name")
TRANSLATED_DEADLINE_KEYS = ("label",)


def rule_texts(data: dict) -> list[str]:
    """The translatable texts of one rule's JSON mapping, in file order."""
    texts = [data[key] for key in TRANSLATED_KEYS if data.get(key)]
    for deadline in data.get("deadlines", ()):
        texts.extend(deadline[key] for key in TRANSLATED_DEADLINE_KEYS if deadline.get(key))
    return texts


def extract_rules(fileobj, keywords, comment_tags, options):
    """Yield ``(lineno, funcname, message, comments)`` for each text of a rule file."""
    source = fileobj.read().decode("utf-8")
    data = json.loads(source)
    lines = source.splitlines()
    for text in rule_texts(data):
        quoted = json.dumps(text, ensure_ascii=False)
        lineno = next((number for number, line in enumerate(lines, 1) if quoted in line), 1)
        yield lineno, None, text, [f"rule {data.get('id')}"]
