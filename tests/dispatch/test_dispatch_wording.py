"""The campaign SMS: short (one GSM-7 segment in every language), no personal data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.dispatch import notice_messages
from portal.dispatch.notice_messages import gsm7_length, sms_segments

PENDING = Path(__file__).resolve().parents[2] / "translations/pending/campaign-engine.json"
SMS_MSGID = "Important notice about your personal data. Read it here: %(link)s"
LONGEST_NAME = "N" * notice_messages.SMS_NAME_LIMIT
LONG_LINK = "https://notices.example-insurance-group.com/n/7K2D-QX9M-4TRB"


@pytest.mark.parametrize("language", ["en", "es", "fr", "de"])
def test_the_sms_fits_one_gsm7_segment_in_every_language(app, language):
    translated = SMS_MSGID if language == "en" else json.loads(PENDING.read_text())[
        SMS_MSGID][language]
    with force_locale(language):
        signed = _("%(insurer)s: %(message)s", insurer=LONGEST_NAME,
                   message=translated % {"link": LONG_LINK})
    assert gsm7_length(signed) is not None, signed  # no character forces UCS-2
    assert gsm7_length(signed) <= 160 and sms_segments(signed) == 1, (len(signed), signed)


def test_gsm7_counts_septets():
    assert gsm7_length("Hello") == 5
    assert gsm7_length("€[") == 4  # the extension table takes two septets each
    assert gsm7_length("aquí") is None  # í is not in GSM-7: the message would be UCS-2
    assert sms_segments("x" * 160) == 1 and sms_segments("x" * 161) == 2
    assert sms_segments("í" * 70) == 1 and sms_segments("í" * 71) == 2


def test_wording_renders_each_language_once_and_people_by_replacement(
        app, db, make_incident):
    from tests.support.customer import approve_notice

    incident = make_incident(insurer_name="Demo Mutual", contact_hotline="+1 800 555 0100")
    version = approve_notice(db, incident)
    words = notice_messages.wording(incident.id, "en", version.id)
    body = words.render_sms("http://localhost/n/AAAA-BBBB-CCCC")
    assert body == ("Demo Mutual: Important notice about your personal data. "
                    "Read it here: http://localhost/n/AAAA-BBBB-CCCC")
    subject, text, html = words.render_email('http://localhost/n/<x>"', "AAAA-BBBB-CCCC")
    assert subject == "Demo Mutual: Notice of Data Breach"
    assert "Someone accessed our policy system" in text and "AAAA-BBBB-CCCC" in text
    assert "+1 800 555 0100" in text
    assert 'href="http://localhost/n/&lt;x&gt;&quot;"' in html  # escaped
    assert "\x00" not in text + html


def test_dispatch_settings_come_from_the_environment(monkeypatch, tmp_path):
    from portal.config import load

    monkeypatch.setenv("DISPATCH_CHUNK_SIZE", "7")
    monkeypatch.setenv("PORTAL_DISPATCH_MAX_ATTEMPTS", "3")
    settings = load(tmp_path)
    assert settings["DISPATCH_CHUNK_SIZE"] == 7 and settings["DISPATCH_MAX_ATTEMPTS"] == 3
    monkeypatch.setenv("DISPATCH_LEASE_SECONDS", "0")
    with pytest.raises(Exception, match="DISPATCH_LEASE_SECONDS must be at least 1"):
        load(tmp_path)
