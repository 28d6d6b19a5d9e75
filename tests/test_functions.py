"""The table of formula operations against the kernel: one branch each, and the same numbers.

Every operation of :class:`~assumption_graph.functions.FormulaOp` is lowered and run by
the compiled kernel (the cached one: no compile per case) and evaluated by the reference
interpreter (its numpy version), on arguments with the edge cases: signs, zeros of both
signs, halves for rounding, overflow, infinities and NaN. The two agree bit for bit.
"""

from __future__ import annotations

import ast
import itertools
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assumption_graph.compile import kernel
from assumption_graph.compile.ir import lower
from assumption_graph.compile.reference import evaluate
from assumption_graph.expr import (
    FUNCTIONS,
    Binary,
    Call,
    Compare,
    Expr,
    Formula,
    IfElse,
    Name,
    Num,
    Unary,
    names,
    operation,
    to_source,
)
from assumption_graph.functions import FormulaOp, Kind
from assumption_graph.model import Model, Node
from assumption_graph.validate import CheckedModel

INF, NAN = float("inf"), float("nan")
# One operand: every edge case (halves for round, exp and tan near overflow, log of <= 0).
ONE = [-2.5, -1.5, -1.0, -0.5, -0.0, 0.0, 0.1, 0.5, 1.0, 1.5, 2.5, 3.0, 1e-300, 700.0,
       710.0, -745.5, 1e300, 1e22, INF, -INF, NAN]  # fmt: skip
# Two or three operands: every combination of these (powers of negatives, 0/0, inf - inf).
TWO = [-2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, INF, -INF, NAN]
THREE = [-1.5, -0.0, 0.0, 0.5, 2.0, INF, -INF, NAN]
# Yearly flows of an IRR: sign changes (none, one, several), zeros and NaN.
FLOWS = [-100.0, -40.0, 0.0, 30.0, 60.0, 130.0, NAN]
IRR_RATE = 0.05
OPERANDS = ("x", "y", "z")


def argument_rows(op: FormulaOp, count: int) -> np.ndarray:
    """Samples of ``count`` operands for ``op``: one row per operand, one column per sample."""
    if op in (FormulaOp.IRR, FormulaOp.IRR_COUNT):
        values = FLOWS
    else:
        values = {1: ONE, 2: TWO}.get(count, THREE)
    return np.array(list(itertools.product(values, repeat=count))).T.copy()


def expression(op: FormulaOp, operands: tuple[Name, ...]) -> Expr:
    """``op`` applied to ``operands``, as the parser (or the business case) builds it."""
    symbol = op.symbol
    match op.kind:
        case Kind.UNARY:
            return Unary(symbol, operands[0])
        case Kind.BINARY:
            return Binary(symbol, *operands)
        case Kind.COMPARISON:
            return Compare(symbol, *operands)
        case Kind.CHOICE:
            return IfElse(*operands)
    if op is FormulaOp.IRR:  # its rate is a number, lowered as the op's parameter
        return Call(symbol, (Num(IRR_RATE), *operands))
    return Call(symbol, operands)


def operand_counts(op: FormulaOp) -> list[int]:
    """How many operands (node values) to test ``op`` with."""
    low, high = op.arity
    if op is FormulaOp.IRR:
        return [3]  # the rate and three yearly flows
    return [low] if high == low else sorted({low, 3})  # a function of many: also of three


CASES = [(op, count) for op in FormulaOp for count in operand_counts(op)]


def graph(op: FormulaOp, count: int) -> tuple[CheckedModel, tuple[str, ...]]:
    """A graph whose node ``out`` applies ``op`` to ``count`` inputs, and those inputs."""
    used = OPERANDS[:count]
    expr = expression(op, tuple(map(Name, used)))
    model = Model(f"table-{op.name.lower()}")
    for node_id in used:
        model.add(node_id, estimate=[0, 1, 2])
    model.add_node(Node("out", "intermediate", Formula(to_source(expr), expr, names(expr))))
    return CheckedModel(model, (*used, "out"), ()), used


