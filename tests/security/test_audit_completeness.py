"""Issue 11 item 4: every state-changing route and command writes an interaction, and so do
reads of personal data (notice views, reveals, exports, reports).

The routes come from ``app.url_map`` and the commands from ``app.cli``, so a route or
command nobody classified fails ``test_every_route_is_classified`` /
``test_every_command_is_classified`` the day it is added. Each entry says either how to
call it and which action it must write (``Writes``), or why it needs no interaction
(``Exempt``, the allow-list: a page that shows no personal value in clear, a read-only
command, a step that only stores something in the caller's own session).

ADDING YOUR ROUTES: one dict per area below (``CAMPAIGN_ROUTES``, ``HELPDESK_ROUTES``, ...);
a key is ``"METHOD endpoint"``; a ``Writes`` entry's ``call`` gets the ``World`` (clients
already signed in, an incident with an approved notice, a person, a ticket) and makes the
request, ``World.post`` adding the CSRF token. The test then checks that the action was
written by that call, by the actor ``by`` names, about the objects ``about`` names, and
that nothing the call wrote holds the person's values. There is no third kind: an entry
that only claims an action, uncalled, fails ``test_every_entry_is_called_or_exempt``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import click
import pytest
from sqlalchemy import func, select

from tests.support.dates import dob_fields


@dataclass(frozen=True)
class Writes:
    """Calling it must write ``action`` (an interaction with exactly that name).

    ``by`` is who the row must name as its actor: a key of ``World.staff`` ("manager",
    "manager2", ...), "customer" (the world's verified person), "visitor" (a customer not
    signed in) or "system". ``about`` names the
    objects the row must point at: for each name, ``world.<name>.id`` must equal the
    row's ``<name>_id`` column (incident, person, ticket, campaign) or, for objects the
    log has no column for, its ``<name>_id`` detail (answer, answer_version, batch).
    """

    action: str
    call: Callable
    by: str
    about: tuple[str, ...] = ()
    roles: tuple = field(default=())  # documentation only


@dataclass(frozen=True)
class Exempt:
    """No interaction needed, and why (the allow-list)."""

    reason: str


# Shared reasons of the allow-list.
PAGE = Exempt("a page or form: reads no personal value in clear, changes nothing")
ASSET = Exempt("a static asset or health probe")


# --- the world the calls run in ---------------------------------------------------------


class World:
    """Signed-in clients and the objects the routes name (built once per test)."""

    def __init__(self, app, db, incident, person, plain, ticket, clients, staff):
        self.app, self.db = app, db
        self.incident, self.person, self.plain, self.ticket = incident, person, plain, ticket
        self.clients, self.staff = clients, staff
        self.reference = incident.reference
        # set by the calls that create them: the campaign, its letter batch, the answer
        self.campaign = self.batch = self.answer = self.answer_version = None

    def token(self, client, url: str | None = None) -> str:
        import re

        page = client.get(url or self._form_page(client))
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {url}"
        return match.group(1)

    def _form_page(self, client) -> str:
        if client is self.clients["customer"]:
            return "/preferences"
        if client is self.clients["anonymous"]:
            return "/staff/login"
        return "/staff/account"

    def post(self, who: str, url: str, data: dict | None = None, token_url: str | None = None,
             **kwargs):
        client = self.clients[who]
        data = dict(data or {}, csrf_token=self.token(client, token_url))
        return client.post(url, data=data, **kwargs)

    def get(self, who: str, url: str):
        return self.clients[who].get(url)

    def incident_url(self, rest: str = "") -> str:
        return f"/helpdesk/incidents/{self.reference}{rest}"


def _draft(world: World, **changes):
    """A second English notice version (a draft), written by the first manager."""
    return world.post("manager", world.incident_url("/notices/en/edit"), {
        "what_happened": "Someone used a stolen password to view customer records.",
        "what_we_are_doing": "We reset every password and added monitoring.",
        "likely_consequences": "You may receive more convincing phishing messages.",
        "other_information": "This notice was not delayed by law enforcement.",
        "what_changed": "Clearer text.", **changes})


def _second_version(world: World, **changes) -> int:
    world.incident.dpo_contact = "dpo@insurer.example"  # the checklist asks for it
    world.db.session.commit()
    response = _draft(world, **changes)
    assert response.status_code == 302, response.text
    return 2


def _outbox_message(world: World) -> int:
    from portal.dispatch.channels import outbox

    outbox.store("email", "x@customer.example", "Your code is ABCD-EFGH-JKMN", "Code")
    world.db.session.commit()
    return outbox.recent(1)[0].id


def _totp_user(world: World, role: str):
    import pyotp

    user = world.staff["make"](role, totp_secret=pyotp.random_base32())
    return user


def _login_with_code(world: World):
    import pyotp

    user = world.staff["pending"] = _totp_user(world, "agent")
    client = world.app.test_client()
    world.clients["pending"] = client
    token = world.token(client, "/staff/login")
    client.post("/staff/login", data={"email": user.email, "password": world.staff["password"],
                                      "csrf_token": token})
    wrong = f"{(int(pyotp.TOTP(user.totp_secret).now()) + 1) % 1000000:06d}"
    return world.post("pending", "/staff/login/code", {"code": wrong},
                      token_url="/staff/login/code")


def _totp_setup(world: World):
    import pyotp

    admin = world.staff["admin-new"] = world.staff["make"]("admin")
    client = world.app.test_client()
    world.clients["admin-new"] = client
    token = world.token(client, "/staff/login")
    client.post("/staff/login", data={"email": admin.email, "password": world.staff["password"],
                                      "csrf_token": token})
    client.get("/staff/two-factor/setup")
    with client.session_transaction() as session:
        secret = session["staff_totp_setup_secret"]
    return world.post("admin-new", "/staff/two-factor/setup",
                      {"code": pyotp.TOTP(secret).now()}, token_url="/staff/two-factor/setup")


def _totp_disable(world: World):
    import pyotp

    user = world.staff["with-code"] = _totp_user(world, "agent")
    client = world.app.test_client()
    world.clients["with-code"] = client
    token = world.token(client, "/staff/login")
    client.post("/staff/login", data={"email": user.email, "password": world.staff["password"],
                                      "csrf_token": token})
    token = world.token(client, "/staff/login/code")
    totp = pyotp.TOTP(user.totp_secret)
    client.post("/staff/login/code", data={"code": totp.now(), "csrf_token": token})
    # the next step's code: the one just used is refused as a replay
    import time

    code = totp.at(time.time() + 30)
    return world.post("with-code", "/staff/two-factor/disable", {"code": code})


def _logo(world: World):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), (20, 60, 120)).save(buffer, format="PNG")
    return world.post("manager", world.incident_url("/logo"),
                      {"logo": (io.BytesIO(buffer.getvalue()), "logo.png", "image/png")},
                      token_url=world.incident_url("/logo"),
                      content_type="multipart/form-data")


def _import(world: World):
    import io

    from tests.support.imports import csv_text, good_row

    body = csv_text([good_row(9002)])
    return world.post("manager", world.incident_url("/imports/"),
                      {"file": (io.BytesIO(body.encode()), "people.csv", "text/csv")},
                      token_url=world.incident_url("/imports/"),
                      content_type="multipart/form-data")


def _log_row(world: World) -> int:
    from portal.models import Interaction

    return world.db.session.execute(select(func.max(Interaction.id))).scalar_one()


# --- the tables: one dict per area -------------------------------------------------------

CORE_ROUTES = {
    "GET static": ASSET,
    "GET health.healthz": ASSET,
    "GET dev.outbox": Exempt("message bodies are shown masked; a reveal is its own route"),
    "POST dev.reveal": Writes("outbox.revealed", lambda w: w.post(
        "manager", f"/dev/outbox/{_outbox_message(w)}/reveal", token_url="/dev/outbox"),
        by="manager"),
    "GET helpdesk_home.index": PAGE,
}

CUSTOMER_ROUTES = {
    "GET customer.index": PAGE,
    "POST customer.index": Exempt("keeps the typed code in the visitor's own session; "
                                  "the verification step that follows logs the attempt"),
    "GET customer.from_link": Exempt("keeps the code from the link in the visitor's own "
                                     "session; verification logs the attempt"),
    "GET customer.verify": PAGE,
    "POST customer.verify": Writes("verify.succeeded", lambda w: _verify(w),
        by="customer", about=("incident", "person")),
    "GET customer.no_letter": PAGE,
    "POST customer.no_letter": Writes("code_resend.requested", lambda w: w.post(
        "anonymous", "/no-letter", {"first_name": "Jamie", "last_name": w.plain["last_name"],
                                    **dob_fields(w.plain["date_of_birth"]),
                                    "postcode": w.plain["postcode"], "policy_number": ""},
        token_url="/no-letter"),
        by="visitor", about=("incident", "person")),
    "GET customer.faq": PAGE,
    "GET customer.insurer_logo": ASSET,
    "GET customer.signed_out": PAGE,
    "POST customer.sign_out": Writes("customer.signed_out", lambda w: w.post(
        "customer", "/sign-out"),
        by="customer", about=("incident", "person")),
    "GET customer.notice": Writes("notice.viewed", lambda w: w.get("customer", "/notice"),
        by="customer", about=("incident", "person")),
    "GET customer.notice_pdf": Writes("notice.pdf_downloaded",
                                      lambda w: w.get("customer", "/notice.pdf"),
        by="customer", about=("incident", "person")),
    "POST customer.reveal_activation_code": Writes("activation_code.assigned", lambda w: (
        _activation_pool(w), w.post("customer", "/notice/activation-code", token_url="/notice")
    )[1],
        by="customer", about=("incident", "person")),
    "GET customer.preferences": PAGE,
    "POST customer.preferences": Writes("preferences.changed", lambda w: w.post(
        "customer", "/preferences", {"language": "de", "preferred_channel": "email"}),
        by="customer", about=("incident", "person")),
    "GET customer.tickets": PAGE,
    "GET customer.ticket": Exempt("the customer's own thread, to the customer"),
    "GET customer.ticket_new": PAGE,
    "POST customer.ticket_new": Writes("ticket.created", lambda w: w.post(
        "customer", "/tickets/new", {"topic": "notice", "message": "What does this mean?"}),
        by="customer", about=("incident", "person")),
    "GET customer.ticket_reply": PAGE,
    "POST customer.ticket_reply": Writes("ticket.customer_replied", lambda w: w.post(
        "customer", f"/tickets/{w.ticket.id}/reply", {"message": "Any news please?"}),
        by="customer", about=("incident", "person", "ticket")),
    "POST customer.ticket_close": Writes("ticket.closed", lambda w: w.post(
        "customer", f"/tickets/{w.ticket.id}/close"),
        by="customer", about=("incident", "person", "ticket")),
}


# --- staff administration (issue 11 item 7): an admin signed in with two-factor ------------


def _admin(world: World) -> str:
    """Sign an administrator in (password, then an authenticator code); returns its client key."""
    import pyotp

    if "admin" not in world.clients:
        user = world.staff["admin"] = _totp_user(world, "admin")
        client = world.app.test_client()
        token = world.token(client, "/staff/login")
        client.post("/staff/login", data={"email": user.email, "password": world.staff["password"],
                                          "csrf_token": token})
        code = pyotp.TOTP(user.totp_secret).now()
        token = world.token(client, "/staff/login/code")  # the password step cleared the session
        signed = client.post("/staff/login/code", data={"code": code, "csrf_token": token})
        assert signed.status_code == 302, signed.text
        world.clients["admin"] = client
    return "admin"


def _admin_post(world: World, path: str, data: dict | None = None, **fields):
    """POST as the admin to ``/helpdesk/staff/<a new agent's id><path>``."""
    who = _admin(world)
    target = world.staff["make"]("agent", **fields)
    return world.post(who, f"/helpdesk/staff/{target.id}{path}", data or {})


