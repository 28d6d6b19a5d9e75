"""Figures of a run: per-node summaries, rank correlation, and the ``run --json`` contract.

Statistics are over the finite samples only; the non-finite ones are counted.
Finite samples always have a finite mean and percentiles: where a plain sum or
difference overflows (samples near float64's largest), or squares underflow (samples
near its smallest), it is taken again over the samples scaled by a power of two,
which is exact. Percentiles are exact (numpy's
linear interpolation between order statistics) from the kept output samples. Each
mean and percentile carries its Monte Carlo standard error, and each summary a
201-point quantile sketch of the distribution, enough to draw a histogram or an
S-curve once the samples are gone.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import numpy as np

if TYPE_CHECKING:  # built by the business-case summary, which builds on this module
    from .business.figures import BusinessCaseResult
    from .plots import PlotAccessor

__all__ = [
    "PERCENTILES",
    "SKETCH_LEVELS",
    "NodeSummary",
    "RunResult",
    "summarise",
    "summarise_total",
    "summarise_rows",
    "in_threads",
    "level_key",
    "by_level",
    "spearman",
    "achieved_correlations",
    "correlated_names",
    "finite_ranks",
    "Ranking",
    "average_ranks",
    "sample_variance",
]

T = TypeVar("T")

PERCENTILES: tuple[float, ...] = (5.0, 10.0, 25.0, 50.0, 70.0, 75.0, 80.0, 90.0, 95.0)
# The levels (in percent) of a summary's quantile sketch: 0, 0.5, 1, ..., 100.
SKETCH_LEVELS: tuple[float, ...] = tuple(k / 2 for k in range(201))


@dataclass(frozen=True)
class NodeSummary:
    """Every figure a run reports for one node. ``None`` where not defined.

    ``mean_se`` and ``percentiles_se`` are the Monte Carlo standard errors of
    ``mean`` and of each percentile (see :func:`summarise`). ``quantiles`` is the
    finite samples' quantile at each of :data:`SKETCH_LEVELS` (empty without
    finite samples): a sketch of the distribution for plots, not in the JSON.
    """

    expected: float | None
    weighted: float | None
    best: float | None
    worst: float | None
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    percentiles: Mapping[float, float | None]
    nonfinite: int
    mean_se: float | None = None
    percentiles_se: Mapping[float, float | None] = field(default_factory=dict)
    quantiles: tuple[float, ...] = field(default=(), repr=False, compare=False)

    def as_dict(self) -> dict[str, object]:
        """The node's entry of the JSON contract (percentile levels as text)."""
        return {
            "expected": self.expected,
            "weighted": self.weighted,
            "best": self.best,
            "worst": self.worst,
            "mean": self.mean,
            "mean_se": self.mean_se,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "percentiles": by_level(self.percentiles),
            "percentiles_se": by_level(self.percentiles_se),
            "nonfinite": self.nonfinite,
        }


def level_key(level: float) -> str:
    """A percentile level as the JSON contract's key: ``50.0`` -> ``"50"``."""
    return f"{level:g}"


def by_level(values: Mapping[float, float | None]) -> dict[str, float | None]:
    """Figures by percentile level as the JSON contract keys them (levels as text)."""
    return {level_key(p): v for p, v in values.items()}


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def summarise(samples: np.ndarray, figures: Mapping[str, float]) -> NodeSummary:
    """Summarise one node's samples, with its deterministic ``figures``.

    Standard errors (``None`` with fewer than 2 finite samples): the mean's is
    std / sqrt(n). A percentile's comes from the binomial distribution of the
    number of samples below it: with n finite samples and level p, that count
    has standard deviation d = sqrt(n·p·(1−p)), so the order statistics d ranks
    either side of the percentile's own (0-based, fractional) rank (n−1)·p span
    about ± one standard error; the SE is half the distance between them
    (interpolated between order statistics like the percentile, clipped to the
    smallest and largest sample). That holds where the distribution is smooth;
    at a jump, the edge of an atom (a probability mass at one value, such as a
    risk event's zero), the percentile flips across the jump from run to run. So
    where the order statistics within ``JUMP_REACH`` = 3 such spans either side
    hold an atom (one value repeated over at least d consecutive ranks) and are
    not all equal, the SE is half the distance between the order statistics at
    those outer ranks: the half-width of the 99.7 % binomial interval in value
    terms. The order statistics all these read (:class:`_Ordered`) serve min,
    max and the quantile sketch too. Finite samples always get a mean and
    percentiles; std is None only when it is itself past float64's largest
    (samples spanning most of the range).

    >>> s = summarise(np.array([1.0, 2.0, np.inf, 3.0]), {"expected": 2.0})
    >>> s.mean, s.nonfinite, s.percentiles[50.0], s.mean_se
    (2.0, 1, 2.0, 0.5773502691896258)
    """
    with np.errstate(over="ignore", invalid="ignore"):  # overflows are taken again, scaled
        tallied = _tallied(samples)  # None where a sample is not finite
        if tallied is not None:
            return _summary(samples, 0, figures, tallied)
        finite = _finite(samples)
        return _summary(finite, samples.size - finite.size, figures)


