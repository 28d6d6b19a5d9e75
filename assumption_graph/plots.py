"""Charts of a run with matplotlib: histogram, S-curve, convergence, tornado, contribution.

What people would rather look at than read. Every function returns a
``matplotlib.figure.Figure`` built directly, not through ``pyplot``: nothing
opens a window, no global state changes, and a figure is freed like any object.
Histograms and S-curves are drawn from a summary's quantile sketch
(:attr:`~assumption_graph.results.NodeSummary.quantiles`), so they need no kept
samples; the convergence chart needs the samples themselves. matplotlib is
imported inside the functions, so importing this module stays cheap.

``result.plot`` (a :class:`PlotAccessor`) is the notebook's way in::

    result.plot.histogram("npv")          # a key figure, or any output node id
    result.plot.s_curve("project_cost")
    save_figure(result.plot.tornado(sensitivity_result), "tornado.svg")
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .business.figures import RATES, KeyFigure
from .business.labels import case_nodes, figure_id, situation_title
from .errors import RunError, did_you_mean
from .io import write_atomic
from .model import Model
from .render import RenderError
from .report import format_cell, format_rate
from .results import SKETCH_LEVELS, NodeSummary, RunResult
from .run import checked_whole
from .sensitivity import SensitivityResult
from .text import printable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CHART_KINDS",
    "FIGURE_FORMATS",
    "LEGEND_CURVES",
    "TOP_INPUTS",
    "ChartRequest",
    "PlotAccessor",
    "check_chart_name",
    "contribution_figure",
    "curves_figure",
    "convergence_figure",
    "figure_data",
    "figure_format",
    "figure_png",
    "figure_svg",
    "histogram_figure",
    "s_curve_figure",
    "save_figure",
    "tornado_figure",
]

CHART_KINDS: tuple[str, ...] = ("histogram", "s-curve", "convergence")
FIGURE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
TOP_INPUTS = 15  # inputs a tornado or contribution chart shows at most
CHECKPOINTS = 100  # points of a convergence chart
LEGEND_CURVES = 12  # curves a chart of several names in its legend at most (more: a crowd)
DPI = 150

# Colours that stay apart for colour-blind readers (Okabe-Ito) and in greyscale.
_BLUE, _ORANGE, _GREEN, _VERMILION, _GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#555555"
_P_MARKERS = ((10.0, _BLUE, ":"), (50.0, "black", "--"), (90.0, _VERMILION, ":"))
_METADATA: dict[str, dict[str, str | None]] = {  # no dates: the same chart gives the same file
    "png": {},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}

Distribution = NodeSummary | KeyFigure  # what the histogram and S-curve read


# ---------------------------------------------------------------------------- the charts


def histogram_figure(
    summary: Distribution,
    title: str,
    unit: str = "",
    *,
    values: np.ndarray | None = None,
    bins: int = 50,
    percent: bool = False,
) -> Figure:
    """A histogram of a node's distribution with P10, P50 and P90 marked.

    Drawn from the summary's quantile sketch, or from ``values`` (the samples)
    when given. ``percent`` shows a rate (a fraction) as percentages.
    """
    bins = checked_whole(bins, "bins", least=1)
    fig, ax = _figure()
    finite = None if values is None else _finite(values)
    if finite is not None and finite.size:
        ax.hist(finite, bins=bins, density=True, color=_GREY, alpha=0.6, label="samples")
    elif summary.quantiles:
        quantiles = np.asarray(summary.quantiles)
        edges = _edges(quantiles, bins)
        masses = np.diff(_sketch_cdf(quantiles, edges))
        masses[0] += _sketch_cdf(quantiles, edges[:1])[0]  # whatever sits on the lowest edge
        ax.stairs(masses / np.diff(edges), edges, fill=True, color=_GREY, alpha=0.6)
    else:
        _no_data(ax)
    for level, colour, style in _P_MARKERS:
        value = summary.percentiles.get(level)
        if value is not None:
            text = f"P{level:g} = {_value_text(value, unit, percent)}"
            ax.axvline(value, color=colour, linestyle=style, linewidth=1.5, label=text)
    ax.set_xlabel(_axis_label(unit, percent))
    ax.set_ylabel("probability density")
    _finish(ax, title, percent, legend=bool(ax.lines))
    return fig


def s_curve_figure(
    summary: Distribution,
    title: str,
    unit: str = "",
    risk_adjusted: float | None = None,
    *,
    percent: bool = False,
) -> Figure:
    """The S-curve (cumulative distribution) with the expected and risk-adjusted values marked.

    ``risk_adjusted`` defaults to a key figure's own risk-adjusted value, or a
    node's probability-weighted figure. Each mark's label says how likely the
    outcome is not to exceed it.
    """
    if risk_adjusted is None:
        risk_adjusted = (
            summary.risk_adjusted if isinstance(summary, KeyFigure) else summary.weighted
        )
    fig, ax = _figure()
    quantiles = np.asarray(summary.quantiles)
    if quantiles.size:
        probability = np.asarray(SKETCH_LEVELS) / 100
        ax.plot(quantiles, probability, color=_GREY, linewidth=2, label="Monte Carlo")
    else:
        _no_data(ax)
    marks = (
        ("expected", summary.expected, _BLUE, "--"),
        ("risk-adjusted", risk_adjusted, _VERMILION, "-."),
    )
    for name, value, colour, style in marks:
        if value is None:
            continue
        text = f"{name} = {_value_text(value, unit, percent)}"
        if quantiles.size:
            text += f" (P{100 * _sketch_cdf(quantiles, np.array([value]))[0]:.0f})"
        ax.axvline(value, color=colour, linestyle=style, linewidth=1.5, label=text)
    ax.set_ylim(0, 1)
    ax.set_xlabel(_axis_label(unit, percent))
    ax.set_ylabel("probability of not exceeding")
    _percent_axis(ax.yaxis)
    _finish(ax, title, percent, legend=True)
    return fig


def curves_figure(
    summaries: Mapping[str, Distribution], title: str, unit: str = "", *, percent: bool = False
) -> Figure:
    """The S-curves of several distributions on one chart, one line each, by name.

    A portfolio shows its cases' NPV so; each curve is read off its quantile sketch.
    Beyond :data:`LEGEND_CURVES` curves the legend is left out: the chart then shows
    the spread of the crowd, and a table names them.
    """
    fig, ax = _figure(height=4.8)
    probability = np.asarray(SKETCH_LEVELS) / 100
    drawn = False
    for name, summary in summaries.items():
        quantiles = np.asarray(summary.quantiles)
        if quantiles.size:
            ax.plot(quantiles, probability, linewidth=1.5, label=_text(name))
            drawn = True
    if not drawn:
        _no_data(ax)
    ax.set_ylim(0, 1)
    ax.set_xlabel(_axis_label(unit, percent))
    ax.set_ylabel("probability of not exceeding")
    _percent_axis(ax.yaxis)
    _finish(ax, title, percent, legend=drawn and len(summaries) <= LEGEND_CURVES, below=True)
    return fig


def convergence_figure(
    values: np.ndarray,
    title: str,
    unit: str = "",
    *,
    checkpoints: int = CHECKPOINTS,
    percent: bool = False,
) -> Figure:
    """The running mean (± 2 standard errors) and running P10/P50/P90 against the samples.

    Computed at about ``checkpoints`` sample counts spaced evenly on the log
    axis, over the finite samples in the order they were drawn; the last point
    is the run's own mean and percentiles.
    """
    finite = _finite(values)
    if finite.size < 2:
        raise RunError(f"a convergence chart needs at least 2 finite samples, got {finite.size}")
    counts = _checkpoints(finite.size, checkpoints)
    means = np.array([np.mean(finite[:k]) for k in counts])
    errors = np.array([np.std(finite[:k], ddof=1) for k in counts]) / np.sqrt(counts)
    levels = [level for level, _, _ in _P_MARKERS]
    running = np.array([np.percentile(finite[:k], levels) for k in counts])
    fig, ax = _figure()
    ax.fill_between(
        counts, means - 2 * errors, means + 2 * errors, color=_BLUE, alpha=0.2, label="mean ± 2 SE"
    )
    ax.plot(counts, means, color=_BLUE, linewidth=2, label="mean")
    for column, (level, colour, style) in enumerate(_P_MARKERS):
        ax.plot(counts, running[:, column], color=colour, linestyle=style, label=f"P{level:g}")
    ax.set_xscale("log")
    ax.set_xlabel("samples")
    ax.set_ylabel(_axis_label(unit, percent))
    _finish(ax, title, percent, legend=True, value_axis="y", outside=True)
    return fig


def tornado_figure(
    sensitivity: SensitivityResult,
    *,
    title: str | None = None,
    unit: str = "",
    top: int = TOP_INPUTS,
) -> Figure:
    """The tornado: the output with each input alone at its low and at its high end.

    Bars start at the base (every input at mid); the widest swing is at the
    top, and at most ``top`` inputs are shown.
    """
    bars = list(sensitivity.tornado[:top])
    fig, ax = _figure(height=1.6 + 0.35 * max(len(bars), 1))
    base = sensitivity.base
    positions = np.arange(len(bars))[::-1]  # the largest swing at the top
    sides = (("low", _BLUE, "input at its low"), ("high", _ORANGE, "input at its high"))
    named: set[str] = set()  # each side in the legend once
    for position, bar in zip(positions, bars, strict=True):
        for side, colour, name in sides:
            value = getattr(bar, side)
            if value is not None and math.isfinite(value):
                label = "_nolegend_" if name in named else name
                ax.barh(position, value - base, left=base, color=colour, label=label)
                named.add(name)
    if not bars:
        _no_data(ax, "no uncertain inputs")
    ax.axvline(base, color="black", linewidth=1, label=f"base = {_value_text(base, unit, False)}")
    ax.set_yticks(positions, [_text(bar.label or bar.input) for bar in bars])
    ax.set_xlabel(_axis_label(unit, False, f"{sensitivity.output}, the other inputs at mid"))
    _finish(ax, title or f"Tornado: {sensitivity.output}", False, legend=True, below=True)
    return fig


def contribution_figure(
    sensitivity: SensitivityResult, *, title: str | None = None, top: int = TOP_INPUTS
) -> Figure:
    """Each input's share of the output's variance, largest first (the rest as one bar)."""
    shares = sorted(
        ((k, v) for k, v in sensitivity.contribution_to_variance.items() if math.isfinite(v)),
        key=lambda item: -item[1],
    )
    labels = {bar.input: bar.label or bar.input for bar in sensitivity.tornado}
    shown = [(labels.get(k, k), v) for k, v in shares[:top]]
    rest = shares[top:]
    if rest:
        shown.append((f"{len(rest)} other inputs", math.fsum(v for _, v in rest)))
    fig, ax = _figure(height=1.6 + 0.35 * max(len(shown), 1))
    positions = np.arange(len(shown))[::-1]
    if shown:
        container = ax.barh(positions, [v for _, v in shown], color=_BLUE)
        ax.bar_label(container, labels=[f"{100 * v:.1f} %" for _, v in shown], padding=3)
        ax.set_xlim(0, max(1.0, max(v for _, v in shown)) * 1.1)
    else:
        _no_data(ax, "no uncertain inputs")
    ax.set_yticks(positions, [_text(name) for name, _ in shown])
    ax.set_xlabel("share of the output's variance (squared rank correlations, summing to 100 %)")
    _percent_axis(ax.xaxis)
    _finish(ax, title or f"Contribution to variance: {sensitivity.output}", False, legend=False)
    return fig


# ---------------------------------------------------------------------------- files


def figure_format(path: str | Path) -> str:
    """The file format a chart is written in, from the path's extension (png, svg or pdf).

    >>> figure_format("npv.PNG")
    'png'
    """
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in FIGURE_FORMATS:
        raise RenderError(
            f"cannot write {target}: unknown extension {target.suffix or '(none)'!r}",
            hint="charts are written as " + ", ".join(f".{f}" for f in FIGURE_FORMATS),
        )
    return fmt


def figure_svg(fig: Figure) -> str:
    """The figure as SVG text (for HTML reports)."""
    return _figure_bytes(fig, "svg", DPI).decode("utf-8")


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes."""
    return _figure_bytes(fig, "png", dpi)