def _redeem(world: World):
    import re

    from portal.models import StaffUser

    who = _admin(world)
    response = world.post(who, "/helpdesk/staff/", {"name": "New Agent", "role": "agent",
                                                    "email": "new.agent@staff.example"})
    link = re.search(r'value="https?://[^/"]+(/staff/setup/[^"]+)"', response.text).group(1)
    redeemed = world.post("fresh-setup" if "fresh-setup" in world.clients
                          else _fresh(world, "fresh-setup"), link,
                          {"password": "a long enough password",
                           "confirm": "a long enough password"}, token_url=link)
    world.staff["new"] = world.db.session.execute(select(StaffUser).where(
        StaffUser.email == "new.agent@staff.example")).scalar_one()
    return redeemed


def _fresh(world: World, name: str) -> str:
    world.clients[name] = world.app.test_client()
    return name


STAFF_AUTH_ROUTES = {
    "GET staff_auth.login": PAGE,
    "POST staff_auth.login": Writes("staff.login", lambda w: w.post(
        "anonymous", "/staff/login", {"email": w.staff["agent"].email,
                                      "password": w.staff["password"]}),
        by="agent"),
    "GET staff_auth.login_totp": PAGE,
    "POST staff_auth.login_totp": Writes("staff.login_failed", _login_with_code,
        by="pending"),
    "GET staff_auth.totp_setup": Exempt("shows the new secret to the member setting it up; "
                                        "stored in their session only until confirmed"),
    "POST staff_auth.totp_setup": Writes("staff.totp_enabled", _totp_setup,
        by="admin-new"),
    "GET staff_auth.account": PAGE,
    "POST staff_auth.time_zone": Writes("staff.time_zone_changed", lambda w: w.post(
        "manager", "/staff/account/time-zone", {"time_zone": "Europe/Berlin"}),
        by="manager"),
    "POST staff_auth.totp_disable": Writes("staff.totp_disabled", _totp_disable,
        by="with-code"),
    "POST staff_auth.logout": Writes("staff.logout", lambda w: w.post(
        "manager", "/staff/logout"),
        by="manager"),
}

