"""Times in the reader's zone (issue 13, item 2): one helper, the incident's zone for
customers, the staff member's own zone on staff pages, the portal's zone on the lock page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template
from flask_babel import force_locale

from portal.core.i18n import display_zone_name, format_when, is_time_zone, use_page_zone
from portal.incidents.operations import (
    IncidentError,
    create_incident,
    find_incident,
    update_incident,
)
from portal.incidents.time_zones import default_time_zone, zone_from_address
from portal.models import NoticeVersion, StaffUser
from portal.notices.build import build_notice

# 28 Nov 2026, 03:26 UTC: the evening of the 27th in Sacramento.
MOMENT = datetime(2026, 11, 28, 3, 26, tzinfo=UTC)


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Nov 27, 2026, 7:26:00\u202fPM (PST)"),
    ("de", "27.11.2026, 19:26:00 (PST)"),
    ("fr", "27 nov. 2026, 19:26:00 (PST)"),
    ("es", "27 nov 2026, 19:26:00 (PST)"),
])
def test_a_time_is_shown_in_the_zone_and_language_with_its_abbreviation(app, language, expected):
    with app.test_request_context(), force_locale(language):
        assert format_when(MOMENT, "medium", "America/Los_Angeles") == expected


def test_dates_are_the_readers_calendar_day_and_carry_no_abbreviation(app):
    with app.test_request_context(), force_locale("en"):
        assert format_when(MOMENT, "long", "America/Los_Angeles", date_only=True) == \
            "November 27, 2026"
        assert format_when(MOMENT, "long", "Europe/Berlin", date_only=True) == \
            "November 28, 2026"
        assert format_when(MOMENT.date(), "long") == "November 28, 2026"
        assert format_when(None) == ""


def test_zones_without_a_letter_abbreviation_say_utc_offset(app):
    with app.test_request_context(), force_locale("en"):
        assert format_when(MOMENT, "short", "America/Sao_Paulo").endswith("(UTC\u221203)")


def test_zone_names_are_checked_against_the_iana_database():
    assert is_time_zone("Europe/Madrid") and is_time_zone("UTC")
    for bad in ("", None, "Mars/Olympus", "../etc/passwd", " Europe/Madrid", "/etc/localtime"):
        assert not is_time_zone(bad)


@pytest.mark.parametrize(("address", "zone"), [
    ("Demo Mutual Insurance, 1 Example Plaza, Sacramento, CA 95814", "America/Los_Angeles"),
    ("1 Main St\nAustin, TX 78701\nUSA", "America/Chicago"),
    ("10 Downing Street\nLondon SW1A 2AA\nUnited Kingdom", "Europe/London"),
    ("Calle Mayor 1, 28013 Madrid, España", "Europe/Madrid"),
    ("12 rue de la Paix\n75002 Paris\nFrance", "Europe/Paris"),
    ("Hauptstraße 1, 10115 Berlin, Deutschland", "Europe/Berlin"),
    ("100 King St W, Toronto, ON M5X 1A9, Canada", "America/Toronto"),
])
def test_the_default_zone_comes_from_the_contact_address(app, address, zone):
    assert zone_from_address(address) == zone


def test_an_address_that_names_no_country_gives_utc(app):
    assert default_time_zone("Somewhere 12") == "UTC"
    assert default_time_zone(None) == "UTC"


def test_new_incidents_get_their_address_zone_unless_one_is_chosen(db):
    guessed = create_incident({"reference": "TZ-1", "title": "t",
                               "contact_postal_address": "1 Plaza, Sacramento, CA 95814"})
    chosen = create_incident({"reference": "TZ-2", "title": "t", "time_zone": "Europe/Paris",
                              "contact_postal_address": "1 Plaza, Sacramento, CA 95814"})
    plain = create_incident({"reference": "TZ-3", "title": "t"})
    assert (guessed.time_zone, chosen.time_zone, plain.time_zone) == (
        "America/Los_Angeles", "Europe/Paris", "UTC")
    with pytest.raises(IncidentError) as error:
        update_incident(plain, {"time_zone": "Mars/Olympus"})
    assert error.value.field == "time_zone"
    update_incident(chosen, {"time_zone": ""})  # cleared: back to the address's zone
    assert chosen.time_zone == "America/Los_Angeles"


def test_the_lock_page_uses_the_portal_zone_never_the_incidents(app):
    with app.test_request_context():
        use_page_zone("America/Los_Angeles")  # as if a verified customer's incident set it
        assert display_zone_name() == "America/Los_Angeles"
        html = render_template("customer/locked.html", until=MOMENT, minutes=30, hotline=None,
                               hours=None)
    assert "11/28/26, 3:26\u202fAM (UTC)" in html
    assert "PST" not in html


def test_the_lock_page_follows_portal_time_zone(make_app):
    app = make_app(PORTAL_TIME_ZONE="Europe/Berlin")
    with app.test_request_context():
        html = render_template("customer/locked.html", until=MOMENT, minutes=30, hotline=None,
                               hours=None)
    assert "11/28/26, 4:26\u202fAM (CET)" in html


def test_the_notice_dates_are_in_the_incidents_zone(db, make_incident):
    incident = make_incident(time_zone="America/Los_Angeles", discovered_at=MOMENT,
                             occurred_from=MOMENT - timedelta(days=3), occurred_to=None)
    db.session.add(NoticeVersion(incident_id=incident.id, language="en", version=1,
                                 state="approved", approved_at=MOMENT,
                                 what_happened="Happened."))
    db.session.commit()
    notice = build_notice(incident, [], "en")
    happened = " ".join(notice.section("what_happened").paragraphs)
    assert "We discovered it on November 27, 2026." in happened
    assert notice.time_zone == "America/Los_Angeles"


def test_staff_pages_use_the_staff_members_zone_else_the_incidents(
        db, client, make_staff, login, make_incident):
    incident = make_incident(time_zone="America/Los_Angeles", discovered_at=MOMENT)
    manager = make_staff("manager")
    login(manager)
    page = client.get(f"/helpdesk/incidents/{incident.reference}")
    assert "27 Nov 2026, 19:26 (PST)" in page.text

    account = client.get("/staff/account")
    assert 'name="time_zone"' in account.text
    saved = client.post("/staff/account/time-zone",
                        data={"time_zone": "Europe/Berlin", "csrf_token": _token(account.text)})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(StaffUser, manager.id).time_zone == "Europe/Berlin"
    page = client.get(f"/helpdesk/incidents/{incident.reference}")
    assert "28 Nov 2026, 04:26 (CET)" in page.text


def test_the_zone_choosers_are_rendered_once_per_choice_and_language(
        app, db, client, make_staff, login, make_incident, monkeypatch):
    """The ~600-zone select of the account page and the incident form is kept after its
    first render (``{% cached %}``: ~12 ms a render, and ``available_timezones`` walked the
    zone files on disk, ~8 ms, on every view); the selected zone and the language still
    follow the staff member's choice."""
    from wtforms.fields import SelectField

    from portal.core.i18n import time_zone_names
    from tests.support.calls import CallCounter

    assert time_zone_names() is time_zone_names()  # read once per process
    app.extensions.pop("portal_fragments", None)
    manager = make_staff("manager")
    login(manager)

    def zone_selects_rendered(url: str) -> tuple[str, int]:
        rendered = CallCounter(monkeypatch, SelectField, "__call__")
        page = client.get(url)
        monkeypatch.undo()
        assert page.status_code == 200
        return page.text, rendered.calls

    first, renders = zone_selects_rendered("/staff/account")
    assert renders == 1
    again, renders = zone_selects_rendered("/staff/account")
    assert renders == 0, "the zone select was rendered again"
    assert re.sub(r'value="[^"]{20,}"', "", again) == re.sub(r'value="[^"]{20,}"', "", first)
    assert '<option selected value="">' in again
    client.post("/staff/account/time-zone",
                data={"time_zone": "Europe/Berlin", "csrf_token": _token(again)})
    chosen, renders = zone_selects_rendered("/staff/account")
    assert renders == 1 and '<option selected value="Europe/Berlin">' in chosen
    german, renders = zone_selects_rendered("/staff/account?lang=de")
    assert renders == 1 and '<option selected value="Europe/Berlin">' in german

    incident = make_incident(time_zone="America/Los_Angeles")
    url = f"/helpdesk/incidents/{incident.reference}/edit?lang=en"
    edit, renders = zone_selects_rendered(url)  # the form's other selects too
    assert '<option selected value="America/Los_Angeles">' in edit
    assert zone_selects_rendered(url)[1] == renders - 1


