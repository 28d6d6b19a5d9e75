"""Where a run's uniform numbers come from: plain Monte Carlo, Latin hypercube, Sobol points.

Every method gives each random input one uniform number per sample, in (0, 1),
and the input's inverse CDF turns it into a value. Each is a pure function of
(seed, sample index, input), or of the whole Sobol sequence up to that index,
so a run gives the same numbers however it is split into chunks or threads:

- ``mc``: the counter-based stream the kernel draws from itself
  (``streams.uniform(stream_key(seed, id), i, 0)``);
- ``lhs``: Latin hypercube. Input ``x`` of an ``n``-sample run puts sample ``i``
  in stratum ``perm_x(i)`` of ``n`` equal strata, at a uniform offset inside it:
  ``u = (perm_x(i) + v) / n``. ``perm_x`` is a keyed pseudo-random permutation of
  ``0 .. n-1`` (a Feistel network with cycle walking), so no ``n``-long table is
  kept and any chunk can be computed on its own;
- ``sobol``: scrambled Sobol points from :class:`scipy.stats.qmc.Sobol`, one
  dimension per input in the order of their ids. A dimension's point ``i`` is
  the XOR of its shift and the direction numbers of the bits set in ``i``'s Gray
  code (:func:`sobol_directions` reads them from scipy's engine, checked against
  its points), so the kernel makes any chunk's points itself, scipy's to the bit.

Correlated inputs use a Gaussian copula: the inputs' uniforms become normal
scores, are mixed by a matrix ``L`` with ``L Lᵀ = R`` and mapped back by the
normal CDF (in the kernel, which then applies each model's inverse CDF), where
``R`` holds the normal correlations ``2 sin(π ρ / 6)`` that give the requested
Spearman (rank) correlations ``ρ`` exactly for continuous inputs.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .copula_matrix import normal_correlation_rows
from .distributions import Distribution, ndtri_array
from .distributions.special import CDF_HIGH, CDF_LOW, normal_cdf_array
from .settings import METHODS, cache_root
from .streams import mix64_array, node_key, stream_key, uniform_array

__all__ = [
    "METHODS",
    "InputPlan",
    "InputSampler",
    "lhs_uniforms",
    "keyed_permutation",
    "feistel_half",
    "LHS_KEY",
    "ROUND_KEYS",
    "SOBOL_BITS",
    "SOBOL_POINTS",
    "sobol_directions",
    "normal_correlations",
    "copula_factor",
]

_TINY = CDF_LOW  # keeps Sobol points off 0 and 1, where inverse CDFs are infinite
_BELOW_ONE = CDF_HIGH  # the largest float below 1
ROUND_KEYS = tuple(np.uint64(0x9E3779B97F4A7C15 * (r + 1) % (1 << 64)) for r in range(4))
LHS_KEY = node_key("lhs")  # an input's permutation is keyed by its stream ^ LHS_KEY
SOBOL_BITS = 30  # scipy's Sobol points are whole numbers below 2**30, times 2**-30
SOBOL_POINTS = 1 << SOBOL_BITS  # the points of its sequence
SOBOL_CHECKED = 10  # the direction numbers checked against scipy's first 2**10 points


def feistel_half(n: int) -> int:
    """The bits of each half of :func:`keyed_permutation`'s Feistel network for ``n`` values."""
    return max(1, math.ceil(math.log2(max(n, 2)) / 2))


def keyed_permutation(key: int, n: int, index: np.ndarray) -> np.ndarray:
    """``perm(index)`` for a pseudo-random permutation of ``0 .. n-1`` chosen by ``key``.

    A balanced Feistel network on the smallest even number of bits covering
    ``n`` is a bijection of ``0 .. 2**bits - 1``; values that land outside
    ``0 .. n-1`` are sent through it again (cycle walking), which keeps it a
    bijection of ``0 .. n-1``. Vectorised over ``index``.

    >>> sorted(keyed_permutation(7, 10, np.arange(10)).tolist()) == list(range(10))
    True
    """
    half = feistel_half(n)
    mask = np.uint64((1 << half) - 1)
    shift = np.uint64(half)
    key64 = np.uint64(key % (1 << 64))
    x = np.asarray(index, dtype=np.uint64).copy()
    pending = np.ones(x.shape, dtype=bool)
    while pending.any():
        y = x[pending]
        left, right = y >> shift, y & mask
        for round_key in ROUND_KEYS:  # one round each
            mixed = mix64_array(right ^ key64 ^ round_key) & mask
            left, right = right, left ^ mixed
        y = (left << shift) | right
        x[pending] = y
        pending[pending] = y >= np.uint64(n)
    return x.astype(np.int64)


