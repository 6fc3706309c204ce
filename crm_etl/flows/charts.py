"""Inline SVG charts for the report: no script, no network, readable when the file opens from disk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

GOOD, WARN, BAD, GRID, INK, MUTED = "#2e7d32", "#b7791f", "#c62828", "#d9e2ec", "#1f2933", "#52606d"
SERIES_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]


@dataclass(frozen=True)
class Guide:
    """A horizontal (line chart) or vertical (bar chart) reference line: a target or an alarm."""

    value: float
    label: str
    colour: str


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _text_width(text: str, size: float) -> float:
    """Rough rendered width: a CJK character is about one em wide, a Latin one about half."""
    return sum(size if ord(c) > 0x2E7F else size * 0.6 for c in text)


def _axis(values: Sequence[float], percent: bool) -> tuple[float, float, float]:
    """Low end, high end and tick step of a value axis, on round numbers."""
    if percent:
        low = min([*values, 1.0]) - 0.05
        low = max(0.0, int(low * 10) / 10)
        fraction = 0.1 if 1.0 - low <= 0.5 else 0.2
        low = 1.0 - fraction * round((1.0 - low) / fraction + 0.49)
        return max(low, 0.0), 1.0, fraction
    top = max([*values, 1.0])
    nice = [m * 10**e for e in range(12) for m in (1, 2, 5)]
    step = next(n for n in nice if top / n <= 5)
    return 0.0, float(step * (int(top // step) + 1)), float(step)


def completeness_bars(
    bars: Sequence[tuple[str, float]], guides: Sequence[Guide], target: float, alarm: float, title: str
) -> Markup:
    """Horizontal bars of shares (0–1), one per field, with dashed target/alarm lines across them."""
    label_w, plot_w, value_w, row_h, top = 120, 420, 60, 26, 28
    width = label_w + plot_w + value_w
    height = top + row_h * len(bars) + 18
    parts = [
        f'<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = label_w + tick * plot_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 8}" stroke="{GRID}" />'
            f'<text x="{x:.1f}" y="{top - 10}" font-size="10" fill="{MUTED}" text-anchor="middle">'
            f"{tick * 100:.0f}%</text>"
        )
    for index, (label, share) in enumerate(bars):
        y = top + index * row_h
        share = min(max(share, 0.0), 1.0)
        colour = GOOD if share >= target else (WARN if share >= alarm else BAD)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" font-size="12" fill="{INK}" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 5}" width="{share * plot_w:.1f}" height="{row_h - 10}" '
            f'fill="{colour}"><title>{escape(label)}: {_pct(share)}</title></rect>'
            f'<text x="{label_w + plot_w + 6}" y="{y + row_h / 2 + 4:.1f}" font-size="12" fill="{INK}">'
            f"{_pct(share)}</text>"
        )
    for number, guide in enumerate(guides):
        x = label_w + guide.value * plot_w
        # The first guide's label sits right of its line, the next one's left, so close lines stay legible.
        anchor, dx = ("start", 3) if number % 2 == 0 else ("end", -3)
        parts.append(
            f'<line class="guide" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 8}" '
            f'stroke="{guide.colour}" stroke-width="2" stroke-dasharray="5 3">'
            f"<title>{escape(guide.label)}</title></line>"
            f'<text x="{x + dx:.1f}" y="{height - 1}" font-size="10" fill="{guide.colour}" '
            f'text-anchor="{anchor}">{escape(guide.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    title: str,
    percent: bool = False,
    guides: Sequence[Guide] = (),
) -> Markup:
    """Lines over runs (oldest left), with a legend and optional horizontal guides."""
    left, right, top, bottom, plot_w, plot_h = 56, 16, 16, 58, 520, 180
    width, height = left + plot_w + right, top + plot_h + bottom
    values = [v for _, points in series for v in points if v is not None]
    values += [g.value for g in guides]
    low, high, step = _axis(values, percent)

    def y_of(value: float) -> float:
        return top + plot_h - (value - low) / ((high - low) or 1) * plot_h

    def x_of(index: int) -> float:
        return left + (plot_w / 2 if len(x_labels) == 1 else index * plot_w / (len(x_labels) - 1))

    def fmt(value: float) -> str:
        return _pct(value) if percent else f"{value:g}"

    parts = [
        f'<svg class="chart lines" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    ticks = round((high - low) / step)
    for number in range(ticks + 1):
        value = low + step * number
        y = y_of(value)
        label = f"{value * 100:.0f}%" if percent else f"{value:g}"
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}" />'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" fill="{MUTED}" text-anchor="end">{label}</text>'
        )
    for index, label in enumerate(x_labels):
        parts.append(
            f'<text x="{x_of(index):.1f}" y="{top + plot_h + 14}" font-size="10" fill="{MUTED}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for guide in guides:
        y = y_of(guide.value)
        parts.append(
            f'<line class="guide" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{guide.colour}" stroke-width="1.5" stroke-dasharray="5 3">'
            f"<title>{escape(guide.label)}</title></line>"
            f'<text x="{left + plot_w - 2}" y="{y - 3:.1f}" font-size="10" fill="{guide.colour}" '
            f'text-anchor="end">{escape(guide.label)}</text>'
        )
    legend_at = float(left)
    for number, (name, points) in enumerate(series):
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        coords = [(x_of(i), y_of(v), v) for i, v in enumerate(points) if v is not None]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
            parts.append(
                f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" stroke-width="2" />'
            )
        for x, y, v in coords:
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(name)}: {fmt(v)}</title></circle>"
            )
        legend_x = legend_at
        legend_at += 28 + _text_width(name, 11)
        parts.append(
            f'<rect x="{legend_x}" y="{height - 18}" width="12" height="4" fill="{colour}" />'
            f'<text x="{legend_x + 16}" y="{height - 13}" font-size="11" fill="{INK}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