INCIDENT_ROUTES = {
    "GET incidents.index": PAGE,
    "GET incidents.show": PAGE,
    "GET incidents.create": PAGE,
    "POST incidents.create": Writes("incident.created", lambda w: w.post(
        "manager", "/helpdesk/incidents/new", _incident_form("INC-NEW")),
        by="manager"),
    "GET incidents.edit": PAGE,
    "POST incidents.edit": Writes("incident.updated", lambda w: w.post(
        "manager", w.incident_url("/edit"), _incident_form(w.reference, title="Renamed")),
        by="manager", about=("incident",)),
    "GET incidents.add_filing_view": PAGE,
    "POST incidents.add_filing_view": Writes("filing.added", lambda w: w.post(
        "manager", w.incident_url("/filings/new"), {
            "authority": "CNIL", "rule_id": "gdpr_art33", "filed_at": "2026-11-12T08:00",
            "reference": "N-77", "notes": ""}),
        by="manager", about=("incident",)),
    "GET incidents.advice": PAGE,
    "POST incidents.advice": Writes("incident_advice.saved", lambda w: w.post(
        "manager", w.incident_url("/advice"), {
            "category": "contact_details", "language": "en", "text": "Watch for phishing."}),
        by="manager", about=("incident",)),
    "GET incidents.logo": PAGE,
    "POST incidents.logo": Writes("incident.logo_set", _logo,
        by="manager", about=("incident",)),
    "POST incidents.logo_remove": Writes("incident.logo_removed", lambda w: (
        _logo(w), w.post("manager", w.incident_url("/logo/remove"),
                         token_url=w.incident_url("/logo")))[1],
        by="manager", about=("incident",)),
    "GET notices.notice_edit": PAGE,
    "POST notices.notice_edit": Writes("notice.draft_created", lambda w: _draft(w),
        by="manager", about=("incident",)),
    "GET notices.notice_version": PAGE,
    "POST notices.notice_approve": Writes("notice.approved", lambda w: w.post(
        "manager2", w.incident_url(f"/notices/en/{_second_version(w)}/approve")),
        by="manager2", about=("incident",)),
    "POST notices.notice_override": Writes("notice.checklist_overridden", lambda w: w.post(
        "manager", w.incident_url(
            f"/notices/en/{_second_version(w, likely_consequences='')}"
            "/override/likely_consequences"),
        {"likely_consequences-reason": "Counsel: not applicable."},
        token_url=w.incident_url("/notices/en/2")),
        by="manager", about=("incident",)),
    "GET notices.notice_preview": Exempt("previews for a mix of categories, no person"),
    "POST notices.notice_preview_person": Writes("notice.previewed", lambda w: w.post(
        "manager", w.incident_url("/notices/en/1/preview"),
        {"external_ref": w.plain["external_ref"]}),
        by="manager", about=("incident", "person")),
    "GET imports.index": PAGE,
    "POST imports.index": Writes("persons.import_queued", _import,
        by="manager", about=("incident",)),
    "GET imports.show": PAGE,
    "GET imports.progress": PAGE,
    "GET imports.errors_csv": Exempt("line numbers, columns and reasons only (no values): "
                                     "portal/imports/rows.py writes no typed value"),
}

# --- campaigns and webhooks (issue 9): a letter campaign stays under way until mailed -----


def _campaign(world: World, channels=("letter",)):
    """Launch a campaign of the world's incident in the domain (``world.campaign``)."""
    from portal.dispatch import campaigns

    world.campaign, _summary = campaigns.launch(world.incident.id, list(channels))
    return world.campaign


def _batch(world: World):
    """A letter campaign with its letters printed in one batch (``world.batch``)."""
    from portal.dispatch import letters

    campaign = _campaign(world)
    letters.print_run(campaign.id)
    world.batch = letters.batches_of(campaign.id)[0]
    return world.batch


def _campaign_url(world: World, rest: str = "") -> str:
    return world.incident_url(f"/campaigns/{world.campaign.id}{rest}")


def _campaign_control(verb: str, paused: bool = False) -> Callable:
    def call(world: World):
        from portal.dispatch import campaigns

        campaign = _campaign(world)
        if paused:
            campaigns.pause(campaign.id)
        return world.post("manager", _campaign_url(world, f"/{verb}"))

    return call


def _launch(world: World):
    from portal.models import Campaign

    response = world.post("manager", world.incident_url("/campaigns/new"),
                          {"channels": ["letter"], "confirmed": "yes"})
    world.campaign = world.db.session.execute(
        select(Campaign).order_by(Campaign.id.desc()).limit(1)).scalar_one()
    return response


def _batch_file(world: World, name: str):
    batch = _batch(world)
    return world.get("manager", _campaign_url(world, f"/letters/{batch.id}{name}"))


def _returned(world: World):
    import io

    from portal.models import Letter

    batch = _batch(world)
    letter_id = world.db.session.execute(
        select(Letter.notification_id).where(Letter.batch_id == batch.id)).scalar_one()
    return world.post("manager", _campaign_url(world, "/letters/returned"),
                      {"file": (io.BytesIO(f"{letter_id}\n".encode()), "returned.csv",
                                "text/csv")},
                      content_type="multipart/form-data")


TWILIO_TOKEN = "completeness-twilio-token"  # noqa: S105 - the test app's, signs the webhooks


