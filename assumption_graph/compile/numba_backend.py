"""The one module that imports numba: the kernel, an interpreter over programs.

The kernel is compiled once for every model, so a new model, a new set of
outputs or an override costs no compilation. It runs a
:class:`~assumption_graph.compile.ir.Program` over a range of blocks of
samples: within a block, each op is a tight loop over the block's samples,
which LLVM vectorises, and the block's slots stay in cache. Every random draw
comes from a counter-based stream keyed by (seed, sample, input), so results
are the same whatever the thread count or the block and chunk sizes.

numba compiles it as a C function (:func:`compile_kernel`) whose arguments
:data:`.entry.ENTRY` lays out; :mod:`.kernel` keeps its object code on disk
and calls it, and imports this module only when there is nothing cached.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import cgutils
from numba.extending import intrinsic

from .. import finance, sampling, streams
from ..distributions.registry import jit_scalars
from ..distributions.special import CDF_HIGH, CDF_LOW, normal_cdf
from ..functions import FormulaOp
from .entry import ENTRY, HELPER_NAMES, KernelObject, Piece, Size
from .ir import CODE_WIDTH, N_PARAMS, Op
from .tally import DEPTH, GATHER, KEYS, MOMENTS, Tally
from .tally import FUNCTIONS as _TALLY_FUNCTIONS

__all__ = ["compile_kernel", "compile_piece", "compile_tally"]


def _compiled(*signature: object, **options: object) -> Callable[[Callable], Callable]:
    """``numba.njit`` with the kernel's options (:mod:`.kernel` caches the compiled kernel)."""
    return numba.njit(*signature, error_model="numpy", **options)  # type: ignore[no-any-return, call-overload]


# The samplers and helpers below are called only from the kernel, never from
# Python, so numba need not build their Python and C wrappers (which saves
# about half a second of the first compile).
_INNER = {"nogil": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}
_inner = _compiled(**_INNER)
_scalars = jit_scalars(_inner)
_mix64 = _scalars["mix64"]
_triangle = _scalars["triangle_from_u"]
_uniform_range = _scalars["uniform_from_u"]
_discrete = _scalars["discrete_from_u"]
_normal = _scalars["normal_from_u"]
_normal_central = _scalars["normal_central"]
_lognormal = _scalars["lognormal_from_u"]
_pert = _scalars["pert_from_table"]
_pert_squeezed = _scalars["pert_squeezed"]
_pert_from_u = _scalars["pert_from_u"]
_pert_log_beta = _scalars["pert_log_beta"]
_pert_start = _scalars["pert_start"]
_metalog = _scalars["metalog_from_u"]
_risk_event = _scalars["risk_event_sample"]
_risk_event_from_u = _scalars["risk_event_from_u"]
_table = _scalars["table_from_u"]
_ndtri = _scalars["ndtri"]
_normal_cdf = _inner(normal_cdf)
_irr_columns = streams.jit_linked(finance.SCALARS, _inner)["irr_columns"]
_tally = streams.jit_linked(_TALLY_FUNCTIONS, _inner)
_squares_sum, _first_ranks, _gather, _keys_with_index, _ranks_from_keys = (
    _tally[name]
    for name in ("squares_sum", "first_ranks", "gather", "keys_with_index", "ranks_from_keys")
)


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


