"""The queue's rows, written in Python.

The queue is the agents' busiest page after the ticket itself, and its 50 rows were a
sixth of its CPU as a Jinja loop (about 96 Python calls a row: attribute look-ups through
the environment, filters, a ``Markup`` per printed value). Here a row is one f-string with
each value from the row escaped once; the labels, the form token and the base address are
escaped once per page. The markup is what the loop wrote; ``tests/tickets/test_page_cpu.py``
puts markup in every row field and checks that none of it comes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from portal.tickets.queue import QueueRow

# What ``markupsafe.escape`` replaces, with what, as one ``str.translate`` (escape makes a
# ``Markup`` object per value; a row prints eight): ``str(value).translate(ESCAPES)``.
ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


@dataclass(frozen=True)
class RowText:
    """What every row of a page shares, escaped once: the column labels (the table's head, and each
    cell's ``data-label`` for the narrow layout), the words in the cells, the queue's address and
    the form token of the "Take" buttons."""

    ticket: Markup
    topic: Markup
    status: Markup
    due: Markup
    customer: Markup
    assigned: Markup
    channel: Markup
    overdue: Markup
    take: Markup
    no_clock: Markup
    base: Markup
    token: Markup

    @classmethod
    def escaped(cls, **values: str) -> RowText:
        return cls(**{name: escape(value) for name, value in values.items()})


def queue_rows(rows: list[QueueRow], text: RowText, *, now: datetime, due_phrase,
               topic_labels: dict, status_labels: dict, channel_labels: dict,
               language_names: dict) -> Markup:
    """The ``<tr>`` of each row. ``due_phrase(due, now)`` words the time left or late."""
    t = text
    E = ESCAPES  # noqa: N806 - each value escaped inline: str(value).translate(E)
    overdue_class = ' class="queue-overdue"'
    out = []
    for row in rows:
        due = row.due
        late = due is not None and due < now
        reference = (f' <span class="muted">{str(row.incident_reference).translate(E)}</span>'
                     if row.incident_reference else "")
        if due is None:
            due_cell = f'<span class="muted">{t.no_clock}</span>'
        elif late:
            due_cell = (f'<span class="badge badge-overdue">{t.overdue}</span> '
                        f"{str(due_phrase(due, now)).translate(E)}")
        else:
            due_cell = str(due_phrase(due, now)).translate(E)
        if row.assignee_name:
            assigned = str(row.assignee_name).translate(E)
        else:
            assigned = (
                f'<form method="post" action="{t.base}{row.id}/take" class="inline-form">'
                f'<input type="hidden" name="csrf_token" value="{t.token}">'
                f'<button type="submit" class="button-secondary button-small">{t.take}'
                f'<span class="visually-hidden"> #{row.id}</span></button></form>')
        out.append(
            f'<tr{overdue_class if late else ""}>'
            f'<td data-label="{t.ticket}"><a href="{t.base}{row.id}">#{row.id}</a>{reference}</td>'
            f'<td data-label="{t.topic}">'
            f"{str(topic_labels.get(row.topic) or row.topic).translate(E)}</td>"
            f'<td data-label="{t.status}">'
            f"{str(status_labels.get(row.status) or row.status).translate(E)}</td>"
            f'<td data-label="{t.due}">{due_cell}</td>'
            f'<td data-label="{t.customer}">{str(row.person_reference or "").translate(E)} '
            f'<span class="muted">'
            f"{str(language_names.get(row.language) or row.language).translate(E)}</span></td>"
            f'<td data-label="{t.assigned}">{assigned}</td>'
            f'<td data-label="{t.channel}">'
            f"{str(channel_labels.get(row.channel) or row.channel).translate(E)}</td></tr>\n")
    # Every value from a row escaped above; the shared text escaped by RowText.escaped.
    return Markup("".join(out))  # noqa: S704
