"""The one module that imports numba: a compiled interpreter over programs.

The kernel is compiled once for every model (and cached on disk by numba), so
a new model, a new set of outputs or an override costs no compilation. It runs
a :class:`~assumption_graph.compile.ir.Program` over blocks of samples in
parallel: within a block, each op is a tight loop over the block's samples,
which LLVM vectorises, and the block's slots stay in cache. Every random draw
comes from a counter-based stream keyed by (seed, sample, input), so results
are the same whatever the thread count or the block and chunk sizes.

The kernel is cached on disk in ``CACHE_DIR`` (``~/.cache/assumption_graph``
unless ``ASSUMPTION_GRAPH_CACHE`` or ``NUMBA_CACHE_DIR`` is set), in a folder
named by a hash of the kernel's sources, so an edited sampler never runs stale.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba.extending import intrinsic

from .. import distributions as dist
from .. import finance, streams
from .ir import Op, Program

__all__ = ["execute", "warm_up", "threads_for", "max_threads", "BLOCK"]

BLOCK = 256  # samples per block: small enough that a block's slots stay in L1/L2

_KERNEL_SOURCES = (dist.__file__, finance.__file__, streams.__file__, __file__)


def _cache_dir() -> str:
    """Where numba keeps the compiled kernel: a folder per version of its sources.

    numba only notices changes to the file of the function it caches, not to
    the samplers it calls, so the folder name carries a hash of all of them.
    ``NUMBA_CACHE_DIR`` or ``ASSUMPTION_GRAPH_CACHE`` move it elsewhere.
    """
    digest = hashlib.sha256()
    for path in _KERNEL_SOURCES:
        digest.update(Path(path).read_bytes())
    root = (
        os.environ.get("ASSUMPTION_GRAPH_CACHE")
        or numba.config.CACHE_DIR  # type: ignore[attr-defined]
        or str(Path.home() / ".cache" / "assumption_graph")
    )
    return str(Path(root) / f"kernel-{digest.hexdigest()[:16]}")


CACHE_DIR = _cache_dir()


def _compiled(**options: object) -> Callable[[Callable], Callable]:
    """``numba.njit`` with the kernel's options, cached in ``CACHE_DIR``.

    numba reads its cache folder when a function is decorated, so the folder is
    set just for the decoration and restored after.
    """

    def decorate(function: Callable) -> Callable:
        saved = numba.config.CACHE_DIR  # type: ignore[attr-defined]
        numba.config.CACHE_DIR = CACHE_DIR  # type: ignore[attr-defined]
        try:
            return numba.njit(cache=True, error_model="numpy", **options)(function)  # type: ignore[call-overload]
        finally:
            numba.config.CACHE_DIR = saved  # type: ignore[attr-defined]

    return decorate


_jit = _compiled(nogil=True)
# The samplers and helpers below are called only from the kernel, never from
# Python, so numba need not build their Python and C wrappers (which saves
# about half a second of the first compile).
_inner = _compiled(nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
_scalars = dist.jit_scalars(_inner)
_mix64 = _scalars["mix64"]
_triangle = _scalars["triangle_from_u"]
_uniform_range = _scalars["uniform_from_u"]
_discrete = _scalars["discrete_from_u"]
_normal = _scalars["normal_from_u"]
_normal_central = _scalars["normal_central"]
_lognormal = _scalars["lognormal_from_u"]
_pert = _scalars["pert_from_table"]
_pert_squeezed = _scalars["pert_squeezed"]
_metalog = _scalars["metalog_from_u"]
_risk_event = _scalars["risk_event_sample"]
_table = _scalars["table_from_u"]
_irr = streams.jit_linked(finance.SCALARS, _inner)["irr"]


@intrinsic
def _bits_to_double(typingctx, bits):  # noqa: ANN001, ANN202 - numba intrinsic
    """Reinterpret a uint64's bits as a float64 (no conversion)."""

    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
        return builder.bitcast(args[0], llvm_ir.DoubleType())

    return numba.types.float64(numba.types.uint64), codegen


_ONE = np.uint64(1)
_EXPONENT_OF_ONE = np.uint64(0x3FF0000000000000)
_TWELVE = np.uint64(12)
# Counter offsets of a sample's uniforms 1 and 2 (``sub·GAMMA_SUB``, wrapping).
_SUB_1 = streams.GAMMA_SUB
_SUB_2 = np.uint64(2 * int(streams.GAMMA_SUB) % 2**64)


