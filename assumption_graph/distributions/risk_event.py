"""A risk event: with probability p it happens and costs its consequence, else 0."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from ..errors import ModelError, did_you_mean, shown
from .base import Distribution, Shown, _as_float, _checked, _is_list
from .pert import Pert, pert_shapes
from .problems import _number, _order_problems
from .registry import register
from .triangle import Triangle, triangle_from_u, triangle_from_u_array
from .uniform import Uniform, uniform_from_u, uniform_from_u_array

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")

#: A risk event's consequence models; the kernel gets the position as a number.
RISK_CONSEQUENCES: tuple[str, ...] = ("triangle", "uniform", "pert")


# A risk event's consequence model as the number the kernel gets (RISK_CONSEQUENCES).
_TRIANGLE_SHAPE = 0.0
_UNIFORM_SHAPE = 1.0
_PERT_SHAPE = 2.0


def _share_below_zero(shape: float, low: float, mid: float, high: float) -> float:
    """P(X < 0) for a triangular or uniform consequence X on [low, high]. Numba-compatible.

    Written as products of ratios no greater than 1, each over a denominator at
    least as large as its (non-zero) numerator, so that nothing underflows to a
    division by zero when an end is tiny.
    """
    if not low < 0.0:
        return 0.0
    if not high > 0.0:
        return 1.0
    span = high - low
    if shape == _UNIFORM_SHAPE:
        return -low / span
    if mid >= 0.0:
        return (-low / span) * (-low / (mid - low))
    return 1.0 - (high / span) * (high / (high - mid))


def risk_event_from_u(
    u: float, p: float, shape: float, low: float, mid: float, high: float
) -> float:
    """A risk event by its inverse CDF: 0 with probability 1 - p, else the consequence.

    ``shape`` is 0 (triangle) or 1 (uniform over [low, high]). With ``F0`` the
    consequence's share below 0, ``u < p·F0`` maps to the consequence at
    ``u / p``, ``u`` up to ``p·F0 + 1 - p`` to 0, and the rest to the consequence
    at ``(u - (1 - p)) / p``, so the result never decreases with ``u``.
    Numba-compatible.
    """
    below = p * _share_below_zero(shape, low, mid, high)
    if u < below:
        v = u / p
    elif u <= below + (1.0 - p):
        return 0.0
    else:
        v = (u - (1.0 - p)) / p
    if shape == _UNIFORM_SHAPE:
        return uniform_from_u(v, low, high)
    return triangle_from_u(v, low, mid, high)


def risk_event_from_u_array(
    u: np.ndarray, p: float, shape: float, low: float, mid: float, high: float
) -> np.ndarray:
    """numpy twin of ``risk_event_from_u``."""
    if shape == _UNIFORM_SHAPE:
        consequence = functools.partial(uniform_from_u_array, low=low, high=high)
    else:
        consequence = functools.partial(triangle_from_u_array, low=low, mid=mid, high=high)
    return _mixture_array(u, p, p * _share_below_zero(shape, low, mid, high), consequence)


def _mixture_array(
    u: np.ndarray, p: float, below: float, consequence: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """0 with probability 1 - p, else ``consequence`` (its quantile); ``below = p·P(X < 0)``.

    The same arithmetic as ``risk_event_from_u``: ``u < below`` maps to
    ``consequence(u / p)``, ``u > below + (1 - p)`` to ``consequence((u - (1 - p)) / p)``.
    """
    u = np.asarray(u, dtype=np.float64)
    lower = u < below
    happens = lower | (u > below + (1.0 - p))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(lower, u / p, (u - (1.0 - p)) / p)
    v = np.where(happens, v, 0.5)  # any u the consequence accepts; the result is 0 there
    return np.where(happens, consequence(v), 0.0)


@register
@dataclass(frozen=True)
class RiskEvent(Distribution):
    """A risk event: with probability ``probability`` it happens and costs the consequence, else 0.

    ``estimate`` is the consequence's (low, mid, high), drawn by
    ``consequence_model`` (triangle, uniform or pert). Readings: low and high are
    the ends of what can happen, 0 included; mid is 0 when the probability is
    below 0.5, else the consequence's mid. Weighted figure and mean: the
    probability times the consequence's weighted figure and mean.
    """

    probability: float
    estimate: tuple[float, float, float]
    consequence_model: str = "triangle"

    name: ClassVar[str] = "risk_event"
    sampler: ClassVar[str] = "risk_event_sample"
    opcode: ClassVar[int] = 47
    options: ClassVar[tuple[str, ...]] = ("probability", "consequence_model")
    option_hints: ClassVar[dict[str, str]] = {
        "probabilities": "a risk event's chance of happening is 'probability: p'"
    }
    draws_from_stream: ClassVar[bool] = True
    _fields: ClassVar[tuple[str, ...]] = ("probability",)

    def __post_init__(self) -> None:
        super().__post_init__()
        raw = self.estimate
        if not _is_list(raw) or len(raw) != 3:
            raise ModelError(f"RiskEvent: estimate must be (low, mid, high), got {shown(raw)}")
        object.__setattr__(self, "estimate", tuple(_as_float(self, "estimate", v) for v in raw))
        if self.consequence_model not in RISK_CONSEQUENCES:
            raise ModelError(
                f"unknown consequence model {shown(self.consequence_model)}",
                hint=did_you_mean(
                    self.consequence_model, RISK_CONSEQUENCES, "use triangle, uniform or pert"
                ),
            )

    @classmethod
    def read_estimate(
        cls, low: float, mid: float, high: float, options: dict[str, Any]
    ) -> RiskEvent:
        if "probability" not in options:
            raise ModelError(
                "model 'risk_event' needs the probability that the event happens",
                hint="add probability: p (a number from 0 to 1)",
            )
        consequence = options.get("consequence_model", "triangle")
        return cls(options["probability"], (low, mid, high), consequence)

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        from . import risk_event_stream  # numpy: only when the kernel is compiled

        return (
            *Uniform.kernel_functions(),
            *Triangle.kernel_functions(),
            *Pert.kernel_functions(),
            _share_below_zero,
            risk_event_from_u,
            risk_event_stream.risk_event_sample,
        )

    def _defining_keys(self) -> dict[str, Any]:
        estimate = list(self.estimate)
        return {"estimate": estimate, "model": self.name, "probability": self.probability}

    def shown(self) -> Shown:
        """The consequence's estimate as entered, and the chance that the event happens."""
        variant = self.non_default("consequence_model")
        return Shown(self.estimate, "risk event", chance=self.probability, variant=variant)

    @property
    def consequence(self) -> Triangle | Uniform | Pert:
        """What the event costs when it happens."""
        low, mid, high = self.estimate
        if self.consequence_model == "uniform":
            return Uniform(low, mid, high)
        if self.consequence_model == "pert":
            return Pert(low, mid, high)
        return Triangle(low, mid, high)

    @property
    def low(self) -> float:
        return min(0.0, self.estimate[0])

    @property
    def mid(self) -> float:
        return 0.0 if self.probability < 0.5 else self.estimate[1]

    @property
    def high(self) -> float:
        return max(0.0, self.estimate[2])

    @property
    def weighted(self) -> float:
        return self.probability * self.consequence.weighted

    @property
    def mean(self) -> float:
        return self.probability * self.consequence.mean

    @property
    def sampler_args(self) -> tuple[float, ...]:
        shape = float(RISK_CONSEQUENCES.index(self.consequence_model))
        return (self.probability, shape, *self.estimate)

    def _numbers(self) -> list[tuple[str, float]]:
        named = zip(("estimate low", "estimate mid", "estimate high"), self.estimate, strict=True)
        return super()._numbers() + list(named)

    def _problems(self) -> list[tuple[str, str]]:
        found = _order_problems(*self.estimate)
        if not 0.0 <= self.probability <= 1.0:
            found.append(
                (
                    "probability-range",
                    f"the risk event's probability is {_number(self.probability)}, outside "
                    "[0, 1]; give the chance that it happens as a number between 0 and 1",
                )
            )
        return found

    def _reach(self) -> Iterable[float]:
        """A bounded model's over its ends (0 included), and what its consequence computes."""
        return (*super()._reach(), self.consequence.magnitude())

    def sample_array(self, stream: int, samples: np.ndarray) -> np.ndarray:
        """Draw one value per sample index (a PERT consequence by rejection)."""
        from .risk_event_stream import risk_event_sample_array

        return risk_event_sample_array(stream, samples, *self.sampler_args)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The mixture's inverse CDF (see ``risk_event_from_u``); a PERT consequence via scipy."""
        if self.consequence_model != "pert":
            return risk_event_from_u_array(u, *self.sampler_args)
        from scipy.special import betainc  # heavy: imported when a method needs it

        low, mid, high = self.estimate
        below = 0.0  # P(X < 0) for the consequence X, as _share_below_zero for the others
        if low < 0.0:
            alpha, beta = pert_shapes(low, mid, high)
            below = 1.0 if not high > 0.0 else float(betainc(alpha, beta, -low / (high - low)))
        p = self.probability
        return _mixture_array(u, p, p * below, self.consequence.quantile)


def risk_event(
    probability: float, low: float, mid: float, high: float, consequence_model: str = "triangle"
) -> RiskEvent:
    """A risk event: with ``probability`` it costs triangle(low, mid, high) (or uniform, pert).

    >>> r = risk_event(0.25, 100, 200, 600)
    >>> r.low, r.mid, r.high, r.weighted
    (0.0, 0.0, 600.0, 65.0)
    """
    return _checked(RiskEvent(probability, (low, mid, high), consequence_model))
