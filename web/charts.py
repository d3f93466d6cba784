"""Server-side charts: pure functions that return SVG (or table) markup, every label escaped.

Pages put the markup inline, so charts render without JavaScript and scale with the page (`viewBox`, width
100 %). Text passed in is never trusted: theme titles, region and department names may come from plugins or
administrators, and go through `markupsafe.escape`; a value that is already `Markup` (a link built by a view)
is kept as it is.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

PALETTE = ("#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f")
FONT = 'font-family="inherit" font-size="12"'


def _number(value: float) -> str:
    """12 → "12", 12.345 → "12.3"."""
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 5 × 10^n at or above `value` (at least 1): a round top for an axis."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def _empty(title: str, width: int, message: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} 40" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<text x="8" y="24" {FONT} fill="#78909c">{escape(message)}</text></svg>')


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "件", colour: str = PALETTE[0],
              href: Callable[[int], str | None] | None = None, width: int = 360, label_chars: int = 7,
              empty: str = "暂无数据") -> Markup:
    """Horizontal bars, one row per (label, value), in the order given. `href(index)` may link a row."""
    if not items:
        return _empty(title, width, empty)
    row, top, label_width = 24, 6, 13 * label_chars
    bar_left, bar_right = label_width + 6, width - 52
    highest = max((value or 0) for _, value in items) or 1
    height = top * 2 + row * len(items)
    parts = [f'<svg class="chart bar-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for index, (label, value) in enumerate(items):
        y = top + index * row
        length = max(0.0, (value or 0) / highest * (bar_right - bar_left))
        label = str(label)
        text = (f'<text x="{label_width}" y="{y + 17}" {FONT} text-anchor="end" fill="#37474f">'
                f'{escape(_shorten(label, label_chars))}</text>')
        link = href(index) if href else None
        if link:
            text = f'<a href="{escape(link)}">{text}</a>'
        parts.append(f'<g><title>{escape(label)}：{_number(value)}{escape(unit)}</title>{text}'
                     f'<rect x="{bar_left}" y="{y + 5}" width="{length:.1f}" height="{row - 10}" rx="2" '
                     f'fill="{escape(colour)}"/>'
                     f'<text x="{bar_left + length + 6:.1f}" y="{y + 17}" {FONT} fill="#263238">'
                     f'{_number(value)}{escape(unit)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str,
               colours: Sequence[str] = PALETTE, width: int = 400, height: int = 200, unit: str = "件",
               every: int | None = None, empty: str = "暂无数据") -> Markup:
    """Lines over shared x labels (e.g. days), one per (name, values), with a legend and a y axis from 0."""
    if not labels or not series:
        return _empty(title, width, empty)
    left, right, top, bottom = 34, 10, 28, 24
    plot_width, plot_height = width - left - right, height - top - bottom
    highest = nice_ceiling(max((value or 0) for _, values in series for value in values) if series else 0)
    step_x = plot_width / max(1, len(labels) - 1)
    every = every or max(1, math.ceil(len(labels) / 5))

    def x(index: int) -> float:
        return left + index * step_x

    def y(value: float) -> float:
        return top + plot_height - (value or 0) / highest * plot_height

    parts = [f'<svg class="chart line-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for fraction in (0, 0.5, 1):  # grid lines and y labels
        value = highest * fraction
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="#e0e0e0"/><text x="{left - 6}" y="{y(value) + 4:.1f}" {FONT} text-anchor="end" '
                     f'fill="#607d8b">{_number(value)}</text>')
    for index, label in enumerate(labels):
        last = index == len(labels) - 1
        if (index % every == 0 and len(labels) - 1 - index >= every / 2) or last:
            anchor = "start" if index == 0 and not last else "end" if last else "middle"
            parts.append(f'<text x="{x(index):.1f}" y="{height - 6}" {FONT} text-anchor="{anchor}" '
                         f'fill="#607d8b">{escape(label)}</text>')
    legend_x = left
    for number, (name, values) in enumerate(series):
        colour = escape(colours[number % len(colours)])
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"><title>'
                     f'{escape(labels[i])} {escape(name)}：{_number(v)}{escape(unit)}</title></circle>'
                     for i, v in enumerate(values))
        parts.append(f'<rect x="{legend_x}" y="8" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{legend_x + 16}" y="18" {FONT} fill="#263238">{escape(name)}</text>')
        legend_x += 24 + 13 * len(str(name))
    parts.append("</svg>")
    return Markup("".join(parts))


def ranking_table(columns: Sequence[tuple[str, str]], rows: Sequence[Mapping], *, caption: str,
                  numbered: bool = True, empty: str = "暂无数据", first: int = 1) -> Markup:
    """A table of `rows` (mappings) with `columns` as (key, header) pairs, in the order given, ranked `first`,
    `first` + 1, … (a page of a longer ranking starts at its first row's place)."""
    head = "".join(f"<th>{escape(header)}</th>" for _, header in columns)
    if numbered:
        head = "<th>名次</th>" + head
    body = []
    for rank, row in enumerate(rows, start=first):
        cells = "".join(f"<td>{escape(_cell(row.get(key)))}</td>" for key, _ in columns)
        body.append(f"<tr>{f'<td>{rank}</td>' if numbered else ''}{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(columns) + int(numbered)}">{escape(empty)}</td></tr>')
    return Markup(f'<div class="table-scroll"><table class="list ranking"><caption>{escape(caption)}</caption>'
                  f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def _cell(value):
    if value is None:
        return "—"
    if isinstance(value, float):
        return _number(value)
    return value


def percent(rate: float | None) -> str:
    """0.953 → "95.3%"; None (no denominator) → "—"."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} 小时"


__all__ = ["PALETTE", "bar_chart", "hours", "line_chart", "nice_ceiling", "percent", "ranking_table"]
