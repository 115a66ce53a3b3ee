"""The contact block per language, English as the fallback (issue 13, item 3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from portal.answers.faq import placeholders
from portal.demo.base import DEMO_CONTACT_TRANSLATIONS
from portal.incidents.contacts import TRANSLATED_FIELDS, contact_text, missing_languages
from portal.incidents.operations import IncidentError, update_incident
from portal.models import Incident, NoticeVersion
from portal.notices.build import build_notice

SPANISH = {"contact_hours": "De lunes a viernes, de 9 a 17 h",
           "dpo_contact": "Delegado de Protección de Datos",
           "contact_postal_address": "Calle Mayor 1, Madrid",
           "monitoring_description": "Dos años de vigilancia gratuita."}


@pytest.fixture
def incident(make_incident):
    return make_incident(
        contact_hours="Monday to Friday, 9 to 5", dpo_contact="Data Protection Officer",
        contact_postal_address="1 Main Street, Madrid", monitoring_provider="Watch Co",
        monitoring_description="Two years of free monitoring.",
        contact_translations={"es": SPANISH, "fr": {"contact_hours": "Du lundi au vendredi"}},
    )


def test_a_value_is_the_readers_language_else_english(incident):
    assert contact_text(incident, "contact_hours", "es") == SPANISH["contact_hours"]
    assert contact_text(incident, "contact_hours", "fr") == "Du lundi au vendredi"
    assert contact_text(incident, "dpo_contact", "fr") == "Data Protection Officer"
    assert contact_text(incident, "contact_hours", "de") == "Monday to Friday, 9 to 5"
    assert contact_text(incident, "contact_hours", "en") == "Monday to Friday, 9 to 5"
    assert contact_text(None, "contact_hours", "es") is None


def test_missing_languages_name_the_untranslated_texts(incident):
    missing = missing_languages(incident)
    assert "es" not in missing
    assert missing["fr"] == ["dpo_contact", "contact_postal_address", "monitoring_description"]
    assert missing["de"] == list(TRANSLATED_FIELDS)


def test_translations_are_validated(db, incident):
    for bad in ({"xx": {"contact_hours": "x"}}, {"es": {"title": "x"}}, ["es"],
                {"es": {"contact_hours": "x" * 201}}):
        with pytest.raises(IncidentError) as error:
            update_incident(incident, {"contact_translations": bad})
        assert error.value.field == "contact_translations"
    changes = update_incident(incident, {"contact_translations": {
        "de": {"contact_hours": "  Montag bis Freitag ", "dpo_contact": ""}}})
    assert incident.contact_translations == {"de": {"contact_hours": "Montag bis Freitag"}}
    assert "contact_translations" in changes


def test_the_notice_shows_the_contact_block_in_its_language(db, incident):
    for language in ("es", "de"):
        db.session.add(NoticeVersion(incident_id=incident.id, language=language, version=1,
                                     state="approved", approved_at=datetime.now(UTC)))
    db.session.commit()
    spanish = build_notice(incident, [], "es")
    assert spanish.contact.hours == SPANISH["contact_hours"]
    assert spanish.contact.dpo == SPANISH["dpo_contact"]
    assert spanish.contact.postal_address == SPANISH["contact_postal_address"]
    assert SPANISH["monitoring_description"] in spanish.section("what_we_are_doing").paragraphs
    german = build_notice(incident, [], "de")
    assert german.contact.hours == "Monday to Friday, 9 to 5"  # English until translated


def test_faq_placeholders_are_in_the_readers_language(incident):
    assert placeholders(incident, "es")["hours"] == SPANISH["contact_hours"]
    assert placeholders(incident, "de")["hours"] == "Monday to Friday, 9 to 5"


def test_the_demo_fills_every_contact_text_in_every_language():
    assert set(DEMO_CONTACT_TRANSLATIONS) == {"es", "fr", "de"}
    for texts in DEMO_CONTACT_TRANSLATIONS.values():
        assert set(texts) == set(TRANSLATED_FIELDS) and all(texts.values())


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_managers_enter_texts_per_language_and_see_what_is_missing(
        db, client, make_staff, login, incident):
    login(make_staff("manager"))
    page = client.get(f"/helpdesk/incidents/{incident.reference}")
    assert "Deutsch: missing" in page.text
    form = client.get(f"/helpdesk/incidents/{incident.reference}/edit")
    assert 'name="texts_es-contact_hours"' in form.text
    assert SPANISH["contact_hours"] in form.text
    data = {name: value for name, value in re.findall(
        r'<(?:input|textarea)[^>]*name="([^"]+)"[^>]*?(?:value="([^"]*)")?[^>]*>', form.text)}
    data.update({
        "reference": incident.reference, "title": incident.title, "status": "active",
        "default_language": "en", "verification_method": "postcode", "insurer_name": "Test Mutual",
        "time_zone": "Europe/Madrid", "csrf_token": _token(form.text),
        "contact_hours": "Monday to Friday, 9 to 5",
        "dpo_contact": "Data Protection Officer",
        "contact_postal_address": "1 Main Street, Madrid",
        "monitoring_provider": "Watch Co",
        "monitoring_description": "Two years of free monitoring.",
        "texts_es-contact_hours": SPANISH["contact_hours"],
        "texts_es-dpo_contact": SPANISH["dpo_contact"],
        "texts_es-contact_postal_address": SPANISH["contact_postal_address"],
        "texts_es-monitoring_description": SPANISH["monitoring_description"],
        "texts_de-contact_hours": "Montag bis Freitag, 9 bis 17 Uhr",
    })
    data.pop("categories", None)
    data.pop("jurisdictions", None)
    saved = client.post(f"/helpdesk/incidents/{incident.reference}/edit", data=data)
    assert saved.status_code == 302, saved.text
    db.session.expire_all()
    stored = db.session.get(Incident, incident.id)
    assert stored.time_zone == "Europe/Madrid"
    assert stored.contact_translations["de"] == {
        "contact_hours": "Montag bis Freitag, 9 bis 17 Uhr"}
    assert stored.contact_translations["es"] == SPANISH
    assert "fr" not in stored.contact_translations  # the French hours were cleared
