"""The incident's contact block in the reader's language, English as the fallback.

The incident's own columns hold the English text; ``Incident.contact_translations``
holds the other languages, ``{"es": {"contact_hours": "..."}, ...}``. Every page,
the PDF and the FAQ ask ``contact_text`` for a value: this is the one place that
says "the value in language X, else English".
"""

from __future__ import annotations

from flask import current_app

from portal.models import Incident

# The texts entered per language, in the order forms show them.
TRANSLATED_FIELDS = ("contact_hours", "dpo_contact", "contact_postal_address",
                     "monitoring_description")
TEXT_LIMITS = {"contact_hours": 200, "dpo_contact": 1000, "contact_postal_address": 1000,
               "monitoring_description": 2000}


def contact_text(incident: Incident | None, field: str, language: str | None) -> str | None:
    """``field`` of the contact block in ``language``, else the English text."""
    if incident is None:
        return None
    if language and language != "en":
        value = ((incident.contact_translations or {}).get(language) or {}).get(field)
        if value:
            return value
    return getattr(incident, field)


def other_languages() -> list[str]:
    """The configured languages besides English, whose texts are translations."""
    return [code for code in current_app.config["LANGUAGES"] if code != "en"]


def missing_languages(incident: Incident) -> dict[str, list[str]]:
    """For each language, the fields that have English text but no translation."""
    missing: dict[str, list[str]] = {}
    for language in other_languages():
        fields = [field for field in TRANSLATED_FIELDS
                  if getattr(incident, field)
                  and not ((incident.contact_translations or {}).get(language) or {}).get(field)]
        if fields:
            missing[language] = fields
    return missing


def clean_translations(value) -> dict:
    """Normalise a ``{language: {field: text}}`` mapping; raise ValueError on bad input."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be a mapping of language to texts")
    clean: dict = {}
    for language, texts in value.items():
        if language not in other_languages():
            raise ValueError(f"unknown language: {language}")
        if not isinstance(texts, dict):
            raise ValueError(f"{language}: must be a mapping of field to text")
        kept = {}
        for field, text in texts.items():
            if field not in TRANSLATED_FIELDS:
                raise ValueError(f"{language}: not a translated field: {field}")
            text = str(text or "").strip()
            if len(text) > TEXT_LIMITS[field]:
                raise ValueError(f"{language}.{field}: at most {TEXT_LIMITS[field]} characters")
            if text:
                kept[field] = text
        if kept:
            clean[language] = kept
    return dict(sorted(clean.items()))