@_jit
def _counter_uniform(counter):  # noqa: ANN001, ANN202
    """``streams.uniform(stream, sample, 0)``, bit for bit, from its counter.

    The counter is ``stream + (sample + 1)·GAMMA``: a block's loop steps it by
    ``GAMMA`` instead of multiplying for each sample (x86 below AVX-512 has no
    vector 64-bit multiply, so this saves one of the three a uniform costs).
    The 52 bits ``k = z >> 12`` placed under the exponent of 1.0 give exactly
    ``1 + k·2**-52``; subtracting 1 and adding ``2**-53`` is exact, so this equals
    ``(k + 0.5)·2**-52`` without the slow uint64 → float conversion (x86 has no
    vector instruction for it below AVX-512).
    """
    z = _mix64(counter)
    return (_bits_to_double((z >> _TWELVE) | _EXPONENT_OF_ONE) - 1.0) + 2.0**-53


@_inner
def _nan_min(x: float, y: float) -> float:
    """min that propagates NaN, like numpy.minimum."""
    if x != x or y != y:
        return x + y
    return x if x < y else y


@_inner
def _nan_max(x: float, y: float) -> float:
    """max that propagates NaN, like numpy.maximum."""
    if x != x or y != y:
        return x + y
    return x if x > y else y


@_inner
def _rare_function(op: int, x: float) -> float:
    """The formula functions rarely used in a model, chosen by ``op``.

    One scalar function with one loop calling it compiles about half a second
    faster than a loop of its own per function; most of these are a libm call
    that would not vectorise anyway.
    """
    if op == Op.EXP:
        return np.exp(x)
    if op == Op.LOG:
        return np.log(x)
    if op == Op.FLOOR:
        return np.floor(x)
    if op == Op.CEIL:
        return np.ceil(x)
    if op == Op.ROUND:
        return np.rint(x)
    if op == Op.SIN:
        return np.sin(x)
    if op == Op.COS:
        return np.cos(x)
    return np.tan(x)