def summarise_total(
    samples: np.ndarray,
    figures: Mapping[str, float],
    factor: float,
    total_figures: Mapping[str, float],
) -> tuple[NodeSummary, NodeSummary]:
    """``summarise(samples, figures)``, then ``samples`` scaled in place by ``factor``
    (a node with ``years``: its total) and summarised with ``total_figures``, from the
    same order statistics.

    A positive factor keeps the samples' order (rounding is monotone), so where
    every sample is finite before and after scaling, the scaled samples' order
    statistics are the order statistics scaled, and the percentiles and sketch
    are those of the scaled samples. Otherwise (a non-finite sample, an overflow, a
    factor that is not positive) the scaled samples are summarised afresh. Mean
    and std are taken over the scaled samples as :func:`summarise` does; the
    memory beyond ``samples`` is :func:`summarise`'s.

    >>> row = np.array([3.0, 1.0, 2.0])
    >>> own, total = summarise_total(row, {}, 2.0, {})
    >>> own.percentiles[50.0], total.percentiles[50.0], row.tolist()
    (2.0, 4.0, [6.0, 2.0, 4.0])
    """
    with np.errstate(over="ignore", invalid="ignore"):  # a total past float64's range: inf
        tallied = _tallied(samples) if factor > 0.0 else None
        ends = [0, samples.size - 1]
        if tallied is None or not np.isfinite(tallied.ordered[ends] * factor).all():
            own = summarise(samples, figures)
            samples *= factor
            return own, summarise(samples, total_figures)
        own = _summary(samples, 0, figures, tallied)
        samples *= factor
        tallied.ordered.scale(factor)
        total = _Tallied(*_moments(samples, 1), tallied.ordered)  # a sort's copy is in slot 0
        return own, _summary(samples, 0, total_figures, total)


def _finite(samples: np.ndarray) -> np.ndarray:
    """The finite ``samples`` (``samples`` itself, not a copy, when all are)."""
    is_finite = np.isfinite(samples)
    return samples if is_finite.all() else samples[is_finite]


def summarise_rows(
    rows: np.ndarray, figures: Sequence[Mapping[str, float]], workers: int = 1
) -> list[NodeSummary]:
    """:func:`summarise` of each row of ``rows`` with its ``figures``, ``workers`` at a time.

    The outputs are independent, and the summaries' compiled passes and numpy's
    sorts run without the GIL, so threads summarise several outputs at once; each
    summary is the one :func:`summarise` gives alone. Each thread holds one
    output's working copies, so ``workers`` bounds the memory beyond the rows.

    >>> [s.mean for s in summarise_rows(np.array([[1.0, 3.0], [2.0, 4.0]]), [{}, {}], 2)]
    [2.0, 3.0]
    """
    return in_threads(
        [functools.partial(summarise, r, f) for r, f in zip(rows, figures, strict=True)], workers
    )


def in_threads(tasks: Sequence[Callable[[], T]], workers: int = 1) -> list[T]:
    """Each task's result, in order, calling ``workers`` of them at a time.

    For summaries and rankings: their compiled passes and numpy's sorts, most of
    their work, run without the GIL, so independent outputs keep several cores
    busy. Each thread's summaries share its scratch arrays (a sorted copy, a
    temporary), freed when the tasks are done: a fresh array for each large
    output costs page faults.

    >>> in_threads([lambda: 1, lambda: 2], workers=2)
    [1, 2]
    """
    if workers <= 1 or len(tasks) <= 1:
        _give_scratch()
        try:
            return [task() for task in tasks]
        finally:
            del _scratch.spaces
    with ThreadPoolExecutor(
        min(workers, len(tasks)), thread_name_prefix="summaries", initializer=_give_scratch
    ) as pool:
        return list(pool.map(_call, tasks))


def _call(task: Callable[[], T]) -> T:
    return task()


#: Below this magnitude the squares of the samples' deviations (at least one ulp of
#: it) may pass below float64's smallest normal number and lose their digits.
_SQUARES_UNDERFLOW = 2.0**-450
_LEVELS = np.array(PERCENTILES) / 100
_SKETCH = np.array(SKETCH_LEVELS) / 100
JUMP_REACH = 3.0  # binomial spans either side of a percentile in which an atom's edge counts


@dataclass(frozen=True)
class _Reads:
    """The (0-based, fractional) ranks a summary of ``n`` finite samples reads, the whole
    ranks they touch (``points``) and the windows of :func:`_percentile_se` (``windows``:
    first and end rank, each read whole)."""

    levels: np.ndarray  # the percentiles'
    sketch: np.ndarray  # the quantile sketch's
    spans: np.ndarray  # d = sqrt(n·p·(1−p)) of each percentile
    low: np.ndarray  # one span either side of each percentile
    high: np.ndarray
    first: np.ndarray  # JUMP_REACH spans either side
    last: np.ndarray
    points: np.ndarray  # sorted, each once
    windows: tuple[tuple[int, int], ...]
    fractional: np.ndarray  # every fractional rank above, in their order: one interpolation

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """``values`` at :attr:`fractional`, as levels, sketch, low, high, first and last."""
        k = self.levels.size
        return np.split(values, np.cumsum([k, self.sketch.size, k, k, k]))