def figure_data(fig: Figure, path: str | Path, dpi: int = DPI) -> bytes:
    """The figure as the file ``path`` holds: png, svg or pdf by its extension."""
    return _figure_bytes(fig, figure_format(path), dpi)


def save_figure(fig: Figure, path: str | Path, dpi: int = DPI) -> Path:
    """Write the figure as png, svg or pdf (by extension), whole or not at all."""
    target = Path(path)
    write_atomic(target, figure_data(fig, target))
    return target


def _figure_bytes(fig: Figure, fmt: str, dpi: int) -> bytes:
    from matplotlib import rc_context

    buffer = io.BytesIO()
    with rc_context({"svg.hashsalt": "assumption_graph"}):  # the same ids in every SVG
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_METADATA[fmt])
    return buffer.getvalue()


# ---------------------------------------------------------------------------- a run's charts


@dataclass(frozen=True)
class _Target:
    """What a chart of one name draws: the distribution, its samples' id, title and unit."""

    summary: Distribution
    node_id: str
    title: str
    unit: str
    percent: bool


class PlotAccessor:
    """A run's charts, one call each: ``result.plot.histogram("npv")``.

    ``name`` is an output node of the run or a business-case key figure (``"npv"``,
    ``"irr"``, ``"net_gain"``, ...). With the ``model``, charts carry its labels
    and units (money figures in its money unit); ``result.plot`` has no model.
    """

    def __init__(self, result: RunResult, model: Model | None = None) -> None:
        self.result = result
        self.model = model
        self._nodes = case_nodes(model) if model is not None else {}

    def histogram(self, name: str, *, bins: int = 50) -> Figure:
        """Histogram with P10/P50/P90 (from the kept samples when the run kept them)."""
        target = self._target(name)
        values = self.result.arrays.get(target.node_id)
        return histogram_figure(
            target.summary,
            target.title,
            target.unit,
            values=values,
            bins=bins,
            percent=target.percent,
        )

    def s_curve(self, name: str) -> Figure:
        """S-curve with the expected and risk-adjusted values."""
        target = self._target(name)
        return s_curve_figure(target.summary, target.title, target.unit, percent=target.percent)

    def convergence(self, name: str) -> Figure:
        """Running mean and percentiles; the run must have kept the samples."""
        target = self._target(name)
        if target.node_id not in self.result.arrays:
            raise RunError(
                f"no samples of {name!r} were kept, and a convergence chart needs them",
                hint="run with keep_samples=True",
            )
        values = self.result.arrays[target.node_id]
        title = f"Convergence: {target.title}"
        return convergence_figure(values, title, target.unit, percent=target.percent)

    def tornado(self, sensitivity: SensitivityResult, *, top: int = TOP_INPUTS) -> Figure:
        """Tornado of a sensitivity result (see :func:`tornado_figure`)."""
        target = self._target(sensitivity.output, strict=False)
        title = f"Tornado: {target.title}"
        return tornado_figure(sensitivity, title=title, unit=target.unit, top=top)

    def contribution(self, sensitivity: SensitivityResult, *, top: int = TOP_INPUTS) -> Figure:
        """Contribution to variance of a sensitivity result (see :func:`contribution_figure`)."""
        title = f"Contribution to variance: {self._target(sensitivity.output, strict=False).title}"
        return contribution_figure(sensitivity, title=title, top=top)

    def chart(self, kind: str, name: str) -> Figure:
        """The chart of one of :data:`CHART_KINDS` (what ``run --plot`` asks for)."""
        if kind == "histogram":
            return self.histogram(name)
        if kind == "s-curve":
            return self.s_curve(name)
        if kind == "convergence":
            return self.convergence(name)
        raise RunError(f"unknown chart {kind!r}", hint="use one of: " + ", ".join(CHART_KINDS))

    def _target(self, name: str, strict: bool = True) -> _Target:
        """The node or key figure ``name`` names; with ``strict=False`` only its title and unit."""
        case = self.result.business_case
        figures = case.key_figures if case is not None else {}
        if name not in self.result.summaries and name.removeprefix("@") in figures:
            figure = figures[name.removeprefix("@")]
            percent = figure.name in RATES
            unit = "" if percent or self.model is None else self.model.money_unit
            return _Target(figure, figure_id(figure.name), figure.label, unit, percent)
        if strict:
            check_chart_name(name, self.result.summaries, figures)
        title, unit = self._describe(name)
        summary = self.result.summaries.get(name)
        return _Target(summary or _EMPTY, name, title, unit, False)

    def _describe(self, node_id: str) -> tuple[str, str]:
        """A node's title (its label where the model has one) and unit."""
        copy = self._nodes.get(node_id)
        if self.model is None or copy is None:
            return node_id, ""
        node = self.model[copy.node]
        title = situation_title(node.display_label, copy)
        unit = node.unit or (self.model.money_unit if node.kind == "main" else "")
        return title, unit


