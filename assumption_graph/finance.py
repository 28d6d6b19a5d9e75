"""Discounting and the internal rate of return, per sample and for a whole array.

:func:`irr` is a plain scalar function that numba compiles into the kernel
(:data:`SCALARS`, linked with :func:`~assumption_graph.streams.jit_linked`);
:func:`irr_array` is its numpy twin for the reference interpreter, with the same
operations in the same order, so both give the same numbers.

The IRR is the rate ``r`` with ``sum(f_t / (1 + r)**t) = 0``. Written in
``x = 1 / (1 + r)`` the net present value is the polynomial ``P(x) = sum f_t x**t``,
searched for rates from 99,900 % down to -99 %. When the flows change sign
once (costs first, gains after) there is exactly one such rate (Descartes'
rule of signs), and bisecting the whole range finds it to machine precision.
When they change sign more than once there may be several: a fixed geometric
grid of 400 points is scanned from high rates to low for the first sign change,
which is then bisected, so the highest rate is reported (two rates closer
together than the grid's step of about 3 % in ``1 + r`` can be missed). The IRR
is not defined (NaN) when the flows never turn positive, when the first
non-zero flow is a gain (there is no investment to earn a return on), or when no
rate in the range solves it; :func:`irr_note` says which.
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

_GRID_POINTS = 400
X_GRID = 1e-3 * (1e5 ** (np.arange(_GRID_POINTS) / (_GRID_POINTS - 1)))  # x = 1/(1+r)
X_ENDS = X_GRID[[0, -1]]  # the whole range: enough when the flows change sign once
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


def _signs(flows: np.ndarray) -> tuple[float, int]:
    """The first non-zero flow and how many times the flows change sign."""
    first = 0.0
    changes = 0
    positive = False
    for t in range(flows.shape[0]):
        if flows[t] != 0.0:
            if first == 0.0:
                first = flows[t]
            elif (flows[t] > 0.0) != positive:
                changes += 1
            positive = flows[t] > 0.0
    return first, changes


def irr(flows: np.ndarray) -> float:
    """The internal rate of return of yearly net ``flows`` (NaN when not defined)."""
    first, changes = _signs(flows)
    if not (first < 0.0 and changes > 0):
        return np.nan
    grid = X_ENDS if changes == 1 else X_GRID
    lo = grid[0]
    if _poly(flows, lo) >= 0.0:
        return np.nan
    for k in range(1, grid.shape[0]):
        hi = grid[k]
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


SCALARS = (_poly, _signs, irr)


def _poly_array(flows: np.ndarray, x: np.ndarray) -> np.ndarray:
    p = np.zeros(np.broadcast_shapes(flows.shape[1:], x.shape))
    for t in range(flows.shape[0] - 1, -1, -1):
        p = p * x + flows[t]
    return p


def _signs_array(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """numpy twin of ``_signs`` for flows with one column per sample."""
    nonzero = flows != 0.0
    columns = np.arange(flows.shape[1])
    first = np.where(nonzero.any(axis=0), flows[np.argmax(nonzero, axis=0), columns], 0.0)
    sign = np.where(nonzero, np.sign(flows), np.nan)
    changes = np.zeros(flows.shape[1], dtype=np.int64)
    previous = np.full(flows.shape[1], np.nan)
    for row in sign:
        changes += (row == -previous).astype(np.int64)  # NaN (a zero flow) never counts
        previous = np.where(np.isnan(row), previous, row)
    return first, changes


def irr_array(flows: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`irr`: ``flows`` has one row per year, one column per sample."""
    flows = np.asarray(flows, dtype=np.float64)
    first, changes = _signs_array(flows)
    found = (first < 0.0) & (changes > 0) & (_poly_array(flows, X_GRID[0]) < 0.0)
    lo = np.full(flows.shape[1], X_GRID[0])
    hi = np.full(flows.shape[1], X_GRID[-1])
    once = changes == 1
    found &= ~once | (_poly_array(flows, hi) >= 0.0)
    several = np.flatnonzero(found & ~once)
    if several.size:
        at_grid = _poly_array(flows[:, None, several], X_GRID[:, None])  # grid point x sample
        crossed = at_grid[1:] >= 0.0
        k = np.argmax(crossed, axis=0) + 1
        found[several] = crossed.any(axis=0)
        lo[several], hi[several] = X_GRID[k - 1], X_GRID[k]
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
    first, changes = _signs(flows)
    if not (flows > 0).any():
        return "not defined: the net flows are never positive, so the project never pays back"
    if first > 0:
        return (
            "not defined: gains exceed costs from the first year,"
            " so there is no investment to earn a return on"
        )
    if not np.isnan(irr(flows)):
        return None
    if _poly(flows, X_GRID[0]) >= 0.0:
        return "not defined within the range searched: the rate is above 99,900 %"
    if changes == 1:
        return "not defined within the range searched: the rate is below -99 %"
    return (
        "not found: the net flows change sign more than once and no rate between"
        " -99 % and 99,900 % was found on the search grid"
    )
