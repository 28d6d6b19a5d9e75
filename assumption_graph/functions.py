"""The formula language's operations in one table: its operators and its functions.

Each operation is declared once, as a member of :class:`FormulaOp`: the opcode the
compiled kernel dispatches on, how a formula writes it, what kind of expression it is,
its numpy version (what the reference interpreter computes, and so what the kernel's
branch must compute bit for bit) and how units pass through it. The parser
(:mod:`.expr`), the lowering (:mod:`.compile.ir`), the reference interpreter
(:mod:`.compile.reference`) and unit inference (:mod:`.validate`) all read this table.
Adding a function is one member here plus its branch in the kernel
(:mod:`.compile.numba_backend`); ``tests/test_functions.py`` checks that every member
has exactly one branch and that the kernel computes what the numpy version does.

>>> FormulaOp.SQRT.symbol, FormulaOp.SQRT.units.name, int(FormulaOp.SQRT)
('sqrt', 'ROOT', 17)
>>> sorted(symbols(Kind.COMPARISON))
['!=', '<', '<=', '==', '>', '>=']
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any

from assumption_graph._lazy import lazy_import

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a numpy version runs
    np = lazy_import("numpy")

__all__ = ["Kind", "UnitRule", "FormulaOp", "symbols", "operations"]


class Kind(Enum):
    """What kind of expression an operation is, which says how a formula writes it."""

    UNARY = "unary operator"  # -x
    BINARY = "binary operator"  # x + y
    COMPARISON = "comparison"  # x < y, 1.0 when true, else 0.0
    CHOICE = "conditional"  # a if c else b
    FUNCTION = "function"  # f(x, ...)
    INTERNAL = "internal function"  # made by the business case's expansion; formulas cannot call it


class UnitRule(Enum):
    """How the unit of an operation's result follows from its operands' units."""

    SAME = "the operands share one unit, which the result has"
    FIRST = "the result has its first operand's unit"
    PRODUCT = "the result's unit is the operands' units multiplied"
    QUOTIENT = "the result's unit is the first operand's divided by the second's"
    POWER = "a number literal as exponent multiplies the base's exponents"
    ROOT = "the result's unit is the square root of the operand's"
    COMPARED = "the operands share one unit; the result is a truth value, without one"
    BRANCHES = "both branches share one unit, which the result has; the condition's is free"
    UNKNOWN = "the result's unit is not inferred"


def _ufunc(name: str) -> Callable[..., Any]:
    """numpy's function ``name``, looked up when first called (see the module's import)."""

    def call(*args: Any) -> Any:
        return getattr(np, name)(*args)

    call.__name__ = call.__qualname__ = f"numpy.{name}"
    return call


def _truth(name: str) -> Callable[..., Any]:
    """numpy's comparison ``name`` as numbers: 1.0 where true, else 0.0."""

    def call(x: Any, y: Any) -> Any:
        return getattr(np, name)(x, y).astype(float)

    call.__name__ = call.__qualname__ = f"numpy.{name}"
    return call


def _reduced(name: str) -> Callable[..., Any]:
    """numpy's two-operand function ``name`` over any number of operands, from the left."""

    def call(first: Any, *rest: Any) -> Any:
        result = first
        for operand in rest:
            result = getattr(np, name)(result, operand)
        return result

    call.__name__ = call.__qualname__ = f"numpy.{name}"
    return call


def _where(cond: Any, then: Any, orelse: Any) -> Any:
    return np.where(cond != 0.0, then, orelse)


def _clip(x: Any, low: Any, high: Any) -> Any:
    """``x`` limited to ``low .. high``: ``min(max(x, low), high)``, NaN propagating."""
    return np.minimum(np.maximum(x, low), high)


def _flow_rows(flows: tuple[Any, ...]) -> Any:
    """The yearly flows as one row per year and one column per sample."""
    return np.stack([np.atleast_1d(a) for a in np.broadcast_arrays(*flows)])


def _irr(rate: Any, *flows: Any) -> Any:
    """The IRR of the yearly ``flows`` nearest ``rate`` (NaN without one)."""
    from assumption_graph.finance import irr_array  # imports numpy: checking needs neither

    return irr_array(_flow_rows(flows), float(rate))


def _irr_count(*flows: Any) -> Any:
    """How many IRRs the yearly ``flows`` have."""
    from assumption_graph.finance import irr_count_array

    return irr_count_array(_flow_rows(flows))


_ONE = (1, 1)  # an operation's (fewest, most) operands; None: no most
_OPERANDS = {Kind.BINARY: (2, 2), Kind.COMPARISON: (2, 2), Kind.CHOICE: (3, 3)}  # else _ONE
_LOG = "log(x), the natural logarithm"
_ROUND = "round(x), halves to even"