@_inner
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
def _from_u(op, u, p0, p1, p2, p3, p4, table, offset, size):  # noqa: ANN001, ANN202
    """Draw op ``op``'s value at a given uniform ``u``: the model's inverse CDF.

    For the inputs whose uniforms are given or come from the copula, but a triangle,
    a uniform or a PERT (:func:`_from_u_op`): one scalar function for these models, called
    from one loop, adds one loop to the kernel rather than one per model (which
    would lengthen its first compile).
    """
    if op == Op.DISCRETE:
        return _discrete(u, p0, p1, p2, p3, p4)
    if op == Op.NORMAL:
        return _normal(u, p0, p1)
    if op == Op.LOGNORMAL:
        return _lognormal(u, p0, p1)
    if op == Op.METALOG:
        return _metalog(u, p0, p1, p2)
    if op == Op.RISK_EVENT:
        return _risk_event_from_u(u, p0, p1, p2, p3, p4)
    if op == Op.TABLE:
        return _table(u, table, offset, size)
    return math.nan


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
    if op == FormulaOp.EXP:
        return np.exp(x)
    if op == FormulaOp.LOG:
        return np.log(x)
    if op == FormulaOp.FLOOR:
        return np.floor(x)
    if op == FormulaOp.CEIL:
        return np.ceil(x)
    if op == FormulaOp.ROUND:
        return np.rint(x)
    if op == FormulaOp.SIN:
        return np.sin(x)
    if op == FormulaOp.COS:
        return np.cos(x)
    if op == FormulaOp.TAN:
        return np.tan(x)
    return math.nan


_N_SIZES = len(Size)  # a constant to numba, which cannot take len() of an enum


@intrinsic
def _call(  # noqa: ANN202
    typingctx,
    address,
    k,
    first,
    m,
    code_p,
    params_p,
    keys_p,
    table_p,
    buf_p,
    flows_p,
    sizes_p,
    seed_key,  # noqa: ANN001
):
    """Call the piece compiled at ``address`` on op ``k`` of the block's ``m`` samples from
    sample ``first`` of the call's, with the kernel's own arguments it reads.

    The piece is a function of :func:`_piece_signature` in numba's own convention;
    an exception it raises propagates out of the kernel as from any call.
    """
    arguments = (k, first, m, code_p, params_p, keys_p, table_p, buf_p, flows_p, sizes_p, seed_key)

    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
        function_type = context.call_conv.get_function_type(numba.types.void, arguments)
        callee = builder.inttoptr(args[0], function_type.as_pointer())
        status, _ = context.call_conv.call_function(
            builder, callee, numba.types.void, arguments, args[1:]
        )
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return context.get_dummy_value()

    return numba.types.void(address, *arguments), codegen


_ROUND_KEYS = sampling.ROUND_KEYS
_LHS_KEY = np.uint64(sampling.LHS_KEY)
_BELOW_ONE = CDF_HIGH  # the largest float below 1
_TINY = CDF_LOW  # keeps Sobol points off 0, where inverse CDFs are infinite


@_inner
def _views(code_p, params_p, keys_p, table_p, buf_p, sizes_p):  # noqa: ANN001, ANN202
    """A piece's arrays at the kernel's addresses: its sizes, code, params, keys, table and
    buf (a row per slot), shaped as the kernel has them."""
    sizes = numba.carray(sizes_p, (_N_SIZES,))
    n_ops = sizes[Size.N_OPS]
    return (
        sizes,
        numba.carray(code_p, (n_ops, CODE_WIDTH)),
        numba.carray(params_p, (n_ops, N_PARAMS)),
        numba.carray(keys_p, (n_ops,)),
        numba.carray(table_p, (sizes[Size.TABLE_SIZE],)),
        numba.carray(buf_p, (sizes[Size.N_SLOTS], sizes[Size.BLOCK])),
    )


@_inner
def _feistel(key, half, x):  # noqa: ANN001, ANN202
    """One pass of ``x`` through :func:`_stratum`'s Feistel network on two halves of ``half``
    bits."""
    mask = (_ONE << np.uint64(half)) - _ONE
    shift = np.uint64(half)
    left, right = x >> shift, x & mask
    for r in range(len(_ROUND_KEYS)):  # one round each
        mixed = _mix64(right ^ key ^ _ROUND_KEYS[r]) & mask
        left, right = right, left ^ mixed
    return (left << shift) | right


@_inner
def _stratum(key, n, half, index):  # noqa: ANN001, ANN202
    """``sampling.keyed_permutation(key, n, [index])``: the Feistel network
    (:func:`_feistel`), sent through again while it lands at ``n`` or above (cycle
    walking)."""
    x = _feistel(key, half, index)
    while x >= np.uint64(n):
        x = _feistel(key, half, x)
    return x


