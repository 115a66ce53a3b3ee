"""Plain-language labels of the interaction log's actions, for managers and regulators.

Every action name the code writes has an entry in ``LABELS`` (``tests/audit/
test_action_labels.py`` scans the source for ``record(...)`` and fails on one
without). ``PREFIXES`` name a family, for rows written before a label existed or by
a family whose names are built at run time; ``label_for`` tries the exact name,
then the longest matching prefix.

Engineers adding an action: add its label in your area's block below.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    # --- customers: verification, notice, preferences ------------------------------
    "verify.succeeded": _l("Customer verified their identity"),
    "verify.failed": _l("Customer verification failed"),
    "verify.locked": _l("Notice code locked after failed verifications"),
    "notice.viewed": _l("Customer viewed their notice"),
    "notice.pdf_downloaded": _l("Customer downloaded their notice as PDF"),
    "activation_code.assigned": _l("Credit-monitoring activation code given to customer"),
    "customer.signed_out": _l("Customer signed out"),
    "customer.session_expired": _l("Customer session expired"),
    "preferences.changed": _l("Customer preferences changed"),
    "code_resend.requested": _l("Customer asked for their notice code again"),
    "code_resend.throttled": _l("Notice code resend held back (limit reached)"),
    "code_resend.sent": _l("Notice code sent again"),
    "code_resend.failed": _l("Notice code could not be sent again"),
    # --- tickets ---------------------------------------------------------------------
    "ticket.created": _l("Ticket opened"),
    "ticket.create_refused": _l("Ticket refused (limit reached)"),
    "ticket.customer_replied": _l("Customer replied on a ticket"),
    "ticket.reply_refused": _l("Customer reply refused (limit reached)"),
    "ticket.closed": _l("Ticket closed"),
    "ticket.reply_notified": _l("Customer told of a reply"),
    "ticket.reply_notify_failed": _l("Customer could not be told of a reply"),
    # --- incidents, notices, people ------------------------------------------------------
    "incident.created": _l("Incident created"),
    "incident.updated": _l("Incident changed"),
    "incident.logo_set": _l("Insurer logo uploaded"),
    "incident.logo_removed": _l("Insurer logo removed"),
    "incident_advice.saved": _l("Incident advice saved"),
    "filing.added": _l("Regulator filing recorded"),
    "notice.draft_created": _l("Notice draft created"),
    "notice.draft_saved": _l("Notice draft saved"),
    "notice.submitted": _l("Notice submitted for approval"),
    "notice.sent_back": _l("Notice sent back for changes"),
    "notice.approved": _l("Notice approved"),
    "notice.checklist_overridden": _l("Missing notice element accepted with a reason"),
    "notice.superseded": _l("Notice replaced by a newer version"),
    "notice.previewed": _l("Notice previewed for one customer"),
    "persons.import_queued": _l("Import of affected people queued"),
    "persons.imported": _l("Affected people imported"),
    "persons.import_failed": _l("Import of affected people failed"),
    "person.updated": _l("Affected person's record updated"),
    "activation_codes.imported": _l("Activation codes imported"),
    # --- answers ---------------------------------------------------------------------
    "answers.seeded": _l("Approved answers loaded"),
    "answer.draft_created": _l("Answer draft created"),
    "answer.draft_saved": _l("Answer draft saved"),
    "answer.submitted": _l("Answer submitted for review"),
    "answer.sent_back": _l("Answer sent back for changes"),
    "answer.approved": _l("Answer approved"),
    "answer.retired": _l("Answer retired"),
    # --- staff and security ------------------------------------------------------------
    "staff.login": _l("Staff member signed in"),
    "staff.login_failed": _l("Staff sign-in failed"),
    "staff.locked": _l("Staff sign-in locked after failed attempts"),
    "staff.logout": _l("Staff member signed out"),
    "staff.session_expired": _l("Staff session expired"),
    "staff.totp_enabled": _l("Two-factor sign-in turned on"),
    "staff.totp_disabled": _l("Two-factor sign-in turned off"),
    "staff.time_zone_changed": _l("Staff time zone changed"),
    "staff.created": _l("Staff account created"),
    "staff.deactivated": _l("Staff account deactivated"),
    "staff.unlocked": _l("Staff account unlocked"),
    "keys.rotated": _l("Data encryption keys rotated"),
    "outbox.revealed": _l("Outbox message shown unmasked"),
    # --- dispatch (issue 9) ------------------------------------------------------------
    "campaign.launched": _l("Notification campaign launched"),
    "campaign.paused": _l("Notification campaign paused"),
    "campaign.resumed": _l("Notification campaign resumed"),
    "campaign.cancelled": _l("Notification campaign cancelled"),
    "campaign.completed": _l("Notification campaign completed"),
    "campaign.queue_failed": _l("Notification campaign could not be queued"),
    "campaign.leases_recovered": _l("Messages of a stopped worker taken up again"),
    "campaign.evidence_exported": _l("Campaign evidence exported"),
    "letters.printed": _l("Letters prepared for printing"),
    "letters.downloaded": _l("Letter print files downloaded"),
    "letters.mailed": _l("Letters marked as mailed"),
    "letters.returned": _l("Letters marked as returned"),
    "sms.opted_out": _l("Customer opted out of text messages"),
    "sms.opted_in": _l("Customer opted in to text messages again"),
    "sms.sent": _l("Text message sent"),
    "sms.delivered": _l("Text message delivered"),
    "sms.undelivered": _l("Text message not delivered"),
    "sms.failed": _l("Text message failed"),
    "sms.help_requested": _l("Customer asked for help by text message"),
    "sms.inbound_unknown": _l("Text message from an unknown number"),
    "webhook.forged": _l("Forged webhook call refused"),
    # --- helpdesk (issue 10) -----------------------------------------------------------
    "ticket.viewed": _l("Ticket opened by staff"),
    "ticket.assigned": _l("Ticket assigned"),
    "ticket.status_changed": _l("Ticket status changed"),
    "ticket.note_added": _l("Internal note added to a ticket"),
    "ticket.replied": _l("Staff replied on a ticket"),
    "ticket.sla_changed": _l("Ticket response targets changed"),
    "tickets.seeded": _l("Demo tickets loaded"),
    "call.logged": _l("Phone call logged"),
    "pii.revealed": _l("Personal data revealed to staff"),
    "person.searched": _l("Affected people searched"),
    "person.viewed": _l("Affected person's record viewed"),
    "person.unlocked": _l("Customer's notice code unlocked by staff"),
    "person.unlocked_refused": _l("Unlock refused (daily limit reached)"),
    "person.code_resend": _l("Notice code sent again by staff"),
    "person.code_resend_refused": _l("Code resend refused (daily limit reached)"),
    "answer.created": _l("Answer created"),
    "answer.settings_changed": _l("Answer settings changed"),
    # --- audit chain and retention (issue 11) -----------------------------------------
    "audit.checkpointed": _l("Signed checkpoint of the log written"),
    "audit.verified": _l("Log integrity verified"),
    "data.purged": _l("Incident's personal data purged (retention)"),
    # --- reports and substitute notice (issue 11) ------------------------------------
    "report.exported": _l("Regulator report exported"),
    "substitute_notice.saved": _l("Substitute notice saved"),
    "substitute_notice.published": _l("Substitute notice published"),
    "substitute_notice.unpublished": _l("Substitute notice withdrawn"),
    # --- oversight (issue 11): log review, export, staff administration -------------
    "log.revealed": _l("Personal values of a log entry revealed"),
    "log.exported": _l("Interaction log exported"),
    "staff.invited": _l("Staff account created with a set-up link"),
    "staff.setup_link_renewed": _l("New set-up link issued"),
    "staff.setup_completed": _l("Staff member set their password"),
    "staff.role_changed": _l("Staff role changed"),
    "staff.reactivated": _l("Staff account reactivated"),
    "staff.totp_reset": _l("Two-factor sign-in reset"),
    "staff.incidents_changed": _l("Agent's incidents changed"),
}

# A family's label, for names no entry above covers (older rows, names built at run time).
PREFIXES = {
    "verify.": _l("Customer verification"),
    "notice.": _l("Notice"),
    "answer.": _l("Approved answer"),
    "answers.": _l("Approved answers"),
    "ticket.": _l("Ticket"),
    "incident.": _l("Incident"),
    "person.": _l("Affected person"),
    "persons.": _l("Affected people"),
    "staff.": _l("Staff account"),
    "code_resend.": _l("Notice code resend"),
    "campaign.": _l("Notification campaign"),
    "sms.": _l("Text message"),
    "email.": _l("E-mail"),
    "letter.": _l("Letter"),
    "audit.": _l("Interaction log"),
    "log.": _l("Interaction log"),
}


def label_for(action: str) -> str:
    """The plain-language label of ``action`` (its own, else its family's, else the name)."""
    label = LABELS.get(action)
    if label is not None:
        return str(label)
    best = ""
    for prefix in PREFIXES:
        if action.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return str(PREFIXES[best]) if best else action


def has_label(action: str) -> bool:
    """Tell whether ``action`` has a label of its own."""
    return action in LABELS


# The details' keys, named for the log page (the CSV export keeps the keys themselves).
# ``tests/audit/test_action_labels.py`` scans the source for keys written without a label.
DETAIL_LABELS = {
    "activation_code_id": _l("Activation code no."),
    "added": _l("Added"),
    "address_locks": _l("Address locks lifted"),
    "again": _l("Sent again to people already notified"),
    "answer_id": _l("Answer no."),
    "answer_version_id": _l("Answer version no."),
    "attempt": _l("Attempt"),
    "author_id": _l("Author (staff no.)"),
    "authority": _l("Authority"),
    "bad_id": _l("First broken entry"),
    "batch": _l("Batch"),
    "batch_id": _l("Batch no."),
    "by": _l("By"),
    "bytes": _l("Size (bytes)"),
    "campaign_id": _l("Campaign no."),
    "cancelled": _l("Cancelled"),
    "category": _l("Category"),
    "changes": _l("Changes"),
    "channel": _l("Channel"),
    "channels": _l("Channels"),
    "checkpoint_problems": _l("Checkpoint problems"),
    "checkpoints": _l("Checkpoints checked"),
    "count": _l("Number"),
    "counts": _l("Counts"),
    "created": _l("Created"),
    "direction": _l("Direction"),
    "dry_run": _l("Trial run"),
    "duplicates": _l("Duplicates"),
    "early": _l("Before the planned date"),
    "emailed": _l("Sent by e-mail"),
    "error": _l("Error"),
    "error_code": _l("Error code"),
    "failed": _l("Failed"),
    "failures": _l("Failed attempts"),
    "field": _l("Field"),
    "fields": _l("Fields"),
    "file": _l("File"),
    "filed_at": _l("Filed at"),
    "filing_id": _l("Filing no."),
    "filters": _l("Filters"),
    "format": _l("Format"),
    "from": _l("Changed from"),
    "from_role": _l("Previous role"),
    "hash": _l("Hash"),
    "hours": _l("Hours"),
    "ids": _l("Entries"),
    "import_run_id": _l("Import no."),
    "in": _l("Searched in"),
    "incident": _l("Incident"),
    "insurer_logo_digest": _l("Logo fingerprint"),
    "interaction_id": _l("Log entry no."),
    "key": _l("Key"),
    "key_id": _l("Signing key"),
    "kind": _l("Kind"),
    "language": _l("Language"),
    "last_row_id": _l("Last entry no."),
    "letters": _l("Letters"),
    "limit": _l("Limit"),
    "locked": _l("Locked"),
    "mailed_at": _l("Posted on"),
    "matched": _l("Match found"),
    "matches": _l("Matches"),
    "message_id": _l("Message no."),
    "method": _l("Method"),
    "minutes": _l("Minutes"),
    "new_ticket": _l("New ticket"),
    "notice_version": _l("Notice version"),
    "notice_version_id": _l("Notice version no."),
    "notification_id": _l("Message sent (no.)"),
    "notification_ids": _l("Messages sent (nos.)"),
    "outcome": _l("Outcome"),
    "overridden": _l("Checks overridden"),
    "pages": _l("Pages"),
    "path": _l("Address called"),
    "person_ids": _l("People found (nos.)"),
    "public": _l("Public"),
    "published": _l("Published"),
    "reason": _l("Reason"),
    "reference": _l("Reference"),
    "rejected": _l("Rejected"),
    "result": _l("Result"),
    "role": _l("Role"),
    "rows": _l("Rows"),
    "retired_version": _l("Retired version"),
    "rule_id": _l("Rule"),
    "scope": _l("Scope"),
    "sent_last_day": _l("Sent in the last day"),
    "seq": _l("Position in the log"),
    "signed": _l("Signed"),
    "skipped": _l("Skipped"),
    "source": _l("Source"),
    "staff_id": _l("Staff no."),
    "status": _l("Status"),
    "stay_up_until": _l("Online until"),
    "step": _l("Step"),
    "superseded_version": _l("Replaced version"),
    "text": _l("Text"),
    "ticket_id": _l("Ticket no."),
    "to": _l("Changed to"),
    "to_role": _l("New role"),
    "topic": _l("Topic"),
    "type": _l("Type"),
    "unchanged": _l("Unchanged"),
    "until": _l("Until"),
    "values": _l("Values"),
    "version": _l("Version"),
    "via": _l("Through"),
}


def detail_label(key: str) -> str:
    """A detail's name for people: its label, else the key with spaces for underscores."""
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")