class FormulaOp(IntEnum):
    """Every operation of the formula language, its value the kernel's opcode.

    A member is written ``NAME = opcode, symbol, kind, numpy version, unit rule``, then,
    where the defaults do not fit, its (fewest, most) operands (an operator's follow from
    its kind, a function's are (1, 1)) and a usage line for messages (``f(x)``).
    The opcodes of :class:`~assumption_graph.compile.ir.Op` are the kernel's other
    instructions (constants, copies, loads, random draws); the two never share a value.
    Unary plus is no operation: it is its operand.
    """

    symbol: str
    kind: Kind
    numpy: Callable[..., Any]
    units: UnitRule
    arity: tuple[int, int | None]
    usage: str

    def __new__(
        cls,
        opcode: int,
        symbol: str,
        kind: Kind,
        numpy: Callable[..., Any],
        units: UnitRule,
        arity: tuple[int, int | None] | None = None,
        usage: str = "",
    ) -> FormulaOp:
        member = int.__new__(cls, opcode)
        member._value_ = opcode
        member.symbol, member.kind, member.numpy, member.units = symbol, kind, numpy, units
        member.arity = arity or _OPERANDS.get(kind, _ONE)
        member.usage = usage or f"{symbol}(x)"
        return member

    NEG = 1, "-", Kind.UNARY, _ufunc("negative"), UnitRule.FIRST
    ADD = 2, "+", Kind.BINARY, _ufunc("add"), UnitRule.SAME
    SUB = 3, "-", Kind.BINARY, _ufunc("subtract"), UnitRule.SAME
    MUL = 4, "*", Kind.BINARY, _ufunc("multiply"), UnitRule.PRODUCT
    DIV = 5, "/", Kind.BINARY, _ufunc("divide"), UnitRule.QUOTIENT
    POW = 6, "**", Kind.BINARY, _ufunc("power"), UnitRule.POWER
    LT = 7, "<", Kind.COMPARISON, _truth("less"), UnitRule.COMPARED
    LE = 8, "<=", Kind.COMPARISON, _truth("less_equal"), UnitRule.COMPARED
    GT = 9, ">", Kind.COMPARISON, _truth("greater"), UnitRule.COMPARED
    GE = 10, ">=", Kind.COMPARISON, _truth("greater_equal"), UnitRule.COMPARED
    EQ = 11, "==", Kind.COMPARISON, _truth("equal"), UnitRule.COMPARED
    NE = 12, "!=", Kind.COMPARISON, _truth("not_equal"), UnitRule.COMPARED
    WHERE = 13, "if", Kind.CHOICE, _where, UnitRule.BRANCHES
    MIN = 14, "min", Kind.FUNCTION, _reduced("minimum"), UnitRule.SAME, (2, None), "min(a, b, ...)"
    MAX = 15, "max", Kind.FUNCTION, _reduced("maximum"), UnitRule.SAME, (2, None), "max(a, b, ...)"
    ABS = 16, "abs", Kind.FUNCTION, _ufunc("abs"), UnitRule.FIRST
    SQRT = 17, "sqrt", Kind.FUNCTION, _ufunc("sqrt"), UnitRule.ROOT
    EXP = 18, "exp", Kind.FUNCTION, _ufunc("exp"), UnitRule.UNKNOWN
    LOG = 19, "log", Kind.FUNCTION, _ufunc("log"), UnitRule.UNKNOWN, _ONE, _LOG
    FLOOR = 20, "floor", Kind.FUNCTION, _ufunc("floor"), UnitRule.FIRST
    CEIL = 21, "ceil", Kind.FUNCTION, _ufunc("ceil"), UnitRule.FIRST
    ROUND = 22, "round", Kind.FUNCTION, _ufunc("rint"), UnitRule.FIRST, _ONE, _ROUND
    CLIP = 23, "clip", Kind.FUNCTION, _clip, UnitRule.SAME, (3, 3), "clip(x, lo, hi)"
    SIN = 24, "sin", Kind.FUNCTION, _ufunc("sin"), UnitRule.UNKNOWN
    COS = 25, "cos", Kind.FUNCTION, _ufunc("cos"), UnitRule.UNKNOWN
    TAN = 26, "tan", Kind.FUNCTION, _ufunc("tan"), UnitRule.UNKNOWN
    # irr(rate, flows...): the rate is a number literal, lowered as the op's parameter
    IRR = 28, "irr", Kind.INTERNAL, _irr, UnitRule.UNKNOWN, (2, None), "irr(rate, flows...)"
    IRR_COUNT = 30, "irr_count", Kind.INTERNAL, _irr_count, UnitRule.UNKNOWN, (1, None)


def operations(*kinds: Kind) -> dict[str, FormulaOp]:
    """The operations of ``kinds`` by how formulas write them.

    >>> operations(Kind.UNARY)
    {'-': <FormulaOp.NEG: 1>}
    """
    return {op.symbol: op for op in FormulaOp if op.kind in kinds}


def symbols(kind: Kind) -> frozenset[str]:
    """How formulas write the operations of ``kind``."""
    return frozenset(operations(kind))
