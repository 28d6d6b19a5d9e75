"""A finite list of values (``values:``) with probabilities, drawn from a table."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from ..errors import ModelError, shown
from .base import (
    Distribution,
    Shown,
    _as_float,
    _checked,
    _is_list,
    _probability_numbers,
    _set_probabilities,
)
from .problems import _probability_problems
from .registry import register

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


def table_from_u(u: float, table: np.ndarray, offset: int, count: int) -> float:
    """One of ``count`` values by the inverse CDF, read from a table of cumulative probabilities.

    ``table[offset : offset + count]`` holds the cumulative probabilities of the
    values sorted ascending (the last is not read: it stands for 1) and
    ``table[offset + count : offset + 2·count]`` the sorted values. The result is
    the first value whose cumulative probability exceeds ``u`` (binary search),
    or the last. Numba-compatible.
    """
    first = 0
    last = count - 1
    while first < last:
        middle = (first + last) // 2
        if u < table[offset + middle]:
            last = middle
        else:
            first = middle + 1
    return table[offset + count + first]


def table_from_u_array(u: np.ndarray, table: np.ndarray, offset: int, count: int) -> np.ndarray:
    """numpy twin of ``table_from_u``."""
    table = np.asarray(table, dtype=np.float64)
    cumulative = table[offset : offset + count - 1]
    values = table[offset + count : offset + 2 * count]
    return values[np.searchsorted(cumulative, np.asarray(u, dtype=np.float64), side="right")]


class _ValueTable(Distribution):
    """A finite set of values with probabilities (``values:``), drawn from a table.

    Subclasses hold ``values`` and ``probabilities``. Readings: low and high are
    the smallest and largest value, mid the median value (the smallest with at
    least half the probability at or below it); weighted figure and mean: Σ p·v.
    """

    values: tuple[float, ...]
    probabilities: tuple[float, ...]
    #: Whether a file gives one probability per value (else each is equally likely).
    takes_probabilities: ClassVar[bool]
    sampler: ClassVar[str] = "table_from_u"
    opcode: ClassVar[int] = 48
    reads: ClassVar[str] = "values"
    _fields: ClassVar[tuple[str, ...]] = ()

    def _set_values(self) -> None:
        raw = self.values
        if not _is_list(raw):
            raise ModelError(
                f"{type(self).__name__}: values must be a list of numbers, got {shown(raw)}"
            )
        if len(raw) == 0:
            raise ModelError(f"{type(self).__name__}: values must hold at least one number")
        object.__setattr__(self, "values", tuple(_as_float(self, "values", v) for v in raw))

    def _sorted(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The values ascending and the cumulative probabilities in that order."""
        order = sorted(range(len(self.values)), key=self.values.__getitem__)
        values = tuple(self.values[k] for k in order)
        return values, self._cumulative(order)

    def _cumulative(self, order: list[int]) -> tuple[float, ...]:
        return tuple(itertools.accumulate(self.probabilities[k] for k in order))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def mid(self) -> float:
        if len(self.probabilities) != len(self.values):
            return math.nan
        values, cumulative = self._sorted()
        return next(
            (v for v, c in zip(values, cumulative, strict=True) if c >= 0.5 - 1e-12), values[-1]
        )

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def weighted(self) -> float:
        return self.mean

    @property
    def mean(self) -> float:
        if len(self.probabilities) != len(self.values):
            return math.nan
        return math.fsum(p * v for p, v in zip(self.probabilities, self.values, strict=True))

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return ()

    @property
    def sampler_table(self) -> tuple[float, ...]:
        """The cumulative probabilities of the sorted values, then the sorted values."""
        values, cumulative = self._sorted()
        return cumulative + values

    def _numbers(self) -> list[tuple[str, float]]:
        values = [(f"values[{i}]", v) for i, v in enumerate(self.values)]
        return values + _probability_numbers(self.probabilities)

    def _reach(self) -> Iterable[float]:
        """The ends, the mean and the spread squared (mid is a value, weighted the mean)."""
        low, high = self.low, self.high
        return (low, high, self.mean, (high - low) * (high - low))

    def _defining_keys(self) -> dict[str, Any]:
        return {"model": self.name, "values": list(self.values)}

    def shown(self) -> Shown:
        """The values in the order given, and their probabilities unless all are equal."""
        return Shown(
            (self.low, self.mid, self.high),
            self.name,
            weights=self.non_default("probabilities"),
            values=self.values,
        )

    @classmethod
    def from_values(
        cls, values: Sequence[float], probabilities: Sequence[float] | None
    ) -> _ValueTable:
        """The model from a file's ``values:`` and ``probabilities:`` (when it takes them)."""
        return cls(tuple(values), tuple(probabilities or ()))  # type: ignore[call-arg]

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        return (table_from_u,)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return table_from_u_array(u, np.array(self.sampler_table), 0, len(self.values))


@register
@dataclass(frozen=True)
class DiscreteValues(_ValueTable):
    """Exactly one of any number of values, with the user's probabilities (``values:``)."""

    values: tuple[float, ...]
    probabilities: tuple[float, ...]

    name: ClassVar[str] = "discrete"
    takes_probabilities: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._set_values()
        _set_probabilities(self)

    def _problems(self) -> list[tuple[str, str]]:
        return _probability_problems(self.probabilities, self.values)


@register
@dataclass(frozen=True)
class UniformValues(_ValueTable):
    """Each of any number of values equally likely: a discrete uniform (``values:``)."""

    values: tuple[float, ...]

    name: ClassVar[str] = "uniform"
    takes_probabilities: ClassVar[bool] = False

    @classmethod
    def from_values(
        cls, values: Sequence[float], probabilities: Sequence[float] | None
    ) -> UniformValues:
        return cls(tuple(values))

    def __post_init__(self) -> None:
        self._set_values()

    @property
    def probabilities(self) -> tuple[float, ...]:  # type: ignore[override]
        return (1.0 / len(self.values),) * len(self.values)

    def _cumulative(self, order: list[int]) -> tuple[float, ...]:
        k = len(order)
        return tuple((j + 1) / k for j in range(k))

    def _numbers(self) -> list[tuple[str, float]]:
        return [(f"values[{i}]", v) for i, v in enumerate(self.values)]


def discrete_values(values: Sequence[float], probabilities: Sequence[float]) -> DiscreteValues:
    """One of any number of values, with the given probabilities.

    >>> d = discrete_values([0, 10, 20, 50], [0.4, 0.3, 0.2, 0.1])
    >>> d.low, d.mid, d.high, d.weighted
    (0.0, 10.0, 50.0, 12.0)
    """
    return _checked(DiscreteValues(tuple(values), tuple(probabilities)))


def uniform_values(values: Sequence[float]) -> UniformValues:
    """Each of any number of values equally likely.

    >>> u = uniform_values([1, 2, 3, 4, 5, 6])
    >>> u.low, u.mid, u.high, u.weighted
    (1.0, 3.0, 6.0, 3.5)
    """
    return _checked(UniformValues(tuple(values)))
