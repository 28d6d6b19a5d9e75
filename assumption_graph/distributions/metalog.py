"""The 3-term metalog (Keelin 2016) fitted exactly through three percentiles."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from ..functions import sheet_number
from .base import (
    _LOGIT_TAIL,
    METALOG_PERCENTILES,
    Distribution,
    _checked,
    _percentiles,
    _set_percentiles,
    _sheet_ends,
)
from .problems import _number, _order_problems
from .registry import register

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")

#: Keelin's bound: a 3-term metalog is a distribution only when |a3| / a2 is below
#: this (1 / max over y of (y - 1/2) + y(1 - y)·ln(y / (1 - y))).
METALOG_SHAPE_BOUND = 1.6671131192


def metalog_from_u(u: float, a1: float, a2: float, a3: float) -> float:
    """The 3-term metalog's quantile ``a1 + a2·L + a3·(u - 1/2)·L``, ``L = ln(u / (1 - u))``.

    Numba-compatible.
    """
    logit = math.log(u / (1.0 - u))
    return a1 + a2 * logit + a3 * (u - 0.5) * logit


def metalog_from_u_array(u: np.ndarray, a1: float, a2: float, a3: float) -> np.ndarray:
    """numpy twin of ``metalog_from_u``."""
    u = np.asarray(u, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(u / (1.0 - u))
    return a1 + a2 * logit + a3 * (u - 0.5) * logit


@register
@dataclass(frozen=True)
class Metalog(Distribution):
    """The 3-term metalog (Keelin 2016) through three percentiles: P10, P50, P90 by default.

    ``low``, ``mid``, ``high`` are the percentiles as given (``percentiles`` says
    which: [q, 50, 100 - q]). The quantile function is closed form; the
    weighted figure is the mean, ``a1 + a3/2``. Unbounded on both sides.
    """

    low: float
    mid: float
    high: float
    percentiles: tuple[float, float, float] = METALOG_PERCENTILES

    name: ClassVar[str] = "metalog"
    sampler: ClassVar[str] = "metalog_from_u"
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(metalog_from_u_array)
    opcode: ClassVar[int] = 46
    options: ClassVar[tuple[str, ...]] = ("percentiles",)
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_percentiles(self)

    @classmethod
    def read_estimate(cls, low: float, mid: float, high: float, options: dict[str, Any]) -> Metalog:
        levels = _percentiles(cls, options.get("percentiles") or METALOG_PERCENTILES)
        return cls(low, mid, high, levels)

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return (metalog_from_u,)

    @property
    def coefficients(self) -> tuple[float, float, float]:
        """(a1, a2, a3) of ``Q(y) = a1 + a2·L + a3·(y - 1/2)·L``, ``L = ln(y / (1 - y))``."""
        alpha = self.percentiles[0] / 100.0
        c = math.log((1.0 - alpha) / alpha)
        a2 = (self.high - self.low) / (2.0 * c)
        a3 = (self.high + self.low - 2.0 * self.mid) / (2.0 * (0.5 - alpha) * c)
        return (self.mid, a2, a3)

    @property
    def weighted(self) -> float:
        return self.mean

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        """The ends as entered; the weighted figure, the mean ``a1 + a3 / 2``, from them."""
        alpha = self.percentiles[0] / 100.0
        scale = sheet_number(2.0 * (0.5 - alpha) * math.log((1.0 - alpha) / alpha))
        a3 = f"({cells['high']}+{cells['low']}-2*{cells['mid']})/{scale}"
        return _sheet_ends(cells) | {"weighted": f"{cells['mid']}+0.5*({a3})"}

    @property
    def mean(self) -> float:
        a1, _, a3 = self.coefficients
        return a1 + 0.5 * a3

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return self.coefficients

    def _problems(self) -> list[tuple[str, str]]:
        order = _order_problems(self.low, self.mid, self.high)
        return order or _metalog_shape_problems(self)

    def _reach(self) -> Iterable[float]:
        """The coefficients, the draws at the farthest uniforms, the mean and the variance.

        The quantile's terms ``a2·L`` and ``a3·(u - 1/2)·L`` at ``|L|`` = 73.5, and
        the variance ``a2²·π²/3 + a3²·(π²/36 + 1/12)``.
        """
        a1, a2, a3 = self.coefficients
        spread, skew = a2 * _LOGIT_TAIL, 0.5 * a3 * _LOGIT_TAIL
        variance = a2 * a2 * (math.pi**2 / 3.0) + a3 * a3 * (math.pi**2 / 36.0 + 1.0 / 12.0)
        return (
            a1,
            a2,
            a3,
            spread,
            skew,
            a1 - spread + skew,
            a1 + spread + skew,
            self.mean,
            variance,
        )


def _metalog_shape_problems(model: Metalog) -> list[tuple[str, str]]:
    """``metalog-infeasible`` when the fitted quantile function is not increasing."""
    low, mid, high = model.low, model.mid, model.high
    if low == high:  # all three equal (they are ordered): a constant, fine
        return []
    _, a2, a3 = model.coefficients
    if abs(a3) < METALOG_SHAPE_BOUND * a2:
        return []
    # |a3| / a2 < bound  <=>  P50 strictly inside low + (high - low)·(1 ∓ bound·w) / 2
    half = METALOG_SHAPE_BOUND * (0.5 - model.percentiles[0] / 100.0) / 2.0
    least, most = low + (high - low) * (0.5 - half), low + (high - low) * (0.5 + half)
    p_low, _, p_high = (f"P{_number(q)}" for q in model.percentiles)
    near, instead = (p_low, "lognormal or pert") if mid - low < high - mid else (p_high, "pert")
    return [
        (
            "metalog-infeasible",
            f"P50={_number(mid)} is too close to {near} for a metalog (with {p_low}="
            f"{_number(low)} and {p_high}={_number(high)} it must lie strictly between "
            f"{least:.6g} and {most:.6g}, or the quantile function would turn back); "
            f"use model: {instead} for an estimate this skewed, or move P50",
        )
    ]


def metalog(
    low: float, mid: float, high: float, percentiles: Sequence[float] = METALOG_PERCENTILES
) -> Metalog:
    """The 3-term metalog through P10, P50 and P90 (or the given symmetric percentiles).

    >>> m = metalog(80, 100, 150)
    >>> [round(float(q), 9) for q in m.quantile([0.1, 0.5, 0.9])]
    [80.0, 100.0, 150.0]
    >>> metalog(80, 82, 150)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assumption_graph.errors.ModelError: invalid metalog ...P50=82 is too close to P10...
    """
    return _checked(Metalog(low, mid, high, tuple(percentiles)))  # type: ignore[arg-type]