def _twilio(world: World, path: str, form: dict):
    """POST as Twilio does: signed for the public address with the auth token."""
    from twilio.request_validator import RequestValidator

    url = world.app.config["PORTAL_BASE_URL"].rstrip("/") + path
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    return world.clients["anonymous"].post(path, data=form,
                                           headers={"X-Twilio-Signature": signature})


def _delivered(world: World):
    from portal.models import Notification

    campaign = _campaign(world, ("sms",))
    sid = world.db.session.execute(select(Notification.provider_id).where(
        Notification.campaign_id == campaign.id)).scalar_one()
    return _twilio(world, "/hooks/twilio/status", {"MessageSid": sid,
                                                    "MessageStatus": "delivered"})


CAMPAIGN_ROUTES: dict = {
    # campaigns and dispatch (issue 9)
    "GET campaigns.index": PAGE,
    "GET campaigns.new": PAGE,
    "GET campaigns.show": PAGE,
    "GET campaigns.progress": PAGE,
    "GET campaigns.letters_index": PAGE,
    "GET campaigns.evidence_csv": Writes(
        "campaign.evidence_exported", lambda w: (
            _campaign(w), w.get("manager", _campaign_url(w, "/evidence.csv")))[-1],
        by="manager", about=("incident", "campaign")),
    "GET campaigns.letters_manifest": Writes(
        "letters.downloaded", lambda w: _batch_file(w, "-manifest.csv"),
        by="manager", about=("incident", "campaign")),
    "GET campaigns.letters_pdf": Writes(
        "letters.downloaded", lambda w: _batch_file(w, ".pdf"),
        by="manager", about=("incident", "campaign")),
    "POST campaigns.new": Writes("campaign.launched", _launch,
                                 by="manager", about=("incident", "campaign")),
    "POST campaigns.pause": Writes("campaign.paused", _campaign_control("pause"),
                                   by="manager", about=("incident", "campaign")),
    "POST campaigns.resume": Writes("campaign.resumed", _campaign_control("resume", paused=True),
                                    by="manager", about=("incident", "campaign")),
    "POST campaigns.cancel": Writes("campaign.cancelled", _campaign_control("cancel"),
                                    by="manager", about=("incident", "campaign")),
    "POST campaigns.letters_print": Writes(
        "letters.printed", lambda w: (
            _campaign(w), w.post("manager", _campaign_url(w, "/letters/print")))[-1],
        by="manager", about=("incident", "campaign")),
    "POST campaigns.letters_mailed": Writes(
        "letters.mailed", lambda w: w.post(
            "manager", _campaign_url(w, f"/letters/{_batch(w).id}/mailed")),
        by="manager", about=("incident", "campaign")),
    "POST campaigns.letters_returned": Writes("letters.returned", _returned,
                                              by="manager", about=("incident", "campaign")),
    "POST webhooks.twilio_status": Writes("sms.delivered", _delivered,
                                          by="system", about=("incident", "person", "campaign")),
    "POST webhooks.twilio_inbound": Writes("sms.opted_out", lambda w: _twilio(
        w, "/hooks/twilio/inbound", {"From": w.plain["phone"], "Body": "STOP",
                                     "MessageSid": "SMinbound"}),
        by="customer", about=("incident", "person")),
}

# --- helpdesk (issue 10): tickets, people reached through the world's ticket, answers ------


def _ticket_url(world: World, rest: str = "") -> str:
    return f"/helpdesk/tickets/{world.ticket.id}{rest}"


def _reply(world: World):
    from portal.models import TicketMessage

    seen = world.db.session.execute(select(func.max(TicketMessage.id)).where(
        TicketMessage.ticket_id == world.ticket.id)).scalar_one()
    return world.post("manager", _ticket_url(world, "/reply"), {
        "body": "We are looking into it.", "status": "pending_customer",
        "seen_message_id": str(seen), "answer_version_id": ""})


def _person_post(rest: str, data: dict | None = None, locked: bool = False) -> Callable:
    """POST to the world's person page after reaching them through their ticket."""

    def call(world: World):
        # The ticket page's link to the person names the ticket: that grants the person.
        world.get("manager", f"/helpdesk/people/{world.person.id}?ticket_id={world.ticket.id}")
        if locked:
            _lock(world)
        return world.post("manager", f"/helpdesk/people/{world.person.id}{rest}", data)

    return call


def _lock(world: World) -> None:
    from portal.models import AttemptCounter
    from portal.models.base import utcnow
    from portal.people.unknown_codes import row_key

    world.db.session.merge(AttemptCounter(
        key=row_key(world.person.code_index), failures=5, failures_since=utcnow(),
        locked_until=utcnow() + timedelta(minutes=30)))
    world.db.session.commit()


def _answer(world: World, *, submitted: bool = False, approved: bool = False):
    """An answer with an English draft by the first manager (``world.answer_version``);
    submitted for review, or also approved by the second."""
    from portal.answers import library

    version = library.create_answer("faq.audit", "incident", False, None, "en",
                                    "What happened", "Hello {{ first_name }}.",
                                    world.staff["manager"].id)
    if submitted or approved:
        library.submit(version, world.staff["manager"].id)
    if approved:
        library.approve(version, world.staff["manager2"].id)
    world.db.session.commit()
    world.answer, world.answer_version = version.answer, version
    return version


def _answer_url(world: World, rest: str = "") -> str:
    return f"/helpdesk/answers/{world.answer.id}{rest}"


def _answer_step(step: str, who: str = "manager", data: dict | None = None,
                 **state) -> Callable:
    def call(world: World):
        _answer(world, **state)
        return world.post(who, _answer_url(world, f"/en/1/{step}"), data)

    return call


def _new_answer(world: World):
    from portal.models import Answer

    response = world.post("manager", "/helpdesk/answers/new", {
        "key": "faq.new", "category": "incident", "incident_id": "", "language": "en",
        "title": "What happened", "body": "Hello {{ first_name }}."})
    world.answer = world.db.session.execute(
        select(Answer).where(Answer.key == "faq.new")).scalar_one()
    return response