# A whole number below 2**52 under 2**52's exponent bits is that number plus 2**52, exactly.
_TWO_52 = 2.0**52
_EXPONENT_OF_TWO_52 = np.uint64(0x4330000000000000)


def _lhs_op(  # noqa: ANN202
    k,
    first,
    m,
    code_p,
    params_p,
    keys_p,
    table_p,
    buf_p,
    flows_p,
    sizes_p,
    seed_key,  # noqa: ANN001
):
    """Piece ``LHS``: op ``k``, its input's Latin hypercube uniforms, bit for bit
    ``sampling.lhs_uniforms``: ``(stratum + u) / n``, below 1, where the stratum is the
    sample's place in the input's keyed permutation and ``u`` its stream's own uniform.
    """
    sizes, code, params, keys, table, buf = _views(
        code_p, params_p, keys_p, table_p, buf_p, sizes_p
    )
    z = buf[code[k, 1]]
    n, half = code[k, 2], code[k, 3]
    stream = _mix64(np.uint64(seed_key) ^ keys[k])
    key = stream ^ _LHS_KEY
    sample0 = np.uint64(sizes[Size.START] + first)
    strata = z.view(np.uint64)
    for i in range(m):  # one pass each through the network, without a branch: vectorised
        strata[i] = _feistel(key, half, sample0 + np.uint64(i))
    for i in range(m):  # the few at n or above go on through it (cycle walking)
        if strata[i] >= np.uint64(n):
            strata[i] = _stratum(key, n, half, strata[i])
    counter = stream + (sample0 + _ONE) * streams.GAMMA
    for i in range(m):  # the stratum (below 2**52) as a float without a slow conversion
        stratum = _bits_to_double(strata[i] | _EXPONENT_OF_TWO_52) - _TWO_52
        z[i] = min((stratum + _counter_uniform(counter)) / float(n), _BELOW_ONE)
        counter += streams.GAMMA


_SOBOL_SCALE = 1.0 / sampling.SOBOL_POINTS


def _sobol_op(  # noqa: ANN202
    k,
    first,
    m,
    code_p,
    params_p,
    keys_p,
    table_p,
    buf_p,
    flows_p,
    sizes_p,
    seed_key,  # noqa: ANN001
):
    """Piece ``SOBOL``: op ``k``, its input's scrambled Sobol points, bit for bit scipy's
    (``sampling.sobol_directions``): the block's first is the shift XOR the direction
    numbers of the bits set in its index's Gray code; each next one differs from the
    one before by the direction of its index's lowest set bit."""
    sizes, code, params, keys, table, buf = _views(
        code_p, params_p, keys_p, table_p, buf_p, sizes_p
    )
    z = buf[code[k, 1]]
    directions = table[code[k, 2] + 1 : code[k, 2] + 1 + code[k, 3]]
    index = np.uint64(sizes[Size.START] + first)
    gray = index ^ (index >> _ONE)
    point = np.uint64(table[code[k, 2]])
    for j in range(directions.size):
        if (gray >> np.uint64(j)) & _ONE:
            point ^= np.uint64(directions[j])
    for i in range(m):
        z[i] = min(max(float(point) * _SOBOL_SCALE, _TINY), _BELOW_ONE)  # as np.clip
        index += _ONE
        j = 0
        while j < directions.size and not (index >> np.uint64(j)) & _ONE:
            j += 1
        if j < directions.size:  # the sequence's last point has no next one
            point ^= np.uint64(directions[j])


