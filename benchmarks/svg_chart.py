"""Line charts on log-log axes as plain SVG text (the lock has no plotting library; none is needed)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 460, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 36, 92
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")

Series = Mapping[str, Sequence[tuple[float, float]]]


def _decades(low: float, high: float) -> list[float]:
    """Powers of ten from at or below ``low`` to at or above ``high``."""
    return [10.0**e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]


def _label(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def chart(title: str, x_label: str, y_label: str, series: Series, *, x_offset: int = 0) -> str:
    """One chart (an SVG group at ``x_offset``): each series a line with dots, a legend below."""
    points = [p for line in series.values() for p in line if p[1] > 0]
    xs = _decades(min(p[0] for p in points), max(p[0] for p in points))
    ys = _decades(min(p[1] for p in points), max(p[1] for p in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        span = math.log10(xs[-1]) - math.log10(xs[0]) or 1.0
        return LEFT + plot_w * (math.log10(x) - math.log10(xs[0])) / span

    def py(y: float) -> float:
        span = math.log10(ys[-1]) - math.log10(ys[0]) or 1.0
        return TOP + plot_h * (1 - (math.log10(y) - math.log10(ys[0])) / span)

    out = [
        f'<g transform="translate({x_offset},0)">',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>',
    ]
    for x in xs:
        out.append(f'<line x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" y2="{TOP + plot_h}" stroke="#eee"/>')
        out.append(f'<text x="{px(x):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{_label(x)}</text>')
    for y in ys:
        out.append(
            f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + plot_w}" y2="{py(y):.1f}" stroke="#eee"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{_label(y)}</text>')
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 34}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text transform="translate(16,{TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>"
    )
    for index, (name, line) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        kept = [(px(x), py(y)) for x, y in line if y > 0]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in kept)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in kept)
        row, column = divmod(index, 2)
        lx, ly = LEFT + column * plot_w / 2, TOP + plot_h + 52 + row * 16
        out.append(f'<rect x="{lx:.1f}" y="{ly - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14:.1f}" y="{ly:.1f}">{escape(name)}</text>')
    out.append("</g>")
    return "\n".join(out)


def figure(charts: Sequence[str]) -> str:
    """Charts side by side in one SVG document."""
    width = WIDTH * len(charts)
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
            f'viewBox="0 0 {width} {HEIGHT}" font-family="sans-serif" font-size="11">',
            f'<rect width="{width}" height="{HEIGHT}" fill="white"/>',
            *charts,
            "</svg>",
            "",
        ]
    )
