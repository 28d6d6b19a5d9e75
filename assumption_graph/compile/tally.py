"""A summary's passes over an output's samples, as plain functions the kernel's compiler takes.

A summary needs the samples' mean and standard deviation exactly as numpy has
them, and a few hundred of their order statistics (percentiles, the quantile
sketch, the standard errors' neighbours). numpy sorts a million samples in
about 13 ms; numpy's sum and these passes give the same numbers in a few:

- :func:`squares_sum` adds the squared deviations from the mean as numpy's
  ``add.reduce`` does over a contiguous array of them (its pairwise
  summation: blocks of at most 128 with eight running sums, halves rounded
  down to a multiple of eight), so the std is numpy's to the bit without an
  array of squares; in the same pass it counts the samples in each bin of a
  monotone map of their values (:func:`bin_of`); the bins' counts locate
  every order statistic in a bin, and :func:`gather` then copies out only the
  samples of the bins that hold one, which a sort of that small remainder
  puts in order (bin by bin, as the map is monotone);
- :func:`keys_with_index` writes each sample's key (its bits in IEEE 754's
  total order) with its index in the lowest bits, and :func:`ranks_from_keys`
  gives each sample its average rank once numpy has sorted those keys (a
  sort of numbers is several times as fast as numpy's argsort).

:mod:`.numba_backend` compiles them (:func:`~.numba_backend.compile_tally`)
and :mod:`.kernel` caches and loads them like the kernel's pieces. They stay
plain Python here, without numba, like :mod:`..finance`'s scalars.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

__all__ = [
    "FUNCTIONS",
    "BINS",
    "MOMENTS",
    "GATHER",
    "KEYS",
    "RANKS",
    "LONGEST_GROUP",
    "Tally",
    "DEPTH",
    "squares_sum",
    "bin_of",
    "first_ranks",
    "gather",
    "keys_with_index",
    "ranks_from_keys",
]


class Tally(IntEnum):
    """Where each integer a pass needs is in its ``sizes`` argument."""

    N = 0  # samples
    N_COUNTS = 1  # the counts' (or the next places') size
    N_OUT = 2  # the out array's size
    MODE = 3  # MOMENTS, GATHER, KEYS or RANKS


# The compiled entry's passes. MOMENTS: out[0] = the sum of the squared deviations
# from params[2] (the mean), counts = each bin's first rank (the samples in the bins
# before it; the last place, never a bin, gets them all). GATHER: the wanted bins'
# samples into out (and its spare last place), counts holding a byte for each bin, 1
# where it is wanted. KEYS: each sample's key with its index in its lowest params[2]
# bits into counts, and out[0] 1 where every sample is finite, else 0. RANKS: each
# sample's average rank less params[3] into out, from those keys sorted in counts.
MOMENTS, GATHER, KEYS, RANKS = 0, 1, 2, 3

BINS = 1 << 15  # bins between the two tails: a counts array stays in the L2 cache
_TOP = float(BINS + 1)  # the upper tail's bin
_BLOCK = 128  # numpy's PW_BLOCKSIZE


DEPTH = 64  # levels of the summation's halving a stack holds: any n below 2**63


def squares_sum(
    x: np.ndarray,
    n: int,
    mean: float,
    low: float,
    scale: float,
    counts: np.ndarray,
    stack: np.ndarray,
    partial: np.ndarray,
) -> float:
    """numpy's ``add.reduce`` of the squares ``(x[:n] - mean)**2``, to the bit: its pairwise
    summation, whose recursion this follows with a stack (compiled recursion cannot
    be cached as object code). ``stack`` holds ``3·DEPTH`` integers (each level's
    right half and whether its left one is done), ``partial`` ``DEPTH`` floats (each
    level's left sum). Each sample is also counted into ``counts`` by :func:`bin_of`
    (none where ``counts`` is empty).
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
        value = _block_sum(x, start, size, mean, low, scale, counts)
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


def first_ranks(counts: np.ndarray) -> None:
    """Each bin's count replaced by the number of samples in the bins before it: the
    rank of its first sample, where the samples are in order."""
    total = 0
    for b in range(counts.size):
        count = counts[b]
        counts[b] = total
        total += count


def bin_of(value: float, low: float, scale: float) -> np.uint64:
    """The bin of ``value``: 0 below ``low``, then ``BINS`` bins ``1/scale`` wide, then the
    upper tail. Each step rounds monotonically, so a larger value never has a lower bin.
    Unsigned: an index the compiler need not check for wrapping round from the end."""
    return np.uint64(int(min(max((value - low) * scale + 1.0, 0.0), _TOP)))


def _square(value: float, mean: float) -> float:
    d = value - mean
    return d * d


def _block_sum(
    x: np.ndarray, lo: int, n: int, mean: float, low: float, scale: float, counts: np.ndarray
) -> float:
    """numpy's sum of a block of at most 128 squares: eight running sums, then the rest.

    The block is read through a view from its start: its indices cannot be negative,
    so the compiler does not check each for wrapping round from the end."""
    block = x[lo : lo + n]
    if counts.size:
        for i in range(n):
            counts[bin_of(block[i], low, scale)] += 1
    if n < 8:
        total = 0.0
        for i in range(n):
            total += _square(block[i], mean)
        return total
    r0, r1 = _square(block[0], mean), _square(block[1], mean)
    r2, r3 = _square(block[2], mean), _square(block[3], mean)
    r4, r5 = _square(block[4], mean), _square(block[5], mean)
    r6, r7 = _square(block[6], mean), _square(block[7], mean)
    whole = n - n % 8
    for i in range(8, whole, 8):
        r0 += _square(block[i], mean)
        r1 += _square(block[i + 1], mean)
        r2 += _square(block[i + 2], mean)
        r3 += _square(block[i + 3], mean)
        r4 += _square(block[i + 4], mean)
        r5 += _square(block[i + 5], mean)
        r6 += _square(block[i + 6], mean)
        r7 += _square(block[i + 7], mean)
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(whole, n):
        total += _square(block[i], mean)
    return total


def gather(x: np.ndarray, low: float, scale: float, wanted: np.ndarray, out: np.ndarray) -> None:
    """Copy each sample whose bin is wanted (``wanted[bin]`` is 1, else 0) into ``out``, in
    the samples' order.

    Each sample is written to the next place, which moves on only past a wanted one:
    ``out`` has one place more, which the unwanted samples after the last wanted one
    are written to. A store either way, and a table of bytes that stays in the L1
    cache, cost less than a branch mispredicted at random samples, or a table of
    each bin's next place.
    """
    k = np.uint64(0)  # unsigned, as the bins: no index is checked for wrapping round
    for i in range(x.size):
        value = x[i]
        out[k] = value
        k += np.uint64(wanted[bin_of(value, low, scale)])


_SIGN = -(2**63)  # the sign bit, as an int64
_EXPONENT = 0x7FF0000000000000  # a float's exponent bits, all set in an infinity or a NaN


def keys_with_index(bits: np.ndarray, shift: int, keys: np.ndarray) -> bool:
    """Each sample's order key, its lowest ``shift`` bits replaced by its index, into
    ``keys``, from the samples' ``bits``: the sign bit set for a positive value and
    every bit flipped for a negative one, so that the keys, read as unsigned integers,
    are in the values' order; -0.0 has the key of the 0.0 it equals. Whether every
    sample is finite (else the keys are not to be used)."""
    index_bits = (1 << shift) - 1
    finite = True
    for i in range(bits.size):
        b = bits[i]
        finite &= (b & _EXPONENT) != _EXPONENT
        if b == _SIGN:  # -0.0
            b = 0
        key = ~b if b < 0 else b ^ _SIGN
        keys[i] = (key & ~index_bits) | i
    return finite


LONGEST_GROUP = 64  # samples sharing their keys' high bits that a rank pass puts in order


def ranks_from_keys(
    x: np.ndarray, keys: np.ndarray, shift: int, ranks: np.ndarray, centre: float
) -> None:
    """Each sample's rank (1 to n) less ``centre`` into ``ranks``, ties sharing the
    average of their ranks.

    ``keys`` hold, sorted, each sample's order key (its bits in IEEE 754's total
    order) with the lowest ``shift`` bits replaced by its index, as int64. Samples
    whose keys agree above those bits are put in order by value here, ties
    found among them; ``ranks[0]`` is NaN where more than ``LONGEST_GROUP`` agree
    and differ (the caller then ranks by another way).
    """
    n = x.size
    index_bits = (1 << shift) - 1
    p = 0
    while p < n:
        high = keys[p] >> shift
        q = p + 1
        while q < n and keys[q] >> shift == high:
            q += 1
        if q - p == 1:  # most samples: a key of its own, no other value to look at
            ranks[keys[p] & index_bits] = p + 1.0 - centre
            p = q
            continue
        for r in range(p + 1, q):  # insertion sort by value; ties keep their order
            moving = keys[r]
            value = x[moving & index_bits]
            t = r - 1
            while t >= p and x[keys[t] & index_bits] > value:
                if r - p > LONGEST_GROUP:
                    ranks[0] = math.nan
                    return
                keys[t + 1] = keys[t]
                t -= 1
            keys[t + 1] = moving
        r = p
        while r < q:  # runs of equal values share the average of their ranks
            end = r + 1
            value = x[keys[r] & index_bits]
            while end < q and x[keys[end] & index_bits] == value:
                end += 1
            rank = (r + 1 + end) * 0.5 - centre
            for t in range(r, end):
                ranks[keys[t] & index_bits] = rank
            r = end
        p = q


# In dependency order, for ``streams.jit_linked``.
FUNCTIONS = (
    bin_of,
    _square,
    _block_sum,
    squares_sum,
    first_ranks,
    gather,
    keys_with_index,
    ranks_from_keys,
)
