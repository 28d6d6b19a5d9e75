"""The check advice several models share: order, probabilities, scale and magnitude.

Each function returns ``(code, message)`` pairs, empty when all is well; a model's
``_problems`` combines them with its own rules.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Distribution


#: Probabilities must sum to 1 within this.
PROBABILITY_TOLERANCE = 1e-6
#: The largest number a float64 holds: a model whose numbers pass it is refused (``scale``).
LARGEST = sys.float_info.max


def _number(x: float) -> str:
    """A number as a user wrote it: 1500 rather than 1500.0, else repr."""
    x = float(x)
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _order_problems(low: float, mid: float, high: float) -> list[tuple[str, str]]:
    if low <= mid <= high:
        return []
    return [
        (
            "estimate-order",
            f"estimate must be ordered low <= mid <= high, got low={_number(low)}, "
            f"mid={_number(mid)}, high={_number(high)}; put the three numbers in order",
        )
    ]


def _probability_problems(
    probabilities: tuple[float, ...], values: tuple[float, ...] | None = None
) -> list[tuple[str, str]]:
    """Count, range and sum of the probabilities of low, mid, high (or of ``values``)."""
    if values is None:
        labels = ["low", "mid", "high"]
        want, each = "3 probabilities (for low, mid and high)", "each of low, mid and high"
    else:
        labels = [f"value {_number(v)}" for v in values]
        want, each = f"{len(values)} probabilities (one per value)", "each value"
    if len(probabilities) != len(labels):
        return [
            (
                "probabilities-count",
                f"expected {want}, got {len(probabilities)}; "
                f"give exactly one probability for {each}",
            )
        ]
    found = []
    for label, p in zip(labels, probabilities, strict=True):
        if not 0.0 <= p <= 1.0:
            found.append(
                (
                    "probability-range",
                    f"probability of {label} is {_number(p)}, outside [0, 1]; "
                    "use a number between 0 and 1",
                )
            )
    total = math.fsum(probabilities)
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        found.append(
            (
                "probability-sum",
                f"probabilities sum to {total:.10g}, not 1; adjust them so they add up to 1",
            )
        )
    return found


def _scale_problems(field: str, what: str, value: float) -> list[tuple[str, str]]:
    if value >= 0.0:
        return []
    return [("scale", f"{what} {field}={_number(value)} is negative; use {field} >= 0")]


def _magnitude_problems(model: Distribution) -> list[tuple[str, str]]:
    """``scale`` when the model's numbers pass float64's largest (``Distribution.magnitude``)."""
    if model.magnitude() <= LARGEST:
        return []
    numbers = [(name, x) for name, x in model._numbers() if not name.startswith("probabilities")]
    if len(numbers) > 4:  # a long list of values: the largest says enough
        numbers = [max(numbers, key=lambda item: abs(item[1]))]
    given = ", ".join(f"{name}={x:.6g}" for name, x in numbers)
    return [
        (
            "scale",
            f"numbers too large to compute with: with {given} the model's draws, mean or "
            f"variance pass {LARGEST:.2g}, the largest number a 64-bit float holds; "
            "give the amounts in a larger unit (e.g. millions instead of units), or check them",
        )
    ]
