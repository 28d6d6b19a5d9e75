"""PERT: a Beta scaled to [low, high] with mode mid (lambda 4).

Its draws come from a counter stream by rejection (:mod:`.pert_stream`);
its inverse CDF, for Latin hypercube and Sobol points, from scipy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from .base import Distribution, _checked, _sheet_ends
from .problems import _order_problems
from .registry import register
from .special import pert_shapes

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

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The inverse CDF: ``low + (high - low)·B⁻¹(u; alpha, beta)`` with scipy's ``betaincinv``.

        Monte Carlo draws use rejection sampling instead (faster, exact); this is
        for the methods that need the inverse CDF itself.
        """
        from scipy.special import betaincinv  # heavy: imported when a method needs it

        u = np.asarray(u, dtype=np.float64)
        span = self.high - self.low
        if span == 0.0:
            return np.full(u.shape, self.low)
        x = self.low + span * betaincinv(*self.shapes, u)
        return np.minimum(np.maximum(x, self.low), self.high)


def pert(low: float, mid: float, high: float) -> Pert:
    """PERT with mode ``mid`` (lambda 4).

    >>> pert(1, 4, 13).weighted
    5.0
    """
    return _checked(Pert(low, mid, high))