HELPDESK_ROUTES: dict = {
    # tickets, people, answers (issue 10)
    "GET tickets.queue": PAGE,
    "POST tickets.queue": Writes("person.searched", lambda w: w.post(
        "manager", "/helpdesk/tickets/", {"q": w.plain["external_ref"]}), by="manager"),
    "GET tickets.show": Writes("ticket.viewed", lambda w: w.get(
        "manager", f"/helpdesk/tickets/{w.ticket.id}"),
        by="manager", about=("incident", "person", "ticket")),
    "GET tickets.sla_index": PAGE,
    "GET tickets.sla_edit": PAGE,
    "POST tickets.sla_edit": Writes("ticket.sla_changed", lambda w: w.post(
        "manager", f"/helpdesk/tickets/sla/{w.reference}", {
            "first_response_hours": "4", "resolution_hours": "48",
            "business_days": ["1", "2", "3", "4", "5"], "day_start": "08:00",
            "day_end": "18:00"}),
        by="manager", about=("incident",)),
    "POST tickets.take": Writes("ticket.assigned", lambda w: w.post(
        "manager", f"/helpdesk/tickets/{w.ticket.id}/take", {"ticket_id": w.ticket.id}),
        by="manager", about=("incident", "person", "ticket")),
    "POST tickets.assign_to": Writes("ticket.assigned", lambda w: w.post(
        "manager", _ticket_url(w, "/assign"), {"assignee": str(w.staff["agent"].id)}),
        by="manager", about=("incident", "person", "ticket")),
    "POST tickets.change_status": Writes("ticket.status_changed", lambda w: w.post(
        "manager", f"/helpdesk/tickets/{w.ticket.id}/status", {"status": "resolved"}),
        by="manager", about=("incident", "person", "ticket")),
    "POST tickets.note": Writes("ticket.note_added", lambda w: w.post(
        "manager", f"/helpdesk/tickets/{w.ticket.id}/note", {"body": "Called back"}),
        by="manager", about=("incident", "person", "ticket")),
    "POST tickets.reply_to": Writes("ticket.replied", _reply,
                                    by="manager", about=("incident", "person", "ticket")),
    "POST tickets.reveal": Writes("pii.revealed", lambda w: w.post(
        "manager", _ticket_url(w, "/reveal"), {"field": "email", "reason": "verify_identity"}),
        by="manager", about=("incident", "person", "ticket")),
    "POST tickets.compose": Exempt("the ticket page again with the reply box as typed, an "
                                   "approved answer filled in or the answers searched; sends "
                                   "and changes nothing"),
    "POST tickets.ping": Exempt("presence only: who else has the ticket open (kept in Redis, "
                                "expires by itself); changes no record"),
    "GET people.search": PAGE,
    "POST people.search": Writes("person.searched", lambda w: w.post(
        "manager", "/helpdesk/people/", {"q": w.plain["external_ref"]}), by="manager"),
    "GET people.show": Writes("person.viewed", lambda w: w.get(  # through the ticket's link
        "manager", f"/helpdesk/people/{w.person.id}?ticket_id={w.ticket.id}"),
        by="manager", about=("incident", "person")),
    "GET people.log_call": PAGE,
    "POST people.log_call": Writes("call.logged", _person_post("/call", {
        "direction": "inbound", "minutes": "5", "outcome": "answered", "topic": "notice",
        "summary": "Asked when the letter was sent."}),
        by="manager", about=("incident", "person")),
    "POST people.open_ticket": Writes("ticket.created", _person_post("/tickets", {
        "channel": "phone", "topic": "notice", "note": "Wants a call back tomorrow."}),
        by="manager", about=("incident", "person")),
    "POST people.resend": Writes("person.code_resend", _person_post("/resend"),
                                 by="manager", about=("incident", "person")),
    "POST people.unlock": Writes("person.unlocked", _person_post("/unlock", locked=True),
                                 by="manager", about=("incident", "person")),
    "GET answers.index": PAGE,
    "GET answers.show": PAGE,
    "GET answers.create": PAGE,
    "GET answers.edit": PAGE,
    "GET answers.settings": PAGE,
    "POST answers.create": Writes("answer.created", _new_answer,
                                  by="manager", about=("answer",)),
    "POST answers.edit": Writes("answer.draft_saved", lambda w: (
        _answer(w), w.post("manager", _answer_url(w, "/en/edit"), {
            "title": "What happened", "body": "Hello {{ first_name }}, in short."}))[-1],
        by="manager", about=("answer_version",)),
    "POST answers.submit": Writes("answer.submitted", _answer_step("submit"),
                                  by="manager", about=("answer_version",)),
    "POST answers.send_back": Writes("answer.sent_back", _answer_step(
        "send-back", "manager2", {"note": "Say when it happened."}, submitted=True),
        by="manager2", about=("answer_version",)),
    "POST answers.approve": Writes("answer.approved", _answer_step(
        "approve", "manager2", submitted=True), by="manager2", about=("answer_version",)),
    "POST answers.retire": Writes("answer.retired", _answer_step("retire", approved=True),
                                  by="manager", about=("answer_version",)),
    "POST answers.settings": Writes("answer.settings_changed", lambda w: (
        _answer(w), w.post("manager", _answer_url(w, "/settings"), {
            "category": "protection", "incident_id": "", "public": "y"}))[-1],
        by="manager", about=("answer",)),
}


def _substitute(world: World, published: bool = False) -> None:
    """The world's incident with a saved (and perhaps published) substitute notice."""
    from portal.reports import substitute

    substitute.save(world.incident, {"en": "Someone reached our policy server."},
                    "+1 800 555 0199", date.today() + timedelta(days=120),
                    world.staff["manager"].id)
    if published:
        substitute.publish(world.incident, world.staff["manager"].id)
    world.db.session.commit()


REPORT_ROUTES: dict = {
    # dashboards, the regulator report and the substitute notice (issue 11)
    "GET reports.index": Exempt("dashboards: aggregates per day and channel, no person"),
    "GET reports.incident": Exempt("dashboards: aggregates per day and channel, no person"),
    "GET incident_reports.report_json": Writes("report.exported", lambda w: w.get(
        "manager", w.incident_url("/report.json")),
        by="manager", about=("incident",)),
    "GET incident_reports.report_pdf": Writes("report.exported", lambda w: w.get(
        "manager", w.incident_url("/report.pdf")),
        by="manager", about=("incident",)),
    "GET incident_reports.substitute_notice": PAGE,
    "POST incident_reports.substitute_notice": Writes("substitute_notice.saved", lambda w: w.post(
        "manager", w.incident_url("/substitute-notice"), {
            "summary_en": "Someone reached our policy server.", "hotline": "+1 800 555 0199",
            "stay_up_until": (date.today() + timedelta(days=120)).isoformat()}),
        by="manager", about=("incident",)),
    "POST incident_reports.substitute_publish": Writes("substitute_notice.published", lambda w: (
        _substitute(w), w.post("manager", w.incident_url("/substitute-notice/publish")))[-1],
        by="manager", about=("incident",)),
    "POST incident_reports.substitute_unpublish": Writes(
        "substitute_notice.unpublished", lambda w: (
            _substitute(w, published=True),
            w.post("manager", w.incident_url("/substitute-notice/unpublish"),
                   {"reason": "The insurer's own site carries it now."}))[-1],
        by="manager", about=("incident",)),
    "GET public.incident": Exempt("the public substitute notice: no personal data"),
}