def _from_u_op(  # noqa: ANN202
    k,
    first,
    m,
    code_p,
    params_p,
    keys_p,
    table_p,
    buf_p,
    flows_p,
    sizes_p,
    seed_key,  # noqa: ANN001
):
    """Piece ``FROM_U``: draw op ``k``'s values at the uniforms in its slot c, its inverse CDF."""
    sizes, code, params, keys, table, buf = _views(
        code_p, params_p, keys_p, table_p, buf_p, sizes_p
    )
    op = code[k, 0]
    z = buf[code[k, 1]]
    uniforms = buf[code[k, 4]]
    p0 = params[k, 0]
    p1 = params[k, 1]
    p2 = params[k, 2]
    p3 = params[k, 3]
    p4 = params[k, 4]
    offset = code[k, 2]
    size = code[k, 3]
    # the default model and the uniform, closed forms, each in a loop of its own, which
    # the compiler vectorises: about ten times as fast as a call of _from_u a sample
    if op == Op.TRIANGLE:
        for i in range(m):
            z[i] = _triangle(uniforms[i], p0, p1, p2)
        return
    if op == Op.UNIFORM:
        for i in range(m):
            z[i] = _uniform_range(uniforms[i], p0, p1)
        return
    if op == Op.PERT:  # its Beta's ln B once for the block; its grid after its envelope
        lb = _pert_log_beta(p2, p3)
        for i in range(m):
            u = uniforms[i]
            z[i] = _pert_from_u(u, p0, p1, p2, p3, lb, _pert_start(u, table, offset + size))
        return
    for i in range(m):
        z[i] = _from_u(op, uniforms[i], p0, p1, p2, p3, p4, table, offset, size)


def _copula_op(  # noqa: ANN202
    k,
    first,
    m,
    code_p,
    params_p,
    keys_p,
    table_p,
    buf_p,
    flows_p,
    sizes_p,
    seed_key,  # noqa: ANN001
):
    """Piece ``COPULA``: op ``k``, a uniform's normal score (SCORE), or Φ of a mix of them.

    COPULA is Φ(Σ_j weights[j]·scores[j]), the sum from 0.0 in order of j.
    """
    sizes, code, params, keys, table, buf = _views(
        code_p, params_p, keys_p, table_p, buf_p, sizes_p
    )
    z = buf[code[k, 1]]
    if code[k, 0] == Op.SCORE:
        x = buf[code[k, 2]]
        for i in range(m):
            z[i] = _ndtri(x[i])
        return
    weights = table[code[k, 4] : code[k, 4] + code[k, 3]]
    for i in range(m):
        z[i] = 0.0
    for j in range(weights.shape[0]):
        w = weights[j]
        scores = buf[code[k, 2] + j]
        for i in range(m):
            z[i] += w * scores[i]
    for i in range(m):
        z[i] = _normal_cdf(z[i])


def _irr_op(  # noqa: ANN202
    k,
    first,
    m,
    code_p,
    params_p,
    keys_p,
    table_p,
    buf_p,
    flows_p,
    sizes_p,
    seed_key,  # noqa: ANN001
):
    """Piece ``IRR``: op ``k``, the rate (IRR) or the number of IRRs (IRR_COUNT) of each sample.

    Its a is the first of b consecutive slots of yearly flows; ``flows`` the scratch.
    """
    sizes, code, params, keys, table, buf = _views(
        code_p, params_p, keys_p, table_p, buf_p, sizes_p
    )
    flows = numba.carray(flows_p, (sizes[Size.N_FLOWS],))
    years = buf[code[k, 2] : code[k, 2] + code[k, 3]]
    _irr_columns(years, m, params[k, 0], code[k, 0] == FormulaOp.IRR, buf[code[k, 1]], flows)


def _draw_op(  # noqa: ANN202
    k,
    first,
    m,
    code_p,
    params_p,
    keys_p,
    table_p,
    buf_p,
    flows_p,
    sizes_p,
    seed_key,  # noqa: ANN001
):
    """Piece ``DRAW``: op ``k``'s values from its stream, for the models the kernel leaves out."""
    sizes, code, params, keys, table, buf = _views(
        code_p, params_p, keys_p, table_p, buf_p, sizes_p
    )
    op = code[k, 0]
    z = buf[code[k, 1]]
    p0 = params[k, 0]
    p1 = params[k, 1]
    p2 = params[k, 2]
    sample0 = np.uint64(sizes[Size.START] + first)
    stream = _mix64(np.uint64(seed_key) ^ keys[k])
    counter = stream + (sample0 + _ONE) * streams.GAMMA
    if op == Op.PERT:  # a, b: where its envelope is in the table, and its size
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
                z[i] = _pert(stream, sample0 + np.uint64(i), table, offset, size, p0, p1, p2, p3)
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


