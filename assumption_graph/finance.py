"""Discounting and the internal rate of return, per sample and for a whole array.

:func:`irr_search` (behind :func:`irr` and :func:`irr_count`) is a plain scalar
function; :func:`irr_columns`, the same search for a block of samples (their
usual case solved for all of them at once), is what numba compiles into the
kernel (:data:`SCALARS`, linked with :func:`~assumption_graph.streams.jit_linked`);
:func:`irr_array` and :func:`irr_count_array` are their numpy twins for the
reference interpreter, with the same operations in the same order, so all give
the same numbers.

The IRR is a rate ``r`` with ``sum(f_t / (1 + r)**t) = 0``. Written in
``x = 1 / (1 + r)`` the net present value is the polynomial ``P(x) = sum f_t x**t``,
searched for rates from 99,900 % down to -99 %, both ends included (an NPV
that is zero within the rounding of its evaluation at an end makes that end the
rate). When the flows change sign once (costs first, gains after) there is exactly
one such rate (Descartes' rule of signs), and bisecting the whole range finds it
to machine precision. When they change sign more than once there may be
several: a fixed geometric grid of 400 points is scanned from high rates to low,
and every sign change on it is a rate, bisected (two rates closer together than
the grid's step of about 3 % in ``1 + r`` can be missed). The rate reported is
the one nearest the discount rate: the smallest ``|irr - discount_rate|``, a tie
going to the lower rate; :func:`irr_count` says how many there are. The IRR is
not defined (NaN) when the flows never turn positive, when the first non-zero
flow is a gain (there is no investment to earn a return on), or when no rate in
the range solves it; :func:`irr_note` says which.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "discount_factors",
    "irr",
    "irr_count",
    "irr_array",
    "irr_columns",
    "irr_scratch",
    "irr_count_array",
    "irr_roots",
    "irr_search",
    "irr_note",
    "SCALARS",
    "X_GRID",
]

_GRID_POINTS = 400
X_GRID = 1e-3 * (1e5 ** (np.arange(_GRID_POINTS) / (_GRID_POINTS - 1)))  # x = 1/(1+r)
X_ENDS = X_GRID[[0, -1]]  # the whole range: enough when the flows change sign once
_BISECTIONS = 64
_EPS = float(np.finfo(np.float64).eps)


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


def _slack(flows: np.ndarray, x: float) -> float:
    """A bound on the rounding error of ``_poly(flows, x)``: ``2·n·eps·sum(|f_t|·x**t)``."""
    s = 0.0
    for t in range(flows.shape[0] - 1, -1, -1):
        s = s * x + abs(flows[t])
    return 2.0 * flows.shape[0] * _EPS * s


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


def irr_search(flows: np.ndarray, rate: float, nearest: bool) -> tuple[float, int]:
    """The rate nearest ``rate`` (NaN without one; only with ``nearest``) and how many
    rates there are in the range (see the module's doc).

    ``P`` is "negative" at a grid point where it is below zero, at the top end also
    where it is zero within rounding, at the bottom end only where it is below
    minus its rounding (an overflow to infinity is never within rounding); a rate
    lies between two grid points where that changes.
    """
    first, changes = _signs(flows)
    if not (first < 0.0 and changes > 0):
        return np.nan, 0
    grid = X_ENDS if changes == 1 else X_GRID
    last = grid.shape[0] - 1
    lo = grid[0]
    p = _poly(flows, lo)
    top = p >= 0.0 and p < _slack(flows, lo)
    negative = p < 0.0 or top
    best = np.nan
    count = 0
    for k in range(1, last + 1):
        hi = grid[k]
        q = _poly(flows, hi)
        bottom = k == last and q <= 0.0 and -q < _slack(flows, hi)
        below = q < 0.0 and not bottom
        if below != negative:
            count += 1
            if nearest:
                if k == 1 and top:
                    root = 1.0 / lo - 1.0
                elif bottom:
                    root = 1.0 / hi - 1.0
                else:
                    a, b = lo, hi
                    for _ in range(_BISECTIONS):
                        mid = 0.5 * (a + b)
                        if (_poly(flows, mid) < 0.0) == negative:
                            a = mid
                        else:
                            b = mid
                    root = 1.0 / (0.5 * (a + b)) - 1.0
                if count == 1 or abs(root - rate) <= abs(best - rate):
                    best = root
        negative = below
        lo = hi
    return best, count


def irr(flows: np.ndarray, rate: float) -> float:
    """The internal rate of return of yearly net ``flows`` nearest the discount ``rate``
    (NaN when not defined)."""
    return irr_search(flows, rate, True)[0]


def irr_count(flows: np.ndarray) -> float:
    """How many internal rates of return the yearly net ``flows`` have in the range searched."""
    return float(irr_search(flows, 0.0, False)[1])


def irr_scratch(years: int, columns: int) -> int:
    """How many values :func:`irr_columns`'s scratch holds for ``years`` rows of ``columns``."""
    return (years + 8) * columns + years


def irr_columns(
    flows: np.ndarray, m: int, rate: float, nearest: bool, out: np.ndarray, scratch: np.ndarray
) -> None:
    """:func:`irr_search` for the first ``m`` columns of ``flows`` (one row per year):
    ``out[i]`` is column ``i``'s rate nearest ``rate`` with ``nearest``, else how many
    rates it has; the same bits. The kernel's IRR; ``scratch`` holds
    :func:`irr_scratch` values.

    Where a column's flows change sign once, costs first, and its NPV is below zero
    at the top of the range and above zero at the bottom, :func:`irr_search` bisects
    the whole range (there is one rate, away from both ends). That bisection is done
    here for every column at once, step for step the scalar search's operations, but
    each step a loop over the columns, which the compiler vectorises, where the
    scalar search waits for each of Horner's steps before the next. It stops where no
    bracket changed, as none would again. The other columns are searched one by one.
    """
    n = flows.shape[0]
    low, high, mid = scratch[:m], scratch[m : 2 * m], scratch[2 * m : 3 * m]
    new_low, new_high = scratch[3 * m : 4 * m], scratch[4 * m : 5 * m]
    top, bottom, signs = scratch[5 * m : 6 * m], scratch[6 * m : 7 * m], scratch[7 * m : 8 * m]
    years, backwards = scratch[8 * m : 8 * m + n], scratch[-n * m :]
    for t in range(n):  # the flows from the last year back, in rows of m, as Horner reads them
        flow, row = flows[t], backwards[(n - 1 - t) * m : (n - t) * m]
        for i in range(m):
            row[i] = flow[i]
    for i in range(m):
        low[i] = X_ENDS[0]
        high[i] = X_ENDS[1]
        mid[i] = 0.5 * (low[i] + high[i])
        top[i] = 0.0
        bottom[i] = 0.0
        signs[i] = 0.0
    # Which columns those are. Read from the last year back, as Horner's rule reads
    # them, ``signs`` is 0 before any non-zero flow, 1 among the gains, 2 among the
    # costs before them, 3 otherwise. A NaN flow makes the NPV NaN.
    for k in range(n):
        row = backwards[k * m : (k + 1) * m]
        for i in range(m):  # the same operations as _poly at each end
            flow, state = row[i], signs[i]  # read first: a select of loads is masked
            top[i] = top[i] * X_ENDS[0] + flow
            bottom[i] = bottom[i] * X_ENDS[1] + flow
            gain = 1.0 if state <= 1.0 else 3.0
            cost = 2.0 if (state == 1.0) | (state == 2.0) else 3.0
            signs[i] = gain if flow > 0.0 else (cost if flow < 0.0 else state)
    for _ in range(_BISECTIONS if nearest else 0):
        _npv_at(backwards, m, mid, out)
        if _halve(m, low, high, mid, out, new_low, new_high) == 0:
            break
        low, high, new_low, new_high = new_low, new_high, low, high
    for i in range(m):
        if signs[i] == 2.0 and top[i] < 0.0 and bottom[i] > 0.0:
            out[i] = 1.0 / mid[i] - 1.0 if nearest else 1.0  # mid: the last bracket's
        else:
            for t in range(n):
                years[t] = flows[t, i]
            root, count = irr_search(years, rate, nearest)
            out[i] = root if nearest else count


def _npv_at(backwards: np.ndarray, m: int, x: np.ndarray, npv: np.ndarray) -> None:
    """Every column's NPV at its ``x``, as :func:`_poly` computes it, from ``backwards``:
    the flows from the last year back in rows of ``m``, so that the rows are read at
    rising addresses (read down a falling range, the compiler vectorises no loop)."""
    n = backwards.shape[0] // m
    for i in range(m):
        npv[i] = 0.0
    for k in range(n % 4):
        row = backwards[k * m : (k + 1) * m]
        for i in range(m):
            npv[i] = npv[i] * x[i] + row[i]
    for k in range(n % 4, n, 4):  # four years a pass: the NPV so far stays in a register
        r0, r1 = backwards[k * m : (k + 1) * m], backwards[(k + 1) * m : (k + 2) * m]
        r2, r3 = backwards[(k + 2) * m : (k + 3) * m], backwards[(k + 3) * m : (k + 4) * m]
        for i in range(m):
            at = x[i]
            npv[i] = (((npv[i] * at + r0[i]) * at + r1[i]) * at + r2[i]) * at + r3[i]


def _halve(
    m: int,
    low: np.ndarray,
    high: np.ndarray,
    mid: np.ndarray,
    npv: np.ndarray,
    new_low: np.ndarray,
    new_high: np.ndarray,
) -> int:
    """The brackets halved at their ``mid`` into ``new_low, new_high`` (the rate lies
    above ``mid`` where the NPV there is below zero), and ``mid`` the new brackets'
    mids; how many brackets changed. A function of its own so that the compiler sees
    the arrays apart and vectorises the loop: every value is read first (a select of
    loads would load under a mask) and the brackets written to the other pair of
    rows (written over themselves, they would be stored under a mask), both slow."""
    changed = 0
    for i in range(m):
        a, b, c = low[i], mid[i], high[i]
        negative = npv[i] < 0.0  # the NPV is negative at the top of the range
        new_a = b if negative else a
        new_c = c if negative else b
        new_low[i] = new_a
        new_high[i] = new_c
        mid[i] = 0.5 * (new_a + new_c)
        changed += (new_a != a) | (new_c != c)
    return changed


# the kernel calls irr_columns
SCALARS = (_poly, _slack, _signs, irr_search, irr, irr_count, _npv_at, _halve, irr_columns)


def _poly_array(flows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """numpy twin of ``_poly``; like it, overflows quietly to ±inf at large ``x``."""
    p = np.zeros(np.broadcast_shapes(flows.shape[1:], np.shape(x)))
    with np.errstate(over="ignore"):
        for t in range(flows.shape[0] - 1, -1, -1):
            p = p * x + flows[t]
    return p


def _slack_array(flows: np.ndarray, x: float) -> np.ndarray:
    """numpy twin of ``_slack`` for flows with one column per sample (an overflow to
    inf is quiet, as in the scalar: no rounding bound at all)."""
    s = np.zeros(flows.shape[1:])
    with np.errstate(over="ignore"):
        for t in range(flows.shape[0] - 1, -1, -1):
            s = s * x + np.abs(flows[t])
    return 2.0 * flows.shape[0] * _EPS * s


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


def _roots_array(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """numpy twin of ``irr_search``: every rate of every column, as (column, rate) pairs,
    ordered by column and then from the highest rate to the lowest."""
    first, changes = _signs_array(flows)
    defined = (first < 0.0) & (changes > 0)
    columns, roots = [], []
    for grid, chosen in ((X_ENDS, defined & (changes == 1)), (X_GRID, defined & (changes > 1))):
        cols = np.flatnonzero(chosen)
        if cols.size:
            if grid is X_ENDS and cols.size <= _FEW:
                col, root = _single_roots(flows[:, cols])
            else:
                col, root = _grid_roots(flows[:, cols], grid)
            columns.append(cols[col])
            roots.append(root)
    if not columns:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    column, root = np.concatenate(columns), np.concatenate(roots)
    order = np.argsort(column, kind="stable")
    return column[order], root[order]


_FEW = 8  # columns up to which the scalar search is quicker than numpy's calls on so few


def _single_roots(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_grid_roots` over :data:`X_ENDS` for a few columns whose flows change sign
    once (one rate at most), by the scalar search: the same bits (the tests hold the
    two to that), without the cost of numpy's 64 rounds of calls on one or two numbers
    (a business case's expected, best and worst figures ask for a handful)."""
    with np.errstate(over="ignore"):  # as _poly_array: the sums may overflow to inf
        found = [irr_search(flows[:, c], 0.0, True) for c in range(flows.shape[1])]
    column = np.array([c for c, (_, count) in enumerate(found) if count], dtype=np.intp)
    return column, np.array([found[c][0] for c in column], dtype=np.float64)


def _grid_roots(flows: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rates between the ``grid``'s points for each column of ``flows``, bisected
    together; as (column, rate) pairs in ``irr_search``'s order."""
    at_grid = _poly_array(flows[:, None, :], grid[:, None])  # grid point x column
    top = (at_grid[0] >= 0.0) & (at_grid[0] < _slack_array(flows, grid[0]))
    bottom = (at_grid[-1] <= 0.0) & (-at_grid[-1] < _slack_array(flows, grid[-1]))
    negative = at_grid < 0.0
    negative[0] |= top
    negative[-1] &= ~bottom
    column, k = np.nonzero((negative[1:] != negative[:-1]).T)
    k += 1  # the bracket from grid[k - 1] to grid[k]
    lo, hi = grid[k - 1], grid[k]
    side = negative[k - 1, column]
    a, b = lo.copy(), hi.copy()
    pairs = flows[:, column]
    for _ in range(_BISECTIONS):
        mid = 0.5 * (a + b)
        keep = (_poly_array(pairs, mid) < 0.0) == side
        a = np.where(keep, mid, a)
        b = np.where(keep, b, mid)
    root = 1.0 / (0.5 * (a + b)) - 1.0
    last = grid.shape[0] - 1
    root = np.where(bottom[column] & (k == last), 1.0 / hi - 1.0, root)
    root = np.where(top[column] & (k == 1), 1.0 / lo - 1.0, root)
    return column, root


def irr_array(flows: np.ndarray, rate: float) -> np.ndarray:
    """numpy twin of :func:`irr`: ``flows`` has one row per year, one column per sample."""
    flows = np.asarray(flows, dtype=np.float64)
    column, root = _roots_array(flows)
    result = np.full(flows.shape[1], np.nan)
    if column.size:
        distance = np.abs(root - rate)
        position = np.arange(column.size)
        order = np.lexsort((-position, distance, column))  # nearest, then the later (lower)
        chosen = order[np.unique(column[order], return_index=True)[1]]
        result[column[chosen]] = root[chosen]
    return result


def irr_count_array(flows: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`irr_count`, one count per column of ``flows``."""
    flows = np.asarray(flows, dtype=np.float64)
    column, _ = _roots_array(flows)
    return np.bincount(column, minlength=flows.shape[1]).astype(np.float64)


def irr_roots(flows: np.ndarray) -> list[float]:
    """Every internal rate of return of ``flows`` found in the range, highest first.

    >>> [round(r, 12) for r in irr_roots(np.array([-100.0, 230.0, -132.0]))]
    [0.2, 0.1]
    """
    flows = np.asarray(flows, dtype=np.float64)
    return [float(r) for r in _roots_array(flows[:, None])[1]]


def irr_note(flows: np.ndarray) -> str | None:
    """Why the IRR of ``flows`` is not defined, or ``None`` when it is.

    >>> irr_note(np.array([-100.0, 60.0, 60.0])) is None
    True
    >>> irr_note(np.array([50.0, 60.0]))  # doctest: +ELLIPSIS
    'not defined: gains exceed costs from the first year, ...'
    """
    with np.errstate(over="ignore"):  # the scalar search's sums may overflow, as compiled
        return _irr_note(np.asarray(flows, dtype=np.float64))


def _irr_note(flows: np.ndarray) -> str | None:
    first, changes = _signs(flows)
    if not (flows > 0).any():
        return "not defined: the net flows are never positive, so the project never pays back"
    if first > 0:
        return (
            "not defined: gains exceed costs from the first year,"
            " so there is no investment to earn a return on"
        )
    if irr_count(flows):
        return None
    if _poly(flows, X_GRID[0]) >= 0.0:  # and not zero within rounding: above the top
        return "not defined within the range searched: the rate is above 99,900 %"
    if changes == 1:
        return "not defined within the range searched: the rate is below -99 %"
    return (
        "not found: the net flows change sign more than once and no rate between"
        " -99 % and 99,900 % was found on the search grid"
    )