@pytest.mark.parametrize(
    ("op", "count"), CASES, ids=[f"{op.name.lower()}-{count}" for op, count in CASES]
)
def test_kernel_computes_each_operation_as_the_reference_bit_for_bit(op, count) -> None:
    checked, used = graph(op, count)
    assert operation(checked.model["out"].body.expr) is op
    rows = argument_rows(op, count)
    size = rows.shape[1]
    program = lower(checked, ["out"], given=used)
    compiled = np.empty((1, size))
    kernel.execute(program, 0, 0, size, compiled, threads=1, given=rows)
    reference = evaluate(checked, dict(zip(used, rows, strict=True)), size, ["out"])["out"]
    got, want = compiled[0], np.asarray(reference, dtype=np.float64)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), f"{op.name}: NaN in different samples"
    differ = np.flatnonzero(got[~nan].view(np.uint64) != want[~nan].view(np.uint64))
    shown = rows[:, ~nan][:, differ[:5]].T.tolist()
    assert differ.size == 0, f"{op.name} differs on {differ.size} samples, e.g. {shown}"


# ------------------------------------------------------------------ the kernel's branches


def named_operations(test: ast.expr) -> set[str]:
    """The ``FormulaOp`` members an if-test names."""
    return {
        node.attr
        for node in ast.walk(test)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "FormulaOp"
    }


def kernel_branches() -> Counter[str]:
    """How many branches of the kernel compute each operation.

    The branch of an operation is the innermost ``if`` or ``elif`` whose test names it: a
    test that picks a group of operations (those with two operands, say) is a branch of
    a member only when no ``if`` inside it names that member again. An operation the
    kernel leaves to a piece compiled apart (``kernel._pieces_of``) counts once more.
    """
    from assumption_graph.compile import numba_backend

    tree = ast.parse(Path(numba_backend.__file__).read_text(encoding="utf-8"))
    counts: Counter[str] = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            inner = {
                name
                for statement in node.body
                for sub in ast.walk(statement)
                if isinstance(sub, ast.If)
                for name in named_operations(sub.test)
            }
            counts.update(named_operations(node.test) - inner)
    each = np.array([[op, 0, 0, 0, -1] for op in FormulaOp], dtype=np.int64)
    apart = kernel._pieces_of(SimpleNamespace(code=each))
    counts.update(op.name for op, piece in zip(FormulaOp, apart, strict=True) if piece >= 0)
    return counts


def test_every_operation_of_the_table_has_exactly_one_kernel_branch() -> None:
    assert kernel_branches() == Counter(op.name for op in FormulaOp)


def test_the_kernel_compares_opcodes_only_with_named_members() -> None:
    from assumption_graph.compile import numba_backend

    tree = ast.parse(Path(numba_backend.__file__).read_text(encoding="utf-8"))
    numbers = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(n, ast.Name) and n.id == "op" for n in [node.left, *node.comparators])
        and any(isinstance(n, ast.Constant) for n in [node.left, *node.comparators])
    ]
    assert numbers == []


# ------------------------------------------------------------------ the table itself


def test_formula_opcodes_and_the_other_instructions_never_share_a_value() -> None:
    from assumption_graph.compile.ir import Op

    assert not {int(op) for op in Op} & {int(op) for op in FormulaOp}


@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_writes_each_symbol_once(kind) -> None:
    written = [op.symbol for op in FormulaOp if op.kind is kind]
    assert written and len(written) == len(set(written))


def test_operators_take_the_operands_their_kind_writes() -> None:
    operands = {Kind.UNARY: (1, 1), Kind.BINARY: (2, 2), Kind.COMPARISON: (2, 2)}
    operands[Kind.CHOICE] = (3, 3)
    for op in FormulaOp:
        assert op.arity == operands.get(op.kind, op.arity), op


def test_functions_and_internal_functions_have_distinct_names() -> None:
    called = [op.symbol for op in FormulaOp if op.kind in (Kind.FUNCTION, Kind.INTERNAL)]
    assert len(called) == len(set(called))


def test_the_readme_lists_every_function_a_formula_may_call() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    text = " ".join(readme.split())
    listed = next(part for part in text.split("`") if part.startswith("min max "))
    assert sorted(listed.split()) == sorted(FUNCTIONS)
