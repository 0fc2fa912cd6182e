"""The lab's charts drawn in the web process: the live gradient chart and the comparison.

The final plots are drawn by the worker with matplotlib (lab/plots.py); these two change
while the learner watches, so they are small SVGs built here from the stored numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from gradlab.svgchart import FONT, WIDTH, pos, svg_chart, svg_text, text_width

HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 10, 54
MAX_SERIES = 8
MAX_POINTS = 300


@dataclass(frozen=True)
class Series:
    label: str
    xs: Sequence[float]
    ys: Sequence[float | None]


def pick_evenly(count: int, most: int) -> list[int]:
    """Up to `most` indexes from 0 to count-1, evenly spread, always the first and the last."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def _log_points(series: Series) -> list[list[tuple[float, float]]]:
    """The series as runs of (x, log10 y); a missing or non-positive value breaks the line."""
    keep = pick_evenly(len(series.xs), MAX_POINTS)
    runs: list[list[tuple[float, float]]] = [[]]
    for index in keep:
        value = series.ys[index]
        if value is None or value <= 0 or not math.isfinite(value):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((series.xs[index], math.log10(value)))
    return [run for run in runs if run]


def log_line_chart(
    *,
    name: str,
    title: str,
    series: Sequence[Series],
    x_label: str,
    x_range: tuple[float, float],
    x_ticks: Sequence[tuple[float, str]] = (),
    legend: bool = True,
) -> SafeString:
    """Lines on a log-10 value axis; one colour class per series, from the first to the last."""
    lines = [_log_points(one) for one in series]
    logs = [y for runs in lines for run in runs for _, y in run]
    body: list[str] = []
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    low, high = (math.floor(min(logs)), math.ceil(max(logs))) if logs else (-3, 0)
    if low == high:
        low, high = low - 1, high + 1
    x0, x1 = x_range
    x1 = x1 if x1 > x0 else x0 + 1

    def x_at(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def y_at(y: float) -> float:
        return TOP + (high - y) / (high - low) * plot_h

    step = max(1, math.ceil((high - low) / 5))
    for exponent in range(high, low - 1, -step):
        y = y_at(exponent)
        body.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{pos(y)}" y2="{pos(y)}"/>')
        body.append(svg_text(LEFT - 4, y + 4, f"1e{exponent}", anchor="end"))
    for x, label in x_ticks or [(x0, f"{x0:g}"), (x1, f"{x1:g}")]:
        body.append(svg_text(x_at(x), HEIGHT - BOTTOM + FONT + 2, label, anchor="middle"))
    body.append(svg_text(LEFT + plot_w / 2, HEIGHT - BOTTOM + 2 * FONT + 4, x_label, anchor="middle"))
    for index, (one, runs) in enumerate(zip(series, lines, strict=True)):
        css = f"series series-{shade(index, len(series))}"
        for run in runs:
            points = " ".join(f"{pos(x_at(x))},{pos(y_at(y))}" for x, y in run)
            if len(run) == 1:
                x, y = run[0]
                body.append(f'<circle class="{css}" cx="{pos(x_at(x))}" cy="{pos(y_at(y))}" r="2"/>')
            else:
                tip = f"<title>{escape(one.label)}</title>"
                body.append(f'<polyline class="{css}" fill="none" points="{points}">{tip}</polyline>')
    if legend:
        body.append(_legend(series, y=HEIGHT - 12))
    if not logs:
        body.append(svg_text(LEFT + plot_w / 2, TOP + plot_h / 2, _("no values yet"), anchor="middle"))
    desc = _("Gradient norm on a logarithmic scale; lines: %(lines)s") % {
        "lines": ", ".join(one.label for one in series)
    }
    return svg_chart(name=name, height=HEIGHT, title=title, desc=desc, body=body)


def shade(index: int, count: int) -> int:
    """Colour classes series-0 … series-7: the first series darkest, the last lightest."""
    return 0 if count <= 1 else round(index * 7 / (count - 1))


def _legend(series: Sequence[Series], *, y: float) -> str:
    """The series' names; with many, the first and the last (the shades between say the rest)."""
    shown = list(enumerate(series))
    if len(shown) > 4:
        shown = [shown[0], (-1, None), shown[-1]]
    parts, x = [], LEFT
    for index, one in shown:
        if one is None:
            parts.append(svg_text(x, y, "…"))
            x += text_width("…") + 10
            continue
        css = f"series series-{shade(index, len(series))}"
        parts.append(f'<line class="{css}" x1="{pos(x)}" x2="{pos(x + 12)}" y1="{pos(y - 4)}" y2="{pos(y - 4)}"/>')
        parts.append(svg_text(x + 15, y, one.label))
        x += 15 + text_width(one.label) + 10
    return "".join(parts)


def live_chart(*, progress: dict) -> SafeString:
    """The gradient norm of some layers (first, last and evenly between) at each step so far."""
    rows = progress["grad_norm"]
    layers = progress["layers"] or [str(j + 1) for j in range(len(rows[0]) if rows else 0)]
    chosen = pick_evenly(len(layers), MAX_SERIES)
    series = [
        Series(label=layers[j], xs=progress["steps"], ys=[row[j] for row in progress["grad_norm"]]) for j in chosen
    ]
    total = progress["total"] or 1
    return log_line_chart(
        name="live",
        title=_("Gradient norm per layer, live"),
        series=series,
        x_label=_("training step"),
        x_range=(0, max(total - 1, 1)),
    )


def comparison_chart(*, profiles: Sequence[dict]) -> SafeString:
    """Each run's gradient norm per layer (input side on the left) at its last recorded step."""
    deepest = max((len(profile["values"]) for profile in profiles), default=1)
    series = [
        Series(
            label=profile["label"],
            xs=list(range(1, len(profile["values"]) + 1)),
            ys=profile["values"],
        )
        for profile in profiles
    ]
    return log_line_chart(
        name="compare",
        title=_("Gradient norm per layer"),
        series=series,
        x_label=_("layer (1 = input side)"),
        x_range=(1, max(deepest, 2)),
        x_ticks=[(1, "1"), (deepest, str(deepest))],
        legend=False,  # the page's table names each line, next to its colour
    )
