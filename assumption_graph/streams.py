"""Counter-based random streams: one uniform number per (stream, sample, sub).

Monte Carlo results must not depend on threads, chunk sizes or machines, so no
sampler keeps a random state. Instead every random number is a pure function of
three unsigned 64-bit counters:

- ``stream``: one input of one run, ``stream_key(seed, node_id)``;
- ``sample``: the sample's index in the run (0, 1, 2, ...);
- ``sub``: which number within the sample (0 for inverse-CDF models; rejection
  samplers such as PERT count 0, 1, 2, ...).

The three are combined with Weyl-sequence increments and scrambled by the
splitmix64 finaliser (``mix64``), so sample 17 of an input is the same number
whether it is drawn first, last, alone or in a chunk on another thread.

The scalar functions (``mix64``, ``uniform``) are plain numba-compatible Python
that the numba backend compiles (``numba.njit(uniform)``) and calls inside the
kernel; ``jit_linked`` compiles functions that call each other. ``mix64_array``
and ``uniform_array`` are their numpy twins and give the same bits. In plain
Python the scalar functions work too, but numpy warns about the (intended)
wrap-around of uint64 scalar arithmetic; call them under
``np.errstate(over="ignore")``.
"""

from __future__ import annotations

import hashlib
import operator
import types
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "Counter",
    "GAMMA",
    "GAMMA_SUB",
    "MIX_M1",
    "MIX_M2",
    "SCALARS",
    "mix64",
    "uniform",
    "mix64_array",
    "uniform_array",
    "node_key",
    "seed_key",
    "stream_key",
    "jit_linked",
]

#: Weyl increment between samples (2**64 / golden ratio, odd).
GAMMA = np.uint64(0x9E3779B97F4A7C15)
#: Weyl increment between the numbers of one sample (an unrelated odd constant).
GAMMA_SUB = np.uint64(0xD1B54A32D192ED03)
#: splitmix64 finaliser multipliers (Steele, Lea and Flood 2014).
MIX_M1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_M2 = np.uint64(0x94D049BB133111EB)

#: A counter argument of the scalar functions: a uint64 (or a Python int in range).
Counter = int | np.uint64

_MASK = (1 << 64) - 1
# Every literal in jitted code must be uint64: numba types uint64 (op) int64 as float64.
_ONE = np.uint64(1)
_S12 = np.uint64(12)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
# 52 random bits: k + 0.5 is exact for k < 2**52, so u lies in [2**-53, 1 - 2**-53].
_SCALE = 2.0**-52


