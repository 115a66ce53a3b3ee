"""Approved notice texts for the demo incident in English, Spanish, French and German.

Written by the demo manager and approved by the demo admin (four eyes), complete
for the demo's jurisdictions (GDPR Art. 33/34, California, NAIC, NYDFS): each
text says what happened, what we are doing, the likely consequences, and whether
law enforcement delayed the notice.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.audit import log as audit
from portal.demo.base import DEMO_STAFF
from portal.extensions import db
from portal.models import Incident, NoticeVersion, StaffUser
from portal.models.base import utcnow

TEXTS = {
    "en": {
        "what_happened": (
            "An unauthorised person used the stolen password of one of our employees to "
            "sign in to our policy administration system and viewed customer records.\n\n"
            "We found the unusual activity during a routine security review, closed the "
            "access the same day and started an investigation with outside security experts."
        ),
        "what_we_are_doing": (
            "We reset the passwords of all staff, require a second sign-in step for every "
            "employee and added monitoring that alerts us to unusual access to customer "
            "records.\n\nWe reported the breach to the data protection authority and to the "
            "insurance regulators."
        ),
        "likely_consequences": (
            "Someone could try to use your information to open accounts in your name or to "
            "send you convincing fraudulent messages that mention your policy. We have no "
            "evidence so far that your information has been misused."
        ),
        "other_information": (
            "This notice was not delayed by a law enforcement investigation.\n\n"
            "We will never ask you for your password or your full policy number by email or "
            "text message."
        ),
    },
    "es": {
        "what_happened": (
            "Una persona no autorizada utilizó la contraseña robada de uno de nuestros "
            "empleados para acceder a nuestro sistema de gestión de pólizas y consultó "
            "datos de clientes.\n\n"
            "Detectamos la actividad inusual durante una revisión de seguridad rutinaria, "
            "cerramos el acceso el mismo día e iniciamos una investigación con expertos "
            "externos en seguridad."
        ),
        "what_we_are_doing": (
            "Hemos cambiado las contraseñas de todo el personal, exigimos un segundo paso de "
            "verificación a todos los empleados y hemos añadido controles que nos avisan de "
            "accesos inusuales a los datos de clientes.\n\nHemos comunicado la brecha a la "
            "autoridad de protección de datos y a los supervisores de seguros."
        ),
        "likely_consequences": (
            "Alguien podría intentar usar sus datos para abrir cuentas a su nombre o enviarle "
            "mensajes fraudulentos convincentes que mencionen su póliza. Hasta ahora no "
            "tenemos indicios de que sus datos se hayan utilizado indebidamente."
        ),
        "other_information": (
            "Esta notificación no se ha retrasado por ninguna investigación de las fuerzas "
            "del orden.\n\nNunca le pediremos su contraseña ni su número de póliza completo "
            "por correo electrónico o SMS."
        ),
    },
    "fr": {
        "what_happened": (
            "Une personne non autorisée a utilisé le mot de passe volé de l'un de nos "
            "employés pour se connecter à notre système de gestion des contrats et a consulté "
            "des dossiers clients.\n\n"
            "Nous avons repéré cette activité inhabituelle lors d'un contrôle de sécurité de "
            "routine, avons coupé l'accès le jour même et avons ouvert une enquête avec des "
            "experts en sécurité externes."
        ),
        "what_we_are_doing": (
            "Nous avons réinitialisé les mots de passe de tout le personnel, imposons une "
            "double authentification à chaque employé et avons mis en place une surveillance "
            "qui nous alerte de tout accès inhabituel aux dossiers clients.\n\nNous avons "
            "déclaré la violation à l'autorité de protection des données et aux autorités "
            "de contrôle des assurances."
        ),
        "likely_consequences": (
            "Quelqu'un pourrait tenter d'utiliser vos informations pour ouvrir des comptes à "
            "votre nom ou vous envoyer des messages frauduleux convaincants mentionnant votre "
            "contrat. Nous n'avons à ce jour aucune preuve d'une utilisation abusive de vos "
            "informations."
        ),
        "other_information": (
            "Cette notification n'a pas été retardée par une enquête des forces de l'ordre.\n\n"
            "Nous ne vous demanderons jamais votre mot de passe ni votre numéro de contrat "
            "complet par e-mail ou par SMS."
        ),
    },
    "de": {
        "what_happened": (
            "Eine unbefugte Person hat mit dem gestohlenen Passwort eines unserer "
            "Mitarbeitenden auf unser Vertragsverwaltungssystem zugegriffen und "
            "Kundendaten eingesehen.\n\n"
            "Wir haben die ungewöhnliche Aktivität bei einer routinemäßigen "
            "Sicherheitsprüfung entdeckt, den Zugang noch am selben Tag gesperrt und mit "
            "externen Sicherheitsfachleuten eine Untersuchung begonnen."
        ),
        "what_we_are_doing": (
            "Wir haben die Passwörter aller Mitarbeitenden zurückgesetzt, verlangen von allen "
            "eine Anmeldung in zwei Schritten und überwachen Zugriffe auf Kundendaten, damit "
            "wir bei ungewöhnlichen Zugriffen sofort gewarnt werden.\n\nWir haben die "
            "Datenschutzverletzung der Datenschutzaufsichtsbehörde und den "
            "Versicherungsaufsichtsbehörden gemeldet."
        ),
        "likely_consequences": (
            "Jemand könnte versuchen, mit Ihren Daten Konten in Ihrem Namen zu eröffnen oder "
            "Ihnen überzeugende betrügerische Nachrichten mit Angaben zu Ihrem Vertrag zu "
            "schicken. Bisher haben wir keine Hinweise darauf, dass Ihre Daten missbraucht "
            "wurden."
        ),
        "other_information": (
            "Diese Benachrichtigung wurde nicht durch Ermittlungen der Strafverfolgungsbehörden "
            "verzögert.\n\nWir werden Sie niemals per E-Mail oder SMS nach Ihrem Passwort oder "
            "Ihrer vollständigen Vertragsnummer fragen."
        ),
    },
}


def _staff_id(role: str) -> int | None:
    email = next(email for email, _name, staff_role, _pw in DEMO_STAFF if staff_role == role)
    return db.session.execute(
        select(StaffUser.id).where(StaffUser.email == email)
    ).scalar_one_or_none()


def seed_notices(incident: Incident) -> int:
    """Add an approved notice per language that has none yet; return how many were added."""
    db.session.flush()
    author_id, approver_id = _staff_id("manager"), _staff_id("admin")
    existing = set(db.session.execute(
        select(NoticeVersion.language).where(NoticeVersion.incident_id == incident.id)
    ).scalars())
    added = 0
    for language, text in TEXTS.items():
        if language in existing:
            continue
        now = utcnow()
        version = NoticeVersion(
            incident_id=incident.id, language=language, version=1, state="draft",
            author_id=author_id, checklist_overrides={}, **text,
        )
        db.session.add(version)
        db.session.flush()
        audit.record("notice.draft_created", actor_type="staff", actor_id=author_id,
                     incident_id=incident.id, details={
                         "notice_version_id": version.id, "language": language, "version": 1,
                         "via": "demo"})
        version.state = "approved"
        version.approved_by_id = approver_id
        version.approved_at = now
        db.session.flush()
        audit.record("notice.approved", actor_type="staff", actor_id=approver_id,
                     incident_id=incident.id, details={
                         "notice_version_id": version.id, "language": language, "version": 1,
                         "author_id": author_id, "superseded_version": None, "overridden": [],
                         "via": "demo"})
        added += 1
    return added
