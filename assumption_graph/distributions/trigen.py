"""A triangle given by its P10, mode and P90 (@RISK's RiskTrigen, Analytica's Triangular10_50_90).

People judge "1 in 10 below, 1 in 10 above" better than the absolute minimum and
maximum, so ``trigen`` takes ``estimate: [P10, mode, P90]`` and solves the
triangle's true ends from them. With ``c`` the mode, ``u = c - min`` and
``v = max - c``, the triangle's CDF gives ``c - P10 = u - sqrt(0.1·(u + v)·u)``
and ``P90 - c = v - sqrt(0.1·(u + v)·v)``. For a span ``s = u + v`` each side
is a quadratic in ``sqrt(u)`` (``sqrt(v)``) with one non-negative root, and the
sides add up to ``s`` at exactly one span: :func:`trigen_bounds` finds it by
bisection. The draws are then the triangle's (``triangle_from_u``, the kernel's
triangle op): nothing new to compile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from .base import Distribution, Shown, _checked
from .problems import _number
from .registry import register
from .triangle import Triangle, triangle_from_u_array

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


#: The share of a trigen's draws below its low reading, and above its high one.
TRIGEN_TAIL = 0.1
_BISECTIONS = 200  # halvings of the span's bracket: far past float64's 53 bits


def _side(span: float, gap: float) -> float:
    """The width ``w`` of one side of a triangle of ``span`` whose percentile is ``gap`` inside.

    The non-negative root of ``w - sqrt(TRIGEN_TAIL·span·w) = gap`` (as a
    quadratic in ``sqrt(w)``).
    """
    root = math.sqrt(TRIGEN_TAIL * span)
    return ((root + math.sqrt(TRIGEN_TAIL * span + 4.0 * gap)) / 2.0) ** 2


def trigen_bounds(low: float, mode: float, high: float) -> tuple[float, float]:
    """The minimum and maximum of the triangle whose P10, mode and P90 are given.

    The three must be ordered (``low <= mode <= high``); else (NaN, NaN).

    >>> lo, hi = trigen_bounds(80, 100, 150)
    >>> round(lo, 6), round(hi, 6)
    (56.699839, 182.079861)
    """
    if not (low <= mode <= high):
        return (math.nan, math.nan)
    below, above = mode - low, high - mode
    if below + above == 0.0:
        return (mode, mode)
    # Too wide a span gives sides that add up to less than it, too narrow more.
    narrow, wide = 0.0, below + above
    while _side(wide, below) + _side(wide, above) > wide:
        narrow, wide = wide, 2.0 * wide
    for _ in range(_BISECTIONS):
        span = 0.5 * (narrow + wide)
        if span in (narrow, wide):
            break
        if _side(span, below) + _side(span, above) > span:
            narrow = span
        else:
            wide = span
    return (mode - _side(wide, below), mode + _side(wide, above))


@register
@dataclass(frozen=True)
class Trigen(Distribution):
    """A triangle read from its P10 (``low``), mode (``mid``) and P90 (``high``).

    Its true ends are :attr:`bounds`; the draws, the quantile and the mean are
    the triangle's over them. Weighted figure: the mean, (min + mode + max) / 3.
    """

    low: float
    mid: float
    high: float

    name: ClassVar[str] = "trigen"
    sampler: ClassVar[str] = Triangle.sampler
    twin: ClassVar[Callable[..., np.ndarray]] = staticmethod(triangle_from_u_array)
    opcode: ClassVar[int] = Triangle.opcode
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    @property
    def bounds(self) -> tuple[float, float]:
        """The triangle's minimum and maximum (:func:`trigen_bounds`)."""
        return trigen_bounds(self.low, self.mid, self.high)

    @property
    def weighted(self) -> float:
        return self.mean

    @property
    def mean(self) -> float:
        least, most = self.bounds
        return (least + self.mid + most) / 3.0

    @property
    def sampler_args(self) -> tuple[float, ...]:
        least, most = self.bounds
        return (least, self.mid, most)

    def _problems(self) -> list[tuple[str, str]]:
        if self.low <= self.mid <= self.high:
            return []
        return [
            (
                "estimate-order",
                f"a trigen's mode must lie between its P10 and P90, got P10={_number(self.low)}, "
                f"mode={_number(self.mid)}, P90={_number(self.high)}; put them in order, or give "
                "a triangle this skewed by its minimum, mode and maximum with model: triangle",
            )
        ]

    def _reach(self) -> Iterable[float]:
        """A bounded model's, over the solved ends as well as the readings."""
        least, most = self.bounds
        return (*super()._reach(), least, most, (most - least) * (most - least))

    def shown(self) -> Shown:
        """The readings as given, named so that nobody reads them as the ends."""
        return Shown((self.low, self.mid, self.high), f"{self.name} (P10 / mode / P90)")

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return Triangle.kernel_functions()


def trigen(low: float, mid: float, high: float) -> Trigen:
    """A triangle with P10 ``low``, mode ``mid`` and P90 ``high``.

    >>> t = trigen(80, 100, 150)
    >>> [round(float(q), 9) for q in t.quantile([0.1, 0.9])]
    [80.0, 150.0]
    >>> trigen(5, 3, 9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assumption_graph.errors.ModelError: invalid trigen ...mode must lie between its P10 and P90...
    """
    return _checked(Trigen(low, mid, high))