OVERSIGHT_ROUTES = {
    "GET audit_log.index": Exempt("personal detail values are masked on the page"),
    "GET audit_log.export": Writes("log.exported", lambda w: w.get(
        "manager", "/helpdesk/log/export.csv?action=verify."),
        by="manager"),
    "GET audit_log.reveal": Exempt("asks for a reason; values still masked"),
    "POST audit_log.reveal": Writes("log.revealed", lambda w: w.post(
        "manager", f"/helpdesk/log/{_log_row(w)}/reveal", {"reason": "Regulator question 7"}),
        by="manager"),
}

STAFF_ADMIN_ROUTES = {
    "GET staff_auth.setup": Exempt("the set-up form: shows the member their own name and "
                                   "work address; unknown, used and expired links look alike"),
    "POST staff_auth.setup": Writes("staff.setup_completed", _redeem,
        by="new"),
    "GET staff_admin.index": Exempt("staff accounts (names, work addresses): no customer data"),
    "POST staff_admin.index": Writes("staff.invited", lambda w: w.post(
        _admin(w), "/helpdesk/staff/", {"name": "Nia Agent", "role": "agent",
                                        "email": "nia@staff.example"}),
        by="admin"),
    "GET staff_admin.show": Exempt("one staff account: no customer data"),
    "POST staff_admin.change_role": Writes("staff.role_changed", lambda w: _admin_post(
        w, "/role", {"role": "manager"}),
        by="admin"),
    "GET staff_admin.deactivate": Exempt("the confirmation page: one staff account, "
                                         "changes nothing"),
    "GET staff_admin.reset_two_factor": Exempt("the confirmation page: one staff account, "
                                               "changes nothing"),
    "POST staff_admin.deactivate": Writes("staff.deactivated", lambda w: _admin_post(
        w, "/deactivate"),
        by="admin"),
    "POST staff_admin.reactivate": Writes("staff.reactivated", lambda w: _admin_post(
        w, "/reactivate", active=False),
        by="admin"),
    "POST staff_admin.unlock": Writes("staff.unlocked", lambda w: _admin_post(w, "/unlock"),
        by="admin"),
    "POST staff_admin.reset_two_factor": Writes("staff.totp_reset", lambda w: _admin_post(
        w, "/two-factor/reset", totp_secret="JBSWY3DPEHPK3PXP"),
        by="admin"),
    "POST staff_admin.incidents": Writes("staff.incidents_changed", lambda w: _admin_post(
        w, "/incidents", {"incidents": [str(w.incident.id)]}),
        by="admin"),
    "POST staff_admin.new_link": Writes("staff.setup_link_renewed", lambda w: _admin_post(
        w, "/link"),
        by="admin"),
}

ROUTE_TABLES = (CORE_ROUTES, CUSTOMER_ROUTES, STAFF_AUTH_ROUTES, INCIDENT_ROUTES,
                CAMPAIGN_ROUTES, HELPDESK_ROUTES, REPORT_ROUTES, OVERSIGHT_ROUTES,
                STAFF_ADMIN_ROUTES)


# --- commands: one dict per area; the key is the command's path -------------------------

READ_ONLY = Exempt("reads or prints only; changes no data")
DEVELOPER = Exempt("developer tooling: schema or message catalogs, not the product's data")


def _cli_incident(runner, world):
    return runner.invoke(args=["incidents", "create", "--reference", "INC-CLI", "--title",
                               "From the command line", "--determined-at", "2026-11-01T10:00"])


CORE_COMMANDS = {
    **{f"db {name}": DEVELOPER for name in (
        "list-templates", "init", "revision", "migrate", "edit", "merge", "upgrade",
        "downgrade", "show", "history", "heads", "branches", "current", "stamp", "check")},
    "translate update": DEVELOPER,
    "translate compile": DEVELOPER,
    "translate check": DEVELOPER,
    "worker": Exempt("runs jobs; each job logs what it does"),
    "demo": Exempt("seeds demo data (logging incident.created, persons.imported, ...) and "
                   "serves; the seed's logging is tested in tests/notices"),
    "keys generate": Exempt("prints a new key; stores nothing"),
    "keys rotate": Writes("keys.rotated", lambda runner, w: runner.invoke(
        args=["keys", "rotate"]),
        by="system"),
    "audit verify": READ_ONLY,
    "users create": Writes("staff.created", lambda runner, w: runner.invoke(
        args=["users", "create", "--email", "cli@staff.example", "--name", "Cli",
              "--role", "agent"], env={"PORTAL_PASSWORD": "a long enough password"}),
        by="system"),
    "users deactivate": Writes("staff.deactivated", lambda runner, w: runner.invoke(
        args=["users", "deactivate", "--email", w.staff["agent"].email]),
        by="system"),
    "users unlock": Writes("staff.unlocked", lambda runner, w: runner.invoke(
        args=["users", "unlock", "--email", w.staff["agent"].email]),
        by="system"),
    "users list": READ_ONLY,
    "incidents list": READ_ONLY,
    "incidents create": Writes("incident.created", _cli_incident,
        by="system"),
    "codes import": Writes("activation_codes.imported", lambda runner, w: _codes_import(
        runner, w),
        by="system", about=("incident",)),
    "persons import": Writes("persons.imported", lambda runner, w: _persons_import(runner, w),
        by="system", about=("incident",)),
}

def _cli_campaign(verb: str, paused: bool = False) -> Callable:
    def call(runner, world: World):
        from portal.dispatch import campaigns

        campaign = _campaign(world)
        if paused:
            campaigns.pause(campaign.id)
        return runner.invoke(args=["campaigns", verb, str(campaign.id)])

    return call


def _cli_launch(runner, world: World):
    from portal.models import Campaign

    result = runner.invoke(args=["campaigns", "launch", "--incident", world.reference,
                                 "--channels", "letter"])
    world.campaign = world.db.session.execute(
        select(Campaign).order_by(Campaign.id.desc()).limit(1)).scalar_one()
    return result