@functools.lru_cache(maxsize=16)
def _reads(n: int) -> _Reads:
    """What a summary of ``n`` finite samples reads (:class:`_Reads`)."""
    top = n - 1
    levels, sketch = top * _LEVELS, top * _SKETCH
    spans = np.sqrt(n * _LEVELS * (1 - _LEVELS))
    low, high = np.clip(levels - spans, 0, top), np.clip(levels + spans, 0, top)
    first = np.clip(levels - JUMP_REACH * spans, 0, top)
    last = np.clip(levels + JUMP_REACH * spans, 0, top)
    touched = [np.array([0, top])]
    for fractional in (levels, sketch, low, high, first, last):
        below = np.floor(fractional).astype(np.intp)
        touched += [below, np.minimum(below + 1, top)]
    windows = tuple((int(a), min(int(np.ceil(b)) + 1, n)) for a, b in zip(first, last, strict=True))
    points = np.sort(np.concatenate(touched))
    points = points[np.diff(points, prepend=-1) > 0]  # each once (np.unique imports numpy.ma)
    fractional = np.concatenate((levels, sketch, low, high, first, last))
    return _Reads(levels, sketch, spans, low, high, first, last, points, windows, fractional)


class _Ordered:
    """Order statistics of ``size`` finite samples: all of them in order, or (with
    ``first`` and ``place``) the samples of some bins, in order, as :func:`_selected`
    gathers them: the k-th of those bins, in order, holds the ranks ``first[k]`` on,
    which sit at ``place[k]`` on."""

    def __init__(
        self,
        size: int,
        values: np.ndarray,
        first: np.ndarray | None = None,
        place: np.ndarray | None = None,
    ) -> None:
        self.size, self.values, self.first, self.place = size, values, first, place

    def __getitem__(self, at: np.ndarray | slice | list[int]) -> np.ndarray:
        """The order statistics at whole ranks ``at`` (an array, a list or a slice), each
        in a gathered bin. A zero is 0.0: which of the tied -0.0 and 0.0 a sort puts at a
        rank is up to the sort, so that no figure depends on it."""
        if self.first is None or self.place is None:
            return self.values[at] + 0.0
        if isinstance(at, slice):  # a window's bins are gathered whole, so its values are a run
            start, stop, _ = at.indices(self.size)
            first = int(self._places(np.array([start]))[0])
            return self.values[first : first + max(0, stop - start)] + 0.0
        return self.values[self._places(np.asarray(at))] + 0.0

    def _places(self, ranks: np.ndarray) -> np.ndarray:
        assert self.first is not None and self.place is not None
        bins = np.searchsorted(self.first, ranks, side="right") - 1
        return self.place[bins] + (ranks - self.first[bins])

    def scale(self, factor: float) -> None:
        """Multiply them by ``factor`` (positive: the order stays), in place."""
        self.values *= factor


class _Tallied(NamedTuple):
    """What a summary reads of finite samples: their mean, std (NaN below two) and order
    statistics."""

    mean: float
    std: float
    ordered: _Ordered


_TALLY_FROM = 1 << 17  # samples from which the compiled passes beat numpy's sort
_TALLY_SAMPLE = 4096  # samples that place the bins
_TAIL = 0.005  # the share of that sample below the bins, and above them
_GATHER_AT_MOST = 0.4  # the share of the samples the wanted bins may hold; else a sort


def _tallied(samples: np.ndarray) -> _Tallied | None:
    """Mean, std and order statistics of ``samples``: numpy's mean, and the std and the
    order statistics a summary reads by the compiled passes of :mod:`.compile.tally` (bit
    for bit what numpy gives); None where that does not pay (a small run) or does not
    apply (a sample that is not finite, a sum past float64's range). Where the bins
    would not pay (:func:`_bins`), numpy sorts the samples.
    """
    n = samples.size
    if n < _TALLY_FROM:
        return None
    from .compile import tally  # here: runs too small for the compiled passes never load them

    mean = float(np.mean(samples))  # finite only where every sample is
    if not math.isfinite(mean):  # a sample that is not finite, or a sum past float64's range
        return None
    params = _bins(samples)
    first = _work(tally.BINS + 3 if params is not None else 0, 2).view(np.int64)
    std = _compiled_std(samples, mean, np.zeros(2) if params is None else params, first)
    ordered = None if params is None else _selected(samples, params, first)
    return _Tallied(mean, std, ordered or _sorted(samples))


def _compiled_std(samples: np.ndarray, mean: float, bins: np.ndarray, first: np.ndarray) -> float:
    """numpy's std (``ddof=1``) of ``samples`` around their ``mean``, bit for bit, by the
    compiled pass that also counts them by the ``bins`` (:func:`_bins`), giving in
    ``first`` each bin's first rank (the end, ``n``, in its last place)."""
    return math.sqrt(_squares(samples, mean, bins, first) / (samples.size - 1))


def _squares(samples: np.ndarray, mean: float, bins: np.ndarray, first: np.ndarray) -> float:
    """numpy's sum of the squared deviations of ``samples`` from their ``mean``, by the
    compiled pass (counting them by ``bins`` into ``first`` where it has room)."""
    from .compile import kernel, tally

    squares = np.empty(1)
    params = np.array([*bins, mean])
    sizes = np.array([samples.size, first.size, 1, tally.MOMENTS])
    kernel.tally(samples, sizes, params, first, squares)
    return float(squares[0])


