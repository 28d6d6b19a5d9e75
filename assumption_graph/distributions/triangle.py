"""The triangular distribution: min low, mode mid, max high."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from .base import (
    Distribution,
    _checked,
    _probability_numbers,
    _set_probabilities,
    _sheet_weighted,
    _weighted,
    _weights,
)
from .problems import _order_problems, _probability_problems
from .registry import register

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")

#: The guide's default weights of a triangle's low, mid and high.
DEFAULT_TRIANGLE_PROBABILITIES = (0.2, 0.6, 0.2)


def triangle_from_u(u: float, low: float, mid: float, high: float) -> float:
    """Triangular(min=low, mode=mid, max=high) by its closed-form inverse CDF.

    ``low == high`` gives ``low``; ``mid`` may equal either end. Parameters out of
    order give NaN. The result is clamped to [low, high] against rounding.
    Numba-compatible.
    """
    if not (low <= mid and mid <= high):
        return math.nan
    span = high - low
    if span == 0.0:
        return low
    # Branch-free on purpose: u is random, so a branch here mispredicts half
    # the time; selecting the argument and then taking one root does not.
    left = u * span < mid - low
    root = math.sqrt(u * span * (mid - low) if left else (1.0 - u) * span * (high - mid))
    x = low + root if left else high - root
    return min(max(x, low), high)


def triangle_from_u_array(u: np.ndarray, low: float, mid: float, high: float) -> np.ndarray:
    """numpy twin of ``triangle_from_u``."""
    u = np.asarray(u, dtype=np.float64)
    if not (low <= mid and mid <= high):
        return np.full(u.shape, np.nan)
    span = high - low
    if span == 0.0:
        return np.full(u.shape, float(low))
    left = u * span < mid - low
    with np.errstate(invalid="ignore"):
        x = np.where(
            left,
            low + np.sqrt(u * span * (mid - low)),
            high - np.sqrt((1.0 - u) * span * (high - mid)),
        )
    return np.minimum(np.maximum(x, low), high)


@register
@dataclass(frozen=True)
class Triangle(Distribution):
    """Triangular(min=low, mode=mid, max=high) ("trekant").

    ``probabilities`` (default 0.2, 0.6, 0.2) weight low, mid and high for the
    weighted figure; the draws are triangular whatever they are.
    """

    low: float
    mid: float
    high: float
    probabilities: tuple[float, ...] = DEFAULT_TRIANGLE_PROBABILITIES

    name: ClassVar[str] = "triangle"
    sampler: ClassVar[str] = "triangle_from_u"
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(triangle_from_u_array)
    opcode: ClassVar[int] = 41
    options: ClassVar[tuple[str, ...]] = ("probabilities",)
    default_model: ClassVar[bool] = True
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_probabilities(self)

    @property
    def weighted(self) -> float:
        return _weighted(self)

    @property
    def mean(self) -> float:
        return (self.low + self.mid + self.high) / 3.0

    @property
    def weights(self) -> tuple[float, float, float] | None:
        return _weights(self.probabilities)

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        return _sheet_weighted(self, cells)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.low, self.mid, self.high)

    def _numbers(self) -> list[tuple[str, float]]:
        return super()._numbers() + _probability_numbers(self.probabilities)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high) + _probability_problems(
            self.probabilities
        )

    @classmethod
    def read_estimate(
        cls, low: float, mid: float, high: float, options: dict[str, Any]
    ) -> Triangle:
        probabilities = options.get("probabilities", DEFAULT_TRIANGLE_PROBABILITIES)
        return cls(low, mid, high, tuple(probabilities))

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return (triangle_from_u,)


def triangle(
    low: float, mid: float, high: float, probabilities: Sequence[float] | None = None
) -> Triangle:
    """Triangular(low, mode=mid, high); probabilities weight the weighted figure.

    >>> t = triangle(1200, 1500, 2100)
    >>> t.probabilities, t.weighted, t.mean
    ((0.2, 0.6, 0.2), 1560.0, 1600.0)
    >>> triangle(5, 3, 9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assumption_graph.errors.ModelError: invalid triangle ...put the three numbers in order
    """
    if probabilities is None:
        probabilities = DEFAULT_TRIANGLE_PROBABILITIES
    return _checked(Triangle(low, mid, high, tuple(probabilities)))
