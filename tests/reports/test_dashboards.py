"""The managers' dashboards: the numbers each query counts, the page, its charts and access."""

from __future__ import annotations

import re

from portal.reports import dashboards, svg

SLA = 24


def test_funnel_counts_each_person_once_and_never_grows(app, reports_incident):
    rows = {row.channel: row for row in dashboards.funnel(reports_incident["incident"].id)}
    everyone = rows["all"]
    # 4 people; 3 sent on some channel; 2 delivered; 2 verified; 2 viewed; 1 revealed.
    assert (everyone.people, everyone.sent, everyone.delivered, everyone.verified,
            everyone.viewed, everyone.revealed) == (4, 3, 2, 2, 2, 1)
    sms = rows["sms"]
    assert (sms.people, sms.sent, sms.delivered, sms.verified, sms.viewed, sms.revealed) == (
        4, 3, 2, 2, 2, 1)
    email = rows["email"]
    # email: 3 rows; delivered 1 (person 0); failed has no send time; sent 1 (person 2)
    assert (email.people, email.sent, email.delivered, email.verified) == (3, 2, 1, 1)
    for row in rows.values():
        stages = [row.stage(name) for name in dashboards.FUNNEL_STAGES]
        assert stages == sorted(stages, reverse=True), row


def test_tickets_per_day_and_response_times(app, reports_incident):
    incident_id = reports_incident["incident"].id
    window = dashboards.window(7)
    per_day = dashboards.tickets_per_day(incident_id, window)
    assert per_day.total == {"opened": 3, "resolved": 1}
    assert per_day.days[-1] == window[-1] and len(per_day.series["opened"]) == 7
    times = dashboards.response_times(incident_id, dashboards.start_of(window), SLA)
    assert (times.met, times.missed, times.waiting, times.waiting_overdue) == (1, 1, 1, 0)
    assert times.buckets == [1, 0, 0, 0, 1, 0]  # 30 minutes; 30 hours (24 to 48)
    assert 15 * 3600 < times.average_seconds < 16 * 3600


def test_agents_and_verification_failures(app, reports_incident):
    incident_id = reports_incident["incident"].id
    window = dashboards.window(7)
    [agent] = dashboards.answers_by_agent(incident_id, window)
    assert (agent.name, agent.replies, agent.with_answer, agent.deviated) == (
        "Agent Alpha", 2, 2, 1)  # the internal note is not a reply
    verification = dashboards.verification_per_day(incident_id, window)
    assert verification.total == {"failed": 3, "locked": 1}
    assert verification.series["failed"][-1] == 3


def test_other_incidents_are_not_counted(app, reports_incident, make_incident):
    other = make_incident()
    rows = dashboards.funnel(other.id)
    assert [(row.channel, row.people) for row in rows] == [("all", 0)]
    assert dashboards.tickets_per_day(other.id, dashboards.window(7)).total == {
        "opened": 0, "resolved": 0}


def test_svg_escapes_text_and_names_itself():
    chart = svg.bar_chart([("<script>", 3), ("b", 0)], "T & <b>", "desc")
    assert "<script>" not in chart and "&lt;script&gt;" in chart
    assert 'role="img"' in chart and "<title" in chart and "T &amp; &lt;b&gt;" in chart
    empty = svg.column_chart([], [("a", [])], "Empty")
    assert "<svg" in empty and empty.endswith("</svg>")
    # Several series: their legend is a list before the chart, each name escaped.
    chart = svg.grouped_bars(["SMS"], [("<i>Sent</i>", [3]), ("Read", [1])], "Funnel")
    legend, picture = chart.split("<svg", 1)
    assert legend.startswith('<ul class="chart-legend-list">') and legend.count("<li>") == 2
    assert "&lt;i&gt;Sent&lt;/i&gt;" in legend and "chart-s1" in legend
    assert "Read" not in picture  # not repeated inside the SVG, where it shrank


def test_dashboard_page_for_managers(app, client, login, make_staff, reports_incident):
    reference = reports_incident["incident"].reference
    login(make_staff("manager"))
    index = client.get("/helpdesk/reports/")
    assert index.status_code == 200 and f"/helpdesk/reports/{reference}" in index.text
    page = client.get(f"/helpdesk/reports/{reference}?days=7")
    assert page.status_code == 200
    assert page.text.count("<svg") == 5
    assert len(re.findall(r"<table", page.text)) == 5
    assert "Agent Alpha" in page.text and "Secretson" not in page.text
    assert client.get(f"/helpdesk/reports/{reference}?days=bogus").status_code == 200
    assert client.get("/helpdesk/reports/NO-SUCH").status_code == 404


def test_agents_cannot_see_dashboards(app, client, login, make_staff, reports_incident):
    login(make_staff("agent"))
    reference = reports_incident["incident"].reference
    assert client.get("/helpdesk/reports/").status_code == 403
    assert client.get(f"/helpdesk/reports/{reference}").status_code == 403