@pytest.mark.parametrize("name", ["Mars/Olympus", "CET", "EST5EDT", "Universal"])
def test_an_unknown_staff_zone_is_refused(db, client, make_staff, login, name):
    """Only the zones the chooser lists: aliases Python knows (CET, EST5EDT) are refused
    too, so every saved zone is one the select can show as chosen."""
    manager = make_staff("manager")
    login(manager)
    account = client.get("/staff/account")
    saved = client.post("/staff/account/time-zone",
                        data={"time_zone": name, "csrf_token": _token(account.text)},
                        follow_redirects=True)
    assert "Choose a time zone from the list." in saved.text
    db.session.expire_all()
    assert db.session.get(StaffUser, manager.id).time_zone is None


def test_the_cli_takes_a_zone_and_refuses_an_unknown_one(db, runner):
    refused = runner.invoke(args=["incidents", "create", "--reference", "TZ-CLI-1", "--title",
                                  "t", "--time-zone", "Mars/Olympus"])
    assert refused.exit_code != 0 and "time_zone" in refused.output
    created = runner.invoke(args=["incidents", "create", "--reference", "TZ-CLI-2", "--title",
                                  "t", "--time-zone", "America/Chicago"])
    assert created.exit_code == 0, created.output
    assert find_incident("TZ-CLI-2").time_zone == "America/Chicago"


