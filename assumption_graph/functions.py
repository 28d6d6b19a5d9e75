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

__all__ = ["Kind", "UnitRule", "FormulaOp", "symbols", "operations", "sheet_number"]


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
_MANY = (2, None)
_LOG = "log(x), the natural logarithm"
_ROUND = "round(x), halves to even"
_MIN, _MAX, _CLIP = "min(a, b, ...)", "max(a, b, ...)", "clip(x, lo, hi)"
_IRR = "irr(rate, flows...)"

# The spreadsheet spellings that need more than a function's name (see FormulaOp.sheet).
# numpy's x ** y is 1 where y is 0 and NaN for a negative x and a fractional y, where a
# spreadsheet's ^ gives an error for 0^0 and, in LibreOffice, a real odd root of (-8)^(1/3).
_POWER = "IF({1}=0,1,IF(AND({0}<0,{1}<>INT({1})),NA(),{0}^{1}))"
# numpy's rint rounds halves to even, a spreadsheet's ROUND away from zero.
_HALF_EVEN = "IF({0}-INT({0})=0.5,2*ROUND({0}/2,0),ROUND({0},0))"
_CLIP_SHEET = "MIN(MAX({0},{1}),{2})"


def _truth_sheet(symbol: str) -> str:
    """A comparison in a spreadsheet as the formula language has it: 1 when true, else 0."""
    return f"IF({{0}}{symbol}{{1}},1,0)"


