"""A summary's passes over an output's samples, as plain functions the kernel's compiler takes.

A summary needs the samples' mean and standard deviation exactly as numpy has
them, and a few hundred of their order statistics (percentiles, the quantile
sketch, the standard errors' neighbours). numpy sorts a million samples in
about 13 ms; these passes give the same numbers in a few:

- :func:`pairwise_sum` adds as numpy's ``add.reduce`` does over a contiguous
  array (its pairwise summation: blocks of at most 128 with eight running
  sums, halves rounded down to a multiple of eight), so the mean and the
  squares' sum are numpy's to the bit;
- the same function sums the squared deviations the same way and, in the
  same pass, counts the samples in each bin of a monotone map of their
  values (:func:`bin_of`); the bins' counts locate every order statistic in a
  bin, and :func:`gather` then copies out only the samples of the bins that
  hold one, which a sort of that small remainder puts in order.

:mod:`.numba_backend` compiles them (:func:`~.numba_backend.compile_tally`)
and :mod:`.kernel` caches and loads them like the kernel's pieces. They stay
plain Python here, without numba, like :mod:`..finance`'s scalars.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = [
    "FUNCTIONS",
    "BINS",
    "MOMENTS",
    "GATHER",
    "Tally",
    "DEPTH",
    "pairwise_sum",
    "bin_of",
    "gather",
]


class Tally(IntEnum):
    """Where each integer a pass needs is in its ``sizes`` argument."""

    N = 0  # samples
    N_COUNTS = 1  # the counts' (or the next places') size
    N_OUT = 2  # the out array's size
    MODE = 3  # MOMENTS or GATHER


# The compiled entry's two passes. MOMENTS: out[0] = the samples' sum; where it is
# finite, out[1] = the squared deviations' sum, and counts = the bins' counts.
# GATHER: the wanted bins' samples into out, counts being the next places.
MOMENTS, GATHER = 0, 1

BINS = 1 << 15  # bins between the two tails: a counts array stays in the L2 cache
_TOP = float(BINS + 1)  # the upper tail's bin
_BLOCK = 128  # numpy's PW_BLOCKSIZE


DEPTH = 64  # levels of the summation's halving a stack holds: any n below 2**63


def pairwise_sum(
    x: np.ndarray,
    n: int,
    squares_of: float,
    low: float,
    scale: float,
    counts: np.ndarray,
    stack: np.ndarray,
    partial: np.ndarray,
) -> float:
    """numpy's ``add.reduce`` of ``x[:n]`` (``squares_of`` NaN) or of the squares
    ``(x[:n] - squares_of)**2``, to the bit: its pairwise summation, whose recursion
    this follows with a stack (compiled recursion cannot be cached as object code).
    ``stack`` holds ``3·DEPTH`` integers (each level's right half and whether its
    left one is done), ``partial`` ``DEPTH`` floats (each level's left sum). With
    ``counts`` not empty each sample is also counted into its :func:`bin_of`.
    """
    depth = 0
    start = 0
    size = n
    while True:
        while size > _BLOCK:  # down the left halves, noting each right one
            half = size // 2
            half -= half % 8
            stack[3 * depth] = start + half
            stack[3 * depth + 1] = size - half
            stack[3 * depth + 2] = 0
            depth += 1
            size = half
        value = _block_sum(x, start, size, squares_of, low, scale, counts)
        while True:  # up, adding each finished right half to its left one
            if depth == 0:
                return value
            level = depth - 1
            if stack[3 * level + 2] == 0:  # the left half is done: now the right one
                partial[level] = value
                stack[3 * level + 2] = 1
                start = stack[3 * level]
                size = stack[3 * level + 1]
                break
            value = partial[level] + value
            depth = level


def bin_of(value: float, low: float, scale: float) -> int:
    """The bin of ``value``: 0 below ``low``, then ``BINS`` bins ``1/scale`` wide, then the
    upper tail. Each step rounds monotonically, so a larger value never has a lower bin."""
    return int(min(max((value - low) * scale + 1.0, 0.0), _TOP))


def _term(value: float, squares_of: float) -> float:
    """A summand: ``value``, or its squared deviation from ``squares_of`` unless that is NaN."""
    if squares_of != squares_of:
        return value
    d = value - squares_of
    return d * d


def _block_sum(
    x: np.ndarray,
    lo: int,
    n: int,
    squares_of: float,
    low: float,
    scale: float,
    counts: np.ndarray,
) -> float:
    """numpy's sum of a block of at most 128 terms: eight running sums, then the rest."""
    if counts.size:
        for i in range(lo, lo + n):
            counts[bin_of(x[i], low, scale)] += 1
    if n < 8:
        total = 0.0
        for i in range(lo, lo + n):
            total += _term(x[i], squares_of)
        return total
    r0, r1 = _term(x[lo], squares_of), _term(x[lo + 1], squares_of)
    r2, r3 = _term(x[lo + 2], squares_of), _term(x[lo + 3], squares_of)
    r4, r5 = _term(x[lo + 4], squares_of), _term(x[lo + 5], squares_of)
    r6, r7 = _term(x[lo + 6], squares_of), _term(x[lo + 7], squares_of)
    i = lo + 8
    whole = lo + n - n % 8
    while i < whole:
        r0 += _term(x[i], squares_of)
        r1 += _term(x[i + 1], squares_of)
        r2 += _term(x[i + 2], squares_of)
        r3 += _term(x[i + 3], squares_of)
        r4 += _term(x[i + 4], squares_of)
        r5 += _term(x[i + 5], squares_of)
        r6 += _term(x[i + 6], squares_of)
        r7 += _term(x[i + 7], squares_of)
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        total += _term(x[i], squares_of)
        i += 1
    return total


def gather(x: np.ndarray, low: float, scale: float, next_at: np.ndarray, out: np.ndarray) -> None:
    """Copy each sample whose bin has a place in ``out`` to that place: ``next_at[bin]`` is
    where the bin's next sample goes, -1 for a bin not wanted. Bins come out in order."""
    for i in range(x.size):
        b = bin_of(x[i], low, scale)
        at = next_at[b]
        if at >= 0:
            out[at] = x[i]
            next_at[b] = at + 1


# In dependency order, for ``streams.jit_linked``.
FUNCTIONS = (bin_of, _term, _block_sum, pairwise_sum, gather)
