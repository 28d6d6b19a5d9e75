"""The Gaussian copula's matrix from rank correlations, and whether it can hold.

A Gaussian copula with normal correlation ``2 sin(π ρ / 6)`` between two inputs
gives them the Spearman (rank) correlation ``ρ``; a set of correlations is
consistent where the matrix of those normal correlations is positive
semi-definite. ``check`` asks that of every file with correlations, so this
module does without numpy where it can: importing numpy takes longer than a
check of a small model. A group whose Cholesky factorisation runs through in
plain Python is settled there (see :func:`not_positive_semidefinite`); numpy's
eigenvalues decide the rest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

__all__ = [
    "normal_score_correlation",
    "normal_correlation_rows",
    "not_positive_semidefinite",
    "groups",
]

Pair = tuple[str, str, float]

# Groups up to this size are factorised in plain Python: at most 50·51 units of
# rounding (about 3e-13) below zero, far inside the tolerance, and a few ms.
_PLAIN_AT_MOST = 50


def normal_score_correlation(rho: float) -> float:
    """The normal scores' correlation that gives two inputs the rank correlation ``rho``.

    >>> normal_score_correlation(0.5), normal_score_correlation(0.0)
    (0.5176380902050415, 0.0)
    """
    return 2.0 * math.sin(math.pi * rho / 6.0)


def not_positive_semidefinite(pairs: Sequence[Pair], tolerance: float = 1e-10) -> list[Pair]:
    """The pairs of a group of correlated inputs that no joint distribution can have.

    Empty when the requested correlations are consistent: each group's matrix of
    normal correlations has no eigenvalue below ``-tolerance``. Otherwise the
    pairs among the inputs of each connected group whose matrix has one, so a
    message can name them.

    Where Cholesky's factorisation of a group's matrix runs through in floating
    point, the matrix is ``L Lᵀ`` (positive semi-definite) up to a backward error
    of at most ``m(m+1)`` units of rounding for ``m`` inputs (Higham, *Accuracy
    and Stability of Numerical Algorithms*, Theorem 10.3, with the unit
    diagonal bounding ``|L||Lᵀ|``): its least eigenvalue is above ``-tolerance``,
    so the group is consistent without numpy. Otherwise (a pivot that is not
    positive: an inconsistent group, or a singular one that rounding leaves
    without a positive pivot) numpy's eigenvalues decide, as they do for a group
    too large to factorise in Python.

    >>> not_positive_semidefinite([("a", "b", 0.9), ("b", "c", 0.9), ("a", "c", 0.7)])
    []
    """
    bad: list[Pair] = []
    for group in groups(pairs):
        ids = sorted({x for a, b, _ in group for x in (a, b)})
        matrix = normal_correlation_rows(ids, group)
        if len(ids) <= _PLAIN_AT_MOST and _cholesky_runs_through(matrix):
            continue
        import numpy as np  # here: only a group that plain Python does not settle needs it

        if np.linalg.eigvalsh(np.array(matrix))[0] < -tolerance:
            bad.extend(group)
    return bad


def normal_correlation_rows(ids: Sequence[str], pairs: Iterable[Pair]) -> list[list[float]]:
    """The normal-score correlation matrix over ``ids`` for the rank correlations ``pairs``,
    as rows; pairs not listed are uncorrelated.

    >>> normal_correlation_rows(["a", "b"], [("a", "b", 0.5)])
    [[1.0, 0.5176380902050415], [0.5176380902050415, 1.0]]
    """
    where = {node_id: k for k, node_id in enumerate(ids)}
    matrix = [[float(i == j) for j in range(len(ids))] for i in range(len(ids))]
    for a, b, rho in pairs:
        matrix[where[a]][where[b]] = matrix[where[b]][where[a]] = normal_score_correlation(rho)
    return matrix


def _cholesky_runs_through(matrix: list[list[float]]) -> bool:
    """Whether every pivot of the Cholesky factorisation of ``matrix`` is positive."""
    lower: list[list[float]] = []
    for i, row in enumerate(matrix):
        factor_row: list[float] = []
        for j in range(i):
            inner = sum(p * q for p, q in zip(factor_row, lower[j], strict=False))
            factor_row.append((row[j] - inner) / lower[j][j])
        pivot = row[i] - sum(p * p for p in factor_row)
        if not pivot > 0.0:
            return False
        lower.append([*factor_row, math.sqrt(pivot)])
    return True


def groups(pairs: Sequence[Pair]) -> list[list[Pair]]:
    """The pairs split into groups of inputs connected by a correlation, in order of
    each group's first pair (a union-find: no graph library for a few pairs).

    >>> groups([("a", "b", 0.5), ("x", "y", 0.2), ("b", "c", 0.3)])
    [[('a', 'b', 0.5), ('b', 'c', 0.3)], [('x', 'y', 0.2)]]
    """
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = x = parent[parent[x]]
        return x

    for a, b, _ in pairs:
        parent[root(a)] = root(b)
    grouped: dict[str, list[Pair]] = {}
    for pair in pairs:
        grouped.setdefault(root(pair[0]), []).append(pair)
    return list(grouped.values())