class FormulaOp(IntEnum):
    """Every operation of the formula language, its value the kernel's opcode.

    A member is written ``NAME = opcode, symbol, kind, numpy version, unit rule, sheet``,
    then, where the defaults do not fit, its (fewest, most) operands (an operator's follow
    from its kind, a function's are (1, 1)) and a usage line for messages (``f(x)``).
    ``sheet`` is its spelling in a spreadsheet formula with the same semantics (Excel's and
    LibreOffice's): a template whose ``{0}``, ``{1}``, ... are the operands (each already
    bracketed where it is not a single term), ``{args}`` all of them separated by commas
    and ``{flows}`` the range of the operands after the first; ``None`` where a
    spreadsheet has no faithful spelling.
    The opcodes of :class:`~assumption_graph.compile.ir.Op` are the kernel's other
    instructions (constants, copies, loads, random draws); the two never share a value.
    Unary plus is no operation: it is its operand.
    """

    symbol: str
    kind: Kind
    numpy: Callable[..., Any]
    units: UnitRule
    sheet: str | None
    arity: tuple[int, int | None]
    usage: str

    def __new__(
        cls,
        opcode: int,
        symbol: str,
        kind: Kind,
        numpy: Callable[..., Any],
        units: UnitRule,
        sheet: str | None,
        arity: tuple[int, int | None] | None = None,
        usage: str = "",
    ) -> FormulaOp:
        member = int.__new__(cls, opcode)
        member._value_ = opcode
        member.symbol, member.kind, member.numpy, member.units = symbol, kind, numpy, units
        member.sheet = sheet
        member.arity = arity or _OPERANDS.get(kind, _ONE)
        member.usage = usage or f"{symbol}(x)"
        return member

    NEG = 1, "-", Kind.UNARY, _ufunc("negative"), UnitRule.FIRST, "-{0}"
    ADD = 2, "+", Kind.BINARY, _ufunc("add"), UnitRule.SAME, "{0}+{1}"
    SUB = 3, "-", Kind.BINARY, _ufunc("subtract"), UnitRule.SAME, "{0}-{1}"
    MUL = 4, "*", Kind.BINARY, _ufunc("multiply"), UnitRule.PRODUCT, "{0}*{1}"
    DIV = 5, "/", Kind.BINARY, _ufunc("divide"), UnitRule.QUOTIENT, "{0}/{1}"
    POW = 6, "**", Kind.BINARY, _ufunc("power"), UnitRule.POWER, _POWER
    LT = 7, "<", Kind.COMPARISON, _truth("less"), UnitRule.COMPARED, _truth_sheet("<")
    LE = 8, "<=", Kind.COMPARISON, _truth("less_equal"), UnitRule.COMPARED, _truth_sheet("<=")
    GT = 9, ">", Kind.COMPARISON, _truth("greater"), UnitRule.COMPARED, _truth_sheet(">")
    GE = 10, ">=", Kind.COMPARISON, _truth("greater_equal"), UnitRule.COMPARED, _truth_sheet(">=")
    EQ = 11, "==", Kind.COMPARISON, _truth("equal"), UnitRule.COMPARED, _truth_sheet("=")
    NE = 12, "!=", Kind.COMPARISON, _truth("not_equal"), UnitRule.COMPARED, _truth_sheet("<>")
    WHERE = 13, "if", Kind.CHOICE, _where, UnitRule.BRANCHES, "IF({0}<>0,{1},{2})"
    MIN = 14, "min", Kind.FUNCTION, _reduced("minimum"), UnitRule.SAME, "MIN({args})", _MANY, _MIN
    MAX = 15, "max", Kind.FUNCTION, _reduced("maximum"), UnitRule.SAME, "MAX({args})", _MANY, _MAX
    ABS = 16, "abs", Kind.FUNCTION, _ufunc("abs"), UnitRule.FIRST, "ABS({0})"
    SQRT = 17, "sqrt", Kind.FUNCTION, _ufunc("sqrt"), UnitRule.ROOT, "SQRT({0})"
    EXP = 18, "exp", Kind.FUNCTION, _ufunc("exp"), UnitRule.UNKNOWN, "EXP({0})"
    LOG = 19, "log", Kind.FUNCTION, _ufunc("log"), UnitRule.UNKNOWN, "LN({0})", _ONE, _LOG
    FLOOR = 20, "floor", Kind.FUNCTION, _ufunc("floor"), UnitRule.FIRST, "INT({0})"
    CEIL = 21, "ceil", Kind.FUNCTION, _ufunc("ceil"), UnitRule.FIRST, "-INT(-{0})"
    ROUND = 22, "round", Kind.FUNCTION, _ufunc("rint"), UnitRule.FIRST, _HALF_EVEN, _ONE, _ROUND
    CLIP = 23, "clip", Kind.FUNCTION, _clip, UnitRule.SAME, _CLIP_SHEET, (3, 3), _CLIP
    SIN = 24, "sin", Kind.FUNCTION, _ufunc("sin"), UnitRule.UNKNOWN, "SIN({0})"
    COS = 25, "cos", Kind.FUNCTION, _ufunc("cos"), UnitRule.UNKNOWN, "COS({0})"
    TAN = 26, "tan", Kind.FUNCTION, _ufunc("tan"), UnitRule.UNKNOWN, "TAN({0})"
    # irr(rate, flows...): the rate is a number literal, lowered as the op's parameter
    IRR = 28, "irr", Kind.INTERNAL, _irr, UnitRule.UNKNOWN, "IRR({flows},{0})", _MANY, _IRR
    IRR_COUNT = 30, "irr_count", Kind.INTERNAL, _irr_count, UnitRule.UNKNOWN, None, (1, None)


def sheet_number(value: float) -> str:
    """``value`` as a number in a spreadsheet formula, every digit kept (bracketed if negative).

    >>> sheet_number(0.1), sheet_number(-2.0), sheet_number(1e-300)
    ('0.1', '(-2)', '1E-300')
    """
    if value < 0:
        return f"(-{sheet_number(-value)})"
    if value.is_integer() and value < 1e15:
        return str(int(value))
    return repr(float(value)).upper()


def operations(*kinds: Kind) -> dict[str, FormulaOp]:
    """The operations of ``kinds`` by how formulas write them.

    >>> operations(Kind.UNARY)
    {'-': <FormulaOp.NEG: 1>}
    """
    return {op.symbol: op for op in FormulaOp if op.kind in kinds}


def symbols(kind: Kind) -> frozenset[str]:
    """How formulas write the operations of ``kind``."""
    return frozenset(operations(kind))
