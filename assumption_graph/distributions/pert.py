"""PERT: a Beta scaled to [low, high] with mode mid (lambda 4).

Its draws come from a counter stream by rejection (:mod:`.pert_stream`);
its inverse CDF, for Latin hypercube and Sobol points and correlated inputs,
from :func:`~.special.beta_inverse` (``pert_from_u``, which the kernel compiles),
started from a grid of the inverse CDF made once per shape (:func:`pert_grid`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from .base import Distribution, _checked, _sheet_ends
from .problems import _order_problems
from .registry import register
from .special import (
    _beta_cdf_and_scale,
    _beta_fraction,
    _beta_lower,
    _beta_start,
    _beta_step,
    _ndtri_central,
    beta_inverse,
    beta_inverse_array,
    log_beta,
    log_gamma,
    ndtri,
    pert_shapes,
)

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


PERT_BINS = 128  # bins of the envelope a PERT node's draws are made under


@functools.lru_cache(maxsize=1024)
def pert_envelope(alpha: float, beta: float, bins: int = PERT_BINS) -> tuple[float, ...]:
    """The table ``pert_from_table`` draws Beta(alpha, beta) with (alpha, beta >= 1).

    ``bins`` alias thresholds, ``bins`` alias bins, then the density
    ``x**(alpha-1)·(1-x)**(beta-1)``'s maximum and minimum on each bin, widened by
    a relative 1e-12 against rounding. The density is unimodal, so its extremes on
    a bin are at the bin's ends or at the mode. Vose's alias method.
    """
    a, b = alpha - 1.0, beta - 1.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_edges = np.exp(a * np.log(edges) + b * np.log1p(-edges))
    at_edges = np.nan_to_num(at_edges, nan=1.0)  # 0**0 at an end is 1
    high = np.maximum(at_edges[:-1], at_edges[1:])
    mode = a / (a + b) if a + b > 0.0 else 0.5
    k = min(int(mode * bins), bins - 1)
    high[k] = max(
        high[k], math.exp(a * math.log(mode) + b * math.log1p(-mode)) if 0 < mode < 1 else 1.0
    )
    low = np.minimum(at_edges[:-1], at_edges[1:])
    high, low = high * (1.0 + 1e-12), low * (1.0 - 1e-12)
    threshold, alias = _alias_table(high / high.sum() * bins)
    return tuple(np.concatenate([threshold, alias, high, low]).tolist())


def _alias_table(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table for weights ``scaled`` that sum to their count."""
    n = scaled.size
    threshold = np.ones(n)
    alias = np.arange(n, dtype=np.float64)
    work = scaled.astype(np.float64).copy()
    small = [i for i in range(n) if work[i] < 1.0]
    large = [i for i in range(n) if work[i] >= 1.0]
    while small and large:
        s_, l_ = small.pop(), large.pop()
        threshold[s_], alias[s_] = work[s_], l_
        work[l_] -= 1.0 - work[s_]
        (small if work[l_] < 1.0 else large).append(l_)
    return threshold, alias


PERT_GRID = 256  # intervals of u in the grid that starts PERT's inverse CDF
_GRID_FIRST = 1.0 / PERT_GRID  # the grid's first interval that interpolation uses
_GRID_END = 1.0 - 1.0 / PERT_GRID  # and the end of its last


@functools.lru_cache(maxsize=1024)
def pert_grid(alpha: float, beta: float) -> tuple[float, ...]:
    """Beta(alpha, beta)'s inverse CDF at ``u = k / PERT_GRID`` (k = 0 .. PERT_GRID), then
    its slopes there over ``PERT_GRID``: what :func:`pert_start` interpolates, so that
    one Halley step from its start is the last (the ends' slopes, unused, are 0)."""
    u = np.arange(PERT_GRID + 1) / PERT_GRID
    x = beta_inverse_array(u, alpha, beta)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        density = np.exp((alpha - 1.0) * np.log(x) + (beta - 1.0) * np.log1p(-x))
        slopes = np.exp(log_beta(alpha, beta)) / (PERT_GRID * density)
    slopes[[0, -1]] = 0.0
    return (*x.tolist(), *slopes.tolist())


def pert_start(u: float, grid: np.ndarray, at: int) -> float:
    """Where PERT's inverse CDF at ``u`` starts: the cubic (Hermite) interpolation of
    :func:`pert_grid` (at ``grid[at:]``) between the two grid points around ``u``; -1.0
    (none: ``beta_inverse`` starts by its formula) in the grid's end intervals, where
    the slopes grow without bound. Numba-compatible."""
    if not (u >= _GRID_FIRST and u < _GRID_END):
        return -1.0
    s = u * PERT_GRID
    k = int(s)
    slopes = at + PERT_GRID + 1 + k
    return _hermite(s - k, grid[at + k], grid[at + k + 1], grid[slopes], grid[slopes + 1])


def _hermite(t: Any, below: Any, above: Any, slope_below: Any, slope_above: Any) -> Any:
    """The cubic with values ``below``, ``above`` and slopes ``slope_below``, ``slope_above``
    (per interval) at the ends of an interval, at ``t`` in [0, 1]. Works on floats and
    numpy arrays alike, with the same steps. Numba-compatible."""
    t2 = t * t
    t3 = t2 * t
    return (
        (2.0 * t3 - 3.0 * t2 + 1.0) * below
        + (t3 - 2.0 * t2 + t) * slope_below
        + (3.0 * t2 - 2.0 * t3) * above
        + (t3 - t2) * slope_above
    )