_PIECES = {
    Piece.FROM_U: _from_u_op,
    Piece.COPULA: _copula_op,
    Piece.IRR: _irr_op,
    Piece.DRAW: _draw_op,
    Piece.LHS: _lhs_op,
    Piece.SOBOL: _sobol_op,
}
# The arguments of ``ENTRY`` a piece is called with, after the op, first sample and size.
_PIECE_ARGUMENTS = ("code", "params", "keys", "table", "buf", "flows", "sizes", "seed_key")


def _run_blocks(  # noqa: ANN202
    code_p,
    params_p,
    keys_p,
    out_slots_p,
    given_p,
    table_p,
    out_p,
    buf_p,
    flows_p,
    sizes_p,
    pieces_p,
    seed_key,  # noqa: ANN001
):
    """Blocks ``first_block .. end_block-1`` of the samples ``start .. start+count-1``.

    The kernel's entry point: its arguments are ``ENTRY``'s pointers, the
    integers it needs are in ``sizes``. One thread's share of a run:
    :func:`.kernel.execute` gives each thread a range of blocks and releases
    the GIL, so the threads run at the same time. Within a block of ``m``
    samples, each op of the program is a tight loop over them in ``buf`` (the
    thread's scratch: a row per slot, ``block`` columns); the given values of
    the block start at column ``first``; ``flows`` is scratch for the IRRs
    (:func:`~assumption_graph.finance.irr_scratch`); ``pieces`` for each op the
    address of the :class:`~.entry.Piece` that runs it, 0 where the kernel does.
    One function, not a block function called in a loop: numba compiles, links and
    optimises each function it calls, and the kernel is big, so this saves seconds
    of the first compile.
    """
    sizes = numba.carray(sizes_p, (_N_SIZES,))
    n_ops, n_outputs, block = sizes[Size.N_OPS], sizes[Size.N_OUTPUTS], sizes[Size.BLOCK]
    count, start = sizes[Size.COUNT], sizes[Size.START]
    code = numba.carray(code_p, (n_ops, CODE_WIDTH))
    params = numba.carray(params_p, (n_ops, N_PARAMS))
    keys = numba.carray(keys_p, (n_ops,))
    out_slots = numba.carray(out_slots_p, (n_outputs,))
    given = numba.carray(given_p, (sizes[Size.GIVEN_ROWS], sizes[Size.GIVEN_COLUMNS]))
    out = numba.carray(out_p, (n_outputs, sizes[Size.OUT_COLUMNS]))
    buf = numba.carray(buf_p, (sizes[Size.N_SLOTS], block))
    pieces = numba.carray(pieces_p, (n_ops,))
    first_block, end_block = sizes[Size.FIRST_BLOCK], sizes[Size.END_BLOCK]
    for blk in range(first_block, end_block):
        first = blk * block
        m = min(block, count - first)
        sample0 = np.uint64(start + first)
        for k in range(n_ops):
            if pieces[k] != 0:  # an op compiled apart
                _call(
                    pieces[k],
                    k,
                    first,
                    m,
                    code_p,
                    params_p,
                    keys_p,
                    table_p,
                    buf_p,
                    flows_p,
                    sizes_p,
                    seed_key,
                )
                continue
            op = code[k, 0]
            z = buf[code[k, 1]]
            if op >= Op.UNIFORM:
                p0 = params[k, 0]
                p1 = params[k, 1]
                p2 = params[k, 2]
                stream = _mix64(np.uint64(seed_key) ^ keys[k])
                counter = stream + (sample0 + _ONE) * streams.GAMMA
                if op == Op.TRIANGLE:
                    for i in range(m):
                        z[i] = _triangle(_counter_uniform(counter), p0, p1, p2)
                        counter += streams.GAMMA
                elif op == Op.UNIFORM:
                    for i in range(m):
                        z[i] = _uniform_range(_counter_uniform(counter), p0, p1)
                        counter += streams.GAMMA
                continue
            if op == Op.CONST:
                c = params[k, 0]
                for i in range(m):
                    z[i] = c
                continue
            if op == Op.UNIT:  # an input's own uniform, as its draw op would take it
                counter = _mix64(np.uint64(seed_key) ^ keys[k]) + (sample0 + _ONE) * streams.GAMMA
                for i in range(m):
                    z[i] = _counter_uniform(counter)
                    counter += streams.GAMMA
                continue
            x = buf[code[k, 2]]
            if FormulaOp.ADD <= op <= FormulaOp.NE or op == FormulaOp.MIN or op == FormulaOp.MAX:
                y = buf[code[k, 3]]
                if op == FormulaOp.ADD:
                    for i in range(m):
                        z[i] = x[i] + y[i]
                elif op == FormulaOp.MUL:
                    for i in range(m):
                        z[i] = x[i] * y[i]
                elif op == FormulaOp.SUB:
                    for i in range(m):
                        z[i] = x[i] - y[i]
                elif op == FormulaOp.DIV:
                    for i in range(m):
                        z[i] = x[i] / y[i]
                elif op == FormulaOp.POW:
                    for i in range(m):
                        z[i] = x[i] ** y[i]
                elif op == FormulaOp.LT:
                    for i in range(m):
                        z[i] = 1.0 if x[i] < y[i] else 0.0
                elif op == FormulaOp.LE:
                    for i in range(m):
                        z[i] = 1.0 if x[i] <= y[i] else 0.0
                elif op == FormulaOp.GT:
                    for i in range(m):
                        z[i] = 1.0 if x[i] > y[i] else 0.0
                elif op == FormulaOp.GE:
                    for i in range(m):
                        z[i] = 1.0 if x[i] >= y[i] else 0.0
                elif op == FormulaOp.EQ:
                    for i in range(m):
                        z[i] = 1.0 if x[i] == y[i] else 0.0
                elif op == FormulaOp.NE:
                    for i in range(m):
                        z[i] = 1.0 if x[i] != y[i] else 0.0
                elif op == FormulaOp.MIN:
                    for i in range(m):
                        z[i] = _nan_min(x[i], y[i])
                else:  # MAX
                    for i in range(m):
                        z[i] = _nan_max(x[i], y[i])
            elif op == FormulaOp.WHERE or op == FormulaOp.CLIP:
                y = buf[code[k, 3]]
                w = buf[code[k, 4]]
                if op == FormulaOp.WHERE:
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
            elif op == FormulaOp.ABS:
                for i in range(m):
                    z[i] = abs(x[i])
            elif op == FormulaOp.SQRT:
                for i in range(m):
                    z[i] = np.sqrt(x[i])
            elif op == FormulaOp.NEG:
                for i in range(m):
                    z[i] = -x[i]
            else:  # EXP, LOG, FLOOR, CEIL, ROUND, SIN, COS, TAN: one loop, not eight
                for i in range(m):
                    z[i] = _rare_function(op, x[i])
        for j in range(out_slots.shape[0]):
            src = buf[out_slots[j]]
            for i in range(m):
                out[j, start + first + i] = src[i]