def _cli_recover(runner, world: World):
    """A letter whose printer died while holding it: its lease ran out."""
    from sqlalchemy import update

    from portal.models import Notification
    from portal.models.base import utcnow

    campaign = _campaign(world)
    world.db.session.execute(update(Notification).where(
        Notification.campaign_id == campaign.id).values(
        status="sending", lease_until=utcnow() - timedelta(minutes=5)))
    world.db.session.commit()
    return runner.invoke(args=["campaigns", "recover"])


def _cli_returned(runner, world: World):
    from portal.models import Letter

    batch = _batch(world)
    letter_id = world.db.session.execute(
        select(Letter.notification_id).where(Letter.batch_id == batch.id)).scalar_one()
    path = world.tmp / "returned.csv"
    path.write_text(f"letter_id\n{letter_id}\n")
    return runner.invoke(args=["campaigns", "letters-returned", str(world.campaign.id),
                               "--file", str(path)])


CAMPAIGN_COMMANDS: dict = {
    # campaigns and dispatch (issue 9): the command line acts as the system
    "campaigns list": READ_ONLY,
    "campaigns status": READ_ONLY,
    "campaigns launch": Writes("campaign.launched", _cli_launch,
                               by="system", about=("incident", "campaign")),
    "campaigns pause": Writes("campaign.paused", _cli_campaign("pause"),
                              by="system", about=("incident", "campaign")),
    "campaigns resume": Writes("campaign.resumed", _cli_campaign("resume", paused=True),
                               by="system", about=("incident", "campaign")),
    "campaigns cancel": Writes("campaign.cancelled", _cli_campaign("cancel"),
                               by="system", about=("incident", "campaign")),
    "campaigns recover": Writes("campaign.leases_recovered", _cli_recover,
                                by="system", about=("incident", "campaign")),
    "campaigns evidence": Writes("campaign.evidence_exported", lambda runner, w: (
        _campaign(w), runner.invoke(args=["campaigns", "evidence", str(w.campaign.id),
                                          "--out", str(w.tmp / "evidence.csv")]))[-1],
        by="system", about=("incident", "campaign")),
    "campaigns letters": Writes("letters.printed", lambda runner, w: (
        _campaign(w), runner.invoke(args=["campaigns", "letters", str(w.campaign.id),
                                          "--out", str(w.tmp / "print")]))[-1],
        by="system", about=("incident", "campaign")),
    "campaigns letters-mailed": Writes("letters.mailed", lambda runner, w: (
        _batch(w), runner.invoke(args=["campaigns", "letters-mailed", str(w.campaign.id),
                                       "--batch", str(w.batch.number)]))[-1],
        by="system", about=("incident", "campaign")),
    "campaigns letters-returned": Writes("letters.returned", _cli_returned,
                                         by="system", about=("incident", "campaign")),
}

HELPDESK_COMMANDS: dict = {
    # helpdesk (issue 10)
}

AUDIT_COMMANDS: dict = {
    # audit chain and retention (issue 11)
    "audit checkpoint": Writes("audit.checkpointed", lambda runner, w: (
        w.app.config.update(PORTAL_AUDIT_CHECKPOINT_DIR=str(w.tmp)),
        runner.invoke(args=["audit", "checkpoint", "--out", str(w.tmp / "head.json")]))[-1],
        by="system"),
    "audit public-key": READ_ONLY,
    "data purge": Writes("data.purged", lambda runner, w: runner.invoke(
        args=["data", "purge", "--incident", w.reference, "--yes"]),
        by="system", about=("incident",)),
}

OVERSIGHT_COMMANDS = {
    "audit export": Writes("log.exported", lambda runner, w: runner.invoke(
        args=["audit", "export", "--out", "-", "--action", "verify."]),
        by="system"),
}

COMMAND_TABLES = (CORE_COMMANDS, CAMPAIGN_COMMANDS, HELPDESK_COMMANDS, AUDIT_COMMANDS,
                  OVERSIGHT_COMMANDS)


def _codes_import(runner, world):
    path = world.tmp / "codes.csv"
    path.write_text("code\nWATCH-0001\nWATCH-0002\n")
    return runner.invoke(args=["codes", "import", "--incident", world.reference, str(path)])


def _persons_import(runner, world):
    from tests.support.imports import csv_text, good_row

    path = world.tmp / "people.csv"
    path.write_text(csv_text([good_row(9001)]))
    return runner.invoke(args=["persons", "import", "--incident", world.reference,
                               "--workers", "1", str(path)])


# --- helpers of the calls -----------------------------------------------------------------


def _incident_form(reference: str, **changes) -> dict:
    form = {
        "reference": reference, "title": "Policy system accessed",
        "insurer_name": "Example Mutual", "status": "active", "summary": "",
        "occurred_from": "2026-11-01T08:00", "occurred_to": "2026-11-03T18:00",
        "discovered_at": "2026-11-10T09:30", "determined_at": "2026-11-11T12:00",
        "contained_at": "", "categories": ["contact_details", "date_of_birth"],
        "jurisdictions": ["gdpr_art33", "gdpr_art34"], "default_language": "en",
        "verification_method": "postcode", "contact_hotline": "+1 800 555 0123",
        "contact_hours": "Mon-Fri 8-20", "contact_email": "help@insurer.example",
        "contact_postal_address": "1 Example Plaza", "dpo_contact": "dpo@insurer.example",
        "monitoring_provider": "", "monitoring_enroll_url": "", "monitoring_enroll_by": "",
    }
    form.update(changes)
    return form


def _verify(world: World):
    client = world.app.test_client()
    world.clients["fresh"] = client
    token = world.token(client, "/")
    client.post("/", data={"code": world.plain["notice_code"], "csrf_token": token})
    return client.post("/verify", data={**dob_fields(world.plain["date_of_birth"]),
                                        "postcode": world.plain["postcode"],
                                        "csrf_token": token})


def _activation_pool(world: World) -> None:
    from portal.people.activation import import_codes

    path = world.tmp / "pool.csv"
    path.write_text("code\nWATCH-1111\nWATCH-2222\n")
    import_codes(world.incident.id, path)
    world.incident.monitoring_provider = "Watchful Ltd"
    world.db.session.commit()


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def app_settings(database_url, data_keys, tmp_path):
    from tests.support import make_settings

    return make_settings(database_url, data_keys, TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
                         DISPATCH_LETTER_DIR=str(tmp_path / "letters"))