def sample_variance(values: np.ndarray, mean: float | None = None) -> float:
    """``values.var(ddof=1)``, numpy's to the bit (NaN below two values): by the compiled
    squares' pass where that pays (one read of the values and no temporary array, where
    numpy takes four passes and one), else numpy's. ``mean``: numpy's mean of
    ``values``, where the caller has it.

    >>> sample_variance(np.array([1.0, 2.0, 4.0]))
    2.333333333333333
    """
    n = values.size
    if n < 2:
        return math.nan
    if n >= _TALLY_FROM:
        mean = float(np.mean(values)) if mean is None else mean
        if math.isfinite(mean):
            return _squares(values, mean, np.zeros(2), np.empty(0, dtype=np.int64)) / (n - 1)
    return float(values.var(ddof=1))  # numpy takes its own mean


def _bins(samples: np.ndarray) -> np.ndarray | None:
    """The bins of :mod:`.compile.tally` for ``samples`` (no NaN) as its ``params`` (low
    edge, bins per unit): ``BINS`` between the quantiles at ``_TAIL`` and 1 − ``_TAIL`` of
    an even sample of them; None where a few bins would hold most samples (a
    discrete input, an atom)."""
    from .compile import tally

    sample = np.sort(samples[:: max(1, samples.size // _TALLY_SAMPLE)])
    tail = int(_TAIL * sample.size)
    low, high = float(sample[tail]), float(sample[-1 - tail])
    scale = tally.BINS / (high - low) if high > low else 0.0
    if 0.0 < scale < math.inf and np.count_nonzero(np.diff(sample)) > sample.size // 2:
        return np.array([low, scale])
    return None


def _selected(samples: np.ndarray, params: np.ndarray, first: np.ndarray) -> _Ordered | None:
    """The order statistics a summary reads (:func:`_reads`), from each of the samples'
    bins' ``first`` rank: only the bins holding one are copied out, into the thread's
    scratch, and sorted, which puts them in bin order. None where those bins hold more
    than ``_GATHER_AT_MOST`` of the samples."""
    from .compile import kernel, tally

    n = samples.size
    reads = _reads(n)

    def bin_of(ranks: np.ndarray) -> np.ndarray:
        return np.searchsorted(first, ranks, side="right") - 1

    wanted = np.zeros(-(-first.size // 8) * 8, dtype=np.uint8)  # a byte a bin, as int64s
    wanted[bin_of(reads.points)] = 1
    starts, ends = np.array(reads.windows).T
    for a, b in zip(bin_of(starts), bin_of(ends - 1), strict=True):  # every bin of a window
        wanted[a : b + 1] = 1
    bins = np.flatnonzero(wanted)
    held = first[bins + 1] - first[bins]  # bins + 1 is in range: the end is no bin
    size = int(held.sum())
    if size > _GATHER_AT_MOST * n:
        return None
    gathered = _work(size + 1)  # and a spare place (see tally.gather)
    table = wanted.view(np.int64)
    sizes = np.array([n, table.size, gathered.size, tally.GATHER])
    kernel.tally(samples, sizes, np.array([*params, 0.0]), table, gathered)
    gathered = gathered[:size]
    gathered.sort()
    some = held > 0  # empty bins hold no rank
    return _Ordered(n, gathered, first[bins[some]], (np.cumsum(held) - held)[some])


def _moments(finite: np.ndarray, slot: int) -> tuple[float, float]:
    """Mean and std (NaN below two) of ``finite`` samples, numpy's bit for bit: the std by
    the compiled pass where that pays, else numpy's with scratch ``slot`` (:func:`_work`)."""
    n = finite.size
    mean = float(np.mean(finite)) if n else math.nan
    if n >= _TALLY_FROM and math.isfinite(mean):
        return mean, math.sqrt(sample_variance(finite, mean))
    return mean, _std(finite, _work(n, slot)) if n > 1 else math.nan


def _summary(
    finite: np.ndarray,
    nonfinite: int,
    figures: Mapping[str, float],
    tallied: _Tallied | None = None,
) -> NodeSummary:
    """The summary of ``finite`` samples, from ``tallied`` where given."""
    n = finite.size
    if tallied is None:
        tallied = _tallied(finite) or _Tallied(*_moments(finite, 0), _sorted(finite))
    percentiles: dict[float, float | None] = dict.fromkeys(PERCENTILES)
    errors: dict[float, float | None] = dict.fromkeys(PERCENTILES)
    stats = dict.fromkeys(("mean", "std", "min", "max", "mean_se"), math.nan)
    quantiles: tuple[float, ...] = ()
    ordered = tallied.ordered
    if n > 1:
        stats["std"] = tallied.std
        stats["mean_se"] = stats["std"] / math.sqrt(n)
    reads = _reads(n) if n else None
    if reads is not None:
        stats["mean"] = tallied.mean
        stats["min"], stats["max"] = (float(v) for v in ordered[[0, n - 1]])
        magnitude = max(-stats["min"], stats["max"])
        if (
            not math.isfinite(stats["mean"])
            or (n > 1 and not math.isfinite(stats["std"]))
            or 0.0 < magnitude < _SQUARES_UNDERFLOW
        ):
            stats.update(_scaled_moments(finite, stats["min"], stats["max"]))
        levels, sketch, *spans = reads.split(_interpolate(ordered, reads.fractional))
        percentiles = {p: _finite_or_none(v) for p, v in zip(PERCENTILES, levels, strict=True)}
        quantiles = tuple(sketch.tolist())
    if reads is not None and n > 1:
        spread = _percentile_se(ordered, reads, *spans)
        errors = {p: _finite_or_none(v) for p, v in zip(PERCENTILES, spread, strict=True)}
    return NodeSummary(
        **{
            k: _finite_or_none(figures.get(k, math.nan))
            for k in ("expected", "weighted", "best", "worst")
        },
        **{k: _finite_or_none(v) for k, v in stats.items()},
        percentiles=percentiles,
        nonfinite=nonfinite,
        percentiles_se=errors,
        quantiles=quantiles,
    )


_scratch = threading.local()  # a summarising thread's working arrays (see in_threads)


def _work(n: int, slot: int = 0) -> np.ndarray:
    """``n`` floats of working space: the thread's scratch array ``slot`` (0: the sorted
    copy, 1: the std's squares where the sorted copy is held meanwhile, 2: the bins' first
    ranks) where it has them."""
    spaces = getattr(_scratch, "spaces", None)
    if spaces is None:
        return np.empty(n)
    if spaces[slot].size < n:
        spaces[slot] = np.empty(n)
    return spaces[slot][:n]


def _give_scratch() -> None:
    """Give this thread scratch arrays, made on first use, kept while it summarises."""
    _scratch.spaces = [np.empty(0), np.empty(0), np.empty(0)]


def _std(finite: np.ndarray, squares: np.ndarray) -> float:
    """``np.std(finite, ddof=1)`` by the same steps (numpy's ``_var``), its temporary in
    ``squares``: a fresh temporary for each large output costs page faults."""
    n = finite.size
    mean = np.add.reduce(finite, keepdims=True)
    np.true_divide(mean, n, out=mean)
    np.subtract(finite, mean, out=squares)
    np.square(squares, out=squares)
    return float(np.sqrt(np.add.reduce(squares) / max(n - 1, 0)))


def _sorted(finite: np.ndarray) -> _Ordered:
    """All of ``finite`` in order, in the thread's scratch (valid until its next sort)."""
    ordered = _work(finite.size)
    ordered[...] = finite
    ordered.sort()
    return _Ordered(finite.size, ordered)


def _scaled_moments(finite: np.ndarray, least: float, most: float) -> dict[str, float]:
    """Mean, std and mean_se of finite samples (from ``least`` to ``most``) whose sums
    overflowed, or whose squares underflow.

    The samples are scaled by the power of two that brings the largest magnitude
    to 1 (exact), summarised, and scaled back: the mean lies between the samples,
    so it is finite; the std is inf (reported as None) only when it is itself
    beyond float64's largest, and mean_se then may still be finite.
    """
    exponent = math.frexp(max(-least, most))[1]
    scaled = np.ldexp(finite, -exponent)
    n = finite.size
    std = float(np.std(scaled, ddof=1)) if n > 1 else math.nan
    mean = math.ldexp(float(np.mean(scaled)), exponent)
    return {
        "mean": min(max(mean, least), most),  # against the sum's rounding
        "std": _ldexp(std, exponent),
        "mean_se": _ldexp(std / math.sqrt(n), exponent),
    }


def _ldexp(x: float, exponent: int) -> float:
    """``x·2**exponent``, inf where that overflows (``math.ldexp`` raises)."""
    try:
        return math.ldexp(x, exponent)
    except OverflowError:
        return math.inf


def _interpolate(ordered: _Ordered, ranks: np.ndarray) -> np.ndarray:
    """Values at fractional 0-based ``ranks`` of ``ordered`` samples, as ``np.percentile`` has them.

    The same linear rule, bit for bit (including numpy's switch to interpolating
    from above past the midpoint), without numpy's partition of unsorted data.
    Where a step between two finite samples overflows, the rule is applied to
    their halves and doubled (the value lies between them, so it is finite).
    """
    below = np.floor(ranks).astype(np.intp)
    above = np.minimum(below + 1, ordered.size - 1)
    t = ranks - below
    low, high = ordered[below], ordered[above]
    value = _linear(low, high, t)
    overflowed = ~np.isfinite(value)
    if overflowed.any():
        value[overflowed] = 2.0 * _linear(low[overflowed] / 2, high[overflowed] / 2, t[overflowed])
    return value


def _linear(low: np.ndarray, high: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation from ``low`` to ``high`` at ``t`` in [0, 1]."""
    step = high - low
    return np.where(t >= 0.5, high - step * (1 - t), low + step * t)


def _percentile_se(
    ordered: _Ordered,
    reads: _Reads,
    low: np.ndarray,
    high: np.ndarray,
    outer_low: np.ndarray,
    outer_high: np.ndarray,
) -> np.ndarray:
    """Each percentile's binomial standard error, widened at an atom (see :func:`summarise`),
    from the order statistics one span (``low``, ``high``) and ``JUMP_REACH`` spans
    (``outer_low``, ``outer_high``) either side of it."""
    jumps = [
        _has_atom(ordered[start:end], width)
        for (start, end), width in zip(reads.windows, reads.spans, strict=True)
    ]
    jump = np.array(jumps) & (outer_high > outer_low)
    return np.where(jump, _half_distance(outer_low, outer_high), _half_distance(low, high))


def _half_distance(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Half the distance between finite values: a difference of halves where the plain
    difference overflows."""
    half = (high - low) / 2
    return np.where(np.isfinite(half), half, high / 2 - low / 2)


def _has_atom(window: np.ndarray, width: float) -> bool:
    """Whether sorted ``window`` repeats one value over at least ``width`` (and 2) places."""
    run = max(2, math.ceil(width))
    if window.size < run:
        return False
    return bool(np.any(window[: window.size - run + 1] == window[run - 1 :]))


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run: a summary per output node, and optionally the samples.

    ``result["cost"]`` is the node's :class:`NodeSummary`; ``result.values("cost")``
    its sample array when the run kept samples. A model with a business case has
    its figures and tables in ``business_case``.
    """

    model: str
    samples: int
    seed: int
    method: str
    summaries: Mapping[str, NodeSummary]
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)
    overrides: Mapping[str, float] = field(default_factory=dict)
    business_case: BusinessCaseResult | None = None
    correlations: tuple[Mapping[str, object], ...] = ()  # a, b, requested, achieved (Spearman)

    def __getitem__(self, node_id: str) -> NodeSummary:
        try:
            return self.summaries[node_id]
        except KeyError:
            raise KeyError(f"node {node_id!r} was not an output of this run") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.summaries)

    def __len__(self) -> int:
        return len(self.summaries)

    def _repr_html_(self) -> str:
        """Jupyter shows a result as its key-figure table."""
        from .report import key_figure_html  # a later stage, imported when a notebook asks

        return key_figure_html(self)

    @property
    def plot(self) -> PlotAccessor:
        """The run's charts as matplotlib figures: ``result.plot.histogram("npv")``.

        Also ``.s_curve(name)``, ``.convergence(name)`` (needs kept samples),
        ``.tornado(sensitivity)`` and ``.contribution(sensitivity)``; see
        :class:`~assumption_graph.plots.PlotAccessor`.
        """
        from .plots import PlotAccessor  # a later stage, imported when a chart is asked for

        return PlotAccessor(self)

    def values(self, node_id: str) -> np.ndarray:
        """The samples of one output node (the run must have kept them)."""
        if node_id not in self.arrays:
            raise KeyError(
                f"no samples of {node_id!r} were kept; run with keep_samples=True"
                " and the node among the outputs"
            )
        return self.arrays[node_id]

    def to_dict(self) -> dict[str, object]:
        """The ``run --json`` contract as plain data (no NaN or infinity in it)."""
        data: dict[str, object] = {
            "model": self.model,
            "samples": self.samples,
            "seed": self.seed,
            "method": self.method,
            "nodes": {node_id: s.as_dict() for node_id, s in self.summaries.items()},
        }
        if self.correlations:
            data["correlations"] = [dict(c) for c in self.correlations]
        if self.business_case is not None:
            data["business_case"] = self.business_case.as_dict()
        return data


def spearman(
    x: np.ndarray,
    y: np.ndarray,
    y_ranks: np.ndarray | None = None,
    x_ranks: np.ndarray | None = None,
) -> float:
    """Spearman's rank correlation of the pairs where both are finite.

    0 when ``x`` is constant (it cannot move ``y``); NaN, undefined, when ``y`` is
    constant (there is nothing to explain) or fewer than two pairs are finite.

    Ties get average ranks (discrete inputs tie a lot). ``y_ranks`` and
    ``x_ranks`` may give the ranks of ``y``'s and ``x``'s finite values, to rank
    an array shared by several correlations once; they are used where those are
    the finite pairs.

    >>> round(spearman(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 4.0, 9.0, np.nan])), 6)
    1.0
    """
    finite_x, finite_y = np.isfinite(x), np.isfinite(y)
    keep = finite_y & finite_x
    if not keep.all():
        if y_ranks is not None and not np.array_equal(keep, finite_y):
            y_ranks = None
        if x_ranks is not None and not np.array_equal(keep, finite_x):
            x_ranks = None
        x, y = x[keep], y[keep]
    if x.size < 2 or np.ptp(y) == 0:
        return math.nan
    if np.ptp(x) == 0:
        return 0.0
    rx = average_ranks(x) if x_ranks is None else x_ranks
    ry = average_ranks(y) if y_ranks is None else y_ranks
    rx = rx - rx.mean()
    ry = ry - ry.mean()
    rho = _dot(rx, ry) / math.sqrt(_dot(rx, rx) * _dot(ry, ry))
    return min(1.0, max(-1.0, rho))


def _dot(a: np.ndarray, b: np.ndarray, product: np.ndarray | None = None) -> float:
    """``a · b`` as numpy's pairwise sum of the products (into ``product`` where given).

    Not ``np.dot``: BLAS splits a long dot product among as many threads as the
    machine has cores, so its last bits followed the core count; a run's figures
    depend only on the model, the seed, the sample count and the method.
    """
    return float(np.add.reduce(np.multiply(a, b, out=product)))


def achieved_correlations(
    pairs: Sequence[tuple[str, str, float]],
    arrays: Mapping[str, np.ndarray],
    workers: int = 1,
    ranked: Mapping[str, Ranking] | None = None,
) -> tuple[dict[str, object], ...]:
    """Each requested correlation ``(a, b, rho)`` with the Spearman correlation the
    samples in ``arrays`` have (``None`` where not defined: two pairs or fewer
    finite, or one side constant).

    An input in several pairs is ranked once (:func:`finite_ranks`), the
    inputs ``workers`` at a time: numpy's sort, most of a ranking, runs
    without the GIL; ``ranked`` may give those rankings, made beforehand. Each
    correlation is the one :func:`spearman` gives alone.

    >>> x = np.arange(5.0)
    >>> achieved_correlations([("a", "b", 0.5)], {"a": x, "b": x**2})[0]["achieved"]
    1.0
    """
    if ranked is None:
        names = correlated_names(pairs)
        tasks = [functools.partial(finite_ranks, arrays[name]) for name in names]
        ranked = dict(zip(names, in_threads(tasks, workers), strict=True))
    product = np.empty(max((arrays[a].size for a, _, _ in pairs), default=0))  # one for all
    return tuple(
        {"a": a, "b": b, "requested": rho, "achieved": _achieved(a, b, arrays, ranked, product)}
        for a, b, rho in pairs
    )


def correlated_names(pairs: Sequence[tuple[str, str, float]]) -> list[str]:
    """The inputs of correlations ``pairs``, each once, in order of first mention."""
    return list(dict.fromkeys(x for a, b, _ in pairs for x in (a, b)))


@dataclass(frozen=True)
class Ranking:
    """An input's ranks as :func:`achieved_correlations` uses them (:func:`finite_ranks`).

    Where the input has more than two values, every one finite and not all equal,
    ``centred`` holds its average ranks less their mean and ``square`` their sum
    of squares, :func:`spearman`'s terms, so that each correlation of two such
    inputs is one dot product; otherwise ``ranks`` holds the average ranks of the
    finite values. Never both: a run keeps one array per correlated input.
    """

    ranks: np.ndarray | None = field(default=None, repr=False)
    centred: np.ndarray | None = field(default=None, repr=False)
    square: float = math.nan


def finite_ranks(values: np.ndarray) -> Ranking:
    """The :class:`Ranking` of an input's ``values``.

    >>> finite_ranks(np.array([2.0, 1.0, 3.0])).centred.tolist()
    [0.0, -1.0, 1.0]
    """
    if values.size > 2 and _ranked_compiled(values):
        centred = _compiled_ranks(values, centred=True)
        if centred is not None:
            return Ranking(centred=centred, square=_dot(centred, centred, _work(values.size, 1)))
    is_finite = np.isfinite(values)
    if values.size > 2 and is_finite.all() and np.ptp(values) > 0:
        del is_finite
        centred = average_ranks(values)
        centred -= centred.mean()
        return Ranking(centred=centred, square=_dot(centred, centred, _work(values.size, 1)))
    return Ranking(ranks=average_ranks(values[is_finite]))


def _achieved(
    a: str,
    b: str,
    arrays: Mapping[str, np.ndarray],
    ranked: Mapping[str, Ranking],
    product: np.ndarray,
) -> float | None:
    """Spearman's rho of inputs ``a`` and ``b``, given their rankings; None where undefined.

    Of two inputs with centred ranks, the dot product :func:`spearman` would
    take of them; of any others, :func:`spearman` itself.
    """
    x_ranking, y_ranking = ranked[a], ranked[b]
    if x_ranking.centred is not None and y_ranking.centred is not None:
        dot = _dot(x_ranking.centred, y_ranking.centred, product[: x_ranking.centred.size])
        rho = dot / math.sqrt(x_ranking.square * y_ranking.square)
        return min(1.0, max(-1.0, rho))
    x, y = arrays[a], arrays[b]
    finite = np.isfinite(x) & np.isfinite(y)
    defined = finite.sum() > 2 and np.ptp(x[finite]) > 0 and np.ptp(y[finite]) > 0
    return spearman(x, y, y_ranking.ranks, x_ranking.ranks) if defined else None


def average_ranks(values: np.ndarray) -> np.ndarray:
    """The ranks 1 to n of ``values`` (no NaN), tied values sharing the average of theirs.

    The same numbers as ``scipy.stats.rankdata(values)`` (each rank is a whole
    number or a half, exact in a float), without importing scipy.stats, which
    takes longer than a small run. The order comes from a sort of the values'
    bits with each one's index in the lowest bits (:func:`_sorted_order`): numpy
    sorts numbers several times as fast as it argsorts them; in a large run, a
    compiled pass then gives the ranks (:func:`_compiled_ranks`).

    >>> average_ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist()
    [3.5, 1.0, 3.5, 2.0]
    """
    if _ranked_compiled(values):
        compiled = _compiled_ranks(values)
        if compiled is not None:
            return compiled
    order, first = _sorted_order(values)
    ranks = np.empty(values.size)
    if first.all():  # no ties: the ranks 1 to n
        ranks[order] = np.arange(1.0, values.size + 1.0)
        return ranks
    starts = np.flatnonzero(first)
    del first
    counts = np.diff(starts, append=values.size)
    in_order = np.repeat(starts + 0.5 * (counts + 1), counts)  # (start + 1 + end) / 2
    del starts, counts
    ranks[order] = in_order
    return ranks


def _ranked_compiled(values: np.ndarray) -> bool:
    """Whether ``values`` are ranked by the compiled passes: a large run's, not mostly tied
    (numpy's argsort is quick where most values tie)."""
    return values.size >= _TALLY_FROM and not _mostly_tied(values)


def _compiled_ranks(values: np.ndarray, centred: bool = False) -> np.ndarray | None:
    """:func:`average_ranks` by compiled passes around one numpy sort: the values' keys
    with each one's index in the lowest bits (:func:`.compile.tally.keys_with_index`),
    sorted, give the ranks (:func:`.compile.tally.ranks_from_keys`). With ``centred``,
    less their mean, as numpy takes it: their sum is n(n+1)/2 in any order, exactly
    where that is below 2**52 (each partial sum a multiple of 0.5), so the mean is that
    divided by n. None where a value is not finite, where with ``centred`` all are
    equal, or where many values agree in their keys' high bits (that pass would be
    slow). The keys are made in the thread's scratch: a fresh array for them would cost
    page faults."""
    from .compile import kernel, tally

    n = values.size
    shift = max(1, (n - 1).bit_length())
    keys = _work(n).view(np.int64)
    finite = np.zeros(1)
    kernel.tally(values, np.array([n, n, 1, tally.KEYS]), np.array([0.0, 0.0, shift]), keys, finite)
    if not finite[0]:
        return None
    keys.view(np.uint64).sort()
    index_bits = (1 << shift) - 1
    if centred and values[keys[0] & index_bits] == values[keys[-1] & index_bits]:
        return None
    exact = n * (n + 1) // 2 <= 2**52
    centre = n * (n + 1) // 2 / n if centred and exact else 0.0
    ranks = np.empty(n)
    params = np.array([0.0, 0.0, shift, centre])
    kernel.tally(values, np.array([n, n, n, tally.RANKS]), params, keys, ranks)
    if math.isnan(ranks[0]):
        return None
    if centred and not exact:
        ranks -= ranks.mean()
    return ranks


_SIGN = np.uint64(1 << 63)
_MAGNITUDE = np.uint64((1 << 63) - 1)


def _order_keys(values: np.ndarray) -> np.ndarray:
    """Unsigned integers in the order of ``values`` (no NaN), equal where they are equal.

    A float's bits with the sign bit set, all bits flipped for a negative one:
    IEEE 754's total order; adding 0.0 first makes -0.0 the 0.0 it equals.
    """
    keys = (values + 0.0).view(np.uint64)
    flip = keys >> np.uint64(63)  # 1 where negative
    flip *= _MAGNITUDE
    flip |= _SIGN
    keys ^= flip
    return keys


def _sorted_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that sorts ``values`` (no NaN), and where in it a run of equal values starts.

    numpy's argsort is quick where most values tie (a discrete input), slow
    otherwise; then one sort of the values' keys (:func:`_order_keys`) with
    their lowest bits replaced by each value's index orders them, except among
    values whose keys agree above those bits: those few groups are put in
    order by their lowest bits (:func:`_settle`). A sample of the values
    chooses; both give the same order up to the order of equal values.
    """
    if _mostly_tied(values):
        order = np.argsort(values)
        ordered = values[order]
        first = np.empty(values.size, dtype=bool)
        first[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        return order, first
    n = values.size
    keys = _order_keys(values)
    shift = np.uint64(max(1, (n - 1).bit_length()))
    index_bits = np.uint64((1 << int(shift)) - 1)
    packed = keys & ~index_bits
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    order = (packed & index_bits).astype(np.intp)
    packed >>= shift
    same = packed[1:] == packed[:-1]  # neighbours whose keys agree above the index bits
    del packed
    first = np.ones(n, dtype=bool)
    if same.any():
        _settle(keys, index_bits, order, first, same)
    return order, first


_TIE_SAMPLE = 4096  # values looked at to choose how to order them


def _mostly_tied(values: np.ndarray) -> bool:
    """Whether more than half of an even sample of ``values`` repeats a value in it."""
    sample = np.sort(values[:: max(1, values.size // _TIE_SAMPLE)])
    distinct = np.count_nonzero(sample[1:] != sample[:-1]) + 1  # np.unique imports numpy.ma
    return bool(2 * distinct < sample.size)


def _settle(
    keys: np.ndarray, index_bits: np.uint64, order: np.ndarray, first: np.ndarray, same: np.ndarray
) -> None:
    """Order each group of neighbours in ``order`` whose keys agree above ``index_bits``
    (``same``) by their bits below, and mark the ties among them in ``first``."""
    grouped = np.zeros(order.size, dtype=bool)
    grouped[:-1] = same
    grouped[1:] |= same
    members = np.flatnonzero(grouped)  # positions in such groups, in order
    del grouped
    goes_on = np.zeros(members.size, dtype=bool)  # the member before is in the same group
    goes_on[1:] = (members[1:] == members[:-1] + 1) & same[members[:-1]]
    group = np.cumsum(~goes_on)
    low = keys[order[members]] & index_bits
    differ = goes_on[1:] & (low[1:] != low[:-1])
    if differ.any():  # groups of unequal values: put them in order
        mixed = np.isin(group, group[1:][differ])
        at = members[mixed]
        by_value = np.lexsort((low[mixed], group[mixed]))
        order[at] = order[at][by_value]
        low[mixed] = low[mixed][by_value]
    tied = np.zeros(members.size, dtype=bool)
    tied[1:] = goes_on[1:] & (low[1:] == low[:-1])
    first[members[tied]] = False
