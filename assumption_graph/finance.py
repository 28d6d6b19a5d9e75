"""Discounting and the internal rate of return, per sample and for a whole array.

:func:`irr` is a plain scalar function that numba compiles into the kernel
(:data:`SCALARS`, linked with :func:`~assumption_graph.streams.jit_linked`);
:func:`irr_array` is its numpy twin for the reference interpreter, with the same
operations in the same order, so both give the same numbers.

The IRR is the rate ``r`` with ``sum(f_t / (1 + r)**t) = 0``. Written in
``x = 1 / (1 + r)`` the net present value is the polynomial ``P(x) = sum f_t x**t``.
A fixed geometric grid of ``x`` (rates from 99,900 % down to -99 %) is scanned
from high rates to low for the first sign change, which is then bisected to
machine precision. With one sign change in the flows (costs first, gains
after) there is exactly one such rate; with several the highest rate found on
the grid is reported. The IRR is not defined (NaN) when all flows have one
sign, or when the first non-zero flow is a gain (there is no investment to
earn a return on); :func:`irr_note` says which.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "discount_factors",
    "irr",
    "irr_array",
    "irr_note",
    "SCALARS",
    "X_GRID",
]

_GRID_POINTS = 48
X_GRID = 1e-3 * (1e5 ** (np.arange(_GRID_POINTS) / (_GRID_POINTS - 1)))  # x = 1/(1+r)
_BISECTIONS = 64


def discount_factors(rate: float, periods: int) -> np.ndarray:
    """``1 / (1 + rate)**t`` for ``t = 0 .. periods - 1``.

    >>> discount_factors(0.25, 3).tolist()
    [1.0, 0.8, 0.64]
    """
    return 1.0 / (1.0 + rate) ** np.arange(periods)


def _poly(flows: np.ndarray, x: float) -> float:
    """``sum(flows[t] * x**t)`` by Horner's rule."""
    p = 0.0
    for t in range(flows.shape[0] - 1, -1, -1):
        p = p * x + flows[t]
    return p


def irr(flows: np.ndarray) -> float:
    """The internal rate of return of yearly net ``flows`` (NaN when not defined)."""
    first = 0.0
    has_gain = False
    for t in range(flows.shape[0]):
        if first == 0.0:
            first = flows[t]
        if flows[t] > 0.0:
            has_gain = True
    if not (first < 0.0 and has_gain):
        return np.nan
    lo = X_GRID[0]
    for k in range(1, X_GRID.shape[0]):
        hi = X_GRID[k]
        if _poly(flows, hi) >= 0.0:
            for _ in range(_BISECTIONS):
                mid = 0.5 * (lo + hi)
                if _poly(flows, mid) < 0.0:
                    lo = mid
                else:
                    hi = mid
            return 1.0 / (0.5 * (lo + hi)) - 1.0
        lo = hi
    return np.nan


SCALARS = (_poly, irr)


def _poly_array(flows: np.ndarray, x: np.ndarray) -> np.ndarray:
    p = np.zeros(np.broadcast_shapes(flows.shape[1:], x.shape))
    for t in range(flows.shape[0] - 1, -1, -1):
        p = p * x + flows[t]
    return p


def irr_array(flows: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`irr`: ``flows`` has one row per year, one column per sample."""
    flows = np.asarray(flows, dtype=np.float64)
    nonzero = flows != 0.0
    has_any = nonzero.any(axis=0)
    first = np.where(has_any, flows[np.argmax(nonzero, axis=0), np.arange(flows.shape[1])], 0.0)
    defined = (first < 0.0) & (flows > 0.0).any(axis=0)
    at_grid = _poly_array(flows[:, None, :], X_GRID[:, None])  # grid point x sample
    crossed = at_grid[1:] >= 0.0
    found = crossed.any(axis=0) & defined
    k = np.argmax(crossed, axis=0) + 1
    lo, hi = X_GRID[k - 1], X_GRID[k]
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        below = _poly_array(flows, mid) < 0.0
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    with np.errstate(divide="ignore"):
        rate = 1.0 / (0.5 * (lo + hi)) - 1.0
    return np.where(found, rate, np.nan)


def irr_note(flows: np.ndarray) -> str | None:
    """Why the IRR of ``flows`` is not defined, or ``None`` when it is.

    >>> irr_note(np.array([-100.0, 60.0, 60.0])) is None
    True
    >>> irr_note(np.array([50.0, 60.0]))  # doctest: +ELLIPSIS
    'not defined: gains exceed costs from the first year, ...'
    """
    flows = np.asarray(flows, dtype=np.float64)
    nonzero = flows[flows != 0.0]
    if nonzero.size == 0 or (nonzero < 0).all():
        return "not defined: the net flows are never positive, so the project never pays back"
    if nonzero[0] > 0:
        return (
            "not defined: gains exceed costs from the first year,"
            " so there is no investment to earn a return on"
        )
    if (nonzero > 0).all():  # pragma: no cover - excluded by the two tests above
        return "not defined: all net flows have the same sign"
    if np.isnan(irr(flows)):
        return "not defined: no rate between -99 % and 99,900 % makes the net present value zero"
    return None