@pytest.fixture
def world(app, db, approved_incident, make_person, make_staff, verify_as, staff_client,
          tmp_path):
    from portal.models import Ticket, TicketMessage
    from tests.support import STAFF_PASSWORD

    incident = approved_incident(reference="INC-001")
    person, plain = make_person(incident, address_line1="1 Example Street")
    ticket = Ticket(incident_id=incident.id, person_id=person.id, channel="web",
                    topic="notice", status="open")
    db.session.add(ticket)
    db.session.flush()
    db.session.add(TicketMessage(ticket_id=ticket.id, author_type="customer",
                                 author_id=person.id, channel="web", body="Hello",
                                 internal=False))
    db.session.commit()
    manager, manager2 = make_staff("manager"), make_staff("manager")
    agent = make_staff("agent")
    clients = {"customer": verify_as(plain), "manager": staff_client(manager),
               "manager2": staff_client(manager2), "anonymous": app.test_client()}
    staff = {"manager": manager, "manager2": manager2, "agent": agent,
             "password": STAFF_PASSWORD, "make": make_staff}
    made = World(app, db, incident, person, plain, ticket, clients, staff)
    made.tmp = tmp_path
    return made


def _route_keys(app) -> set[str]:
    keys = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            keys.add(f"{method} {rule.endpoint}")
    return keys


def _all(tables) -> dict:
    merged: dict = {}
    for table in tables:
        overlap = set(merged) & set(table)
        assert not overlap, f"listed twice: {sorted(overlap)}"
        merged.update(table)
    return merged


ROUTES = _all(ROUTE_TABLES)
COMMANDS = _all(COMMAND_TABLES)


def _command_paths(group: click.Group, prefix: str = "") -> set[str]:
    paths = set()
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            paths |= _command_paths(command, path)
        else:
            paths.add(path)
    return paths


# --- the checks ---------------------------------------------------------------------------


def test_every_route_is_classified(app):
    keys = _route_keys(app)
    missing = sorted(keys - set(ROUTES))
    assert not missing, (
        f"add these routes to a table in {__file__} (Writes: how to call it and the action "
        f"it writes; Exempt: why it needs none): {missing}")
    stale = sorted(set(ROUTES) - keys)
    assert not stale, f"these table entries name no route: {stale}"


def test_state_changing_routes_are_not_exempt_without_a_reason(app):
    for key, entry in ROUTES.items():
        method = key.split(" ", 1)[0]
        if method in {"POST", "PUT", "PATCH", "DELETE"} and isinstance(entry, Exempt):
            assert entry is not PAGE and entry is not ASSET, (
                f"{key} changes state: give it a Writes entry or a reason of its own")


def test_every_entry_is_called_or_exempt():
    """No entry may only claim an action: each is called and checked, or exempt."""
    from portal.audit.labels import LABELS

    for key, entry in {**ROUTES, **COMMANDS}.items():
        assert isinstance(entry, Writes | Exempt), f"{key}: {entry!r} is neither Writes nor Exempt"
        if isinstance(entry, Writes):
            assert entry.action in LABELS, f"{key}: {entry.action} has no label in the log"


def test_every_command_is_classified(app):
    paths = _command_paths(app.cli)
    missing = sorted(paths - set(COMMANDS))
    assert not missing, f"add these commands to a table in {__file__}: {missing}"
    stale = sorted(set(COMMANDS) - paths)
    assert not stale, f"these table entries name no command: {stale}"


def _rows_after(db, last_id: int) -> list:
    from portal.models import Interaction

    db.session.expire_all()
    return list(db.session.execute(
        select(Interaction).where(Interaction.id > last_id).order_by(Interaction.id)
    ).scalars())


def _last_id(db) -> int:
    from portal.models import Interaction

    return db.session.execute(select(func.coalesce(func.max(Interaction.id), 0))).scalar_one()


# What the customer knows and the log must never hold in clear (the external reference
# is the insurer's own key, which the log review filters by).
PERSONAL_FIELDS = ("last_name", "date_of_birth", "postcode", "policy_number", "email",
                   "phone", "notice_code")


def _check_written(world: World, key: str, entry: Writes, rows: list, status) -> None:
    """The action was written, by the right actor about the right objects, and no row
    the call wrote holds one of the person's values in its details."""
    from portal.audit.log import canonical_json

    written = [row.action for row in rows]
    assert entry.action in written, (
        f"{key} wrote {written} (status {status}), expected {entry.action}")
    for row in rows:
        details = canonical_json(row.details).lower()
        for name in PERSONAL_FIELDS:
            value = str(world.plain[name]).lower()
            assert value not in details, f"{key}: {row.action} logs the {name}: {row.details}"
    row = [row for row in rows if row.action == entry.action][-1]
    if entry.by in ("system", "visitor"):
        expected = ("system" if entry.by == "system" else "customer", None)
    elif entry.by == "customer":
        expected = ("customer", world.person.id)
    else:
        expected = ("staff", world.staff[entry.by].id)
    assert (row.actor_type, row.actor_id) == expected, (
        f"{key}: {entry.action} names {row.actor_type} {row.actor_id} as its actor, "
        f"expected {entry.by} {expected}")
    for name in entry.about:
        target = getattr(world, name).id
        found = getattr(row, f"{name}_id", None)
        if found is None:
            found = row.details.get(f"{name}_id")
        assert found == target, (
            f"{key}: {entry.action} points at {name} {found}, expected {target}")


ROUTE_CASES = sorted(key for key, entry in ROUTES.items() if isinstance(entry, Writes))
COMMAND_CASES = sorted(key for key, entry in COMMANDS.items() if isinstance(entry, Writes))


@pytest.mark.parametrize("key", ROUTE_CASES)
def test_route_writes_its_interaction(app, db, world, key):
    entry = ROUTES[key]
    before = _last_id(db)
    response = entry.call(world)
    assert response.status_code < 500, (key, response.status_code)
    _check_written(world, key, entry, _rows_after(db, before), response.status_code)


@pytest.mark.parametrize("key", COMMAND_CASES)
def test_command_writes_its_interaction(app, db, world, runner, key):
    entry = COMMANDS[key]
    before = _last_id(db)
    result = entry.call(runner, world)
    assert result.exit_code == 0, (key, result.output, result.exception)
    _check_written(world, key, entry, _rows_after(db, before), result.exit_code)