@_jit
def _run_blocks(  # noqa: ANN202
    code,
    params,
    keys,
    seed_key,
    n_slots,
    out_slots,
    start,
    count,
    block,
    given,
    table,
    out,
    first_block,
    end_block,  # noqa: ANN001
):
    """Blocks ``first_block .. end_block-1`` of the samples ``start .. start+count-1``.

    One thread's share of a run: ``execute`` gives each thread a range of blocks
    and the GIL is released (``nogil``), so the threads run at the same time.
    Within a block of ``m`` samples, each op of the program is a tight loop over
    them in ``buf``; the given values of the block start at column ``first``.
    One function, not a block function called in a loop: numba compiles and
    links each function it calls, and the kernel is big, so this saves seconds
    of the first compile.
    """
    buf = np.empty((n_slots, block))
    n_ops = code.shape[0]
    for blk in range(first_block, end_block):
        first = blk * block
        m = min(block, count - first)
        sample0 = np.uint64(start + first)
        for k in range(n_ops):
            op = code[k, 0]
            z = buf[code[k, 1]]
            if op >= Op.UNIFORM:
                stream = _mix64(np.uint64(seed_key) ^ keys[k])
                p0 = params[k, 0]
                p1 = params[k, 1]
                p2 = params[k, 2]
                counter = stream + (sample0 + _ONE) * streams.GAMMA
                if op == Op.TRIANGLE:
                    for i in range(m):
                        z[i] = _triangle(_counter_uniform(counter), p0, p1, p2)
                        counter += streams.GAMMA
                elif op == Op.UNIFORM:
                    for i in range(m):
                        z[i] = _uniform_range(_counter_uniform(counter), p0, p1)
                        counter += streams.GAMMA
                elif op == Op.DISCRETE:
                    p3 = params[k, 3]
                    p4 = params[k, 4]
                    for i in range(m):
                        u = _counter_uniform(counter)
                        z[i] = _discrete(u, p0, p1, p2, p3, p4)
                        counter += streams.GAMMA
                elif op == Op.NORMAL or op == Op.LOGNORMAL:
                    first_counter = counter
                    for i in range(m):  # vectorised: the central 85 % of the quantile function
                        z[i] = _normal_central(_counter_uniform(counter), p0, p1)
                        counter += streams.GAMMA
                    counter = first_counter
                    for i in range(m):  # the tails, and the exponential of a lognormal
                        if z[i] != z[i]:
                            u = _counter_uniform(counter)
                            z[i] = _normal(u, p0, p1) if op == Op.NORMAL else _lognormal(u, p0, p1)
                        elif op == Op.LOGNORMAL:
                            z[i] = math.exp(z[i])  # as lognormal_from_u
                        counter += streams.GAMMA
                elif op == Op.PERT:  # a, b: where its envelope is in the table, and its size
                    p3 = params[k, 3]
                    offset = code[k, 2]
                    size = code[k, 3]
                    for i in range(m):  # the first trial, where the squeeze takes it: no density
                        u_bin = _counter_uniform(counter)
                        u_x = _counter_uniform(counter + _SUB_1)
                        u_y = _counter_uniform(counter + _SUB_2)
                        z[i] = _pert_squeezed(u_bin, u_x, u_y, table, offset, size, p0, p1)
                        counter += streams.GAMMA
                    for i in range(m):  # the rest: the whole rejection loop, from trial 0
                        if z[i] != z[i]:
                            sample = sample0 + np.uint64(i)
                            z[i] = _pert(stream, sample, table, offset, size, p0, p1, p2, p3)
                elif op == Op.METALOG:
                    for i in range(m):
                        z[i] = _metalog(_counter_uniform(counter), p0, p1, p2)
                        counter += streams.GAMMA
                elif op == Op.RISK_EVENT:
                    p3 = params[k, 3]
                    p4 = params[k, 4]
                    for i in range(m):
                        z[i] = _risk_event(stream, sample0 + np.uint64(i), p0, p1, p2, p3, p4)
                elif op == Op.TABLE:
                    offset = code[k, 2]
                    size = code[k, 3]
                    for i in range(m):
                        u = _counter_uniform(counter)
                        z[i] = _table(u, table, offset, size)
                        counter += streams.GAMMA
                continue
            if op == Op.CONST:
                c = params[k, 0]
                for i in range(m):
                    z[i] = c
                continue
            x = buf[code[k, 2]]
            if Op.ADD <= op <= Op.NE or op == Op.MIN or op == Op.MAX:
                y = buf[code[k, 3]]
                if op == Op.ADD:
                    for i in range(m):
                        z[i] = x[i] + y[i]
                elif op == Op.MUL:
                    for i in range(m):
                        z[i] = x[i] * y[i]
                elif op == Op.SUB:
                    for i in range(m):
                        z[i] = x[i] - y[i]
                elif op == Op.DIV:
                    for i in range(m):
                        z[i] = x[i] / y[i]
                elif op == Op.POW:
                    for i in range(m):
                        z[i] = x[i] ** y[i]
                elif op == Op.LT:
                    for i in range(m):
                        z[i] = 1.0 if x[i] < y[i] else 0.0
                elif op == Op.LE:
                    for i in range(m):
                        z[i] = 1.0 if x[i] <= y[i] else 0.0
                elif op == Op.GT:
                    for i in range(m):
                        z[i] = 1.0 if x[i] > y[i] else 0.0
                elif op == Op.GE:
                    for i in range(m):
                        z[i] = 1.0 if x[i] >= y[i] else 0.0
                elif op == Op.EQ:
                    for i in range(m):
                        z[i] = 1.0 if x[i] == y[i] else 0.0
                elif op == Op.NE:
                    for i in range(m):
                        z[i] = 1.0 if x[i] != y[i] else 0.0
                elif op == Op.MIN:
                    for i in range(m):
                        z[i] = _nan_min(x[i], y[i])
                else:  # MAX
                    for i in range(m):
                        z[i] = _nan_max(x[i], y[i])
            elif op == Op.WHERE or op == Op.CLIP:
                y = buf[code[k, 3]]
                w = buf[code[k, 4]]
                if op == Op.WHERE:
                    for i in range(m):
                        z[i] = y[i] if x[i] != 0.0 else w[i]
                else:
                    for i in range(m):
                        z[i] = _nan_min(_nan_max(x[i], y[i]), w[i])
            elif op == Op.COPY:
                for i in range(m):
                    z[i] = x[i]
            elif op == Op.LOAD:
                row = given[code[k, 2]]
                for i in range(m):
                    z[i] = row[first + i]
            elif op == Op.IRR:  # a = first of `b` consecutive slots holding the yearly flows
                flow0 = code[k, 2]
                flows = np.empty(code[k, 3])
                for i in range(m):
                    for t in range(flows.shape[0]):
                        flows[t] = buf[flow0 + t, i]
                    z[i] = _irr(flows)
            elif op == Op.ABS:
                for i in range(m):
                    z[i] = abs(x[i])
            elif op == Op.SQRT:
                for i in range(m):
                    z[i] = np.sqrt(x[i])
            elif op == Op.NEG:
                for i in range(m):
                    z[i] = -x[i]
            else:  # EXP, LOG, FLOOR, CEIL, ROUND, SIN, COS, TAN: one loop, not eight
                for i in range(m):
                    z[i] = _rare_function(op, x[i])
        for j in range(out_slots.shape[0]):
            src = buf[out_slots[j]]
            for i in range(m):
                out[j, start + first + i] = src[i]


