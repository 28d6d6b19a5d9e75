"""The lognormal distribution: log X ~ Normal(mu, sigma)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from ..errors import ModelError
from ..functions import sheet_number
from .base import (
    _Z_TAIL,
    DEFAULT_PERCENTILES,
    Distribution,
    _as_float,
    _checked,
    _estimate_order,
    _exp,
    _given_numbers,
    _percentiles,
    _set_estimate,
    _set_percentiles,
    _z,
)
from .problems import _number, _scale_problems
from .registry import register
from .special import _ndtri_central, ndtri, ndtri_array

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


def lognormal_from_u(u: float, mu: float, sigma: float) -> float:
    """LogNormal with log X ~ Normal(mu, sigma): ``exp(mu + sigma·ndtri(u))``. Numba-compatible."""
    return math.exp(mu + sigma * ndtri(u))


def lognormal_from_u_array(u: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """numpy twin of ``lognormal_from_u``."""
    return np.exp(mu + sigma * ndtri_array(u))


@register
@dataclass(frozen=True)
class LogNormal(Distribution):
    """LogNormal: log X ~ Normal(mu, sigma).

    Reads low/high as P5/P95 (exp(mu ∓ z·sigma), or the given ``percentiles``)
    and mid as the median exp(mu); the weighted figure is the mean exp(mu + sigma²/2).
    """

    mu: float
    sigma: float
    #: The (low, mid, high) it was read from, if any.
    estimate: tuple[float, float, float] | None = field(default=None, repr=False, compare=False)
    percentiles: tuple[float, float, float] = DEFAULT_PERCENTILES

    name: ClassVar[str] = "lognormal"
    sampler: ClassVar[str] = "lognormal_from_u"
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(lognormal_from_u_array)
    opcode: ClassVar[int] = 44
    options: ClassVar[tuple[str, ...]] = ("percentiles",)
    own_keys: ClassVar[tuple[str, ...]] = ("mu", "sigma")
    _fields: ClassVar[tuple[str, ...]] = ("mu", "sigma")

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
    ) -> LogNormal:
        """The lognormal with median ``mid`` whose P5..P95 (or other percentiles) ratio is high/low.

        ``mu = ln(mid)``, ``sigma = ln(high / low) / (2·z)``; the estimate is
        kept in ``estimate``. All three must be positive: a lognormal input is
        never zero or negative.
        """
        low, mid, high = (_as_float(cls, "estimate", v) for v in (low, mid, high))
        if not (low > 0.0 and mid > 0.0 and high > 0.0):
            raise ModelError(
                f"a lognormal estimate needs positive numbers, got low={_number(low)}, "
                f"mid={_number(mid)}, high={_number(high)}",
                hint="use a normal or triangle model for values that can be zero or negative",
            )
        levels = _percentiles(cls, percentiles)
        sigma = math.log(high / low) / (2.0 * _z(levels))
        return cls(math.log(mid), sigma, (low, mid, high), levels)

    @classmethod
    def read_estimate(
        cls, low: float, mid: float, high: float, options: dict[str, Any]
    ) -> LogNormal:
        return cls.from_estimate(low, mid, high, options.get("percentiles") or DEFAULT_PERCENTILES)

    @classmethod
    def from_own_keys(
        cls, numbers: tuple[float, ...], percentiles: tuple[float, float, float] | None
    ) -> LogNormal:
        mu, sigma = numbers
        return cls(mu, sigma, None, percentiles or DEFAULT_PERCENTILES)

    def _defining_keys(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma}

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return (
            _ndtri_central,
            ndtri,
            lognormal_from_u,
        )

    @property
    def low(self) -> float:
        return math.exp(self.mu - _z(self.percentiles) * self.sigma)

    @property
    def mid(self) -> float:
        return math.exp(self.mu)

    @property
    def high(self) -> float:
        return math.exp(self.mu + _z(self.percentiles) * self.sigma)

    @property
    def weighted(self) -> float:
        return math.exp(self.mu + 0.5 * self.sigma * self.sigma)

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        """As :meth:`from_estimate` reads the estimate shown: ``mu = ln(mid)`` and sigma
        from the ratio ``high / low``."""
        z = sheet_number(_z(self.percentiles))
        mu = f"LN({cells['mid']})"
        sigma = f"(LN({cells['high']}/{cells['low']})/(2*{z}))"
        return {
            "low": f"EXP({mu}-{z}*{sigma})",
            "mid": cells["mid"],
            "high": f"EXP({mu}+{z}*{sigma})",
            "weighted": f"EXP({mu}+0.5*{sigma}*{sigma})",
        }

    @property
    def mean(self) -> float:
        return self.weighted

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.mu, self.sigma)

    def _problems(self) -> list[tuple[str, str]]:
        return _estimate_order(self) or _scale_problems("sigma", "log-scale spread", self.sigma)

    def _numbers(self) -> list[tuple[str, float]]:
        return _given_numbers(self)

    def _reach(self) -> Iterable[float]:
        """The highest draw, the readings, the mean and the variance.

        The variance ``(exp(sigma²) - 1)·exp(2mu + sigma²)`` is taken through its
        logarithm, so that only a variance that overflows reads as inf.
        """
        s2 = self.sigma * self.sigma
        log_variance = 2.0 * self.mu + s2 + math.log(math.expm1(s2)) if s2 > 0.0 else -math.inf
        return (
            _exp(self.mu + _Z_TAIL * self.sigma),
            _exp(self.mu - _z(self.percentiles) * self.sigma),
            _exp(self.mu),
            _exp(self.mu + _z(self.percentiles) * self.sigma),
            _exp(self.mu + 0.5 * s2),
            _exp(log_variance),
        )


def lognormal(mu: float, sigma: float) -> LogNormal:
    """LogNormal with log X ~ Normal(mu, sigma); mid reads as the median exp(mu).

    >>> x = lognormal(0.0, 0.5)
    >>> x.mid, round(x.weighted, 6)
    (1.0, 1.133148)
    """
    return _checked(LogNormal(mu, sigma))
