"""Charts as SVG drawn on the server (pygal): no JavaScript, no CDN, they work on a closed
network and print. Each has a title, labelled axes and its unit."""

from __future__ import annotations

import datetime as dt

import pygal
from pygal.style import Style

from core.insights import Series

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#999",
    colors=("#1f4e79", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646", "#7f7f7f"),
    font_family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
    title_font_size=15,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
)
UNIT_LABEL = {"day": "day", "week": "week starting", "month": "month"}


def _label(day: dt.date, unit: str) -> str:
    return day.strftime("%Y-%m") if unit == "month" else day.isoformat()


def stacked_bars(series: Series, *, title: str, y_title: str) -> str:
    """A stacked bar chart of ``series`` as an inline ``<svg>`` (empty string: no data)."""
    if not series.buckets:
        return ""
    chart = pygal.StackedBar(
        style=STYLE,
        width=900,
        height=320,
        title=title,
        x_title=UNIT_LABEL[series.unit],
        y_title=y_title,
        js=[],  # no script: the SVG is static and self-contained
        disable_xml_declaration=True,
        show_minor_x_labels=False,
        x_label_rotation=30,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        print_values=False,
        min_scale=2,
        max_scale=6,
        margin_bottom=10,
    )
    labels = [_label(b, series.unit) for b in series.buckets]
    chart.x_labels = labels
    step = max(1, len(labels) // 12)
    chart.x_labels_major = labels[::step]
    for label, counts in series.by_label.items():
        chart.add(label, counts)
    # Whole articles on the y axis: integer ticks, about six of them.
    peak = max((sum(col) for col in zip(*series.by_label.values(), strict=True)), default=1)
    step = max(1, -(-peak // 6))
    chart.y_labels = list(range(0, peak + step + 1, step))
    svg: bytes | str = chart.render(is_unicode=True)
    return svg if isinstance(svg, str) else svg.decode("utf-8")
