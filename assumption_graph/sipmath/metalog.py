"""The k-term metalog (Keelin 2016) with its bounds: the quantile function of a virtual SIP.

``Q(y) = Σ a_j·g_j(y)`` over Keelin's basis (1, L, (y - ½)L, y - ½, (y - ½)², (y - ½)²L,
(y - ½)³, ...), ``L = ln(y / (1 - y))``. A lower bound ``bl`` makes the quantile
``bl + e^M``, an upper bound ``bu - e^-M``, both ``(bl + bu·e^M) / (1 + e^M)``
(Keelin's bounded metalog). :func:`fit_metalog` finds the coefficients by least
squares on a distribution's quantiles, the fewest terms that reach the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Metalog", "fit_metalog", "FIT_PROBABILITIES", "FIT_TOLERANCE", "MAX_TERMS"]

#: Where a fit reads the distribution's quantiles: 0.01, 0.02, ..., 0.99.
FIT_PROBABILITIES = np.arange(1, 100) / 100.0
#: A fit is good when every one of those quantiles is within this share of P1..P99's span.
FIT_TOLERANCE = 0.001
MAX_TERMS = 16
_GRID = np.linspace(0.0005, 0.9995, 2000)  # where a fit must increase to be a distribution


def basis(y: np.ndarray, terms: int) -> np.ndarray:
    """Keelin's basis functions ``g_1 .. g_terms`` at ``y`` (rows: y, columns: terms)."""
    y = np.asarray(y, dtype=np.float64)
    logit, centred = np.log(y / (1.0 - y)), y - 0.5
    columns = [np.ones_like(y), logit, centred * logit, centred]
    for j in range(5, terms + 1):
        power = centred ** ((j - 1) // 2)
        columns.append(power if j % 2 else power * logit)
    return np.stack(columns[:terms], axis=-1)


@dataclass(frozen=True)
class Metalog:
    """A metalog's coefficients and bounds (``None`` where unbounded)."""

    coefficients: tuple[float, ...]
    lower: float | None = None
    upper: float | None = None

    def quantile(self, y: np.ndarray) -> np.ndarray:
        """The bounded metalog's quantile at ``y`` in (0, 1)."""
        m = basis(y, len(self.coefficients)) @ np.asarray(self.coefficients)
        with np.errstate(over="ignore"):
            if self.lower is not None and self.upper is not None:
                # (bl + bu·e^M)/(1 + e^M), written to stay finite for large |M|
                return self.lower + (self.upper - self.lower) / (1.0 + np.exp(-m))
            if self.lower is not None:
                return self.lower + np.exp(m)
            if self.upper is not None:
                return self.upper - np.exp(-m)
        return m

    def increasing(self) -> bool:
        """Whether the quantile function rises across (0, 1): a valid distribution."""
        m = basis(_GRID, len(self.coefficients)) @ np.asarray(self.coefficients)
        return bool(np.all(np.diff(m) > 0.0))


def _transformed(x: np.ndarray, lower: float | None, upper: float | None) -> np.ndarray:
    """The values the metalog's ``M`` must take for quantiles ``x`` within the bounds."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if lower is not None and upper is not None:
            return np.log((x - lower) / (upper - x))
        if lower is not None:
            return np.log(x - lower)
        if upper is not None:
            return -np.log(upper - x)
    return x


def fit_metalog(quantile: Callable[[np.ndarray], np.ndarray]) -> tuple[Metalog, float] | None:
    """The metalog with the fewest terms within :data:`FIT_TOLERANCE` of ``quantile``.

    Bounds where the distribution's quantile at 0 or 1 is finite. Returns the fit
    and its largest error as a share of the P1..P99 span, or None when no
    increasing metalog of up to :data:`MAX_TERMS` terms comes within the
    tolerance (a distribution with steps or atoms, such as a discrete one).
    """
    with np.errstate(all="ignore"):
        ends = np.asarray(quantile(np.array([0.0, 1.0])), dtype=np.float64)
    lower, upper = (float(e) if math.isfinite(e) else None for e in ends)
    x = np.asarray(quantile(FIT_PROBABILITIES), dtype=np.float64)
    span = float(x[-1] - x[0])
    target = _transformed(x, lower, upper)
    if span <= 0.0 or not np.all(np.isfinite(target)):
        return None
    for terms in range(2, MAX_TERMS + 1):
        design = basis(FIT_PROBABILITIES, terms)
        coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
        fitted = Metalog(tuple(coefficients.tolist()), lower, upper)
        error = float(np.max(np.abs(fitted.quantile(FIT_PROBABILITIES) - x))) / span
        if error <= FIT_TOLERANCE and fitted.increasing():
            return fitted, error
    return None
