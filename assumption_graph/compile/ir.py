"""The checked graph lowered to a flat program of ops over integer slots.

A :class:`Program` is what the compiled kernel executes: one row per op
(opcode, destination slot, up to three argument slots), a row of float
parameters and, for random draws, the stable key of the input node. An input
drawn from a list of values (``values:``) reads them from the program's flat
``table``: its op's ``a`` and ``b`` are where its numbers start and how many
values it has. Slots are
reused once their value is dead, so the working memory of a block of samples
grows with the graph's width, not its size. Only the ancestors of the requested
outputs are computed; overridden nodes become constants, and nodes whose values
are given per sample (a caller's arrays) are loaded from a matrix the kernel
receives. Inputs given as uniforms (Sobol points;
:class:`~assumption_graph.sampling.InputPlan`), or whose Latin hypercube uniforms
an ``lhs`` op makes, are drawn by their own op from those, after the Gaussian
copula for correlated ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from ..distributions import Distribution
from ..expr import Call, Expr, Formula, Name, Num, Unary, operands, operation, visit
from ..functions import FormulaOp, Kind
from ..model import Value
from ..sampling import SOBOL_BITS, InputPlan, feistel_half
from ..streams import node_key
from ..validate import CheckedModel

__all__ = ["Op", "Program", "lower", "OP_NAMES", "N_PARAMS", "CODE_WIDTH"]


class Op(IntEnum):
    """The program's other opcodes: constants, copies, loads and random draws.

    The formulas' operations are :class:`~assumption_graph.functions.FormulaOp`'s, whose
    values these never share; the kernel dispatches on both. ``FormulaOp.IRR`` and
    ``IRR_COUNT`` read ``b`` consecutive slots from ``a`` (the yearly net flows); the rate
    of ``IRR`` is its parameter ``p0``. A draw op whose ``c`` is a slot takes its
    uniforms from there instead of its stream (Latin hypercube, Sobol and correlated
    inputs): the model's inverse CDF applied in the kernel.
    """

    CONST = 0
    COPY = 27
    LOAD = 29  # a node's values given per sample: row a of the kernel's ``given`` matrix
    UNIT = 33  # an input's own uniform from its stream (the copula's, under mc)
    LHS = 36  # an input's Latin hypercube uniform: a = the run's samples, b = its Feistel half
    SOBOL = 37  # an input's Sobol point: a = its shift and direction numbers' offset in the
    # table, b = how many bits (directions) follow the shift
    SCORE = 34  # the normal score ndtri(s_a) of a uniform
    COPULA = 35  # Φ(Σ_k table[c+k]·s_(a+k)) over b consecutive normal scores: a uniform
    UNIFORM = 40
    TRIANGLE = 41
    DISCRETE = 42
    NORMAL = 43
    LOGNORMAL = 44
    PERT = 45
    METALOG = 46
    RISK_EVENT = 47
    TABLE = 48  # a = offset in the table, b = number of values (cumulative p's, then values)


OP_NAMES: dict[int, str] = {op.value: op.name.lower() for op in (*Op, *FormulaOp)}

# The functions of any number of operands (min, max): the kernel's op takes two, so they
# are lowered as that op applied from the left.
_PAIRWISE = frozenset(
    op.symbol for op in FormulaOp if op.kind is Kind.FUNCTION and op.arity[1] is None
)
_FLOWS = (FormulaOp.IRR, FormulaOp.IRR_COUNT)  # ops over a run of consecutive slots
N_PARAMS = 5
CODE_WIDTH = 5  # a row of code: (opcode, dst, a, b, c)
_NO_ARGS = (-1, -1, -1)  # a row's unused argument slots
_NO_PARAMS = (0.0,) * N_PARAMS  # a row's unused parameters


@dataclass(frozen=True)
class Program:
    """A lowered graph: the arrays the kernel runs, plus a readable listing.

    ``code`` rows are ``(opcode, dst, a, b, c)``; ``params`` rows hold an op's
    numbers (a constant, or a distribution's parameters); ``keys`` hold the
    stable key of the drawing node (0 for other ops). ``outputs`` are the node
    ids whose values are copied out, from ``output_slots``; ``given`` the nodes of
    the kernel's ``given`` matrix's rows, in order (their values, or an input's
    uniforms: :class:`~assumption_graph.sampling.InputPlan`). ``table`` holds the
    numbers of the ``TABLE`` ops, PERT's envelopes and the copula's rows (empty
    when there are none).
    An op never writes a slot it reads: the kernel's loops over a block then
    vectorise, where LLVM's overlap check would run an in-place op as scalar
    code, three to four times slower.
    """

    code: np.ndarray
    params: np.ndarray
    keys: np.ndarray
    n_slots: int
    outputs: tuple[str, ...]
    output_slots: np.ndarray
    lines: tuple[str, ...] = field(repr=False)
    given: tuple[str, ...] = ()
    table: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def source(self) -> str:
        """One line per op with the node it computes: what the kernel runs."""
        return "\n".join(self.lines)

    @property
    def n_ops(self) -> int:
        return int(self.code.shape[0])


def lower(
    checked: CheckedModel,
    outputs: Iterable[str],
    overrides: Mapping[str, float] | None = None,
    given: Iterable[str] = (),
    inputs: InputPlan | None = None,
) -> Program:
    """Lower the graph to a program computing ``outputs`` (with ``overrides`` pinned).

    The ``given`` nodes are loaded per sample from row ``k`` of the kernel's
    ``given`` matrix, ``k`` their position here; with ``inputs`` (instead) the
    matrix's rows are as the plan lays them out. Nodes that no output depends
    on are left out, and so is everything upstream of an overridden or given node.
    """
    plan = inputs or InputPlan(values=tuple(given))
    return _Lowering(checked, tuple(outputs), dict(overrides or {}), plan).program()


class _Lowering:
    """Builds a program: topological walk, expression flattening, slot reuse."""

    def __init__(
        self,
        checked: CheckedModel,
        outputs: tuple[str, ...],
        overrides: dict[str, float],
        plan: InputPlan,
    ):
        self.nodes = checked.model.nodes
        self.outputs = outputs
        self.overrides = overrides
        self.plan = plan
        self.given = plan.given
        self.uniform_row = {node_id: row for row, node_id in enumerate(plan.uniforms)}
        self.made_uniform = {*plan.uniforms, *plan.strata, *plan.sobol}  # (:meth:`_made_uniform`)
        first = len(plan.uniforms)
        self.row_of = {node_id: first + row for row, node_id in enumerate(plan.values)}
        self.mixed: dict[str, int] = {}  # the slot of each correlated input's copula uniform
        self.cut = set(overrides) | set(self.row_of)  # nodes whose inputs are not needed
        self.order = self._needed(checked.order)
        self.last_use = self._last_uses()
        self.dying = self._dying()
        self.code: list[int] = []  # the rows (opcode, dst, a, b, c), one after the other
        self.params: list[float] = []  # N_PARAMS numbers a row, one row after the other
        self.keys: list[int] = []
        self.table: list[float] = []
        self.lines: list[str] = []
        self.slot_of: dict[str, int] = {}
        self.free: list[int] = []
        self.n_slots = 0

    def _needed(self, order: tuple[str, ...]) -> list[str]:
        """The nodes the outputs need, in ``order``: none upstream of a cut node.

        Walking the order backwards meets every user of a node before the node itself,
        so whether it is needed is known when it is reached.
        """
        needed = set(self.outputs)
        for node_id in reversed(order):
            if node_id in needed and node_id not in self.cut:
                needed.update(self.nodes[node_id].inputs)
        return [node_id for node_id in order if node_id in needed]

    def _last_uses(self) -> dict[str, int]:
        """Position in ``order`` of each node's last consumer (outputs never die)."""
        last: dict[str, int] = {}
        for position, node_id in enumerate(self.order):
            if node_id not in self.cut:
                for name in self.nodes[node_id].inputs:
                    last[name] = position
        for node_id in self.outputs:
            last[node_id] = len(self.order)
        return last

    def _dying(self) -> dict[int, list[str]]:
        """The inputs whose last use is at each position of ``order``, by id."""
        dying: dict[int, list[str]] = {}
        for name, position in self.last_use.items():
            dying.setdefault(position, []).append(name)
        for names in dying.values():
            names.sort()
        return dying

    def program(self) -> Program:
        self._copula()
        for position, node_id in enumerate(self.order):
            self._lower_node(node_id)
            self._release_dead(position)
        return Program(
            code=np.array(self.code, dtype=np.int64).reshape(-1, CODE_WIDTH),
            params=np.array(self.params, dtype=np.float64).reshape(-1, N_PARAMS),
            keys=np.array(self.keys, dtype=np.uint64),
            n_slots=max(self.n_slots, 1),
            outputs=self.outputs,
            output_slots=np.array([self.slot_of[o] for o in self.outputs], dtype=np.int64),
            lines=tuple(self.lines),
            given=self.given,
            table=np.array(self.table, dtype=np.float64),
        )

    # slots -----------------------------------------------------------------

    def _take(self) -> int:
        if self.free:
            return self.free.pop()
        self.n_slots += 1
        return self.n_slots - 1

    def _release(self, slot: int) -> None:
        self.free.append(slot)

    def _release_dead(self, position: int) -> None:
        """Free the slots of the inputs last used here, and of a node computed for nothing."""
        for name in self.dying.get(position, ()):
            self._release(self.slot_of[name])
        node_id = self.order[position]
        if node_id not in self.last_use:  # computed but never used (an unused output)
            self._release(self.slot_of[node_id])

    # emitting ----------------------------------------------------------------

    def _emit(
        self,
        op: int,
        dst: int,
        args: Sequence[int] = (),
        params: tuple[float, ...] = (),
        key: int = 0,
        text: str = "",
    ) -> None:
        self.code.extend((op, dst, *args, *_NO_ARGS[len(args) :]))
        self.params.extend((*params, *_NO_PARAMS[len(params) :]))
        self.keys.append(key)
        self.lines.append(f"s{dst} = {text}")

    def _lower_node(self, node_id: str) -> None:
        node = self.nodes[node_id]
        if node_id in self.overrides:
            value = float(self.overrides[node_id])
            slot = self._take()
            self._emit(Op.CONST, slot, params=(value,), text=f"{value!r}  # {node_id} (override)")
        elif node_id in self.row_of:
            slot = self._take()
            row = self.row_of[node_id]
            self._emit(Op.LOAD, slot, (row,), text=f"given[{row}]  # {node_id}")
        elif isinstance(node.body, Formula):
            slot = self._expression(node.body.expr, root=True)
            self.lines[-1] += f"  # {node_id}"
        elif isinstance(node.body, Value):
            slot = self._take()
            self._emit(
                Op.CONST, slot, params=(node.body.value,), text=f"{node.body.value!r}  # {node_id}"
            )
        else:
            assert isinstance(node.body, Distribution)  # situations are expanded before lowering
            slot = self._take()
            self._draw(node_id, node.body, slot, self._uniform(node_id))
        self.slot_of[node_id] = slot

    def _uniform(self, node_id: str) -> int:
        """The slot of the uniform an input's draw op reads, or -1: from its own stream.

        A correlated input's comes from the copula, a given one's is loaded here;
        either slot is free again once the draw op has read it.
        """
        if node_id in self.mixed:
            slot = self.mixed.pop(node_id)
        elif node_id in self.made_uniform:
            slot = self._take()
            self._made_uniform(node_id, slot)
        else:
            return -1
        self._release(slot)  # read by the draw op, whose own slot was taken before
        return slot

    def _made_uniform(self, node_id: str, slot: int) -> None:
        """Into ``slot``, an input's uniform given in the matrix, its Sobol point or its
        Latin hypercube one (as :func:`~assumption_graph.sampling.lhs_uniforms` makes it)."""
        if node_id in self.uniform_row:
            row = self.uniform_row[node_id]
            self._emit(Op.LOAD, slot, (row,), text=f"given[{row}]  # {node_id}'s uniform")
        elif node_id in self.plan.sobol:
            offset = len(self.table)
            self.table.extend(float(v) for v in self.plan.directions_of(node_id))  # exact
            text = f"sobol(table[{offset}:])  # {node_id}'s uniform"
            self._emit(Op.SOBOL, slot, (offset, SOBOL_BITS), text=text)
        else:
            n, half = self.plan.samples, feistel_half(self.plan.samples)
            text = f"lhs({n})  # {node_id}'s uniform"
            self._emit(Op.LHS, slot, (n, half), key=node_key(node_id), text=text)

    def _copula(self) -> None:
        """The correlated inputs' uniforms through the Gaussian copula, before any op reads one.

        Their normal scores go to consecutive slots (from the given uniforms, or each
        input's own stream under ``mc``); each input whose draw op is in the
        kernel gets ``Φ(L·scores)``'s row in a slot of its own (:attr:`mixed`).
        """
        ids = self.plan.correlated
        if not ids:
            return
        first = self.n_slots
        self.n_slots += len(ids)
        for k, node_id in enumerate(ids):
            uniform = self._take()
            if node_id in self.made_uniform:
                self._made_uniform(node_id, uniform)
            else:
                self._emit(Op.UNIT, uniform, key=node_key(node_id), text=f"unit()  # {node_id}")
            self._emit(Op.SCORE, first + k, (uniform,), text=f"score(s{uniform})")
            self._release(uniform)
        needed = set(self.order) - set(self.row_of) - set(self.overrides)
        for row, node_id in enumerate(ids):
            if node_id in needed:
                offset = len(self.table)
                self.table.extend(self.plan.factor[row * len(ids) : (row + 1) * len(ids)])
                slot = self._take()
                text = f"copula(s{first}..s{first + len(ids) - 1} | table[{offset}:])  # {node_id}"
                self._emit(Op.COPULA, slot, (first, len(ids), offset), text=text)
                self.mixed[node_id] = slot
        for k in range(len(ids)):
            self._release(first + k)

    def _draw(self, node_id: str, dist: Distribution, slot: int, uniform: int = -1) -> None:
        op, params = Op(dist.opcode), dist.sampler_args  # fixed: Op.CONST and its value
        if not dist.draws:
            self._emit(op, slot, params=params, text=f"{params[0]!r}  # {node_id} ({dist.name})")
            return
        args: tuple[int, ...] = (-1, -1)
        shown = ", ".join(f"{p:g}" for p in params)
        numbers = dist.sampler_table
        # the inverse CDF's own numbers (PERT's grid) follow the sampler's, at offset + b
        quantile = dist.quantile_table if uniform >= 0 else ()
        if op == Op.TABLE:  # a = offset, b = how many values (cumulative p's, then values)
            count = len(numbers) // 2
            args = (len(self.table), count)
            shown = (
                ", ".join(f"{v:g}" for v in numbers[count:])
                + " | cumulative "
                + ", ".join(f"{c:g}" for c in numbers[: count - 1])
            )
        elif numbers or quantile:  # a = offset, b = how many numbers (PERT's envelope)
            args = (len(self.table), len(numbers))
            shown += f" | envelope table[{len(self.table)}:{len(self.table) + len(numbers)}]"
        if uniform >= 0:
            shown += f" | u = s{uniform}"
        self.table.extend(numbers)
        self.table.extend(quantile)
        self._emit(
            op,
            slot,
            (*args, uniform),
            params=params,
            key=node_key(node_id),
            text=f"{OP_NAMES[op]}({shown})  # {node_id}",
        )

    def _expression(self, expr: Expr, root: bool = False) -> int:
        """Emit ops for ``expr``; returns the slot holding its value.

        A bare name at the root is copied, so every node owns its slot; inside
        an expression a name is read in place. The tree is walked by
        :func:`~assumption_graph.expr.visit` (operands first, left to right), so a
        formula of thousands of terms lowers without deep recursion.
        """
        while isinstance(expr, Unary) and expr.op == "+":
            expr = expr.operand
        if root and isinstance(expr, Name):
            slot = self._take()
            self._emit(Op.COPY, slot, (self.slot_of[expr.id],), text=f"{expr.id}")
            return slot
        return visit(expr, self._num, self._name, self._operation, _lowering_operands)[0]

    def _name(self, expr: Name) -> _Value:
        return self.slot_of[expr.id], False

    def _num(self, expr: Num) -> _Value:
        slot = self._take()
        self._emit(Op.CONST, slot, params=(expr.value,), text=repr(expr.value))
        return slot, True

    def _operation(self, op: FormulaOp, expr: Expr, operands: list[_Value]) -> _Value:
        """Emit ``op`` over its operands' slots: (its slot, a temporary?)."""
        if op in _FLOWS:
            assert isinstance(expr, Call)  # only internal calls read flows
            return self._irr(op, expr, operands)
        return self._apply(op, operands)

    def _irr(self, op: FormulaOp, expr: Call, operands: list[_Value]) -> _Value:
        """``irr(rate, flows...)`` (the IRR nearest the rate, a number) or
        ``irr_count(flows...)``: the flows copied into a run of fresh consecutive
        slots, then solved."""
        params: tuple[float, ...] = ()
        if op is FormulaOp.IRR:
            rate = expr.args[0]
            assert isinstance(rate, Num), "the IRR's discount rate is a number"
            params = (rate.value,)
        first, count = self.n_slots, len(operands)
        self.n_slots += count
        for offset, (slot, _temporary) in enumerate(operands):
            self._emit(Op.COPY, first + offset, (slot,), text=f"s{slot}")
        self._release_temporaries(operands)
        dst = self._take()
        text = f"{expr.func}(s{first}..s{first + count - 1})"
        self._emit(op, dst, (first, count), params=params, text=text)
        for offset in range(count):
            self._release(first + offset)
        return dst, True

    def _apply(self, op: int, operands: list[_Value]) -> _Value:
        slots = [slot for slot, _temporary in operands]
        dst = self._take()  # before the temps are freed: never in place (see Program)
        self._emit(op, dst, slots, text=f"{OP_NAMES[op]}(s{', s'.join(map(str, slots))})")
        self._release_temporaries(operands)
        return dst, True

    def _release_temporaries(self, operands: list[_Value]) -> None:
        """Free the operands' slots that hold temporaries (not nodes' values), once read."""
        for slot, temporary in operands:
            if temporary:
                self._release(slot)


# What lowering an expression gives: the slot of its value, and whether that slot is a
# temporary, freed once read (a node's own slot lives on until its last use).
_Value = tuple[int, bool]


def _lowering_operands(expr: Expr) -> tuple[Expr, ...]:
    """The operands lowered before ``expr``'s op: ``min``/``max`` of many as nested pairs."""
    if isinstance(expr, Call) and expr.func in _PAIRWISE and len(expr.args) > 2:
        *rest, last = expr.args
        return (Call(expr.func, tuple(rest)), last)
    if isinstance(expr, Call) and operation(expr) is FormulaOp.IRR:  # the rate is a parameter
        return expr.args[1:]
    return operands(expr)