_EMPTY = NodeSummary(None, None, None, None, None, None, None, None, {}, 0)


def check_chart_name(name: str, outputs: Iterable[str], key_figures: Iterable[str]) -> None:
    """Raise a :class:`RunError` unless ``name`` is an output node or a key figure."""
    outputs, key_figures = list(outputs), list(key_figures)
    if name in outputs or name.removeprefix("@") in key_figures:
        return
    hint = did_you_mean(
        name,
        [*outputs, *key_figures],
        "name an output node (every node with --all) or a key figure",
    )
    raise RunError(f"no output node or key figure named {name!r} to chart", hint=hint)


@dataclass(frozen=True)
class ChartRequest:
    """One ``run --plot KIND:NODE=FILE``: which chart of which node, written where."""

    kind: str
    name: str
    path: Path

    @classmethod
    def parse(cls, text: str) -> ChartRequest:
        """Read and check ``KIND:NODE=FILE`` (kind and extension) before any run.

        >>> ChartRequest.parse("histogram:npv=npv.svg")
        ChartRequest(kind='histogram', name='npv', path=PosixPath('npv.svg'))
        """
        kind, colon, rest = text.partition(":")
        name, equals, path = rest.partition("=")
        if not (colon and equals and name.strip() and path.strip()):
            raise RunError(
                f"--plot takes KIND:NODE=FILE, got {text!r}",
                hint="e.g. --plot histogram:npv=npv.png",
            )
        kind = kind.strip().lower()
        if kind not in CHART_KINDS:
            raise RunError(
                f"--plot: unknown chart {kind!r} in {text!r}",
                hint="use one of: " + ", ".join(CHART_KINDS),
            )
        target = Path(path.strip())
        figure_format(target)
        return cls(kind, name.strip(), target)


