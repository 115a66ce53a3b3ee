"""Demo staff, the demo incident and its people (generated from a fixed seed)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from portal.audit import log as audit
from portal.extensions import db
from portal.models import Incident, Person, StaffUser
from portal.people.create import new_person
from portal.security.crypto import generate_code
from portal.security.passwords import hash_password

DEMO_REFERENCE = "DEMO"
DEMO_STAFF = (
    ("agent@demo.example", "Alex Agent", "agent", "demo-agent-pass"),
    ("agent2@demo.example", "Sam Support", "agent", "demo-agent2-pass"),
    ("manager@demo.example", "Morgan Manager", "manager", "demo-manager-pass"),
    ("admin@demo.example", "Ada Admin", "admin", "demo-admin-pass"),
)
CATEGORIES = (
    "national_id", "payment_card", "bank_account", "health", "health_insurance_id",
    "drivers_license", "passport", "online_credentials", "policy_details",
    "claims_details", "date_of_birth", "contact_details",
)
_NAMES = {
    "en": (["Olivia", "James", "Amelia", "Noah", "Grace"], ["Smith", "Jones", "Taylor", "Brown"]),
    "es": (["Lucía", "Mateo", "Sofía", "Hugo", "Martina"], ["García", "Martínez", "López", "Ruiz"]),
    "fr": (["Chloé", "Louis", "Léa", "Gabriel", "Manon"], ["Martin", "Bernard", "Dubois", "Leroy"]),
    "de": (["Emma", "Lukas", "Mia", "Jonas", "Lena"], ["Müller", "Schmidt", "Schneider", "Weber"]),
}
_PLACES = {
    "en": ("US", "CA", "Sacramento", "95814", "+1916555"),
    "es": ("ES", "Madrid", "Madrid", "28013", "+3491555"),
    "fr": ("FR", "Île-de-France", "Paris", "75004", "+3314555"),
    "de": ("DE", "Berlin", "Berlin", "10115", "+4930555"),
}
SAMPLE_EXTERNAL_REF = "DEMO-0001"


def _seed_staff() -> None:
    for email, name, role, password in DEMO_STAFF:
        exists = db.session.execute(
            select(StaffUser.id).where(StaffUser.email == email)
        ).scalar_one_or_none()
        if exists is None:
            db.session.add(StaffUser(email=email, name=name, role=role,
                                     password_hash=hash_password(password)))


def _seed_incident() -> Incident:
    incident = db.session.execute(
        select(Incident).where(Incident.reference == DEMO_REFERENCE)
    ).scalar_one_or_none()
    if incident is not None:
        return incident
    now = datetime.now(UTC).replace(microsecond=0)
    incident = Incident(
        reference=DEMO_REFERENCE,
        title="Unauthorised access to the policy administration system",
        status="active",
        summary="Demonstration incident with synthetic people.",
        occurred_from=now - timedelta(days=20),
        occurred_to=now - timedelta(days=12),
        discovered_at=now - timedelta(days=6),
        determined_at=now - timedelta(days=2),
        contained_at=now - timedelta(days=5),
        jurisdictions=["gdpr_art33", "gdpr_art34", "ca_1798_82", "naic_668_s6", "nydfs_500_17"],
        categories=list(CATEGORIES),
        default_language="en",
        verification_method="postcode",
        contact_hotline="+1 800 555 0199",
        contact_hours="Monday to Saturday, 8 am to 8 pm Pacific time",
        contact_email="incident-help@demo.example",
        contact_postal_address="Demo Mutual Insurance, 1 Example Plaza, Sacramento, CA 95814",
        dpo_contact="Data Protection Officer, dpo@demo.example",
        monitoring_provider="Example Credit Monitoring",
        monitoring_enroll_url="https://monitoring.demo.example/enrol",
        monitoring_enroll_by=(now + timedelta(days=90)).date(),
        monitoring_description=("Two years of credit monitoring and identity restoration "
                                "support, free of charge."),
        time_zone="America/Los_Angeles",
        contact_translations=DEMO_CONTACT_TRANSLATIONS,
    )
    db.session.add(incident)
    db.session.flush()
    audit.record("incident.created", actor_type="system", incident_id=incident.id,
                 details={"reference": DEMO_REFERENCE, "via": "demo"})
    return incident


DEMO_CONTACT_TRANSLATIONS = {
    "es": {
        "contact_hours": "De lunes a sábado, de 8:00 a 20:00 (hora del Pacífico)",
        "dpo_contact": "Delegado de Protección de Datos, dpo@demo.example",
        "contact_postal_address": "Demo Mutual Insurance, 1 Example Plaza, Sacramento, CA 95814, "
                                  "Estados Unidos",
        "monitoring_description": ("Dos años de vigilancia del crédito y de ayuda para recuperar "
                                   "su identidad, sin coste alguno."),
    },
    "fr": {
        "contact_hours": "Du lundi au samedi, de 8 h à 20 h (heure du Pacifique)",
        "dpo_contact": "Délégué à la protection des données, dpo@demo.example",
        "contact_postal_address": "Demo Mutual Insurance, 1 Example Plaza, Sacramento, CA 95814, "
                                  "États-Unis",
        "monitoring_description": ("Deux ans de surveillance du crédit et d'aide au "
                                   "rétablissement de votre identité, gratuitement."),
    },
    "de": {
        "contact_hours": "Montag bis Samstag, 8 bis 20 Uhr (Pazifikzeit)",
        "dpo_contact": "Datenschutzbeauftragte, dpo@demo.example",
        "contact_postal_address": "Demo Mutual Insurance, 1 Example Plaza, Sacramento, CA 95814, "
                                  "USA",
        "monitoring_description": ("Zwei Jahre Bonitätsüberwachung und Hilfe bei der "
                                   "Wiederherstellung Ihrer Identität, kostenlos."),
    },
}


def _demo_people(count: int):
    rng = random.Random(20261124)  # noqa: S311 - synthetic demo data
    languages = ("en", "es", "fr", "de")
    for index in range(1, count + 1):
        lang = languages[(index - 1) % 4]
        firsts, lasts = _NAMES[lang]
        country, region, city, postcode, phone_prefix = _PLACES[lang]
        dob = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
        categories = sorted(rng.sample(CATEGORIES, rng.randint(2, 5)))
        yield {
            "external_ref": f"DEMO-{index:04d}",
            "first_name": firsts[index % len(firsts)],
            "last_name": lasts[index % len(lasts)],
            "date_of_birth": dob.isoformat(),
            "postcode": postcode,
            "policy_number": f"POL-{rng.randrange(10**7, 10**8)}",
            "email": f"customer{index:04d}@demo.example",
            "phone": f"{phone_prefix}{rng.randrange(1000, 9999)}",
            "address_line1": f"{index} Demo Street",
            "city": city,
            "region": region,
            "country": country,
            "language": lang,
            "categories": categories,
            "notice_code": generate_code(),
        }


def _seed_people(incident: Incident, count: int) -> int:
    existing = set(
        db.session.execute(
            select(Person.external_ref).where(Person.incident_id == incident.id)
        ).scalars()
    )
    added = 0
    for values in _demo_people(count):
        if values["external_ref"] in existing:
            continue
        db.session.add(new_person(incident.id, values))
        added += 1
    return added


def sample_person(incident: Incident) -> Person:
    """The person whose verification details the demo prints."""
    return db.session.execute(
        select(Person).where(
            Person.incident_id == incident.id, Person.external_ref == SAMPLE_EXTERNAL_REF
        )
    ).scalar_one()


def seed_base(people: int = 50) -> tuple[Incident, int]:
    """Staff, incident and people; returns the incident and how many people were added."""
    _seed_staff()
    incident = _seed_incident()
    added = _seed_people(incident, people)
    if added:
        audit.record("persons.imported", actor_type="system", incident_id=incident.id,
                     details={"added": added, "via": "demo"})
    db.session.flush()
    return incident, added
