"""Small inline SVG charts: horizontal bars and per-day columns, no chart library.

Each function returns markup for an ``<svg role="img">`` with a ``<title>`` and a
``<desc>`` (a chart of several series preceded by their legend, an HTML list); the
page shows the same numbers in a table next to it, so the chart is a picture of the
table and never the only place a number is. Every text is escaped. Colours come from
classes styled in ``site.css`` (``.chart-s0`` …) with a fill attribute as a fallback,
so the charts need no inline style (the CSP forbids it).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from markupsafe import Markup, escape

# Fallback fills (site.css sets the same per series class); distinguishable in greyscale.
PALETTE = ("#1f5fa8", "#c2571a", "#2e7d4f", "#7a3f9d", "#5b6472", "#a8323e")
_ids = count(1)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _open(width: int, height: int, title: str, desc: str, css: str) -> tuple[str, list[str]]:
    ident = f"chart{next(_ids)}"
    parts = [
        f'<svg class="chart {escape(css)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]
    return ident, parts


def bar_chart(rows: Sequence[tuple[str, float]], title: str, desc: str = "",
              width: int = 640, bar: int = 22, label_width: int = 190) -> Markup:
    """Horizontal bars, one per ``(label, value)``, each with its value written after it."""
    gap = 8
    height = max(1, len(rows)) * (bar + gap) + gap
    _, parts = _open(width, height, title, desc, "chart-bars")
    top = max((value for _, value in rows), default=0) or 1
    room = width - label_width - 70
    for index, (label, value) in enumerate(rows):
        y = gap + index * (bar + gap)
        length = max(0.0, value) / top * room
        parts.append(
            f'<text class="chart-label" x="{label_width - 8}" y="{y + bar * 0.7:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-s0" fill="{PALETTE[0]}" x="{label_width}" y="{y}" '
            f'width="{length:.1f}" height="{bar}"/>'
            f'<text class="chart-value" x="{label_width + length + 6:.1f}" '
            f'y="{y + bar * 0.7:.1f}">{escape(_number(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def grouped_bars(groups: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
                 title: str, desc: str = "", width: int = 640, bar: int = 14,
                 label_width: int = 190) -> Markup:
    """Horizontal bars grouped per label: one bar for each series (e.g. a funnel per channel)."""
    gap = 10
    per_group = len(series) * bar + gap
    legend = 8  # the legend is a list above the chart (_legend_list)
    height = legend + max(1, len(groups)) * per_group + gap
    _, parts = _open(width, height, title, desc, "chart-grouped")
    top = max((value for _, values in series for value in values), default=0) or 1
    room = width - label_width - 70
    for g_index, group in enumerate(groups):
        y0 = legend + gap + g_index * per_group
        parts.append(f'<text class="chart-label" x="{label_width - 8}" '
                     f'y="{y0 + len(series) * bar / 2 + 4:.1f}" text-anchor="end">'
                     f'{escape(group)}</text>')
        for s_index, (_, values) in enumerate(series):
            value = values[g_index]
            y = y0 + s_index * bar
            length = max(0.0, value) / top * room
            colour = PALETTE[s_index % len(PALETTE)]
            parts.append(
                f'<rect class="chart-s{s_index % len(PALETTE)}" fill="{colour}" '
                f'x="{label_width}" y="{y}" width="{length:.1f}" height="{bar - 2}"/>'
                f'<text class="chart-value chart-small" x="{label_width + length + 5:.1f}" '
                f'y="{y + bar - 4}">{escape(_number(value))}</text>'
            )
    parts.append("</svg>")
    return Markup(_legend_list([name for name, _ in series])  # noqa: S704 - escaped
                  + "".join(parts))


def _legend_list(names: Sequence[str]) -> str:
    """The series' names as a list above the chart, each with its colour: it wraps at any
    width and reads at the page's text size (inside the SVG it shrank with the chart and
    was cut off on a phone)."""
    items = "".join(
        f'<li><span class="chart-swatch chart-s{index % len(PALETTE)}" aria-hidden="true">'
        f'</span>{escape(name)}</li>' for index, name in enumerate(names))
    return f'<ul class="chart-legend-list">{items}</ul>'


def column_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
                 title: str, desc: str = "", width: int = 640, height: int = 240) -> Markup:
    """Columns per label (a day), side by side for each series, with a y axis and a legend."""
    left, right, bottom = 44, 10, 34
    top_pad = 14  # the legend is a list above the chart (_legend_list)
    height -= 16
    _, parts = _open(width, height, title, desc, "chart-columns")
    top = max((value for _, values in series for value in values), default=0) or 1
    plot_h = height - top_pad - bottom
    plot_w = width - left - right
    slot = plot_w / max(1, len(labels))
    col = max(1.0, (slot - 2) / max(1, len(series)))
    ticks = (0, top) if top < 2 or top % 2 else (0, top // 2, top)
    for tick in ticks:
        y = top_pad + plot_h - tick / top * plot_h
        parts.append(f'<line class="chart-grid" stroke="#d0d4da" x1="{left}" x2="{width - right}" '
                     f'y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="chart-axis" x="{left - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{escape(_number(tick))}</text>')
    every = max(1, len(labels) // 7)
    for index, label in enumerate(labels):
        x0 = left + index * slot + 1
        for s_index, (_, values) in enumerate(series):
            value = values[index]
            h = max(0.0, value) / top * plot_h
            colour = PALETTE[s_index % len(PALETTE)]
            parts.append(f'<rect class="chart-s{s_index % len(PALETTE)}" fill="{colour}" '
                         f'x="{x0 + s_index * col:.1f}" y="{top_pad + plot_h - h:.1f}" '
                         f'width="{max(0.5, col - 0.5):.1f}" height="{h:.1f}"/>')
        if index % every == 0:
            parts.append(f'<text class="chart-axis" x="{x0 + slot / 2:.1f}" '
                         f'y="{height - bottom + 16}" text-anchor="middle">'
                         f'{escape(label)}</text>')
    parts.append("</svg>")
    return Markup(_legend_list([name for name, _ in series])  # noqa: S704 - escaped
                  + "".join(parts))
