"""Demo FAQ: public answers approved in English, Spanish, French and German.

Answer texts are content (like notice text), written per language here rather
than through the gettext catalogs. Bodies may use the sandboxed placeholders the
FAQ page fills in (``{{ hotline }}``, ``{{ hours }}``, ``{{ email }}``).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.audit import log as audit
from portal.extensions import db
from portal.models import Answer, AnswerVersion, StaffUser
from portal.models.base import utcnow

AUTHOR_EMAIL = "manager@demo.example"
APPROVER_EMAIL = "admin@demo.example"

FAQ = {
    "faq.is_this_real": ("verification", {
        "en": ("Is this message really from you?",
               "Yes. We contacted everyone affected by letter, email or text message. Our "
               "messages only ever link to this portal and never ask for passwords or bank "
               "details.\n\nIf in doubt, call us on {{ hotline }} using the number on your "
               "policy documents."),
        "es": ("¿Este mensaje es realmente suyo?",
               "Sí. Hemos contactado a todas las personas afectadas por carta, correo "
               "electrónico o SMS. Nuestros mensajes solo enlazan a este portal y nunca piden "
               "contraseñas ni datos bancarios.\n\nSi tiene dudas, llámenos al {{ hotline }}."),
        "fr": ("Ce message vient-il vraiment de vous ?",
               "Oui. Nous avons contacté toutes les personnes concernées par courrier, e-mail "
               "ou SMS. Nos messages ne renvoient qu'à ce portail et ne demandent jamais de mot "
               "de passe ni de coordonnées bancaires.\n\nEn cas de doute, appelez le "
               "{{ hotline }}."),
        "de": ("Stammt diese Nachricht wirklich von Ihnen?",
               "Ja. Wir haben alle Betroffenen per Brief, E-Mail oder SMS informiert. Unsere "
               "Nachrichten verweisen nur auf dieses Portal und fragen nie nach Passwörtern "
               "oder Bankdaten.\n\nRufen Sie uns im Zweifel unter {{ hotline }} an."),
    }),
    "faq.what_data": ("incident", {
        "en": ("Which of my information was involved?",
               "Your personal notice lists the types of your information that were involved. "
               "It names the types only and never repeats the information itself."),
        "es": ("¿Qué información mía se vio afectada?",
               "Su aviso personal enumera los tipos de información afectados. Solo nombra los "
               "tipos y nunca repite la información en sí."),
        "fr": ("Quelles informations me concernant sont touchées ?",
               "Votre avis personnel indique les types d'informations concernés. Il nomme "
               "seulement les types et ne reproduit jamais les informations elles-mêmes."),
        "de": ("Welche meiner Daten sind betroffen?",
               "Ihre persönliche Mitteilung nennt die Arten Ihrer betroffenen Daten. Sie nennt "
               "nur die Arten und wiederholt nie die Daten selbst."),
    }),
    "faq.credit_monitoring": ("monitoring", {
        "en": ("How do I enrol in the free credit monitoring?",
               "Open your notice and choose \"Show my activation code\". Use the code on the "
               "enrolment website shown next to it, before the enrol-by date. The service is "
               "free and does not renew automatically."),
        "es": ("¿Cómo me inscribo en la supervisión de crédito gratuita?",
               "Abra su aviso y elija \"Mostrar mi código de activación\". Utilice el código en "
               "el sitio de inscripción indicado, antes de la fecha límite. El servicio es "
               "gratuito y no se renueva automáticamente."),
        "fr": ("Comment m'inscrire à la surveillance de crédit gratuite ?",
               "Ouvrez votre avis et choisissez « Afficher mon code d'activation ». Utilisez le "
               "code sur le site d'inscription indiqué, avant la date limite. Le service est "
               "gratuit et ne se renouvelle pas automatiquement."),
        "de": ("Wie melde ich mich für die kostenlose Kreditüberwachung an?",
               "Öffnen Sie Ihre Mitteilung und wählen Sie „Aktivierungscode anzeigen“. Geben "
               "Sie den Code vor dem Stichtag auf der angegebenen Anmeldeseite ein. Der Dienst "
               "ist kostenlos und verlängert sich nicht automatisch."),
    }),
    "faq.credit_freeze": ("protection", {
        "en": ("Should I freeze my credit?",
               "If your national identification number, driver's licence or passport number "
               "was involved, a credit freeze is the strongest protection. It is free, is "
               "placed within one business day and can be lifted online when you need credit."),
        "es": ("¿Debo congelar mi crédito?",
               "Si su número de identificación nacional, permiso de conducir o pasaporte se vio "
               "afectado, congelar su crédito es la mejor protección. Es gratuito y puede "
               "levantarse en línea cuando necesite crédito."),
        "fr": ("Dois-je geler mon crédit ?",
               "Si votre numéro d'identification nationale, de permis de conduire ou de "
               "passeport est concerné, le gel du crédit est la protection la plus forte. Il "
               "est gratuit et peut être levé en ligne lorsque vous avez besoin d'un crédit."),
        "de": ("Soll ich meine Kreditauskunft sperren lassen?",
               "Wenn Ihre Ausweis-, Führerschein- oder Reisepassnummer betroffen ist, bietet "
               "eine Sperre den stärksten Schutz. Sie ist kostenlos und lässt sich online "
               "aufheben, wenn Sie einen Kredit brauchen."),
    }),
    "faq.phishing": ("protection", {
        "en": ("Someone called me about the incident. What should I do?",
               "Hang up and call us back on {{ hotline }}. We will never ask you for a "
               "password, a one-time code or your bank details by phone, email or text."),
        "es": ("Alguien me llamó por el incidente. ¿Qué debo hacer?",
               "Cuelgue y llámenos al {{ hotline }}. Nunca le pediremos contraseñas, códigos de "
               "un solo uso ni datos bancarios por teléfono, correo electrónico o SMS."),
        "fr": ("Quelqu'un m'a appelé au sujet de l'incident. Que faire ?",
               "Raccrochez et rappelez-nous au {{ hotline }}. Nous ne vous demanderons jamais "
               "de mot de passe, de code à usage unique ni de coordonnées bancaires."),
        "de": ("Jemand hat mich wegen des Vorfalls angerufen. Was soll ich tun?",
               "Legen Sie auf und rufen Sie uns unter {{ hotline }} zurück. Wir fragen nie am "
               "Telefon, per E-Mail oder SMS nach Passwörtern, Einmalcodes oder Bankdaten."),
    }),
    "faq.contact": ("contact", {
        "en": ("How can I contact you?",
               "Call our free helpline on {{ hotline }} ({{ hours }}), write to {{ email }}, or "
               "ask us a question on this portal after entering your notice code."),
        "es": ("¿Cómo puedo contactarles?",
               "Llame a nuestra línea gratuita {{ hotline }} ({{ hours }}), escriba a "
               "{{ email }} o envíenos una pregunta en este portal con su código."),
        "fr": ("Comment vous contacter ?",
               "Appelez notre ligne gratuite au {{ hotline }} ({{ hours }}), écrivez à "
               "{{ email }} ou posez-nous une question sur ce portail avec votre code."),
        "de": ("Wie erreiche ich Sie?",
               "Rufen Sie unsere kostenlose Hotline {{ hotline }} an ({{ hours }}), schreiben "
               "Sie an {{ email }} oder stellen Sie uns hier mit Ihrem Code eine Frage."),
    }),
}


def _staff_id(email: str) -> int | None:
    return db.session.execute(
        select(StaffUser.id).where(StaffUser.email == email)
    ).scalar_one_or_none()


def seed_faq(incident_id: int | None = None) -> int:
    """Add the demo FAQ answers that are missing; return how many were added."""
    author_id, approver_id = _staff_id(AUTHOR_EMAIL), _staff_id(APPROVER_EMAIL)
    existing = set(db.session.execute(
        select(Answer.key).where(Answer.key.in_(list(FAQ)))
    ).scalars())
    added = 0
    now = utcnow()
    for key, (category, texts) in FAQ.items():
        if key in existing:
            continue
        answer = Answer(key=key, category=category, public=True, incident_id=incident_id)
        db.session.add(answer)
        db.session.flush()
        for language, (title, body) in texts.items():
            db.session.add(AnswerVersion(
                answer_id=answer.id, language=language, version=1, title=title, body=body,
                state="approved", author_id=author_id, approved_by_id=approver_id,
                submitted_at=now, approved_at=now,
            ))
        added += 1
    if added:
        audit.record("answers.seeded", actor_type="system", incident_id=incident_id,
                     details={"added": added, "via": "demo"})
    db.session.flush()
    return added
