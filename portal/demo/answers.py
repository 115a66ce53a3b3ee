"""Demo answer library: answers in English, Spanish, French and German, approved.

Answer texts are content (like notice text), written per language here rather
than through the gettext catalogs. They go through the library's own workflow
(written by the demo manager, approved by the demo admin), so the log holds every
step and the texts pass the library's checks: they name only the placeholders
a reply fills in (``portal.answers.library.PLACEHOLDERS``). Public ones show on
the portal's FAQ; the others are for agents' replies.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.answers import library
from portal.extensions import db
from portal.models import Answer, StaffUser

AUTHOR_EMAIL = "manager@demo.example"
APPROVER_EMAIL = "admin@demo.example"

# key: (category, public, {language: (title, body)})
ANSWERS = {
    "faq.is_this_real": ("verification", True, {
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
    "faq.what_data": ("incident", True, {
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
    "faq.credit_monitoring": ("monitoring", True, {
        "en": ("How do I enrol in the free credit monitoring?",
               "Open your notice and choose \"Show my activation code\". Use the code on the "
               "enrolment website shown next to it by {{ enroll_by }}. The service is free "
               "and does not renew automatically."),
        "es": ("¿Cómo me inscribo en la supervisión de crédito gratuita?",
               "Abra su aviso y elija \"Mostrar mi código de activación\". Utilice el código en "
               "el sitio de inscripción indicado antes del {{ enroll_by }}. El servicio es "
               "gratuito y no se renueva automáticamente."),
        "fr": ("Comment m'inscrire à la surveillance de crédit gratuite ?",
               "Ouvrez votre avis et choisissez « Afficher mon code d'activation ». Utilisez le "
               "code sur le site d'inscription indiqué, au plus tard le {{ enroll_by }}. Le "
               "service est gratuit et ne se renouvelle pas automatiquement."),
        "de": ("Wie melde ich mich für die kostenlose Kreditüberwachung an?",
               "Öffnen Sie Ihre Mitteilung und wählen Sie „Aktivierungscode anzeigen“. Geben "
               "Sie den Code bis zum {{ enroll_by }} auf der angegebenen Anmeldeseite ein. Der "
               "Dienst ist kostenlos und verlängert sich nicht automatisch."),
    }),
    "faq.credit_freeze": ("protection", True, {
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
    "faq.phishing": ("protection", True, {
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
    "faq.contact": ("contact", True, {
        "en": ("How can I contact you?",
               "Call our free helpline on {{ hotline }} ({{ hours }}), or ask us a question "
               "at {{ portal_url }} after entering your notice code."),
        "es": ("¿Cómo puedo contactarles?",
               "Llame a nuestra línea gratuita {{ hotline }} ({{ hours }}) o envíenos una "
               "pregunta en {{ portal_url }} después de introducir su código."),
        "fr": ("Comment vous contacter ?",
               "Appelez notre ligne gratuite au {{ hotline }} ({{ hours }}) ou posez-nous une "
               "question sur {{ portal_url }} après avoir saisi votre code."),
        "de": ("Wie erreiche ich Sie?",
               "Rufen Sie unsere kostenlose Hotline {{ hotline }} an ({{ hours }}) oder "
               "stellen Sie uns unter {{ portal_url }} nach Eingabe Ihres Codes eine Frage."),
    }),
    "faq.stop_texts": ("account", True, {
        "en": ("How do I stop text messages?",
               "Reply STOP to any of our text messages, or open your notice and choose "
               "\"Preferences\". We will then write to you by email or letter only."),
        "es": ("¿Cómo dejo de recibir SMS?",
               "Responda STOP a cualquiera de nuestros SMS o abra su aviso y elija "
               "\"Preferencias\". A partir de entonces le escribiremos solo por correo "
               "electrónico o carta."),
        "fr": ("Comment ne plus recevoir de SMS ?",
               "Répondez STOP à l'un de nos SMS, ou ouvrez votre avis et choisissez "
               "« Préférences ». Nous vous écrirons alors uniquement par e-mail ou courrier."),
        "de": ("Wie bestelle ich die SMS ab?",
               "Antworten Sie auf eine unserer SMS mit STOP oder öffnen Sie Ihre Mitteilung "
               "und wählen Sie „Einstellungen“. Wir schreiben Ihnen dann nur noch per E-Mail "
               "oder Brief."),
    }),
    "reply.code_not_received": ("verification", False, {
        "en": ("Your notice code is on its way",
               "Hello {{ first_name }},\n\nWe have sent your notice code again to the contact "
               "details we hold for you. It can take a few minutes to arrive. Enter it at "
               "{{ portal_url }} together with your date of birth."),
        "es": ("Su código de notificación está en camino",
               "Hola, {{ first_name }}:\n\nHemos vuelto a enviar su código de notificación a "
               "los datos de contacto que tenemos de usted. Puede tardar unos minutos en llegar. "
               "Introdúzcalo en {{ portal_url }} junto con su fecha de nacimiento."),
        "fr": ("Votre code de notification est en route",
               "Bonjour {{ first_name }},\n\nNous avons renvoyé votre code de notification aux "
               "coordonnées dont nous disposons. Il peut mettre quelques minutes à arriver. "
               "Saisissez-le sur {{ portal_url }} avec votre date de naissance."),
        "de": ("Ihr Benachrichtigungscode ist unterwegs",
               "Guten Tag {{ first_name }},\n\nwir haben Ihren Benachrichtigungscode erneut an die "
               "bei uns hinterlegten Kontaktdaten gesendet. Es kann einige Minuten dauern, bis "
               "er ankommt. Geben Sie ihn unter {{ portal_url }} zusammen mit Ihrem "
               "Geburtsdatum ein."),
    }),
    "reply.code_unlocked": ("verification", False, {
        "en": ("You can try your code again",
               "Hello {{ first_name }},\n\nYour notice code was locked after several wrong "
               "answers. We have unlocked it: you can try again now at {{ portal_url }}. "
               "Please check the date of birth and postcode we hold for you carefully."),
        "es": ("Puede volver a usar su código",
               "Hola, {{ first_name }}:\n\nSu código de notificación se bloqueó tras varios "
               "intentos fallidos. Lo hemos desbloqueado: ya puede volver a intentarlo en "
               "{{ portal_url }}. Revise con atención la fecha de nacimiento y el código "
               "postal."),
        "fr": ("Vous pouvez réessayer votre code",
               "Bonjour {{ first_name }},\n\nVotre code de notification a été bloqué après "
               "plusieurs réponses erronées. Nous l'avons débloqué : vous pouvez réessayer dès "
               "maintenant sur {{ portal_url }}. Vérifiez bien votre date de naissance et "
               "votre code postal."),
        "de": ("Sie können Ihren Code erneut verwenden",
               "Guten Tag {{ first_name }},\n\nIhr Benachrichtigungscode wurde nach mehreren "
               "falschen Angaben gesperrt. Wir haben ihn entsperrt: Sie können es jetzt unter "
               "{{ portal_url }} erneut versuchen. Bitte prüfen Sie Geburtsdatum und "
               "Postleitzahl sorgfältig."),
    }),
    "reply.your_data": ("incident", False, {
        "en": ("The information of yours that was involved",
               "Hello {{ first_name }},\n\nIn the incident \"{{ incident }}\" the following "
               "types of your information were involved: {{ categories }}. Your notice at "
               "{{ portal_url }} explains what you can do for each of them."),
        "es": ("Su información afectada",
               "Hola, {{ first_name }}:\n\nEn el incidente «{{ incident }}» se vieron "
               "afectados estos tipos de información suya: {{ categories }}. Su aviso en "
               "{{ portal_url }} explica qué puede hacer en cada caso."),
        "fr": ("Vos informations concernées",
               "Bonjour {{ first_name }},\n\nLors de l'incident « {{ incident }} », les types "
               "d'informations suivants vous concernant ont été touchés : {{ categories }}. "
               "Votre avis sur {{ portal_url }} explique ce que vous pouvez faire pour chacun."),
        "de": ("Ihre betroffenen Daten",
               "Guten Tag {{ first_name }},\n\nbei dem Vorfall „{{ incident }}“ waren folgende "
               "Arten Ihrer Daten betroffen: {{ categories }}. Ihre Mitteilung unter "
               "{{ portal_url }} erklärt, was Sie jeweils tun können."),
    }),
    "reply.monitoring_deadline": ("monitoring", False, {
        "en": ("Please enrol in the credit monitoring soon",
               "Hello {{ first_name }},\n\nThe free credit monitoring we offer can be "
               "activated until {{ enroll_by }}. Your activation code is in your notice at "
               "{{ portal_url }}. If the code does not work, call us on {{ hotline }}."),
        "es": ("Inscríbase pronto en la supervisión de crédito",
               "Hola, {{ first_name }}:\n\nLa supervisión de crédito gratuita puede activarse "
               "hasta el {{ enroll_by }}. Su código de activación está en su aviso en "
               "{{ portal_url }}. Si el código no funciona, llámenos al {{ hotline }}."),
        "fr": ("Inscrivez-vous bientôt à la surveillance de crédit",
               "Bonjour {{ first_name }},\n\nLa surveillance de crédit gratuite peut être "
               "activée jusqu'au {{ enroll_by }}. Votre code d'activation figure dans votre "
               "avis sur {{ portal_url }}. Si le code ne fonctionne pas, appelez le "
               "{{ hotline }}."),
        "de": ("Bitte melden Sie sich bald zur Kreditüberwachung an",
               "Guten Tag {{ first_name }},\n\ndie kostenlose Kreditüberwachung kann bis zum "
               "{{ enroll_by }} aktiviert werden. Ihren Aktivierungscode finden Sie in Ihrer "
               "Mitteilung unter {{ portal_url }}. Falls der Code nicht funktioniert, rufen "
               "Sie uns unter {{ hotline }} an."),
    }),
    "reply.missed_call": ("contact", False, {
        "en": ("We tried to call you",
               "Hello {{ first_name }},\n\nWe tried to reach you by phone about your "
               "question. Please call us back on {{ hotline }} ({{ hours }}) or reply here."),
        "es": ("Intentamos llamarle",
               "Hola, {{ first_name }}:\n\nIntentamos localizarle por teléfono por su "
               "consulta. Llámenos al {{ hotline }} ({{ hours }}) o responda aquí."),
        "fr": ("Nous avons essayé de vous appeler",
               "Bonjour {{ first_name }},\n\nNous avons essayé de vous joindre par téléphone "
               "au sujet de votre question. Rappelez-nous au {{ hotline }} ({{ hours }}) ou "
               "répondez ici."),
        "de": ("Wir haben versucht, Sie anzurufen",
               "Guten Tag {{ first_name }},\n\nwir haben versucht, Sie wegen Ihrer Frage "
               "telefonisch zu erreichen. Bitte rufen Sie uns unter {{ hotline }} "
               "({{ hours }}) zurück oder antworten Sie hier."),
    }),
    "reply.anything_else": ("other", False, {
        "en": ("Is there anything else we can help with?",
               "Hello {{ first_name }},\n\nWe hope this answers your question. If there is "
               "anything else, reply to this message; otherwise we will close it in a few "
               "days. Thank you for your patience."),
        "es": ("¿Podemos ayudarle en algo más?",
               "Hola, {{ first_name }}:\n\nEsperamos haber respondido a su pregunta. Si "
               "necesita algo más, responda a este mensaje; de lo contrario, lo cerraremos en "
               "unos días. Gracias por su paciencia."),
        "fr": ("Pouvons-nous vous aider pour autre chose ?",
               "Bonjour {{ first_name }},\n\nNous espérons avoir répondu à votre question. Pour "
               "toute autre demande, répondez à ce message ; sinon, nous le clôturerons dans "
               "quelques jours. Merci de votre patience."),
        "de": ("Können wir Ihnen noch anderweitig helfen?",
               "Guten Tag {{ first_name }},\n\nwir hoffen, Ihre Frage ist damit beantwortet. "
               "Wenn Sie noch etwas brauchen, antworten Sie auf diese Nachricht; andernfalls "
               "schließen wir sie in einigen Tagen. Vielen Dank für Ihre Geduld."),
    }),
}


def _staff_id(email: str) -> int | None:
    return db.session.execute(
        select(StaffUser.id).where(StaffUser.email == email)
    ).scalar_one_or_none()


def seed_answers(incident_id: int | None = None) -> int:
    """Add the demo answers that are missing, each language approved; return how many."""
    author_id, approver_id = _staff_id(AUTHOR_EMAIL), _staff_id(APPROVER_EMAIL)
    if author_id is None or approver_id is None:
        raise RuntimeError("the demo answers need the demo manager and admin accounts")
    existing = set(db.session.execute(
        select(Answer.key).where(Answer.key.in_(list(ANSWERS)))
    ).scalars())
    added = 0
    for key, (category, public, texts) in ANSWERS.items():
        if key in existing:
            continue
        languages = iter(texts.items())
        language, (title, body) = next(languages)
        version = library.create_answer(key, category, public, incident_id, language, title,
                                        body, author_id)
        answer = version.answer
        drafts = [version] + [library.save_draft(answer, code, title, body, author_id)
                              for code, (title, body) in languages]
        for draft in drafts:
            library.submit(draft, author_id)
            library.approve(draft, approver_id)
        added += 1
    db.session.flush()
    return added
