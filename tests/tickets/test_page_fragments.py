"""Parts of pages rendered once per key and language (``{% cached %}``, portal.core.fragments).

The ticket page's fields that never carry a value or an error (status, the empty reply and
note, the reveal choices) and the staff menu and language switch of every page are kept
after their first render: the WTForms widgets, labels, ``_()`` and ``url_for`` calls in
them cost about a sixth of the ticket page (docs/benchmarks.md, helpdesk, fourth round).
Counted here: a second view renders none of those fields; a cached part follows the
language, the selected status, the role and the page; a form with errors or a value is
rendered as usual.
"""

from __future__ import annotations

import re

import pytest

from tests.support import csrf_token
from tests.support.calls import CallCounter

BASE = "/helpdesk/tickets"


@pytest.fixture
def ticket(make_ticket):
    return make_ticket(first_name="Jamie")


def _fields_rendered(client, monkeypatch, url):
    from wtforms.fields.core import Field, Label

    from helpdesk.tickets.forms import TicketForm

    fields = CallCounter(monkeypatch, Field, "__call__")
    labels = CallCounter(monkeypatch, Label, "__call__")
    forms = CallCounter(monkeypatch, TicketForm, "__init__")
    page = client.get(url)
    monkeypatch.undo()
    assert page.status_code == 200
    return page.text, fields.calls, labels.calls, forms.calls


def _without_tokens(html: str) -> str:
    html = re.sub(r'(name="csrf_token"(?: type="hidden")? value=")[^"]+', r"\1", html)
    return re.sub(r'nonce="[^"]+"', "nonce", html)


def test_a_second_view_renders_only_the_assignee_field(app, client, agent, ticket, monkeypatch):
    app.extensions.pop("portal_fragments", None)
    url = f"{BASE}/{ticket.id}"
    first, fields1, labels1, forms1 = _fields_rendered(client, monkeypatch, url)
    second, fields2, labels2, forms2 = _fields_rendered(client, monkeypatch, url)
    assert (fields1, labels1) == (7, 7)  # assignee, status, reply body and status, note, reveal ×2
    assert (fields2, labels2) == (0, 0), "a cached field was rendered again"
    # The note, reveal, status and assign forms are built only to render their cached parts
    # (helpdesk.tickets.forms.LazyForm): a second view builds the reply form only.
    assert (forms1, forms2) == (5, 1)
    assert _without_tokens(second) == _without_tokens(first)


def test_cached_parts_follow_the_language_and_the_status(app, db, client, agent, ticket):
    url = f"{BASE}/{ticket.id}"
    english = client.get(url).text
    assert 'class="label" for="reason">Reason</label>' in english
    german = client.get(url + "?lang=de").text
    assert "Grund" in german and ">Reason</label>" not in german
    assert "Language" not in german.split('class="lang-switch"')[1][:200]
    client.get(url + "?lang=en")
    before = ticket.status
    assert before != "pending_customer"
    status = re.search(r'<select class="inline-select" id="status-change".*?</select>',
                       english, re.S)
    assert f'selected value="{before}"' in status.group(0)
    token = csrf_token(client, url)
    assert client.post(f"{url}/status", data={"csrf_token": token,
                                              "status": "pending_customer"}).status_code == 302
    changed = re.search(r'<select class="inline-select" id="status-change".*?</select>',
                        client.get(url).text, re.S).group(0)
    assert 'selected value="pending_customer"' in changed
    assert f'selected value="{before}"' not in changed


def test_the_assign_list_follows_the_assignee_and_the_active_staff(app, db, client, agent,
                                                                    ticket, make_staff):
    url = f"{BASE}/{ticket.id}"

    def assign_list():
        page = client.get(url).text
        return re.search(r'<select class="inline-select" id="assignee".*?</select>', page,
                         re.S).group(0)

    first = assign_list()
    assert 'selected value="">' in first and "Pat Newcomer" not in first
    # A new agent (a write to the staff table empties this process's list at once).
    newcomer = make_staff("agent", name="Pat Newcomer")
    db.session.commit()
    listed = assign_list()
    assert f'value="{newcomer.id}">Pat Newcomer</option>' in listed
    token = csrf_token(client, url)
    assert client.post(f"{url}/assign", data={"csrf_token": token,
                                              "assignee": str(newcomer.id)}).status_code == 302
    chosen = assign_list()
    assert f'selected value="{newcomer.id}">Pat Newcomer' in chosen
    assert 'selected value="">' not in chosen


