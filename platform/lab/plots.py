"""The final plots of an experiment run, drawn on a Celery worker (its numbers as files: lab/numbers.py).

Input is a result the sandbox protocol has validated: `layers` run from the input side
(index 0) to the output side, `grad_norm` has one row per recorded step and one value
per layer, and a value that was not finite travels as None.

matplotlib's object API only (`Figure`, never pyplot): no global figure registry, no
backend to choose. Its rcParams are global, though, so the settings that make the SVG
byte-identical for the same result are set per call with `rc_context`; that is safe
in the worker's processes, not between threads of one process.

A gradient norm of 0 cannot sit on a log scale: the line plots leave it out, and the
heatmap gives it the lowest colour. None is a gap in a line and its own colour in the
heatmap.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
from django.utils import translation
from django.utils.translation import gettext as _
from matplotlib import colormaps, rc_context
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator

PLOT_NAMES = ("gradient_profile", "heatmap", "loss", "sequence", "clipping")

FIGURE_SIZE = (7, 4)  # inches; the SVG scales to its container's width
RASTER_DPI = 100  # the heatmap's cells are one embedded image, not thousands of SVG rectangles
MAX_LINES = 5  # recorded steps drawn as lines in the profile plots
MAX_MARKERS = 30  # points per line up to which each point gets a marker
MAX_TICK_NAME = 16  # characters of a layer name on an axis
MAX_SVG_POINTS = 2000  # a longer loss curve is thinned to this many points (min and max kept)
LOG_LOSS_DECADES = 2  # a loss spanning more than this many decades is drawn on a log scale
NO_VALUE_COLOUR = "#c8c8c8"
COLOURMAP = "viridis"  # perceptually uniform; readable in grey and for most colour-blind readers

RC = {
    "svg.hashsalt": "gradlab",  # ids of clip paths from a fixed salt instead of a random one
    "svg.fonttype": "none",  # text stays text: smaller, searchable, and the browser's fonts
    "font.size": 11,  # the figure shrinks to about 0.7 on a phone
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "axes.formatter.use_locale": False,
    "axes.titlesize": "large",
    "legend.fontsize": "small",
    "legend.frameon": False,
}
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def plots_render(*, result: dict[str, Any], language: str) -> dict[str, str]:
    """Name from PLOT_NAMES to SVG text; "sequence" only for a run that measured one (a recurrent net),
    "clipping" only for a run that clipped its gradients."""
    drawers = {"gradient_profile": _gradient_profile, "heatmap": _heatmap, "loss": _loss}
    if result.get("seq_grad_norm"):
        drawers["sequence"] = _sequence
    if result.get("grad_norm_total") and result.get("grad_norm_clipped"):
        drawers["clipping"] = _clipping
    plots = {}
    with translation.override(language), rc_context(RC):
        for name, draw in drawers.items():
            figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
            title = draw(figure, result)
            plots[name] = _svg(figure, title=title)
    return plots


# ---------------------------------------------------------------- the plots


def _axes(figure: Figure, *, title: str, x: str, y: str) -> Axes:
    ax = figure.add_subplot()
    ax.set_title(title)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return ax


def _gradient_profile(figure: Figure, result: dict[str, Any]) -> str:
    title = _("Gradient norm per layer")
    ax = _axes(figure, title=title, x=_("layer, from input to output"), y=_("gradient norm ‖∇W‖ (log scale)"))
    norms = _grid(result["grad_norm"], width=len(result["layers"]))
    if not _lines(ax, norms, steps=result["steps"]):
        _nothing(ax)
        return title
    ax.set_xlim(0.5, len(result["layers"]) + 0.5)
    _layer_ticks(ax.xaxis, result["layers"])
    return title


def _heatmap(figure: Figure, result: dict[str, Any]) -> str:
    title = _("Gradient norm per layer over training")
    ax = _axes(figure, title=title, x=_("training step"), y=_("layer (input at the bottom)"))
    norms = _grid(result["grad_norm"], width=len(result["layers"])).T  # layers × steps
    positive = _positive(norms)
    if not positive.any():
        _nothing(ax)
        return title
    logs = np.log10(norms, out=np.full_like(norms, np.nan), where=positive)
    low, high = float(logs[positive].min()), float(logs[positive].max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    zero = np.isfinite(norms) & ~positive
    colours = np.ma.masked_invalid(np.where(zero, low, logs))
    mesh = ax.pcolormesh(
        _edges(result["steps"]),
        np.arange(len(result["layers"]) + 1) + 0.5,
        colours,
        cmap=colormaps[COLOURMAP].with_extremes(bad=NO_VALUE_COLOUR),
        norm=Normalize(vmin=low, vmax=high),
        rasterized=True,
    )
    colourbar = figure.colorbar(mesh, ax=ax)
    colourbar.set_label(_("log₁₀ ‖∇W‖"))
    _layer_ticks(ax.yaxis, result["layers"])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    if np.ma.getmaskarray(colours).any():
        figure.legend(
            handles=[Patch(facecolor=NO_VALUE_COLOUR, edgecolor="0.5", label=_("no value"))],
            loc="outside lower right",
        )
    return title


def _loss(figure: Figure, result: dict[str, Any]) -> str:
    title = _("Training loss")
    ax = figure.add_subplot()
    ax.set_title(title)
    ax.set_xlabel(_("training step"))
    steps = np.array(result["steps"], dtype=float)
    loss = _grid([result["loss"]], width=len(steps))[0]
    finite = np.isfinite(loss)
    if not finite.any():
        ax.set_ylabel(_("loss"))
        _nothing(ax)
        return title
    values = loss[finite]
    logarithmic = bool((values > 0).all() and values.max() / values.min() > 10**LOG_LOSS_DECADES)
    if logarithmic:
        _log_y(ax)
        ax.set_ylabel(_("loss (log scale)"))
    else:
        ax.set_ylabel(_("loss"))
    steps, loss = _thin(steps, loss)
    few = len(steps) <= MAX_MARKERS
    ax.plot(steps, loss, color=_colour(0.4), marker="o" if few else None, markersize=3, linewidth=1.5 if few else 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(True, alpha=0.3)
    return title


def _sequence(figure: Figure, result: dict[str, Any]) -> str:
    title = _("Gradient norm through time")
    ax = _axes(figure, title=title, x=_("time step, from first to last"), y=_("gradient norm ‖∂L/∂hₜ‖ (log scale)"))
    rows = result["seq_grad_norm"]
    width = max((len(row) for row in rows), default=0)
    if not _lines(ax, _grid(rows, width=width), steps=result["steps"]):
        _nothing(ax)
        return title
    ax.set_xlim(0.5, width + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    return title


def _clipping(figure: Figure, result: dict[str, Any]) -> str:
    title = _("Gradient norm before and after clipping")
    ax = _axes(figure, title=title, x=_("training step"), y=_("norm of the whole gradient (log scale)"))
    steps = np.array(result["steps"], dtype=float)
    lines = [(_("before clipping"), "grad_norm_total", 0.0, "-"), (_("after clipping"), "grad_norm_clipped", 0.7, "--")]
    drawn = False
    for label, key, shade, style in lines:
        norms = _grid([result[key]], width=len(steps))[0]
        positive = _positive(norms)
        if not positive.any():
            continue
        xs, ys = _thin(steps, np.where(positive, norms, np.nan))
        ax.plot(
            xs,
            ys,
            color=_colour(shade),
            linestyle=style,
            marker="o" if len(xs) <= MAX_MARKERS else None,
            markersize=3,
            label=label,
        )
        drawn = True
    if not drawn:
        _nothing(ax)
        return title
    _log_y(ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best")
    return title


# ---------------------------------------------------------------- pieces


def _lines(ax: Axes, norms: np.ndarray, *, steps: Sequence[int]) -> bool:
    """One line over positions 1..n for each chosen recorded step; False when there was nothing to draw."""
    positive = _positive(norms)
    chosen = _chosen_rows(np.flatnonzero(positive.any(axis=1)))
    if not chosen:
        return False
    positions = np.arange(1, norms.shape[1] + 1)
    marker = "o" if norms.shape[1] <= MAX_MARKERS else None
    for order, row in enumerate(chosen):
        ax.plot(
            positions,
            np.where(positive[row], norms[row], np.nan),
            color=_colour(order / max(len(chosen) - 1, 1)),
            marker=marker,
            markersize=3,
            label=_("step %(step)s") % {"step": steps[row]},
        )
    _log_y(ax)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best")
    return True


def _log_y(ax: Axes) -> None:
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_PlainPowers())
    ax.yaxis.set_minor_formatter(_PlainPowers(labelOnlyBase=False))


class _PlainPowers(LogFormatterSciNotation):
    """Log-axis labels such as 10⁻⁶ and 2×10⁻³ as plain text.

    matplotlib writes them in mathtext, whose parser took a third of the time of a plot; plain
    text is also smaller in the SVG and a browser can search it.
    """

    def __call__(self, x: float, pos: int | None = None) -> str:
        label = super().__call__(x, pos).replace("$", "").replace(r"\mathdefault", "").replace(r"\times", "×")
        label = re.sub(r"\^\{(-?\d+)\}", lambda power: power.group(1).translate(SUPERSCRIPT), label)
        return label.replace("{", "").replace("}", "")


def _chosen_rows(rows: np.ndarray) -> list[int]:
    """Up to MAX_LINES of the given row numbers, evenly spaced, the first and the last among them."""
    if len(rows) <= MAX_LINES:
        return [int(row) for row in rows]
    picks = np.linspace(0, len(rows) - 1, MAX_LINES).round().astype(int)
    return [int(rows[pick]) for pick in picks]


def _grid(rows: Sequence[Sequence[float | None]], *, width: int) -> np.ndarray:
    """Rows as a float array, None as NaN; a short row is padded with NaN."""
    grid = np.full((len(rows), width), np.nan)
    for index, row in enumerate(rows):
        grid[index, : len(row)] = np.array(row, dtype=float)
    return grid


def _positive(values: np.ndarray) -> np.ndarray:
    """What a log scale can show: finite and above 0."""
    return np.where(np.isfinite(values), values, -1.0) > 0


def _edges(steps: Sequence[int]) -> np.ndarray:
    """Cell edges around each recorded step: halfway to its neighbours, steps need not be evenly spaced."""
    centres = np.array(steps, dtype=float)
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middles = (centres[:-1] + centres[1:]) / 2
    first = centres[0] - (middles[0] - centres[0])
    last = centres[-1] + (centres[-1] - middles[-1])
    return np.concatenate([[first], middles, [last]])


def _layer_ticks(axis: Axis, layers: Sequence[str]) -> None:
    """Layers at 1..n: a few numbers in between, and the first and the last layer by name."""
    count = len(layers)
    inner = MaxNLocator(nbins=6, integer=True).tick_values(1, count)
    margin = max(1.0, (count - 1) / 8)  # keeps a number clear of the names at the ends
    ticks = [1, *(int(tick) for tick in inner if 1 + margin <= tick <= count - margin), count]
    ticks = sorted(set(ticks))
    labels = [str(tick) for tick in ticks]
    labels[0] = _short(layers[0])
    labels[-1] = _short(layers[-1])
    axis.set_ticks(ticks, labels=labels)


def _short(name: str) -> str:
    """A long name loses its middle: "encoder.layers.11.self_attn" tells apart by both ends."""
    if len(name) <= MAX_TICK_NAME:
        return name
    head = (MAX_TICK_NAME - 1) // 2
    return name[:head] + "…" + name[-(MAX_TICK_NAME - 1 - head) :]


def _colour(fraction: float) -> tuple[float, float, float, float]:
    """Early steps dark, late steps light: the order of the lines shows in their colour.

    The scale stops short of viridis' yellow end, which is hard to see on white.
    """
    return colormaps[COLOURMAP](0.75 * fraction)


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most about MAX_SVG_POINTS points, keeping each bucket's lowest and highest value so spikes stay."""
    if len(x) <= MAX_SVG_POINTS:
        return x, y
    keep = set()
    for bucket in np.array_split(np.arange(len(x)), MAX_SVG_POINTS // 2):
        values = y[bucket]
        finite = np.isfinite(values)
        if not finite.all():
            keep.update(int(index) for index in bucket[~finite])  # the gaps stay gaps
        if finite.any():
            keep.add(int(bucket[finite][np.argmin(values[finite])]))
            keep.add(int(bucket[finite][np.argmax(values[finite])]))
    indices = np.array(sorted(keep))
    return x[indices], y[indices]


def _nothing(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, _("no finite values to plot"), transform=ax.transAxes, ha="center", va="center", color="0.35")


def _svg(figure: Figure, *, title: str) -> str:
    """The figure as an SVG element to put in a page: no XML prolog, no fixed size, a label for screen readers."""
    out = io.StringIO()
    figure.savefig(out, format="svg", dpi=RASTER_DPI, metadata={"Date": None})
    text = out.getvalue()
    start = text.index("<svg ")
    end = text.index(">", start)
    tag = re.sub(r'\s(?:width|height)="[^"]*"', "", text[start:end])
    return f'{tag} width="100%" role="img" aria-label={quoteattr(title)}' + text[end:]