def lhs_uniforms(seed: int, node_id: str, n: int, samples: np.ndarray) -> np.ndarray:
    """Latin hypercube uniforms of one input for ``samples`` of an ``n``-sample run.

    Over samples ``0 .. n-1`` each of the ``n`` strata ``[k/n, (k+1)/n)`` holds
    exactly one value. The top stratum's largest offsets round to 1.0, where an
    inverse CDF is infinite, and are kept at the largest float below 1 (every other
    value is below it already; the smallest is at least ``2**-53 / n``, above 0).
    """
    stream = stream_key(seed, node_id)
    strata = keyed_permutation(stream ^ LHS_KEY, n, samples)
    return np.minimum((strata + uniform_array(stream, samples, 0)) / n, _BELOW_ONE)


def normal_correlations(ids: Sequence[str], pairs: Iterable[tuple[str, str, float]]) -> np.ndarray:
    """The normal-score correlation matrix over ``ids`` for rank correlations ``pairs``
    (:func:`~.copula_matrix.normal_correlation_rows`), as an array."""
    return np.array(normal_correlation_rows(ids, pairs)).reshape(len(ids), len(ids))


def copula_factor(matrix: np.ndarray) -> np.ndarray:
    """A matrix ``L`` with ``L Lᵀ = matrix`` for a positive semi-definite ``matrix``.

    Symmetric square root through the eigen-decomposition (negative rounding
    noise clipped to 0), so a singular matrix (a correlation of ±1) works too.
    """
    values, vectors = np.linalg.eigh(matrix)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


@dataclass(frozen=True)
class InputPlan:
    """How a run's inputs reach the kernel, besides those it draws from their own streams.

    The kernel's ``given`` matrix holds the ``uniforms`` of some inputs (row ``k``
    for ``uniforms[k]``), then the ``values`` of others. The kernel applies each
    model's inverse CDF (its draw op) to a given uniform; ``values`` are the inputs
    of a model whose inverse CDF only Python has (every registered model's is in
    the kernel now, PERT's included). The ``correlated`` inputs go
    through the Gaussian copula in the kernel: normal scores of their uniforms
    (given, or drawn from their streams under ``mc``), mixed by ``factor`` (``L``,
    row-major) and mapped back to uniforms by the normal CDF. The ``strata`` inputs'
    Latin hypercube uniforms (:func:`lhs_uniforms`, for a run of ``samples``) and
    the ``sobol`` inputs' Sobol points (from their ``directions``) are made in the
    kernel, bit for bit, like an input's own uniform under ``mc``.
    """

    uniforms: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    correlated: tuple[str, ...] = ()
    factor: tuple[float, ...] = ()
    strata: tuple[str, ...] = ()  # Latin hypercube inputs whose uniforms the kernel makes
    samples: int = 0  # the run's samples, which the strata divide
    sobol: tuple[str, ...] = ()  # inputs whose Sobol points the kernel makes
    directions: tuple[int, ...] = ()  # theirs (sobol_directions), 1 + SOBOL_BITS each

    @property
    def given(self) -> tuple[str, ...]:
        """The inputs of the ``given`` matrix's rows, in order (an input may have two)."""
        return self.uniforms + self.values

    def directions_of(self, node_id: str) -> tuple[int, ...]:
        """The Sobol shift and direction numbers of input ``node_id``, one of :attr:`sobol`."""
        start = self.sobol.index(node_id) * (1 + SOBOL_BITS)
        return self.directions[start : start + 1 + SOBOL_BITS]