def test_the_answer_list_follows_the_answers_listed_and_the_one_chosen(app, db, client, agent,
                                                                       ticket, make_answers):
    url = f"{BASE}/{ticket.id}"

    def options(query=""):
        page = client.get(url + query).text
        return re.search(r'<select id="use".*?</select>', page, re.S).group(0)

    made = make_answers()
    what, monitoring = made["what-happened", "en"], made["monitoring", "en"]
    listed = options()
    assert "What happened" in listed and "Credit monitoring" in listed
    assert " selected" not in listed
    chosen = options(f"?use={monitoring.id}")
    assert f'value="{monitoring.id}" selected>' in chosen
    assert f'value="{what.id}" selected' not in chosen
    assert " selected" not in options()  # the plain list again, not the chosen one
    searched = options("?aq=monitor")
    assert "Credit monitoring" in searched and "What happened" not in searched
    make_answers({"new-one": ("notice", {"en": ("A new answer", "Hello.")})})
    assert "A new answer" in options()  # a new approved answer empties the kept list


def test_a_reply_with_an_error_or_a_text_is_not_taken_from_the_cache(app, client, agent, ticket):
    url = f"{BASE}/{ticket.id}"
    plain = client.get(url).text
    assert "Write a reply." not in plain
    token = csrf_token(client, url)
    failed = client.post(f"{url}/reply", data={"csrf_token": token, "body": "",
                                               "seen_message_id": "999999", "status": "open"})
    assert failed.status_code == 400
    reply_part = failed.text.split('id="reply-heading"')[1].split('id="note-heading"')[0]
    assert "Write a reply." in reply_part and 'aria-invalid="true"' in reply_part
    assert 'selected value="open"' in reply_part
    # The plain page afterwards is the cached one again.
    assert _without_tokens(client.get(url).text) == _without_tokens(plain)


def test_the_staff_menu_follows_the_role_and_the_page(app, client, make_staff, login, ticket):
    from tests.tickets.test_ticket_pages import signed_in

    app.extensions.pop("portal_fragments", None)
    login(make_staff("agent"))
    agent_menu = client.get(f"{BASE}/").text.split('class="staff-nav"')[1].split("</ul>")[0]
    assert ">Log</a>" not in agent_menu and ">Tickets</a>" in agent_menu
    assert '/helpdesk/tickets/" aria-current="page">Tickets' in agent_menu
    manager = signed_in(app, make_staff("manager"))
    manager_menu = manager.get(f"{BASE}/").text.split('class="staff-nav"')[1].split("</ul>")[0]
    assert ">Log</a>" in manager_menu
    home = client.get("/helpdesk/").text.split('class="staff-nav"')[1].split("</ul>")[0]
    assert 'aria-current="page">Overview' in home and "aria-current" not in home.split(
        "Overview")[1]
    # The staff member's name and the sign-out token are never part of a cached menu.
    assert "Alex Agent" not in str(app.extensions["portal_fragments"])
    assert all("csrf_token" not in str(html)
               for html in app.extensions["portal_fragments"].values())


def test_a_key_of_none_renders_every_time_and_the_store_is_bounded(app, monkeypatch):
    from portal.core import fragments

    template = app.jinja_env.from_string(
        "{% cached key %}{{ counter() }}{% endcached %}")
    calls = []

    def counter():
        calls.append(1)
        return len(calls)

    monkeypatch.setattr(fragments, "MAX_FRAGMENTS", 3)
    with app.test_request_context("/?lang=fr"):
        app.preprocess_request()
        app.extensions.pop("portal_fragments", None)
        assert [template.render(key=None, counter=counter) for _ in range(2)] == ["1", "2"]
        assert [template.render(key="a", counter=counter) for _ in range(2)] == ["3", "3"]
        for key in ("b", "c", "d"):
            template.render(key=key, counter=counter)
        assert len(app.extensions["portal_fragments"]) <= 3
        assert ("fr", "a") not in app.extensions["portal_fragments"]  # emptied when full


def test_the_queue_filters_follow_the_filters_chosen_and_the_active_staff(app, db, client,
                                                                          agent, ticket,
                                                                          make_staff):
    def selects(query=""):
        page = client.get(f"{BASE}/{query}").text
        return re.search(r'<div class="field-grid">.*?</details>', page, re.S).group(0)

    plain = selects()
    assert plain.count(" selected") == 1  # "Needs work", the default status
    chosen = selects("?status=open&assignee=me&sla=breached&channel=phone&language=de")
    for value in ("open", "me", "breached", "phone", "de"):
        assert f'value="{value}" selected>' in chosen
    assert selects() == plain
    newcomer = make_staff("agent", name="Pat Newcomer")
    db.session.commit()
    assert f'value="{newcomer.id}">Pat Newcomer</option>' in selects()
    assert f'value="{newcomer.id}" selected>Pat Newcomer' in selects(
        f"?assignee={newcomer.id}")