def mix64(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser: a bijective scramble of a 64-bit word.

    Numba-compatible; ``z`` must be a uint64.
    """
    z = z ^ (z >> _S30)
    z = z * MIX_M1
    z = z ^ (z >> _S27)
    z = z * MIX_M2
    return z ^ (z >> _S31)


def uniform(stream: Counter, sample: Counter, sub: Counter) -> float:
    """The uniform number ``sub`` of ``sample`` in ``stream``, strictly inside (0, 1).

    ``z = mix64(stream + (sample + 1)·GAMMA + sub·GAMMA_SUB)`` (wrapping uint64);
    the top 52 bits of ``z`` give ``u = (z >> 12 + 0.5)·2**-52``, so neither 0 nor 1
    can occur and ``log(u)`` and inverse CDFs stay finite. Numba-compatible on
    its own: ``numba.njit(uniform)`` needs nothing else compiled, because the
    ``mix64`` finaliser is written out inline (a test checks they agree).
    """
    z = np.uint64(stream) + (np.uint64(sample) + _ONE) * GAMMA + np.uint64(sub) * GAMMA_SUB
    z = z ^ (z >> _S30)
    z = z * MIX_M1
    z = z ^ (z >> _S27)
    z = z * MIX_M2
    z = z ^ (z >> _S31)
    return (float(z >> _S12) + 0.5) * _SCALE


#: The scalar functions of this module in dependency order, for ``jit_linked``.
SCALARS: tuple[Callable, ...] = (mix64, uniform)


def mix64_array(z: np.ndarray) -> np.ndarray:
    """numpy twin of ``mix64``: scramble every element of a uint64 array (a new array)."""
    z = np.array(z, dtype=np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> _S30
        z *= MIX_M1
        z ^= z >> _S27
        z *= MIX_M2
        z ^= z >> _S31
    return z


def uniform_array(
    stream: int, samples: np.ndarray, sub: np.ndarray | int | np.integer
) -> np.ndarray:
    """numpy twin of ``uniform``: one number per sample, bit-identical to the scalar.

    ``sub`` is one number for all samples or an array matching ``samples``.

    >>> u = uniform_array(stream_key(0, "hours"), np.arange(4), 0)
    >>> bool(((0.0 < u) & (u < 1.0)).all())
    True
    """
    samples = np.asarray(samples, dtype=np.uint64)
    subs = np.asarray(sub, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = samples + _ONE
        z *= GAMMA
        z += np.uint64(stream)
        z = z + np.multiply(subs, GAMMA_SUB, dtype=np.uint64)
        z = mix64_array(z)
    return ((z >> _S12).astype(np.float64) + 0.5) * _SCALE


def _mix64_int(z: int) -> int:
    """``mix64`` on a Python int in [0, 2**64), in exact integer arithmetic."""
    z ^= z >> 30
    z = (z * int(MIX_M1)) & _MASK
    z ^= z >> 27
    z = (z * int(MIX_M2)) & _MASK
    return z ^ (z >> 31)


def node_key(node_id: str) -> int:
    """A stable 64-bit key of a node id (blake2b, 8 bytes, little-endian).

    Stable across processes and Python versions, unlike ``hash()``.

    >>> node_key("hours") == node_key("hours") != node_key("rate")
    True
    """
    digest = hashlib.blake2b(node_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def seed_key(seed: int) -> int:
    """Scramble any Python int seed into a 64-bit key in [0, 2**64).

    The seed is read modulo 2**64 (so ``-1`` and ``2**64 - 1`` are the same seed,
    as in two's complement); every further 64-bit limb of a larger seed is folded
    in, so ``2**64`` and ``0`` differ. The result is ``mix64`` of that word.

    >>> seed_key(1) == seed_key(1) != seed_key(2)
    True
    """
    value = operator.index(seed)
    key = value & _MASK
    value >>= 64
    while value not in (0, -1):
        key = _mix64_int(((key + int(GAMMA)) & _MASK) ^ (value & _MASK))
        value >>= 64
    return _mix64_int(key)


def stream_key(seed: int, node_id: str) -> int:
    """The stream of one input (``node_id``) in a run with ``seed``, in [0, 2**64).

    >>> stream_key(0, "hours") == stream_key(0, "hours") != stream_key(1, "hours")
    True
    """
    return _mix64_int(seed_key(seed) ^ node_key(node_id))


def jit_linked(functions: Sequence[Callable], jit: Callable) -> dict[str, Callable]:
    """Compile plain functions with ``jit`` (e.g. ``numba.njit``), calls between them linked.

    A jitted function cannot call a plain Python function, so ``numba.njit(uniform)``
    alone fails on its call to ``mix64``. This compiles ``functions`` in the order
    given (dependencies first); each is a copy whose globals refer to the compiled
    versions of the functions before it. Returns ``{name: compiled}``. The
    originals are untouched and stay plain Python.
    """
    compiled: dict[int, tuple[Callable, Callable]] = {}  # id(original) -> (original, jitted)
    result: dict[str, Callable] = {}
    for fn in functions:
        namespace = dict(fn.__globals__)
        for name in fn.__code__.co_names:
            entry = compiled.get(id(namespace.get(name)))
            if entry is not None and entry[0] is namespace[name]:
                namespace[name] = entry[1]
        linked = types.FunctionType(
            fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__
        )
        linked.__qualname__ = fn.__qualname__
        linked.__module__ = fn.__module__
        linked.__doc__ = fn.__doc__
        jitted = jit(linked)
        compiled[id(fn)] = (fn, jitted)
        result[fn.__name__] = jitted
    return result