def pert_start_array(u: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """numpy twin of ``pert_start`` (the grid from 0), elementwise."""
    inside = (u >= _GRID_FIRST) & (u < _GRID_END)
    s = np.where(inside, u, 0.5) * PERT_GRID
    k = s.astype(np.intp)
    slopes = PERT_GRID + 1 + k
    start = _hermite(s - k, grid[k], grid[k + 1], grid[slopes], grid[slopes + 1])
    return np.where(inside, start, -1.0)


def pert_log_beta(a: float, b: float) -> float:
    """ln B(a + 1, b + 1), PERT's Beta's, for :func:`pert_from_u`: ``a``, ``b`` are the
    shapes less 1, as the kernel's draw op has them. Numba-compatible."""
    return log_beta(a + 1.0, b + 1.0)


def pert_from_u(
    u: float, low: float, high: float, a: float, b: float, lb: float, guess: float
) -> float:
    """PERT's inverse CDF at ``u``: ``low + (high - low)·B⁻¹(u; a + 1, b + 1)``, within
    [low, high]; ``a``, ``b`` are the shapes less 1, as the kernel's draw op has them
    (exact: the shapes are in [1, 5]), ``lb`` is :func:`pert_log_beta` of them (the
    kernel takes it once for a block of samples), ``guess`` where ``beta_inverse``
    starts (:func:`pert_start`; outside (0, 1): by its formula). Numba-compatible.
    """
    span = high - low
    if span == 0.0:
        return low
    if not span > 0.0:
        return math.nan
    return min(max(low + span * beta_inverse(u, a + 1.0, b + 1.0, lb, guess), low), high)


def pert_from_u_array(
    u: np.ndarray, low: float, high: float, a: float, b: float, grid: Sequence[float] = ()
) -> np.ndarray:
    """numpy twin of ``pert_from_u``, started from ``grid`` (:func:`pert_grid`) where given."""
    u = np.asarray(u, dtype=np.float64)
    span = high - low
    if span == 0.0:
        return np.full(u.shape, float(low))
    if not span > 0.0:
        return np.full(u.shape, np.nan)
    guess = pert_start_array(u, np.asarray(grid)) if len(grid) else None
    x = low + span * beta_inverse_array(u, a + 1.0, b + 1.0, guess)
    return np.minimum(np.maximum(x, low), high)


@register
@dataclass(frozen=True)
class Pert(Distribution):
    """PERT(low, mode=mid, high) with lambda 4: a Beta scaled to [low, high].

    Weighted figure and mean: (low + 4·mid + high) / 6.
    """

    low: float
    mid: float
    high: float

    name: ClassVar[str] = "pert"
    sampler: ClassVar[str] = "pert_from_table"
    opcode: ClassVar[int] = 45
    draws_from_stream: ClassVar[bool] = True
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(pert_from_u_array)
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    @property
    def weighted(self) -> float:
        return (self.low + 4.0 * self.mid + self.high) / 6.0

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        weighted = f"({cells['low']}+4*{cells['mid']}+{cells['high']})/6"
        return _sheet_ends(cells) | {"weighted": weighted}

    @property
    def mean(self) -> float:
        return (self.low + 4.0 * self.mid + self.high) / 6.0

    @property
    def shapes(self) -> tuple[float, float]:
        """(alpha, beta) of the Beta scaled to [low, high]; NaN when low == high."""
        if self.high == self.low:
            return (math.nan, math.nan)
        return pert_shapes(self.low, self.mid, self.high)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        alpha, beta = self.shapes
        return (self.low, self.high, alpha - 1.0, beta - 1.0)

    @property
    def quantile_table(self) -> tuple[float, ...]:
        """The grid ``pert_start`` starts the inverse CDF from (:func:`pert_grid`; where low ==
        high, zeros the start reads but the draw, ``low``, does not need)."""
        if not self.high > self.low:
            return (0.0,) * (2 * PERT_GRID + 2)
        return pert_grid(*self.shapes)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The inverse CDF at ``u``, from :attr:`quantile_table` as the kernel has it."""
        low, high, a, b = self.sampler_args
        return pert_from_u_array(u, low, high, a, b, self.quantile_table)

    @property
    def sampler_table(self) -> tuple[float, ...]:
        """The envelope ``pert_from_table`` draws under (:func:`pert_envelope`)."""
        alpha, beta = self.shapes
        if not (self.low <= self.mid <= self.high) or self.low == self.high:
            return ()
        return pert_envelope(alpha, beta)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high)

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        from . import pert_stream as s  # numpy: only when the kernel is compiled

        return (
            pert_shapes,
            _ndtri_central,
            ndtri,
            log_gamma,
            log_beta,
            _beta_fraction,
            _beta_cdf_and_scale,
            _beta_start,
            _beta_step,
            _beta_lower,
            beta_inverse,
            pert_log_beta,
            _hermite,
            pert_start,
            pert_from_u,
            s._beta_cheng,
            s._pert_from,
            s.pert_sample,
            s._pert_trial,
            s.pert_from_table,
            s.pert_squeezed,
        )

    def _reach(self) -> Iterable[float]:
        """A bounded model's, and the Beta's shapes: ``4·(mid - low)`` overflows first."""
        return (*super()._reach(), *(self.shapes if self.high > self.low else ()))

    def sample_array(self, stream: int, samples: np.ndarray) -> np.ndarray:
        """Draw one value per sample index (rejection under a step envelope, counter stream)."""
        table = np.array(self.sampler_table, dtype=np.float64)
        from .pert_stream import pert_from_table_array

        return pert_from_table_array(stream, samples, table, *self.sampler_args)

    @property
    def quantile_in_kernel(self) -> bool:
        """Yes: ``pert_from_u``, though Monte Carlo draws come from a stream by rejection."""
        return True


def pert(low: float, mid: float, high: float) -> Pert:
    """PERT with mode ``mid`` (lambda 4).

    >>> pert(1, 4, 13).weighted
    5.0
    """
    return _checked(Pert(low, mid, high))