_NOTHING_GIVEN = np.empty((0, 0))
_STEPS_PER_THREAD = 8  # ranges of blocks a thread takes in a run, on average
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def max_threads() -> int:
    """How many threads a run may use on this machine (``ASSUMPTION_GRAPH_THREADS`` caps it)."""
    cap = os.environ.get("ASSUMPTION_GRAPH_THREADS")
    count = os.cpu_count() or 1
    return max(1, min(count, int(cap))) if cap and cap.isdigit() else count


def threads_for(threads: int | None) -> int:
    """How many threads a run asking for ``threads`` gets (``None``: all)."""
    return max_threads() if threads is None else max(1, min(int(threads), max_threads()))


def _threads_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_threads(), thread_name_prefix="assumption-graph")
        return _pool


def execute(
    program: Program,
    seed_key: int,
    start: int,
    count: int,
    out: np.ndarray,
    threads: int | None = None,
    given: np.ndarray | None = None,
) -> None:
    """Run samples ``start .. start+count-1`` of ``program`` into ``out[:, start:start+count]``.

    ``out`` has one row per output and at least ``start + count`` columns.
    ``seed_key`` is :func:`assumption_graph.streams.seed_key` of the run's seed;
    ``threads`` how many threads to use (``None``: all). ``given`` holds the
    values of ``program.given`` for these samples, one row per node, ``count`` columns.
    The threads take ranges of blocks in turn until none is left (a thread slowed
    by other work on the machine takes fewer); each block's samples are a function
    of their index alone, so who runs which never changes them.
    """
    if count <= 0:
        return
    if given is None:
        given = _NOTHING_GIVEN
    if given.shape != (len(program.given), count) and program.given:
        raise ValueError(f"given must be {len(program.given)} x {count}, not {given.shape}")
    args = (
        program.code,
        program.params,
        program.keys,
        np.uint64(seed_key),
        program.n_slots,
        program.output_slots,
        start,
        count,
        BLOCK,
        np.ascontiguousarray(given, dtype=np.float64),
        np.ascontiguousarray(program.table, dtype=np.float64),
        out,
    )
    n_blocks = (count + BLOCK - 1) // BLOCK
    workers = min(threads_for(threads), n_blocks)
    if workers == 1:
        _run_blocks(*args, 0, n_blocks)
        return
    step = max(1, n_blocks // (workers * _STEPS_PER_THREAD))
    claimed = itertools.count(0, step)  # next() is atomic under the GIL

    def work() -> None:
        for first in claimed:
            if first >= n_blocks:
                return
            _run_blocks(*args, first, min(first + step, n_blocks))

    futures = [_threads_pool().submit(work) for _ in range(workers)]
    for future in futures:
        future.result()


def warm_up() -> float:
    """Compile the kernel, or load it from the on-disk cache; returns seconds taken."""
    began = time.perf_counter()
    program = Program(
        code=np.array([[Op.TRIANGLE, 0, -1, -1, -1]], dtype=np.int64),
        params=np.array([[1.0, 2.0, 3.0, 0.0, 0.0]]),
        keys=np.ones(1, dtype=np.uint64),
        n_slots=1,
        outputs=("x",),
        output_slots=np.zeros(1, dtype=np.int64),
        lines=("s0 = triangle(1, 2, 3)  # x",),
    )
    execute(program, 0, 0, 1, np.empty((1, 1)))
    return time.perf_counter() - began
