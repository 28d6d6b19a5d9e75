"""A risk event: with probability p it happens and costs its consequence, else 0."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazy import lazy_import
from ..errors import ModelError, did_you_mean, shown
from .base import Distribution, Shown, _as_float, _checked, _is_list
from .pert import Pert
from .problems import _number, _order_problems
from .registry import register
from .risk_mixture import (
    _pert_shapes_or_nan,
    _share_below_zero,
    risk_event_from_u,
    risk_event_from_u_array,
)
from .special import beta_cdf
from .triangle import Triangle
from .uniform import Uniform

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")

#: A risk event's consequence models; the kernel gets the position as a number.
RISK_CONSEQUENCES: tuple[str, ...] = ("triangle", "uniform", "pert")


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
            beta_cdf,
            _share_below_zero,
            _pert_shapes_or_nan,
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

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        """The readings from the consequence's estimate and the chance, as above; the
        consequence's own weights are numbers (the export shows none for it)."""
        chance = cells["chance"]
        ends = {key: cells[key] for key in ("low", "mid", "high")}
        consequence = self.consequence.sheet_readings(ends)
        readings = {
            "low": f"MIN(0,{cells['low']})",
            "mid": f"IF({chance}<0.5,0,{cells['mid']})",
            "high": f"MAX(0,{cells['high']})",
        }
        if "weighted" in consequence:
            readings["weighted"] = f"{chance}*({consequence['weighted']})"
        return readings

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

    @property
    def quantile_in_kernel(self) -> bool:
        """Yes (``risk_event_from_u``), though Monte Carlo draws of a PERT consequence
        come from a stream by rejection."""
        return True

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The mixture's inverse CDF (see ``risk_event_from_u``)."""
        return risk_event_from_u_array(u, *self.sampler_args)


def risk_event(
    probability: float, low: float, mid: float, high: float, consequence_model: str = "triangle"
) -> RiskEvent:
    """A risk event: with ``probability`` it costs triangle(low, mid, high) (or uniform, pert).

    >>> r = risk_event(0.25, 100, 200, 600)
    >>> r.low, r.mid, r.high, r.weighted
    (0.0, 0.0, 600.0, 65.0)
    """
    return _checked(RiskEvent(probability, (low, mid, high), consequence_model))
