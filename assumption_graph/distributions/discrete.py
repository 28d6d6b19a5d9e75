"""Exactly one of low, mid and high, with the user's probabilities."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from ..errors import ModelError
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


def discrete_from_u(
    u: float, p_low: float, p_mid: float, low: float, mid: float, high: float
) -> float:
    """Exactly one of low, mid, high with probabilities p_low, p_mid, rest. Numba-compatible."""
    if u < p_low:
        return low
    if u < p_low + p_mid:
        return mid
    return high


def discrete_from_u_array(
    u: np.ndarray, p_low: float, p_mid: float, low: float, mid: float, high: float
) -> np.ndarray:
    """numpy twin of ``discrete_from_u``."""
    u = np.asarray(u, dtype=np.float64)
    return np.where(u < p_low, float(low), np.where(u < p_low + p_mid, float(mid), float(high)))


@register
@dataclass(frozen=True)
class Discrete(Distribution):
    """Exactly one of low, mid, high with the user's probabilities ("brugerdefineret")."""

    low: float
    mid: float
    high: float
    probabilities: tuple[float, ...]

    name: ClassVar[str] = "discrete"
    sampler: ClassVar[str] = "discrete_from_u"
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(discrete_from_u_array)
    opcode: ClassVar[int] = 42
    options: ClassVar[tuple[str, ...]] = ("probabilities",)
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_probabilities(self)

    @property
    def weighted(self) -> float:
        return _weighted(self)

    @property
    def mean(self) -> float:
        return _weighted(self)

    @property
    def weights(self) -> tuple[float, float, float] | None:
        return _weights(self.probabilities)

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        return _sheet_weighted(self, cells)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        p = self.probabilities
        p_low = p[0] if len(p) > 0 else math.nan
        p_mid = p[1] if len(p) > 1 else math.nan
        return (p_low, p_mid, self.low, self.mid, self.high)

    def _numbers(self) -> list[tuple[str, float]]:
        return super()._numbers() + _probability_numbers(self.probabilities)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high) + _probability_problems(
            self.probabilities
        )

    @classmethod
    def read_estimate(
        cls, low: float, mid: float, high: float, options: dict[str, Any]
    ) -> Discrete:
        if "probabilities" not in options:
            raise ModelError(
                "model 'discrete' needs probabilities for low, mid and high",
                hint="add probabilities: [p_low, p_mid, p_high]",
            )
        return cls(low, mid, high, tuple(options["probabilities"]))

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return (discrete_from_u,)


def discrete(low: float, mid: float, high: float, probabilities: Sequence[float]) -> Discrete:
    """Exactly one of low, mid, high, with the given probabilities.

    >>> d = discrete(0, 100, 400, [0.5, 0.3, 0.2])
    >>> d.weighted
    110.0
    """
    return _checked(Discrete(low, mid, high, tuple(probabilities)))
