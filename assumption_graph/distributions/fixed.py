"""A fixed input: not uncertain, always its mid value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from .base import Distribution, _checked
from .registry import register

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


def fixed_from_u(u: float, mid: float) -> float:
    """A fixed input ignores its uniform: always ``mid``. Numba-compatible."""
    return mid


def fixed_from_u_array(u: np.ndarray, mid: float) -> np.ndarray:
    """numpy twin of ``fixed_from_u``."""
    return np.full(np.shape(u), float(mid))


@register
@dataclass(frozen=True)
class Fixed(Distribution):
    """Not uncertain ("ikke usikker"): always ``mid``; weights 0, 1, 0."""

    mid: float

    name: ClassVar[str] = "fixed"
    sampler: ClassVar[str] = "fixed_from_u"
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(fixed_from_u_array)
    opcode: ClassVar[int] = 0  # a constant: the kernel copies mid
    draws: ClassVar[bool] = False
    _fields: ClassVar[tuple[str, ...]] = ("mid",)

    @property
    def low(self) -> float:
        return self.mid

    @property
    def high(self) -> float:
        return self.mid

    @property
    def weighted(self) -> float:
        return self.mid

    @property
    def mean(self) -> float:
        return self.mid

    @property
    def weights(self) -> tuple[float, float, float]:
        return (0.0, 1.0, 0.0)

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        return dict.fromkeys(("low", "mid", "high", "weighted"), cells["mid"])

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.mid,)

    @classmethod
    def read_estimate(cls, low: float, mid: float, high: float, options: dict[str, Any]) -> Fixed:
        return cls(mid)

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return (fixed_from_u,)


def fixed(mid: float) -> Fixed:
    """A known value, not uncertain.

    >>> fixed(0.95).weighted
    0.95
    """
    return _checked(Fixed(mid))