class InputSampler:
    """The ``given`` matrix, chunk by chunk, of the inputs a run does not draw from streams.

    ``distributions`` are the run's random inputs. Given are only those whose
    inverse CDF the kernel lacks (none of the registered models), under ``mc`` only
    the correlated ones, and under ``sobol`` all where scipy's direction numbers
    cannot be read (:func:`sobol_directions`): the kernel makes the others'
    uniforms, draws and mixes them itself;
    ``plan`` says how (:class:`InputPlan`). :meth:`values` is also the numpy
    twin of what the kernel makes of the plan. ``spans``: inputs the Sobol
    sequence has dimensions for besides these (a run with pinned inputs passes
    every random input, so pinning one leaves the others' points as they were:
    common random numbers for scenarios).
    """

    def __init__(
        self,
        method: str,
        distributions: Mapping[str, Distribution],
        correlations: Sequence[tuple[str, str, float]],
        seed: int,
        n: int,
        spans: Iterable[str] | None = None,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}")
        self.method, self.seed, self.n = method, seed, n
        self.distributions = distributions
        self.correlations = tuple(correlations)
        correlated = sorted({x for a, b, _ in correlations for x in (a, b)})
        self._factor = copula_factor(normal_correlations(correlated, correlations))
        self.inputs = tuple(sorted(distributions))
        # the Sobol points' dimensions, in order: a run with pinned inputs spans them too,
        # so pinning one leaves the points of the others as they were
        self._dimensions = tuple(sorted({*self.inputs, *(spans or ())}))
        in_python = {x for x, d in distributions.items() if not d.quantile_in_kernel}
        if method == "mc":
            valued = [x for x in correlated if x in in_python]
            uniforms: list[str] = []
        else:
            valued = [x for x in self.inputs if x in in_python]
            uniforms = [x for x in self.inputs if x not in in_python or x in correlated]
        self._sobol: Any = None  # scipy's Sobol engine, made on the first chunk
        self._position = 0
        directions = self._directions()  # None: the kernel makes no Sobol points
        made: list[str] = []  # the inputs whose uniforms the kernel makes, then draws from
        if method == "lhs" or directions is not None:
            made = [x for x in uniforms if x not in in_python]
            uniforms = [x for x in uniforms if x in in_python]
        numbers: list[int] = []
        if directions is not None:
            dimension = {x: k for k, x in enumerate(self._dimensions)}
            numbers = [int(v) for x in made for v in directions[dimension[x]]]
        self.plan = InputPlan(
            tuple(uniforms),
            tuple(valued),
            tuple(correlated),
            tuple(self._factor.ravel().tolist()),
            tuple(made if method == "lhs" else ()),
            n,
            tuple(made if directions is not None else ()),
            tuple(numbers),
        )

    @property
    def loaded(self) -> tuple[str, ...]:
        """The inputs of the ``given`` matrix's rows (see :attr:`InputPlan.given`)."""
        return self.plan.given

    def values(self, start: int, count: int, ids: Sequence[str] | None = None) -> np.ndarray:
        """The ``given`` matrix for samples ``start .. start+count-1`` (rows x count).

        With ``ids``: those inputs' values instead, made here as the kernel makes
        them (the twin of its copula and inverse CDFs).
        """
        plan = self.plan
        valued = plan.values if ids is None else tuple(ids)
        wanted = [*plan.uniforms, *(x for x in plan.correlated if x not in plan.uniforms)]
        wanted += [x for x in valued if x not in wanted]
        u = dict(zip(wanted, self._uniforms(wanted, start, count), strict=True))
        mixed = dict(u)
        if set(plan.correlated) & set(valued):
            scores = np.stack([ndtri_array(u[x]) for x in plan.correlated])
            for row, x in enumerate(plan.correlated):
                if x in valued:
                    mixed[x] = normal_cdf_array(_mix(self._factor[row], scores))
        rows = [] if ids is not None else [u[x] for x in plan.uniforms]
        rows += [self.distributions[x].quantile(mixed[x]) for x in valued]
        return np.stack(rows).reshape(len(rows), count) if rows else np.empty((0, count))

    def _uniforms(self, ids: Sequence[str], start: int, count: int) -> list[np.ndarray]:
        """The uniforms of inputs ``ids`` for samples ``start .. start+count-1``, by method."""
        if self.method == "sobol":
            points = self._sobol_points(start, count)
            dimension = {x: k for k, x in enumerate(self._dimensions)}
            return [points[dimension[x]] for x in ids]
        samples = np.arange(start, start + count, dtype=np.uint64)
        if self.method == "lhs":
            return [lhs_uniforms(self.seed, x, self.n, samples) for x in ids]
        return [uniform_array(stream_key(self.seed, x), samples, 0) for x in ids]

    def _sobol_points(self, start: int, count: int) -> np.ndarray:
        """Points ``start .. start+count-1`` of the run's scrambled Sobol sequence, transposed."""
        if self._sobol is None or start != self._position:
            self._sobol = self._sobol_engine()
            if start:
                self._sobol.fast_forward(start)
        with warnings.catch_warnings():  # scipy warns unless n is a power of 2; the README says so
            warnings.simplefilter("ignore", UserWarning)
            points = self._sobol.random(count)
        self._position = start + count
        return np.clip(points.T, _TINY, _BELOW_ONE)

    def _sobol_engine(self) -> Any:
        """The run's scrambled Sobol sequence (scipy's engine), at its start."""
        from scipy.stats import qmc  # heavy: imported when a run asks for Sobol points

        rng = np.random.default_rng(stream_key(self.seed, ""))
        return qmc.Sobol(len(self._dimensions), scramble=True, rng=rng)

    def _directions(self) -> np.ndarray | None:
        """The run's Sobol shift and direction numbers (:func:`sobol_directions`), where it
        has Sobol points: kept from an earlier run with its seed and dimensions (importing
        scipy.stats takes longer than a run), else read off scipy's engine, then kept."""
        if self.method != "sobol":
            return None
        dimensions = len(self._dimensions)
        path = _kept_directions(stream_key(self.seed, ""), dimensions)
        numbers = _read_directions(path, dimensions)
        if numbers is None:
            self._sobol = self._sobol_engine()
            numbers = sobol_directions(self._sobol)
            if numbers is not None:
                _keep_directions(path, numbers)
        return numbers


