"""The substitute notice: written and published by a manager, public without sign-in, 404 else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from portal.models import Interaction, SubstituteNotice
from tests.support import csrf_token


def _url(reference: str, tail: str = "") -> str:
    return f"/helpdesk/incidents/{reference}/substitute-notice{tail}"


def _save(client, reference, **fields):
    data = {"summary_en": "We found that someone reached our policy server.",
            "summary_es": "", "summary_fr": "", "summary_de": "Jemand hat unseren Server erreicht.",
            "hotline": "+1 800 555 0199",
            "stay_up_until": (date.today() + timedelta(days=100)).isoformat(),
            "csrf_token": csrf_token(client, _url(reference))}
    data.update(fields)
    return client.post(_url(reference), data=data)


def _actions(db):
    return [row.action for row in db.session.execute(select(Interaction)).scalars()
            if not row.action.startswith("staff.")]


def test_manager_writes_publishes_and_unpublishes(app, db, client, login, make_staff,
                                                  make_incident):
    incident = make_incident(insurer_name="Example Mutual")
    login(make_staff("manager"))
    public = f"/incidents/{incident.reference}"
    assert client.get(public).status_code == 404
    page = client.get(_url(incident.reference))
    assert page.status_code == 200 and "+1 800 555 0100" in page.text  # the incident's hotline
    assert _save(client, incident.reference).status_code == 302
    assert client.get(public).status_code == 404  # saved, not yet published
    token = csrf_token(client, _url(incident.reference))
    assert client.post(_url(incident.reference, "/publish"),
                       data={"csrf_token": token}).status_code == 302

    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/helpdesk/")})
    english = client.get(public)
    assert english.status_code == 200
    assert "reached our policy server" in english.text and "+1 800 555 0199" in english.text
    german = client.get(public + "?lang=de")
    assert "Jemand hat unseren Server erreicht." in german.text
    spanish = client.get(public + "?lang=es")  # no Spanish text: the default language's
    assert "reached our policy server" in spanish.text and 'lang="en"' in spanish.text
    assert client.get(public.lower()).status_code == 200
    client.get(public + "?lang=en")  # the switcher remembered Spanish: back to English

    login(make_staff("manager"))
    token = csrf_token(client, _url(incident.reference))
    refused = client.post(_url(incident.reference, "/unpublish"),
                          data={"csrf_token": token, "reason": ""}, follow_redirects=True)
    assert "Give the reason" in refused.text
    assert client.get(public).status_code == 200
    client.post(_url(incident.reference, "/unpublish"),
                data={"csrf_token": token, "reason": "Wrong incident published"})
    assert client.get(public).status_code == 404
    assert _actions(db) == ["substitute_notice.saved", "substitute_notice.published",
                            "substitute_notice.unpublished"]
    row = db.session.execute(select(Interaction).where(
        Interaction.action == "substitute_notice.unpublished")).scalar_one()
    assert row.details["reason"] == "Wrong incident published" and row.details["early"] is True


def test_bad_input_is_refused_and_kept(app, db, client, login, make_staff, make_incident):
    incident = make_incident()
    login(make_staff("manager"))
    too_soon = (date.today() + timedelta(days=30)).isoformat()
    page = _save(client, incident.reference, stay_up_until=too_soon)
    assert page.status_code == 200 and "at least 90 days" in page.text
    assert "reached our policy server" in page.text  # what was typed is kept
    page = _save(client, incident.reference, summary_en="", summary_de="")
    assert page.status_code == 200 and "default language" in page.text
    page = _save(client, incident.reference, hotline="")
    assert page.status_code == 200 and "toll-free number" in page.text
    page = _save(client, incident.reference, stay_up_until="31/12/2030")
    assert page.status_code == 200
    assert db.session.execute(select(SubstituteNotice)).first() is None
    assert _actions(db) == []


def test_publish_rechecks_the_stay_up_date(app, db, client, login, make_staff, make_incident):
    incident = make_incident()
    db.session.add(SubstituteNotice(incident_id=incident.id, summaries={"en": "Text"},
                                    hotline="+1 800 555 0100",
                                    stay_up_until=date.today() + timedelta(days=10)))
    db.session.commit()
    login(make_staff("manager"))
    token = csrf_token(client, _url(incident.reference))
    page = client.post(_url(incident.reference, "/publish"), data={"csrf_token": token},
                       follow_redirects=True)
    assert "at least 90 days" in page.text
    assert client.get(f"/incidents/{incident.reference}").status_code == 404


def test_unknown_and_unpublished_look_the_same(app, db, client, make_incident):
    incident = make_incident()
    db.session.add(SubstituteNotice(incident_id=incident.id, summaries={"en": "Draft text"},
                                    hotline="1", stay_up_until=date.today(),
                                    unpublished_at=datetime.now(UTC)))
    db.session.commit()
    hidden = client.get(f"/incidents/{incident.reference}")
    unknown = client.get("/incidents/NO-SUCH-INCIDENT")
    assert hidden.status_code == unknown.status_code == 404
    assert "Draft text" not in hidden.text
    assert hidden.text.replace(incident.reference, "X") == unknown.text.replace(
        "NO-SUCH-INCIDENT", "X")


def test_agents_cannot_edit(app, client, login, make_staff, make_incident):
    incident = make_incident()
    login(make_staff("agent"))
    assert client.get(_url(incident.reference)).status_code == 403