def test_filings_are_typed_in_the_page_zone_and_stored_in_utc(
        db, client, make_staff, login, make_incident):
    incident = make_incident(time_zone="America/Los_Angeles")
    login(make_staff("manager"))
    url = f"/helpdesk/incidents/{incident.reference}/filings/new"
    form = client.get(url)
    assert "America/Los Angeles" in form.text
    saved = client.post(url, data={"authority": "CNIL", "rule_id": "",
                                   "filed_at": "2026-11-27T19:26",
                                   "csrf_token": _token(form.text)})
    assert saved.status_code == 302, saved.text
    db.session.expire_all()
    filing = db.session.get(type(incident), incident.id).filings[0]
    assert filing.filed_at == MOMENT


def test_a_time_to_the_minute_is_ordered_as_the_readers_language_writes_dates(app):
    """German pages said "28 Nov. 2026": the day and month are ordered and punctuated
    as each language writes them; English keeps "28 Nov 2026"."""
    from flask_babel import force_locale

    from portal.core.i18n import format_minute

    expected = {"en": "28 Nov 2026, 04:26 (CET)", "de": "28. Nov. 2026, 04:26 (CET)",
                "fr": "28 nov. 2026, 04:26 (CET)", "es": "28 nov 2026, 04:26 (CET)"}
    from flask import g

    with app.test_request_context():
        g.staff_time_zone = "Europe/Berlin"
        for language, text in expected.items():
            with force_locale(language):
                assert format_minute(MOMENT) == text, language


def test_a_ticket_page_shows_times_in_its_incidents_zone(db, client, make_staff, login,
                                                         make_incident, make_person):
    """As the incident's own pages do (and the customer's view of the same ticket): an
    agent reading due times in UTC on one page and PST on the next misreads deadlines."""
    from portal.tickets.operations import open_web_ticket

    incident = make_incident(time_zone="America/Los_Angeles")
    person, _plain = make_person(incident)
    ticket = open_web_ticket(person, "notice", "When was I told?")
    db.session.commit()
    login(make_staff("agent"))
    page = client.get(f"/helpdesk/tickets/{ticket.id}").text
    assert "(PST)" in page and "(UTC)" not in page


@pytest.mark.parametrize("zone_name", ["UTC", "Europe/Berlin", "America/Los_Angeles",
                                       "Asia/Kolkata", "America/Sao_Paulo"])
def test_a_time_to_the_minute_is_what_babel_writes_for_the_whole_pattern(app, zone_name):
    """``format_minute`` keeps each day's text per language and writes the hour and minute
    itself: the same text as Babel formatting the whole "<day>, HH:mm" pattern, across
    days and daylight-saving changes, aware or naive (UTC), made and then kept."""
    from babel import Locale
    from flask import g

    from portal.core.i18n import format_minute

    with app.test_request_context():
        g.staff_time_zone = zone_name
        for language in ("en", "de", "fr", "es"):
            with force_locale(language):
                skeleton = Locale.parse(language).datetime_skeletons["yMMMd"].pattern
                pattern = "d MMM y, HH:mm" if language == "en" else f"{skeleton}, HH:mm"
                for start in (datetime(2026, 3, 28, 12, tzinfo=UTC),
                              datetime(2026, 10, 31, 12, tzinfo=UTC)):
                    for _round in range(2):
                        for step in range(0, 48 * 60, 37):
                            moment = start + timedelta(minutes=step, seconds=step % 60)
                            assert format_minute(moment) == format_when(moment, pattern)
                            naive = moment.replace(tzinfo=None)
                            assert format_minute(naive) == format_when(naive, pattern)
                assert format_minute(None) == "" and format_minute("") == ""
