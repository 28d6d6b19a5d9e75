"""The HDR 2.0 generator: the SIPmath standard's counter-based uniform random numbers.

Hubbard's generator (Hubbard, "A Multi-Dimensional, Counter-Based Pseudo Random
Number Generator as a Standard for Monte Carlo Simulations", WSC 2019) maps
five whole numbers (the trial counter ``PM_Index``, counted from 1, the
variable id, the entity id and two optional seeds) to a uniform number in
(0, 1) by modular arithmetic alone, so a spreadsheet cell, a SIPmath reader
and this package give the same trials. Computed here in exact integers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hdr_uniforms", "HDR_MAX_SEED"]

#: The largest seed (variable or entity id) the standard reserves: 8 decimal digits.
HDR_MAX_SEED = 99_999_999

_T1 = (2499997, 1800451, 2000371, 1796777, 2299603)  # weights of (index, var, entity, s3, s4)
_T2 = (2246527, 2399993, 2100869, 1918303, 1624729)
_BIG = 999_999_999_999_989  # 10**15 - 11
_TWO_32 = 1 << 32


def _term(
    seeds: np.ndarray, weights: tuple[int, ...], a: int, b: int, c: int, d: int, e: int
) -> np.ndarray:
    """``mod(mod(10¹⁵ - 11, mod(seeds·weights, a)·b + c)·d, e)`` for each row of seeds."""
    mixed = seeds @ np.asarray(weights, dtype=np.int64)
    return (_BIG % ((mixed % a) * b + c)) * d % e


def hdr_uniforms(
    count: int, var_id: int, entity: int = 0, seed3: int = 0, seed4: int = 0, start: int = 0
) -> np.ndarray:
    """HDR 2.0 uniforms for ``PM_Index`` = ``start + 1 .. start + count``.

    ``(mod((A·7440893 + B)·1343, 2³²) + 0.5) / 2³²`` with ``A`` and ``B`` the
    standard's two modular terms of ``(PM_Index, var_id, entity, seed3, seed4)``.
    Every intermediate stays below 2⁶³, so int64 arithmetic is exact.

    >>> hdr_uniforms(2, var_id=1).shape
    (2,)
    """
    index = np.arange(start + 1, start + count + 1, dtype=np.int64)
    seeds = np.empty((count, 5), dtype=np.int64)
    seeds[:, 0] = index
    seeds[:, 1:] = (var_id, entity, seed3, seed4)
    first = _term(seeds, _T1, 7450589, 4658, 7450581, 383, 99991)
    second = _term(seeds, _T2, 7450987, 7580, 7560584, 17669, 7440893)
    return (((first * 7440893 + second) * 1343) % _TWO_32 + 0.5) / _TWO_32
