"""Uniform on [low, high] (the guide's "random" / "tilfældig")."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from .base import Distribution, _checked, _sheet_ends
from .problems import _order_problems
from .registry import register

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


def uniform_from_u(u: float, low: float, high: float) -> float:
    """Uniform on [low, high] from u in (0, 1); NaN if high < low. Numba-compatible."""
    if not high >= low:
        return math.nan
    return min(max(low + u * (high - low), low), high)


def uniform_from_u_array(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """numpy twin of ``uniform_from_u``."""
    u = np.asarray(u, dtype=np.float64)
    if not high >= low:
        return np.full(u.shape, np.nan)
    return np.minimum(np.maximum(low + u * (high - low), low), high)


@register
@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on [low, high] ("tilfældig", alias random); weights 0.5, 0, 0.5.

    ``mid`` is the expected figure's reading; the draws do not use it.
    """

    low: float
    mid: float
    high: float

    name: ClassVar[str] = "uniform"
    sampler: ClassVar[str] = "uniform_from_u"
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(uniform_from_u_array)
    opcode: ClassVar[int] = 40
    aliases: ClassVar[tuple[str, ...]] = ("random",)
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    @property
    def weighted(self) -> float:
        return 0.5 * self.low + 0.5 * self.high

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        return _sheet_ends(cells) | {"weighted": f"0.5*{cells['low']}+0.5*{cells['high']}"}

    @property
    def mean(self) -> float:
        return 0.5 * self.low + 0.5 * self.high

    @property
    def weights(self) -> tuple[float, float, float]:
        return (0.5, 0.0, 0.5)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.low, self.high)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high)

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return (uniform_from_u,)


def uniform(low: float, mid: float, high: float) -> Uniform:
    """Uniform on [low, high]; ``mid`` is the expected figure's value.

    >>> u = uniform(10, 12, 20)
    >>> u.mid, u.weighted
    (12.0, 15.0)
    """
    return _checked(Uniform(low, mid, high))


#: The guide's Danish "tilfældig" model: the same as ``uniform``.
random = uniform