def _kept_directions(key: int, dimensions: int) -> Path:
    """Where the Sobol numbers of a run's engine are kept: named by its dimensions, its
    generator's seed and the scipy and numpy versions that made them."""
    from importlib import metadata  # here: a run without Sobol points never loads it

    versions = f"scipy{metadata.version('scipy')}-numpy{np.__version__}"
    return cache_root() / "sobol" / f"{dimensions}-{key:016x}-{versions}.bin"


def _read_directions(path: Path, dimensions: int) -> np.ndarray | None:
    """The numbers kept at ``path`` (:func:`_keep_directions`); None where there are none,
    or they are damaged (their sha256 differs) or of another shape."""
    try:
        header, body = path.read_bytes().split(b"\n", 1)
    except (OSError, ValueError):
        return None
    if header != b"sha256:" + hashlib.sha256(body).hexdigest().encode():
        return None
    if len(body) != dimensions * (1 + SOBOL_BITS) * 8:
        return None
    return np.frombuffer(body, dtype="<u8").astype(np.uint64).reshape(dimensions, -1)


def _keep_directions(path: Path, numbers: np.ndarray) -> None:
    """Keep ``numbers`` at ``path``: a line with their sha256, then their bytes; whole or
    not at all (a write elsewhere, then a rename). A folder that cannot be written only
    means scipy is asked again next time."""
    body = numbers.astype("<u8").tobytes()
    partial = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(b"sha256:" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)


def sobol_directions(engine: Any) -> np.ndarray | None:
    """The shift and direction numbers of each dimension of scipy's scrambled Sobol
    ``engine``, as whole numbers (dimensions x (1 + ``SOBOL_BITS``)); None where they
    do not give the engine's points.

    Point ``i`` of a dimension is ``(s ^ v[j1] ^ v[j2] ^ ...)·2**-SOBOL_BITS`` for the
    bits ``j`` set in ``i``'s Gray code ``i ^ (i >> 1)``, as scipy makes it from the
    engine's ``_shift`` and ``_sv``. Those are not scipy's public interface, so they
    are checked against its first ``2**SOBOL_CHECKED`` points (every low direction
    number and the shift); the kernel's points are the fingerprinted numbers' too.

    >>> from scipy.stats import qmc
    >>> engine = qmc.Sobol(2, scramble=True, rng=np.random.default_rng(1))
    >>> numbers = sobol_directions(engine)
    >>> i = 5  # Gray code 0b111
    >>> point = numbers[:, 0] ^ numbers[:, 1] ^ numbers[:, 2] ^ numbers[:, 3]
    >>> engine.reset().fast_forward(i).random(1)[0].tolist() == (point / SOBOL_POINTS).tolist()
    True
    """
    shift, directions = getattr(engine, "_shift", None), getattr(engine, "_sv", None)
    if shift is None or directions is None or engine.bits != SOBOL_BITS:
        return None
    numbers = np.column_stack([shift, directions]).astype(np.uint64)
    if numbers.shape != (engine.d, 1 + SOBOL_BITS):
        return None
    index = np.arange(2**SOBOL_CHECKED, dtype=np.uint64)
    gray = index ^ (index >> np.uint64(1))
    points = np.tile(numbers[:, 0], (index.size, 1))
    for j in range(SOBOL_CHECKED):
        points[(gray >> np.uint64(j)) & np.uint64(1) == 1] ^= numbers[:, 1 + j]
    with warnings.catch_warnings():  # scipy warns unless n is a power of 2
        warnings.simplefilter("ignore", UserWarning)
        expected = engine.reset().random(index.size)
    engine.reset()
    return numbers if np.array_equal(points / SOBOL_POINTS, expected) else None


def _mix(weights: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``Σ_k weights[k]·scores[k]``, summed from 0.0 in the order of k: the kernel's COPULA."""
    total = np.zeros(scores.shape[1])
    for weight, score in zip(weights.tolist(), scores, strict=True):
        total = total + weight * score
    return total
