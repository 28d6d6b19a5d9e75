"""The normal distribution, read from an estimate as P5 / mean / P95 by default."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from ..functions import sheet_number
from .base import (
    _Z_TAIL,
    DEFAULT_PERCENTILES,
    Distribution,
    _as_float,
    _checked,
    _estimate_order,
    _given_numbers,
    _percentiles,
    _set_estimate,
    _set_percentiles,
    _z,
)
from .problems import _scale_problems
from .registry import register
from .special import _SPLIT1, _ndtri_central, ndtri, ndtri_array

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


def normal_from_u(u: float, mean: float, sd: float) -> float:
    """Normal(mean, sd) from u in (0, 1): ``mean + sd·ndtri(u)``. Numba-compatible."""
    return mean + sd * ndtri(u)


def normal_central(u: float, mean: float, sd: float) -> float:
    """``normal_from_u(u, mean, sd)`` where ``u`` is in the central 85 %, else NaN.

    Bit for bit the same where it has a value, with no branch, logarithm or
    square root, so the kernel runs it vectorised over a block and calls
    ``normal_from_u`` (or ``lognormal_from_u``) only for the samples left NaN.
    Numba-compatible.
    """
    q = u - 0.5
    return mean + sd * _ndtri_central(q) if abs(q) <= _SPLIT1 else math.nan


def normal_from_u_array(u: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """numpy twin of ``normal_from_u``."""
    return mean + sd * ndtri_array(u)


@register
@dataclass(frozen=True)
class Normal(Distribution):
    """Normal(mean, sd). Reads low/high as P5/P95 (mean ∓ z·sd), mid as the mean.

    ``percentiles`` ([q, 50, 100 - q], default [5, 50, 95]) says which percentiles
    low and high are; ``z`` is the normal's (100 - q)th percentile.
    """

    mean: float
    sd: float
    #: The (low, mid, high) it was read from, if any (``check`` warns on skew).
    estimate: tuple[float, float, float] | None = field(default=None, repr=False, compare=False)
    percentiles: tuple[float, float, float] = DEFAULT_PERCENTILES

    name: ClassVar[str] = "normal"
    sampler: ClassVar[str] = "normal_from_u"
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(normal_from_u_array)
    opcode: ClassVar[int] = 43
    options: ClassVar[tuple[str, ...]] = ("percentiles",)
    own_keys: ClassVar[tuple[str, ...]] = ("mean", "sd")
    _fields: ClassVar[tuple[str, ...]] = ("mean", "sd")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_estimate(self)
        _set_percentiles(self)

    @classmethod
    def from_estimate(
        cls,
        low: float,
        mid: float,
        high: float,
        percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    ) -> Normal:
        """The normal with mean ``mid`` whose P5..P95 (or other percentiles) spans ``high - low``.

        ``sd = (high - low) / (2·z)``. The estimate is kept in ``estimate``.
        """
        low, mid, high = (_as_float(cls, "estimate", v) for v in (low, mid, high))
        levels = _percentiles(cls, percentiles)
        return cls(mid, (high - low) / (2.0 * _z(levels)), (low, mid, high), levels)

    @classmethod
    def read_estimate(cls, low: float, mid: float, high: float, options: dict[str, Any]) -> Normal:
        return cls.from_estimate(low, mid, high, options.get("percentiles") or DEFAULT_PERCENTILES)

    @classmethod
    def from_own_keys(
        cls, numbers: tuple[float, ...], percentiles: tuple[float, float, float] | None
    ) -> Normal:
        mean, sd = numbers
        return cls(mean, sd, None, percentiles or DEFAULT_PERCENTILES)

    def _defining_keys(self) -> dict[str, Any]:
        return {"mean": self.mean, "sd": self.sd}

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return (
            _ndtri_central,
            ndtri,
            normal_from_u,
            normal_central,
        )

    @property
    def low(self) -> float:
        return self.mean - _z(self.percentiles) * self.sd

    @property
    def mid(self) -> float:
        return self.mean

    @property
    def high(self) -> float:
        return self.mean + _z(self.percentiles) * self.sd

    @property
    def weighted(self) -> float:
        return self.mean

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        """As :meth:`from_estimate` reads the estimate shown: mean ``mid``, and the sd from
        the spread, so that low and high come out symmetric as they do here."""
        z = sheet_number(_z(self.percentiles))
        spread = f"{z}*(({cells['high']}-{cells['low']})/(2*{z}))"
        mid = cells["mid"]
        return {"low": f"{mid}-{spread}", "mid": mid, "high": f"{mid}+{spread}", "weighted": mid}

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.mean, self.sd)

    def advice(self) -> list[tuple[str, str]]:
        """A skewed estimate read as a normal loses its skew (mid off-centre by > 1 % of range)."""
        if self.estimate is None:
            return []
        low, mid, high = self.estimate
        spread = high - low
        if spread <= 0 or abs(mid - (low + high) / 2) <= 0.01 * spread:
            return []
        return [
            (
                "asymmetric-estimate",
                f"has a normal model but its estimate [{low:g}, {mid:g}, {high:g}] is not "
                "symmetric (mid is not halfway between low and high); use a model that can be "
                "skewed (triangle, pert, lognormal) or make the estimate symmetric",
            )
        ]

    def _problems(self) -> list[tuple[str, str]]:
        return _estimate_order(self) or _scale_problems("sd", "standard deviation", self.sd)

    def _numbers(self) -> list[tuple[str, float]]:
        return _given_numbers(self)

    def _reach(self) -> Iterable[float]:
        """The draws at the farthest uniforms, the readings and the variance ``sd²``."""
        tail = _Z_TAIL * self.sd
        return (self.mean - tail, self.mean + tail, self.low, self.high, self.sd * self.sd)


def normal(mean: float, sd: float) -> Normal:
    """Normal(mean, sd); low/high read as P5/P95.

    >>> n = normal(100, 10)
    >>> round(n.low, 3), n.mid, round(n.high, 3)
    (83.551, 100.0, 116.449)
    """
    return _checked(Normal(mean, sd))
