"""A risk event's draw from one uniform: 0 when it does not happen, else its consequence.

The scalar inverse CDF the kernel compiles and its numpy twin, for a triangular,
uniform or PERT consequence (Monte Carlo draws of a PERT consequence come from a
stream instead, in :mod:`.risk_event_stream`). Kept apart from the model's class
so that the stream sampler can build on it without the class, and the class on both.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._lazy import lazy_import
from .pert import pert_from_u, pert_from_u_array, pert_log_beta
from .special import beta_cdf, pert_shapes
from .triangle import triangle_from_u, triangle_from_u_array
from .uniform import uniform_from_u, uniform_from_u_array

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


# A risk event's consequence model as the number the kernel gets (RISK_CONSEQUENCES).
_TRIANGLE_SHAPE = 0.0
_UNIFORM_SHAPE = 1.0
_PERT_SHAPE = 2.0


def _share_below_zero(shape: float, low: float, mid: float, high: float) -> float:
    """P(X < 0) for a consequence X on [low, high] (``shape`` as for ``risk_event_from_u``).
    Numba-compatible.

    A triangle's is written as products of ratios no greater than 1, each over a
    denominator at least as large as its (non-zero) numerator, so that nothing
    underflows to a division by zero when an end is tiny; a PERT's is its Beta's
    CDF at ``-low / span``.
    """
    if not low < 0.0:
        return 0.0
    if not high > 0.0:
        return 1.0
    span = high - low
    if shape == _PERT_SHAPE:
        alpha, beta = pert_shapes(low, mid, high)
        return beta_cdf(-low / span, alpha, beta)
    if shape == _UNIFORM_SHAPE:
        return -low / span
    if mid >= 0.0:
        return (-low / span) * (-low / (mid - low))
    return 1.0 - (high / span) * (high / (high - mid))


def risk_event_from_u(
    u: float, p: float, shape: float, low: float, mid: float, high: float
) -> float:
    """A risk event by its inverse CDF: 0 with probability 1 - p, else the consequence.

    ``shape`` is 0 (triangle), 1 (uniform over [low, high]) or 2 (PERT). With ``F0`` the
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
    if shape == _PERT_SHAPE:
        alpha, beta = _pert_shapes_or_nan(low, mid, high)
        a, b = alpha - 1.0, beta - 1.0
        return pert_from_u(v, low, high, a, b, pert_log_beta(a, b), -1.0)  # no grid
    return triangle_from_u(v, low, mid, high)


def _pert_shapes_or_nan(low: float, mid: float, high: float) -> tuple[float, float]:
    """``pert_shapes`` where low < high; NaN otherwise (``pert_from_u`` needs none then)."""
    if not high > low:
        return math.nan, math.nan
    return pert_shapes(low, mid, high)


def risk_event_from_u_array(
    u: np.ndarray, p: float, shape: float, low: float, mid: float, high: float
) -> np.ndarray:
    """numpy twin of ``risk_event_from_u``."""
    if shape == _UNIFORM_SHAPE:
        consequence = functools.partial(uniform_from_u_array, low=low, high=high)
    elif shape == _PERT_SHAPE:
        alpha, beta = _pert_shapes_or_nan(low, mid, high)
        consequence = functools.partial(
            pert_from_u_array, low=low, high=high, a=alpha - 1.0, b=beta - 1.0
        )
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
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # p near 0
        v = np.where(lower, u / p, (u - (1.0 - p)) / p)
    v = np.where(happens, v, 0.5)  # any u the consequence accepts; the result is 0 there
    return np.where(happens, consequence(v), 0.0)
