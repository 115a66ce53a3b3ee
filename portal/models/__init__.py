"""All models, imported here so metadata and migrations see every table."""

from portal.models import report_indexes  # noqa: F401  (the reports area's indexes)
from portal.models.answer import Answer, AnswerVersion
from portal.models.attempt import AttemptCounter
from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.campaign import Campaign, LetterBatch, Notification, OutboxMessage
from portal.models.importrun import ImportRun
from portal.models.incident import Incident, IncidentAdvice, NoticeVersion, RegulatorFiling
from portal.models.interaction import Interaction
from portal.models.letter import Letter  # letters (issue 9)
from portal.models.person import ActivationCode, Person
from portal.models.staff import StaffIncident, StaffSetupLink, StaffUser
from portal.models.substitute import ReportSnapshot, SubstituteNotice
from portal.models.ticket import Ticket, TicketMessage, TicketSla, TicketViewer

__all__ = [
    "ActivationCode",
    "Answer",
    "AnswerVersion",
    "AttemptCounter",
    "Base",
    "Campaign",
    "ImportRun",
    "Incident",
    "IncidentAdvice",
    "Interaction",
    "Letter",
    "LetterBatch",
    "NoticeVersion",
    "Notification",
    "OutboxMessage",
    "Person",
    "RegulatorFiling",
    "ReportSnapshot",
    "StaffIncident",
    "StaffSetupLink",
    "StaffUser",
    "SubstituteNotice",
    "Ticket",
    "TicketMessage",
    "TicketSla",
    "TicketViewer",
    "UTCDateTime",
    "utcnow",
]