def _signature() -> numba.core.typing.Signature:
    """``ENTRY`` as a numba signature: a typed pointer per array, the seed key by value."""
    arguments = []
    for _, kind in ENTRY:
        element = getattr(numba.types, kind.split()[0])
        arguments.append(element if kind.endswith(" value") else numba.types.CPointer(element))
    return numba.types.void(*arguments)


def _piece_signature() -> numba.core.typing.Signature:
    """A piece's arguments: the op, the block's first sample and size, ``ENTRY``'s it reads."""
    kernel = dict(zip((name for name, _ in ENTRY), _signature().args, strict=True))
    read = [kernel[name] for name in _PIECE_ARGUMENTS]
    return numba.types.void(numba.types.int64, numba.types.int64, numba.types.int64, *read)


def _externals(library_ir: str) -> tuple[str, ...]:
    """The functions and globals the compiled library declares but does not define."""
    declared = re.findall(r'^declare [^@]*@"?([^"(\s]+)', library_ir, flags=re.MULTILINE)
    declared += re.findall(r'^@"?([^"\s]+)"? = external ', library_ir, flags=re.MULTILINE)
    return tuple(sorted({name for name in declared if not name.startswith("llvm.")}))


def compile_kernel() -> tuple[KernelObject, int]:
    """Compile the kernel with numba: its object code, and its address in this process.

    numba compiles :func:`_run_blocks` natively, without its Python or C wrappers: a
    C wrapper would print an exception and carry on, and needs numba's runtime
    to do so. The entry is called in numba's own convention (see :mod:`.kernel`).
    Refuses a kernel that needs numba's runtime beyond the helpers :mod:`.kernel`
    defines (an allocation in the kernel would, for one), since a process
    without numba could not link it.
    """
    return _native(_run_blocks, _signature())