# ---------------------------------------------------------------------------- helpers


def _figure(height: float = 4.2) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, height), layout="constrained")
    return fig, fig.subplots()


def _finish(
    ax: Axes,
    title: str,
    percent: bool,
    *,
    legend: bool,
    value_axis: str = "x",
    outside: bool = False,
    below: bool = False,
) -> None:
    """Title, grid, percent ticks for a rate, and the legend (beside or below the plot if asked).

    A legend inside the axes can cover data, like a tornado's widest bar: those go outside.
    """
    ax.set_title(_text(title))
    if percent:
        _percent_axis(ax.xaxis if value_axis == "x" else ax.yaxis)
    ax.grid(True, alpha=0.3)
    if legend and outside:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    elif legend and below:
        ax.figure.legend(fontsize="small", loc="outside lower center", ncols=3)
    elif legend:
        ax.legend(fontsize="small", loc="best")


def _percent_axis(axis: object) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0))  # type: ignore[attr-defined]


def _no_data(ax: Axes, text: str = "no finite samples") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=_GREY)


def _text(text: str) -> str:
    r"""A model's text as matplotlib shows it, literally: control characters as symbols,
    ``$`` escaped (two of them would start a mathtext formula, which can fail to parse).
    Every text from a model reaches a chart through this.

    >>> _text("cost in $ or $")
    'cost in \\$ or \\$'
    """
    return printable(text).replace("$", r"\$")


