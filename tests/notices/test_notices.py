"""The shared notice structure: headings, categories by name, advice, fallbacks, versions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from portal.models import IncidentAdvice, NoticeVersion
from portal.notices.advice import CATALOG, CATEGORY_KEYS, category_advice, category_name
from portal.notices.build import SECTION_KEYS, approved_version, build_for_person, build_notice


def _version(db, incident, language="en", version=1, state="approved", **text):
    row = NoticeVersion(
        incident_id=incident.id, language=language, version=version, state=state,
        what_happened=text.get("what_happened", f"Happened ({language} v{version})."),
        what_we_are_doing=text.get("what_we_are_doing", "We are fixing it."),
        likely_consequences=text.get("likely_consequences", "Phishing is likely."),
        other_information=text.get("other_information", "Nothing else."),
        what_changed=text.get("what_changed"),
        approved_at=datetime.now(UTC) if state != "draft" else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_catalog_has_the_twelve_categories_with_names_and_advice(app):
    assert set(CATALOG) == set(CATEGORY_KEYS) and len(CATEGORY_KEYS) == 12
    with force_locale("en"):
        for key in CATEGORY_KEYS:
            assert category_name(key) and category_name(key) != key
            assert category_advice(key)
        assert any("freeze" in line for line in category_advice("national_id"))
        assert any("Explanation of Benefits" in line for line in category_advice("health"))


def test_nothing_approved_gives_none(db, make_incident, make_person):
    incident = make_incident()
    person, _plain = make_person(incident)
    _version(db, incident, state="draft")
    assert approved_version(incident.id, "en") is None
    assert build_for_person(person) is None


def test_person_notice_names_categories_never_values(db, make_incident, make_person):
    incident = make_incident(
        occurred_from=datetime(2026, 10, 1, tzinfo=UTC),
        occurred_to=datetime(2026, 10, 9, tzinfo=UTC),
        discovered_at=datetime(2026, 10, 20, tzinfo=UTC),
        contact_email="help@insurer.example", dpo_contact="dpo@insurer.example",
        monitoring_provider="Watchful Ltd", monitoring_enroll_url="https://watch.example/",
        monitoring_enroll_by=date(2027, 1, 31),
    )
    person, plain = make_person(incident, categories=["date_of_birth", "policy_details", "bogus"])
    _version(db, incident)
    db.session.add(IncidentAdvice(incident_id=incident.id, category="policy_details",
                                  language="en", text="Your new policy number arrives by post."))
    db.session.commit()

    notice = build_for_person(person)
    assert notice.title == "Notice of Data Breach"
    assert [section.key for section in notice.sections] == list(SECTION_KEYS)
    assert [section.heading for section in notice.sections] == [
        "What Happened", "What Information Was Involved", "What We Are Doing",
        "What You Can Do", "For More Information"]
    assert [item.key for item in notice.categories] == ["date_of_birth", "policy_details"]
    assert notice.categories[0].name == "Date of birth"
    assert notice.categories[1].advice[-1] == "Your new policy number arrives by post."
    assert notice.bureaus == []  # no identity number exposed
    assert notice.contact.email == "help@insurer.example"
    assert notice.contact.dpo == "dpo@insurer.example"
    assert notice.monitoring.provider == "Watchful Ltd"
    assert notice.monitoring.enroll_by == date(2027, 1, 31)
    happened = " ".join(notice.section("what_happened").paragraphs)
    assert "October 1, 2026" in happened and "October 20, 2026" in happened
    information = " ".join(notice.section("what_information").paragraphs)
    assert "Date of birth" in information and "Phishing is likely." in information
    text = repr(notice)
    for secret in (plain["date_of_birth"], plain["policy_number"], plain["postcode"],
                   plain["email"], plain["first_name"], plain["last_name"]):
        assert secret not in text


def test_bureaus_when_identity_numbers_exposed(db, make_incident, make_person):
    incident = make_incident()
    _version(db, incident)
    for category in ("national_id", "drivers_license", "passport"):
        person, _plain = make_person(incident, categories=[category])
        names = [bureau.name for bureau in build_for_person(person).bureaus]
        assert names == ["Equifax", "Experian", "TransUnion"]


def test_language_and_fallbacks(db, make_incident, make_person):
    incident = make_incident(default_language="fr")
    person, _plain = make_person(incident, language="es", categories=["health"])
    _version(db, incident, language="en")
    assert build_for_person(person).language == "en"  # no es, no fr: English
    _version(db, incident, language="fr")
    assert build_for_person(person).language == "fr"  # the incident's default language
    spanish = _version(db, incident, language="es", what_happened="Hubo un acceso indebido.")
    db.session.add(IncidentAdvice(incident_id=incident.id, category="health", language="en",
                                  text="English-only advice."))
    db.session.commit()

    notice = build_for_person(person)
    assert notice.language == "es" and notice.notice_version_id == spanish.id
    assert notice.section("what_happened").paragraphs[0] == "Hubo un acceso indebido."
    assert "English-only advice." not in notice.categories[0].advice  # never mixes languages
    with force_locale("es"):
        assert notice.title == _("Notice of Data Breach")
        assert notice.categories[0].name == str(CATALOG["health"]["name"])
    assert build_for_person(person, "de").language == "fr"  # asked for German: default language


def test_newer_version_and_what_changed(db, make_incident, make_person):
    incident = make_incident()
    person, _plain = make_person(incident)
    first = _version(db, incident, version=1, state="superseded")
    _version(db, incident, version=2, what_changed="We now know the dates.")

    old = build_notice(incident, person.categories, "en", first)
    assert (old.version, old.newer_version, old.what_changed) == (1, 2, "We now know the dates.")
    current = build_for_person(person, seen_version=1)
    assert (current.version, current.newer_version) == (2, 2)
    assert current.what_changed == "We now know the dates."
    assert build_for_person(person, seen_version=2).newer_version is None
    assert build_for_person(person).newer_version is None


def test_narrative_paragraphs_split_at_blank_lines(db, make_incident, make_person):
    incident = make_incident()
    person, _plain = make_person(incident)
    _version(db, incident, what_happened="First line\ncontinues.\n\n\nSecond paragraph.")
    paragraphs = build_for_person(person).section("what_happened").paragraphs
    assert paragraphs[:2] == ["First line continues.", "Second paragraph."]