def compile_piece(piece: Piece) -> tuple[KernelObject, int]:
    """Compile ``piece`` as :func:`compile_kernel` does the kernel: its object code, address."""
    return _native(_PIECES[piece], _piece_signature())


def compile_tally() -> tuple[KernelObject, int]:
    """Compile the summaries' passes (:mod:`.tally`) as :func:`compile_kernel` does the kernel."""
    floats = numba.types.CPointer(numba.types.float64)
    ints = numba.types.CPointer(numba.types.int64)
    signature = numba.types.void(floats, ints, floats, ints, floats, ints, floats)
    return _native(_tally_entry, signature)


_N_TALLY = len(Tally)


def _tally_entry(x_p, sizes_p, params_p, counts_p, out_p, stack_p, partial_p):  # noqa: ANN001, ANN202
    """One of :mod:`.tally`'s passes over the samples at ``x_p``, as ``sizes`` says."""
    sizes = numba.carray(sizes_p, (_N_TALLY,))
    n = sizes[Tally.N]
    x = numba.carray(x_p, (n,))
    params = numba.carray(params_p, (3,))
    low, scale = params[0], params[1]
    counts = numba.carray(counts_p, (sizes[Tally.N_COUNTS],))
    out = numba.carray(out_p, (sizes[Tally.N_OUT],))
    if sizes[Tally.MODE] == MOMENTS:
        stack = numba.carray(stack_p, (3 * DEPTH,))
        partial = numba.carray(partial_p, (DEPTH,))
        for b in range(counts.size):
            counts[b] = 0
        out[0] = _squares_sum(x, n, params[2], low, scale, counts, stack, partial)
        _first_ranks(counts)
    elif sizes[Tally.MODE] == GATHER:
        _gather(x, low, scale, counts.view(np.uint8), out)
    elif sizes[Tally.MODE] == KEYS:
        out[0] = 1.0 if _keys_with_index(x.view(np.int64), int(params[2]), counts) else 0.0
    else:
        centre = numba.carray(params_p, (4,))[3]
        _ranks_from_keys(x, counts, int(params[2]), out, centre)


def _native(function: Callable, signature: numba.core.typing.Signature) -> tuple[KernelObject, int]:
    """``function`` compiled natively for ``signature``: its object code and its address."""
    native: Any = _compiled(signature, **_INNER)(function)
    compiled = native.overloads[native.signatures[0]]
    library, symbol = compiled.library, compiled.fndesc.llvm_func_name
    externals = _externals(library.get_llvm_str())
    foreign = [n for n in externals if n.startswith(("numba", "NRT")) and n not in HELPER_NAMES]
    if foreign:
        raise RuntimeError(f"the kernel needs numba's runtime: {', '.join(foreign)}")
    _, kind, (code, _bitcode) = library.serialize_using_object_code()
    assert kind == "object", kind
    return KernelObject(code, symbol, externals), int(library.get_pointer_to_function(symbol))