def _value_text(value: float, unit: str, percent: bool) -> str:
    if percent:
        return format_rate(value)
    return f"{format_cell(value)} {_text(unit)}".rstrip()


def _axis_label(unit: str, percent: bool, what: str = "value") -> str:
    if percent:
        return _text(f"{what} (% a year)")
    return _text(f"{what} ({unit})" if unit else what)


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def _checkpoints(n: int, count: int) -> np.ndarray:
    """About ``count`` sample counts from 2 (or 10) to ``n``, evenly spaced on a log axis."""
    start = min(10, n)
    return np.unique(np.geomspace(max(start, 2), n, count).round().astype(np.int64))


def _edges(quantiles: np.ndarray, bins: int) -> np.ndarray:
    low, high = float(quantiles[0]), float(quantiles[-1])
    if high <= low:  # one value only: a narrow bar around it
        pad = max(abs(low) * 0.01, 1e-9)
        low, high = low - pad, high + pad
    return np.linspace(low, high, bins + 1)


def _sketch_cdf(quantiles: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(value <= x) read off a quantile sketch.

    Each interval between neighbouring quantiles holds the same share of the
    samples, spread evenly over it (or all at one point when it has no width).

    >>> _sketch_cdf(np.array([0.0, 1.0, 1.0, 3.0]), np.array([-1.0, 0.5, 1.0, 2.0, 3.0]))
    array([0.        , 0.16666667, 0.66666667, 0.83333333, 1.        ])
    """
    low, high = quantiles[:-1, None], quantiles[1:, None]
    width = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.clip((x - low) / width, 0.0, 1.0)
    share = np.where(width > 0, spread, (x >= low).astype(float))
    result: np.ndarray = share.mean(axis=0)
    return result
