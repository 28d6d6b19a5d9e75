"""Formula text to a small, frozen expression tree, parsed with :mod:`ast` and never executed.

Only arithmetic over node ids, comparisons, ``a if c else b`` and a fixed set of functions
parse; anything else is a :class:`~assumption_graph.errors.FormulaError` naming the offending
text and its column.
"""

from __future__ import annotations

import ast
import functools
import io
import math
import re
import tokenize
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from keyword import iskeyword
from typing import Any, NoReturn, TypeVar

from assumption_graph.errors import FormulaError
from assumption_graph.functions import FormulaOp, Kind, operations, symbols

__all__ = [
    "Num",
    "Name",
    "Unary",
    "Binary",
    "Compare",
    "IfElse",
    "Call",
    "Expr",
    "FUNCTIONS",
    "Formula",
    "parse_formula",
    "names",
    "to_source",
    "rename",
    "fold",
    "visit",
    "operation",
    "operands",
]

R = TypeVar("R")

# The operators, from the table of operations; unary plus is no operation but parses.
_UNARY_OPS = symbols(Kind.UNARY) | {"+"}
_BINARY_OPS = symbols(Kind.BINARY)
_COMPARE_OPS = symbols(Kind.COMPARISON)


# The records have slots: a big model holds tens of thousands of them, and checking and
# lowering read their fields in their innermost loops.


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal; the value is always stored as a float."""

    value: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value))


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to another node by its id."""

    id: str


@dataclass(frozen=True, slots=True)
class Unary:
    """``-x`` or ``+x``."""

    op: str
    operand: Expr

    def __post_init__(self) -> None:
        _check_op(self.op, _UNARY_OPS, "unary")


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` for ``+ - * / **``."""

    op: str
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        _check_op(self.op, _BINARY_OPS, "binary")


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right`` for one comparison; its value is 1.0 when true, else 0.0."""

    op: str
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        _check_op(self.op, _COMPARE_OPS, "comparison")


@dataclass(frozen=True, slots=True)
class IfElse:
    """``then if cond else orelse``; ``cond`` is true when it is not 0."""

    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """A call of one of :data:`FUNCTIONS` (or of an internal function of the business
    case, see :class:`~assumption_graph.functions.Kind`) with positional arguments."""

    func: str
    args: tuple[Expr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))


Expr = Num | Name | Unary | Binary | Compare | IfElse | Call


def _check_op(op: str, allowed: frozenset[str], kind: str) -> None:
    if op not in allowed:
        raise ValueError(f"{kind} operator {op!r} is not one of {sorted(allowed)}")


# The table of operations by how expressions name them.
_OPERATORS: dict[type, dict[str, FormulaOp]] = {
    Unary: operations(Kind.UNARY),
    Binary: operations(Kind.BINARY),
    Compare: operations(Kind.COMPARISON),
}
_FORMULA_FUNCTIONS = operations(Kind.FUNCTION)  # the functions a formula may call
_CALLED = operations(Kind.FUNCTION, Kind.INTERNAL)  # and those the business case calls too

#: Function name -> (minimum, maximum) number of arguments; ``None`` means unbounded.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    name: op.arity for name, op in sorted(_FORMULA_FUNCTIONS.items())
}

_FUNCTION_LIST = ", ".join(sorted(FUNCTIONS))
_ALLOWED = (
    "formulas use node ids, numbers, + - * / **, comparisons, 'a if c else b' "
    f"and the functions {_FUNCTION_LIST}"
)


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed formula: its text, its expression tree and the node ids it uses."""

    text: str
    expr: Expr
    names: frozenset[str]


def parse_formula(
    text: str,
    *,
    node: str | None = None,
    file: str | None = None,
    line: int | None = None,
) -> Formula:
    """Parse formula text into a :class:`Formula`, refusing anything outside the language.

    The text goes through :func:`ast.parse` only, so a model file can never run code.
    ``node``, ``file`` and ``line`` locate the formula in error messages.

    >>> f = parse_formula("hours * rate")
    >>> f.expr
    Binary(op='*', left=Name(id='hours'), right=Name(id='rate'))
    >>> sorted(f.names)
    ['hours', 'rate']
    >>> parse_formula("os.system(1)", node="cost")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assumption_graph.errors.FormulaError: node 'cost': formula 'os.system(1)': attribute ...
    """
    formula = _PARSED.get(text)
    if formula is None:
        formula = _Parser(text, {"node": node, "file": file, "line": line}).parse()
        if len(_PARSED) >= _PARSED_KEPT:
            _PARSED.clear()
        _PARSED[text] = formula
    return formula


# Formulas parsed before, by their text: a file read again (the live page, after a save)
# parses only what changed. Only formulas that parsed are kept (a Formula is immutable and
# its text alone decides it); an error is raised afresh, with its node, file and line.
_PARSED: dict[str, Formula] = {}
_PARSED_KEPT = 20_000


def names(expr: Expr) -> frozenset[str]:
    """The node ids an expression uses, so a graph can draw its arrows.

    >>> sorted(names(parse_formula("min(a, b) * a + 2").expr))
    ['a', 'b']
    """
    return frozenset(e.id for e in _walk(expr) if isinstance(e, Name))


def rename(expr: Expr, mapping: dict[str, str]) -> Expr:
    """A copy of ``expr`` with node ids renamed by ``mapping``; other ids stay as they are.

    Function names are not node ids and are never renamed.

    >>> to_source(rename(parse_formula("a * b").expr, {"a": "hours"}))
    'hours * b'
    """

    def renamed(expr: Expr, children: list[Expr]) -> Expr:
        if isinstance(expr, Name):
            return Name(mapping.get(expr.id, expr.id))
        return _rebuilt(expr, children)

    return fold(expr, renamed)


def fold(
    expr: Expr,
    combine: Callable[[Expr, list[R]], R],
    children: Callable[[Expr], Sequence[Expr]] | None = None,
) -> R:
    """``combine(e, results of e's children)`` for every sub-expression, children first.

    Children are done left to right, each completely before the next, as a recursive
    walk would, but with an explicit stack: a sum of thousands of terms is a tree
    thousands of levels deep. ``children`` (default: the operands) may present a node's
    operands differently, e.g. ``min`` of many as nested ``min`` of two.

    >>> fold(parse_formula("a * (b + 1)").expr, lambda e, kids: 1 + sum(kids))
    5
    """
    children_of = children or operands
    results: list[R] = []
    stack: list[tuple[Expr, Sequence[Expr] | None]] = [(expr, None)]
    while stack:
        current, kids = stack.pop()
        if kids is None:
            kids = children_of(current)
            stack.append((current, kids))
            stack.extend((kid, None) for kid in reversed(kids))
            continue
        first = len(results) - len(kids)
        done = results[first:]
        del results[first:]
        results.append(combine(current, done))
    return results[0]


def operation(expr: Unary | Binary | Compare | IfElse | Call) -> FormulaOp:
    """The operation ``expr`` applies to its operands, from the table of operations.

    >>> operation(parse_formula("sqrt(a)").expr)
    <FormulaOp.SQRT: 17>
    """
    if isinstance(expr, Call):
        return _CALLED[expr.func]
    if isinstance(expr, IfElse):
        return FormulaOp.WHERE
    return _OPERATORS[type(expr)][expr.op]


def visit(
    expr: Expr,
    number: Callable[[Num], R],
    name: Callable[[Name], R],
    apply: Callable[[FormulaOp, Expr, list[R]], R],
    children: Callable[[Expr], Sequence[Expr]] | None = None,
) -> R:
    """Evaluate ``expr`` bottom-up in any domain: numbers, arrays, program slots, units.

    ``number`` and ``name`` give the leaves' results; ``apply(op, e, results)`` the result
    of each operation ``e`` (``op`` its :class:`~assumption_graph.functions.FormulaOp`)
    from its operands'. Unary plus is its operand's result. Operands are done left to
    right by :func:`fold`, without deep recursion; ``children`` is passed on to it.

    >>> def opcodes(op, e, args):
    ...     return f"{op.name.lower()}({', '.join(args)})"
    >>> visit(parse_formula("max(a, 2) * +b").expr, lambda e: repr(e.value), lambda e: e.id,
    ...       opcodes)
    'mul(max(a, 2.0), b)'
    """

    def combine(expr: Expr, results: list[R]) -> R:
        if isinstance(expr, Name):
            return name(expr)
        if isinstance(expr, Num):
            return number(expr)
        if isinstance(expr, Unary) and expr.op == "+":
            return results[0]
        return apply(operation(expr), expr, results)

    return fold(expr, combine, children)


def to_source(expr: Expr) -> str:
    """Readable formula text for ``expr``, parenthesised where needed.

    Parsing the text again gives an equal tree, so it can be written back to a model file.
    A negative :class:`Num` is written as ``(-x)``, which parses back as ``Unary('-', ...)``;
    a NaN or infinite :class:`Num` has no formula text and raises :class:`ValueError`.

    >>> to_source(parse_formula("(a + b) * -c ** 2").expr)
    '(a + b) * -c ** 2'
    """
    parts: list[str] = []
    stack: list[Expr | str] = [expr]  # what is still to write, the next piece last
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, Name):
            parts.append(item.id)
        else:
            stack.extend(reversed(_pieces(item)))
    return "".join(parts)


# ---------------------------------------------------------------------------- writing

# Binding strength, loosest first, as in Python's grammar.
_PREC_IFELSE = 1
_PREC_COMPARE = 2
_PREC_SUM = 3
_PREC_PRODUCT = 4
_PREC_UNARY = 5
_PREC_POWER = 6
_PREC_ATOM = 7
_BINARY_PREC = {
    "+": _PREC_SUM,
    "-": _PREC_SUM,
    "*": _PREC_PRODUCT,
    "/": _PREC_PRODUCT,
    "**": _PREC_POWER,
}


def _precedence(expr: Expr) -> int:
    match expr:
        case IfElse():
            return _PREC_IFELSE
        case Compare():
            return _PREC_COMPARE
        case Binary(op=op):
            return _BINARY_PREC[op]
        case Unary():
            return _PREC_UNARY
    return _PREC_ATOM


def _pieces(expr: Expr) -> list[Expr | str]:
    """The text of ``expr`` one level down: its own symbols, and its operands still as trees."""
    match expr:
        case Num(value):
            return [_number(value)]
        case Name(id=ident):
            return [ident]
        case Unary(op, operand):
            # A nested unary gets parentheses for readability: -(-a) rather than --a.
            inner = _PREC_POWER if isinstance(operand, Unary) else _PREC_UNARY
            return [op, *_wrapped(operand, inner)]
        case Binary("**", left, right):
            return [*_wrapped(left, _PREC_ATOM), " ** ", *_wrapped(right, _PREC_UNARY)]
        case Binary(op, left, right):
            prec = _BINARY_PREC[op]
            return [*_wrapped(left, prec), f" {op} ", *_wrapped(right, prec + 1)]
        case Compare(op, left, right):
            return [*_wrapped(left, _PREC_SUM), f" {op} ", *_wrapped(right, _PREC_SUM)]
        case IfElse(cond, then, orelse):
            return [
                *_wrapped(then, _PREC_COMPARE),
                " if ",
                *_wrapped(cond, _PREC_COMPARE),
                " else ",
                orelse,
            ]
        case Call(func, args):
            listed: list[Expr | str] = [f"{func}("]
            for index, arg in enumerate(args):
                listed.extend((", ", arg) if index else (arg,))
            return [*listed, ")"]
    raise TypeError(f"not an expression: {expr!r}")


def _wrapped(expr: Expr, min_prec: int) -> list[Expr | str]:
    """``expr``, in parentheses when it binds less tightly than ``min_prec``."""
    return ["(", expr, ")"] if _precedence(expr) < min_prec else [expr]


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written as formula text")
    if math.copysign(1.0, value) < 0:
        return f"(-{_number(-value)})"
    if value.is_integer() and value < 1e16:
        return str(int(value))
    return repr(value)


def _walk(expr: Expr) -> Iterator[Expr]:
    """Every sub-expression of ``expr``, with an explicit stack so deep trees cannot overflow."""
    stack = [expr]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(operands(current))


def operands(expr: Expr) -> tuple[Expr, ...]:
    """The direct operands of ``expr``, left to right (none for a number or a name)."""
    match expr:
        case Unary(operand=operand):
            return (operand,)
        case Binary(left=left, right=right) | Compare(left=left, right=right):
            return (left, right)
        case IfElse(cond, then, orelse):
            return (cond, then, orelse)
        case Call(args=args):
            return args
    return ()


def _rebuilt(expr: Expr, children: Sequence[Expr]) -> Expr:
    """``expr`` with its operands replaced by ``children``, in :func:`operands`' order."""
    match expr:
        case Unary(op):
            return Unary(op, children[0])
        case Binary(op):
            return Binary(op, children[0], children[1])
        case Compare(op):
            return Compare(op, children[0], children[1])
        case IfElse():
            return IfElse(children[0], children[1], children[2])
        case Call(func):
            return Call(func, tuple(children))
    return expr


# ---------------------------------------------------------------------------- parsing

_AST_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_AST_COMPARE = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_AST_UNARY = {ast.USub: "-", ast.UAdd: "+"}

# Operators outside the language: (symbol, kind, hint).
_BAD_OPERATORS: dict[type[ast.AST], tuple[str, str, str | None]] = {
    ast.FloorDiv: ("//", "operator", "use floor(a / b)"),
    ast.Mod: ("%", "operator", "use a - b * floor(a / b)"),
    ast.MatMult: ("@", "operator", None),
    ast.BitXor: ("^", "bitwise operator", "use ** for powers"),
    ast.BitAnd: ("&", "bitwise operator", "use min(a > 0, b > 0) or (a > 0) * (b > 0)"),
    ast.BitOr: ("|", "bitwise operator", "use max(a > 0, b > 0)"),
    ast.LShift: ("<<", "bitwise operator", "use a * 2 ** b"),
    ast.RShift: (">>", "bitwise operator", "use floor(a / 2 ** b)"),
    ast.Invert: ("~", "bitwise operator", None),
    ast.Not: ("not", "boolean operator", "use a comparison, e.g. a == 0 for 'not a'"),
    ast.And: (
        "and",
        "boolean operator",
        "use min of comparisons, e.g. min(a > 0, b > 0), or (a > 0) * (b > 0)",
    ),
    ast.Or: ("or", "boolean operator", "use max of comparisons, e.g. max(a > 0, b > 0)"),
    ast.In: ("in", "operator", "use == and != to compare numbers"),
    ast.NotIn: ("not in", "operator", "use == and != to compare numbers"),
    ast.Is: ("is", "operator", "use == to compare numbers"),
    ast.IsNot: ("is not", "operator", "use != to compare numbers"),
}

_ONE_EXPRESSION = "a formula is one expression; combine values with arithmetic, min or max"

# Constructs outside the language: kind, hint.
_BAD_NODES: dict[type[ast.AST], tuple[str, str | None]] = {
    ast.Subscript: ("subscript", "a node holds one number; refer to it by its id"),
    ast.Lambda: ("lambda", None),
    ast.ListComp: ("comprehension", None),
    ast.SetComp: ("comprehension", None),
    ast.DictComp: ("comprehension", None),
    ast.GeneratorExp: ("generator expression", None),
    ast.NamedExpr: ("assignment expression", "define another node for the value"),
    ast.JoinedStr: ("f-string", None),
    ast.Tuple: ("tuple", _ONE_EXPRESSION),
    ast.List: ("list", _ONE_EXPRESSION),
    ast.Dict: ("dict", _ONE_EXPRESSION),
    ast.Set: ("set", _ONE_EXPRESSION),
    ast.Starred: ("starred expression", None),
}

# Formulas nested deeper than this (brackets, calls, signs, powers or conditionals inside one
# another) are refused: no hand-written formula comes near it. A chain of operators of one
# precedence, such as a sum of thousands of terms, is not nesting: its terms are all one level.
_MAX_DEPTH = 200

_NODE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NEWLINE = re.compile(r"\r\n|\r|\n")

# Precedence of Python's binary operators: an operand on the left of an operator of the same
# precedence continues a chain (``a + b - c``) rather than nesting a level deeper.
_AST_PRECEDENCE: dict[type[ast.AST], int] = {
    ast.Add: _PREC_SUM,
    ast.Sub: _PREC_SUM,
    ast.Mult: _PREC_PRODUCT,
    ast.Div: _PREC_PRODUCT,
    ast.FloorDiv: _PREC_PRODUCT,
    ast.Mod: _PREC_PRODUCT,
    ast.MatMult: _PREC_PRODUCT,
}


_RESERVED_HINT = "names starting with '__' are reserved"
_NODE_ID_HINT = "node ids are [A-Za-z_][A-Za-z0-9_]*"


def _as_float(value: float) -> float:
    """A literal's value as a float: an integer too large for one is infinite."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


class _Parser:
    """Turns one formula's :mod:`ast` tree into an :data:`Expr`, locating every error."""

    def __init__(self, text: str, context: dict[str, str | int | None]) -> None:
        self.original = text
        self.text = text.lstrip()
        self.context = context
        self.names: set[str] = set()  # the node ids met while converting

    # What error messages need is worked out only when one is raised.

    @functools.cached_property
    def indent(self) -> int:
        """Columns before the text on its line."""
        lead = self.original[: len(self.original) - len(self.text)]
        return len(_NEWLINE.split(lead)[-1])

    @functools.cached_property
    def lines(self) -> list[bytes]:
        """The text's lines in UTF-8, which is what :mod:`ast` offsets count."""
        return [line.encode("utf-8") for line in _NEWLINE.split(self.text)]

    @functools.cached_property
    def shown(self) -> str:
        """The formula as messages quote it: on one line, at most 80 characters."""
        return _shorten(self.original, 80)

    def parse(self) -> Formula:
        if not self.text.strip():
            self._raise("formula is empty", 1, "write an expression such as 'hours * rate'")
        if "\0" in self.text:
            self._syntax_error("formula contains a null byte", *self._position("\0"))
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as error:
            if error.msg == "too many nested parentheses":
                self._too_deep()
            self._syntax_error(error.msg, error.lineno or 1, error.offset or 1)
        except RecursionError:  # a tree too deep for Python's parser: a very long chain
            expr = _LongParser(self).parse()
            return Formula(text=self.original, expr=expr, names=names(expr))
        except MemoryError:
            self._too_deep()
        expr = self._convert(tree.body)
        return Formula(text=self.original, expr=expr, names=frozenset(self.names))

    # -- errors

    def _raise(self, message: str, column: int, hint: str | None) -> NoReturn:
        raise FormulaError(message, column=column, hint=hint, **self.context)

    def _too_deep(self, column: int = 1) -> NoReturn:
        message = (
            f"formula '{self.shown}': nesting deeper than {_MAX_DEPTH} levels is not supported"
        )
        self._raise(message, column, "split the formula into intermediate nodes")

    def _syntax_error(self, msg: str, lineno: int, offset: int) -> NoReturn:
        hint = None
        if "\n" in self.text.strip() and _parses(f"({self.text})"):
            hint = "wrap a formula that spans several lines in parentheses"
        where = f" on line {lineno} of the formula" if lineno > 1 else ""
        column = offset + (self.indent if lineno == 1 else 0)
        self._raise(f"syntax error in formula '{self.shown}'{where}: {msg}", column, hint)

    def _fail(self, node: ast.AST, what: str, hint: str | None = None) -> NoReturn:
        self._error(node, f"{what}{self._where(node)} is not allowed; {_ALLOWED}", hint)

    def _error(self, node: ast.AST, message: str, hint: str | None = None) -> NoReturn:
        self._raise(f"formula '{self.shown}': {message}", self._column(node), hint)

    @staticmethod
    def _where(node: ast.AST) -> str:
        lineno = getattr(node, "lineno", 1)
        return f" on line {lineno} of the formula" if lineno > 1 else ""

    def _column(self, node: ast.AST) -> int:
        lineno, col_offset = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        line = self.lines[lineno - 1]
        chars = len(line[:col_offset].decode("utf-8", errors="replace"))
        return chars + 1 + (self.indent if lineno == 1 else 0)

    def _position(self, needle: str) -> tuple[int, int]:
        before = self.text[: self.text.index(needle)]
        lines = _NEWLINE.split(before)
        return len(lines), len(lines[-1]) + 1

    def _segment(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.text, node)
        return _shorten(segment if segment is not None else ast.unparse(node), 60)

    # -- constructs

    def _convert(self, root: ast.expr) -> Expr:
        """The :data:`Expr` of an :mod:`ast` tree, walked with an explicit stack.

        Each construct is checked when first met (``open``: returns its operands), and
        built once its operands are (``close``), in the order a recursive walk would
        take, so the first error in the text is the one reported.
        """
        results: list[Expr] = []
        # (node, nesting level, operands: None until the node is opened)
        stack: list[tuple[ast.expr, int, list[ast.expr] | None]] = [(root, 1, None)]
        while stack:
            node, level, operands = stack.pop()
            if type(node) is ast.Name and level <= _MAX_DEPTH:  # the commonest, first
                results.append(self._name(node, []))
                continue
            open_, close = _CONVERTERS.get(type(node), _REJECT)
            if operands is not None:
                first = len(results) - len(operands)
                built = close(self, node, results[first:])
                del results[first:]
                results.append(built)
                continue
            if level > _MAX_DEPTH:
                self._error(
                    node,
                    f"nesting deeper than {_MAX_DEPTH} levels is not supported",
                    "split the formula into intermediate nodes",
                )
            operands = open_(self, node)
            if not operands:  # a name or a number
                results.append(close(self, node, []))
                continue
            stack.append((node, level, operands))
            stack.extend([(o, level + 1, None) for o in reversed(operands)])
            if _continues_chain(node):  # the left operand is on the same level
                stack[-1] = (operands[0], level, None)
        return results[0]

    def _reject(self, node: ast.expr) -> NoReturn:
        segment = self._segment(node)
        match node:
            case ast.Attribute():
                self._fail(node, f"attribute access '.{node.attr}' (in '{segment}')")
            case ast.BoolOp():
                symbol, kind, hint = _BAD_OPERATORS[type(node.op)]
                self._fail(node, f"{kind} '{symbol}' in '{segment}'", hint)
        kind, hint = _BAD_NODES.get(type(node), ("expression", None))
        self._fail(node, f"{kind} '{segment}'", hint)

    def _leaf(self, node: ast.expr) -> list[ast.expr]:
        return []

    def _constant(self, node: ast.Constant, operands: list[Expr]) -> Num:
        value = node.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = _as_float(value)
            if math.isfinite(number):
                return Num(number)
            self._error(node, f"number '{self._segment(node)}' is too large for a float")
        segment = self._segment(node)
        if isinstance(value, bool) or value is None:
            self._fail(node, f"'{segment}'", "use a number; comparisons give 1.0 or 0.0")
        if isinstance(value, str | bytes):
            self._fail(node, f"string {segment}", "text belongs in 'label' or 'source'")
        if isinstance(value, complex):
            self._fail(node, f"complex number '{segment}'")
        self._fail(node, f"'{segment}'")

    def _name(self, node: ast.Name, operands: list[Expr]) -> Name:
        if node.id.startswith("__"):
            self._fail(
                node, f"name '{self._segment(node)}'", _RESERVED_HINT
            )
        # Python folds some non-ASCII letters into ASCII ones; the text itself must be the id.
        # (In ASCII text every Python name already is one.)
        if not self.text.isascii():
            spelled = self.lines[node.lineno - 1][node.col_offset : node.end_col_offset]
            if not _NODE_ID.fullmatch(node.id) or spelled != node.id.encode():
                self._fail(
                    node, f"name '{self._segment(node)}'", _NODE_ID_HINT
                )
        self.names.add(node.id)
        return Name(node.id)

    def _open_unary(self, node: ast.UnaryOp) -> list[ast.expr]:
        if type(node.op) not in _AST_UNARY:
            symbol, kind, hint = _BAD_OPERATORS[type(node.op)]
            self._fail(node, f"{kind} '{symbol}' in '{self._segment(node)}'", hint)
        return [node.operand]

    def _unary(self, node: ast.UnaryOp, operands: list[Expr]) -> Unary:
        return Unary(_AST_UNARY[type(node.op)], operands[0])

    def _open_binary(self, node: ast.BinOp) -> list[ast.expr]:
        if type(node.op) not in _AST_BINARY:
            symbol, kind, hint = _BAD_OPERATORS[type(node.op)]
            self._fail(node, f"{kind} '{symbol}' in '{self._segment(node)}'", hint)
        return [node.left, node.right]

    def _binary(self, node: ast.BinOp, operands: list[Expr]) -> Binary:
        return Binary(_AST_BINARY[type(node.op)], operands[0], operands[1])

    def _open_if_else(self, node: ast.IfExp) -> list[ast.expr]:
        return [node.test, node.body, node.orelse]

    def _if_else(self, node: ast.IfExp, operands: list[Expr]) -> IfElse:
        return IfElse(*operands)

    def _open_compare(self, node: ast.Compare) -> list[ast.expr]:
        return [node.left, *node.comparators]

    def _compare(self, node: ast.Compare, operands: list[Expr]) -> Expr:
        """One comparison, or a chain ``a < b < c`` as the product of its links."""
        ops = []
        for ast_op in node.ops:
            op = _AST_COMPARE.get(type(ast_op))
            if op is None:
                symbol, kind, hint = _BAD_OPERATORS[type(ast_op)]
                self._fail(node, f"{kind} '{symbol}' in '{self._segment(node)}'", hint)
            ops.append(op)
        return _chained(ops, operands)

    def _open_call(self, node: ast.Call) -> list[ast.expr]:
        func = node.func
        if isinstance(func, ast.Attribute):
            self._reject(func)
        if not isinstance(func, ast.Name):
            self._error(
                func,
                f"calling '{self._segment(func)}' is not allowed; "
                f"only the functions {_FUNCTION_LIST} can be called",
            )
        if func.id not in FUNCTIONS:
            self._error(func, f"unknown function '{func.id}'; allowed: {_FUNCTION_LIST}")
        for keyword in node.keywords:
            self._fail(
                keyword,
                f"keyword argument '{self._segment(keyword)}'",
                f"pass arguments by position: {_usage(func.id)}",
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self._fail(
                    arg,
                    f"starred argument '{self._segment(arg)}'",
                    f"pass arguments one by one: {_usage(func.id)}",
                )
        return list(node.args)

    def _call(self, node: ast.Call, operands: list[Expr]) -> Call:
        assert isinstance(node.func, ast.Name)  # checked when opened
        message = _arity_problem(node.func.id, len(operands))
        if message is not None:
            self._error(node, f"'{self._segment(node)}'{self._where(node)} {message}")
        return Call(node.func.id, tuple(operands))


def _continues_chain(node: ast.expr) -> bool:
    """Whether ``node``'s left operand is an operator of its precedence (``a + b - c``)."""
    if not isinstance(node, ast.BinOp) or not isinstance(node.left, ast.BinOp):
        return False
    return _AST_PRECEDENCE.get(type(node.left.op), 0) == _AST_PRECEDENCE.get(type(node.op), -1)


def _chained(ops: Sequence[str], operands: Sequence[Expr]) -> Expr:
    """``a < b < c`` as ``(a < b) * (b < c)``: the product of the links, from the left."""
    links: list[Expr] = [Compare(op, operands[k], operands[k + 1]) for k, op in enumerate(ops)]
    return functools.reduce(lambda left, right: Binary("*", left, right), links)


def _arity_problem(func: str, count: int) -> str | None:
    """What is wrong with calling ``func`` with ``count`` arguments (``None`` when nothing)."""
    low, high = FUNCTIONS[func]
    if low <= count and (high is None or count <= high):
        return None
    expected = f"at least {low}" if high is None else f"{low}"
    plural = "" if count == 1 else "s"
    return f"passes {count} argument{plural}; {func} takes {expected}: {_usage(func)}"


# How each construct of the language is checked when met (returning its operands) and built
# from its converted operands, looked up by the ast node's exact type; any other construct
# is rejected with a message saying why.
_Open = Callable[[_Parser, Any], list[ast.expr]]
_Close = Callable[[_Parser, Any, list[Expr]], Expr]
_REJECT: tuple[_Open, _Close] = (_Parser._reject, _Parser._constant)  # close never reached
_CONVERTERS: dict[type[ast.AST], tuple[_Open, _Close]] = {
    ast.Name: (_Parser._leaf, _Parser._name),
    ast.BinOp: (_Parser._open_binary, _Parser._binary),
    ast.Constant: (_Parser._leaf, _Parser._constant),
    ast.UnaryOp: (_Parser._open_unary, _Parser._unary),
    ast.Compare: (_Parser._open_compare, _Parser._compare),
    ast.IfExp: (_Parser._open_if_else, _Parser._if_else),
    ast.Call: (_Parser._open_call, _Parser._call),
}

# Tokens for the parser of long formulas: the ast operator each symbol outside the language
# stands for (for its message), and Python's other keywords.
_TOKEN_BAD_OPERATORS: dict[str, type[ast.AST]] = {
    "//": ast.FloorDiv,
    "%": ast.Mod,
    "@": ast.MatMult,
    "^": ast.BitXor,
    "&": ast.BitAnd,
    "|": ast.BitOr,
    "<<": ast.LShift,
    ">>": ast.RShift,
    "and": ast.And,
    "or": ast.Or,
    "in": ast.In,
    "is": ast.Is,
    "not": ast.Not,
    "~": ast.Invert,
}
_TOKEN_COMPARE = frozenset(_COMPARE_OPS)
_END = (tokenize.ENDMARKER, "", (1, 0))
_Token = tuple[int, str, tuple[int, int]]


class _LongParser:
    """A formula too deep for :func:`ast.parse`, parsed from Python's tokens.

    Only a long chain of operators (thousands of terms) gets past the nesting limit and
    overflows Python's parser; this parser reads chains in a loop and recurses only into
    genuine nesting, which it limits (at most three frames a level, so the limit keeps it
    far from Python's recursion limit). It builds the same tree as the :mod:`ast` route
    (the tests compare them); its error messages are plainer, and it counts a pair of
    brackets as a level of nesting.
    """

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser
        self.tokens = self._tokens()
        self.position = 0
        self.depth = 0

    def parse(self) -> Expr:
        expr = self._expression(_PREC_IFELSE)
        if self._peek()[0] != tokenize.ENDMARKER:
            self._unexpected(self._peek())
        return expr

    def _tokens(self) -> list[_Token]:
        skipped = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING}
        try:
            tokens = [
                (t.type, t.string, t.start)
                for t in tokenize.generate_tokens(io.StringIO(self.parser.text).readline)
                if t.type not in skipped
            ]
        except (tokenize.TokenError, SyntaxError) as error:
            self.parser._syntax_error(f"{error.args[0]}", 1, 1)
        ends = {tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.DEDENT}
        while tokens and tokens[-1][0] in ends:
            tokens.pop()
        return tokens

    # -- tokens and errors

    def _peek(self) -> _Token:
        return self.tokens[self.position] if self.position < len(self.tokens) else _END

    def _take(self) -> _Token:
        token = self._peek()
        self.position += 1
        return token

    def _expect(self, text: str) -> None:
        token = self._take()
        if token[1] != text or token[0] == tokenize.STRING:
            self._unexpected(token)

    def _column(self, token: _Token) -> int:
        row, col = token[2]
        return col + 1 + (self.parser.indent if row == 1 else 0)

    def _error(self, token: _Token, message: str, hint: str | None = None) -> NoReturn:
        self.parser._raise(f"formula '{self.parser.shown}': {message}", self._column(token), hint)

    def _fail(self, token: _Token, what: str, hint: str | None = None) -> NoReturn:
        row = token[2][0]
        where = f" on line {row} of the formula" if row > 1 else ""
        self._error(token, f"{what}{where} is not allowed; {_ALLOWED}", hint)

    def _unexpected(self, token: _Token) -> NoReturn:
        what = f"'{_shorten(token[1], 20)}'" if token[1].strip() else "end of the formula"
        message = f"syntax error in formula '{self.parser.shown}': unexpected {what}"
        self.parser._raise(message, self._column(token), None)

    def _bad_operator(self, token: _Token) -> NoReturn:
        symbol, kind, hint = _BAD_OPERATORS[_TOKEN_BAD_OPERATORS[token[1]]]
        self._fail(token, f"{kind} '{symbol}'", hint)

    # -- constructs

    def _expression(self, min_prec: int) -> Expr:
        """The expression from here whose operators bind at least ``min_prec`` tightly."""
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.parser._too_deep(self._column(self._peek()))
        left = self._prefix()
        while True:
            kind, text, _ = self._peek()
            if kind == tokenize.OP and text in _BINARY_PREC:
                prec = _BINARY_PREC[text]
                if prec < min_prec:
                    break
                self._take()  # ** is right-associative and binds its right operand as unary
                right = self._expression(_PREC_UNARY if text == "**" else prec + 1)
                left = Binary(text, left, right)
            elif kind == tokenize.OP and text in _TOKEN_COMPARE and min_prec <= _PREC_COMPARE:
                ops, operands = [], [left]
                while self._peek()[1] in _TOKEN_COMPARE and self._peek()[0] == tokenize.OP:
                    ops.append(self._take()[1])
                    operands.append(self._expression(_PREC_SUM))
                left = _chained(ops, operands)
            elif kind == tokenize.NAME and text == "if" and min_prec <= _PREC_IFELSE:
                self._take()
                cond = self._expression(_PREC_COMPARE)
                self._expect("else")
                left = IfElse(cond, left, self._expression(_PREC_IFELSE))
            elif text in _TOKEN_BAD_OPERATORS and kind in (tokenize.OP, tokenize.NAME):
                self._bad_operator(self._peek())
            else:
                break
        self.depth -= 1
        return left

    def _prefix(self) -> Expr:
        token = self._take()
        kind, text, _ = token
        if kind == tokenize.NUMBER:
            return self._after(self._number(token))
        if kind == tokenize.OP and text in _UNARY_OPS:
            return Unary(text, self._expression(_PREC_UNARY))
        if kind == tokenize.OP and text == "(":
            inner = self._expression(_PREC_IFELSE)
            if self._peek()[1] == ",":
                self._fail(token, "tuple", _ONE_EXPRESSION)
            self._expect(")")
            return self._after(inner)
        if kind == tokenize.NAME:
            return self._after(self._name(token))
        if kind == tokenize.STRING:
            self._fail(token, f"string {_shorten(text, 40)}", "text belongs in 'label' or 'source'")
        if text in _TOKEN_BAD_OPERATORS:
            self._bad_operator(token)
        self._unexpected(token)

    def _number(self, token: _Token) -> Num:
        try:
            value = ast.literal_eval(token[1])
        except (SyntaxError, ValueError):
            self._unexpected(token)
        if isinstance(value, complex):
            self._fail(token, f"complex number '{token[1]}'")
        number = _as_float(value)
        if not math.isfinite(number):
            self._error(token, f"number '{_shorten(token[1], 40)}' is too large for a float")
        return Num(number)

    def _name(self, token: _Token) -> Expr:
        text = token[1]
        if text in ("True", "False", "None"):
            self._fail(token, f"'{text}'", "use a number; comparisons give 1.0 or 0.0")
        if text in _TOKEN_BAD_OPERATORS:
            self._bad_operator(token)
        if iskeyword(text):
            self._unexpected(token)
        if text.startswith("__"):
            self._fail(token, f"name '{text}'", _RESERVED_HINT)
        if not _NODE_ID.fullmatch(text):
            self._fail(token, f"name '{text}'", _NODE_ID_HINT)
        if self._peek()[1] != "(":
            return Name(text)
        if text not in FUNCTIONS:
            self._error(token, f"unknown function '{text}'; allowed: {_FUNCTION_LIST}")
        self._take()
        args: list[Expr] = []
        while self._peek()[1] != ")":
            if self._peek()[1] in ("*", "**"):
                self._fail(
                    self._peek(), "starred argument", f"pass arguments one by one: {_usage(text)}"
                )
            if self._peek()[0] == tokenize.NAME and self._lookahead(1) == "=":
                self._fail(
                    self._peek(), "keyword argument", f"pass arguments by position: {_usage(text)}"
                )
            args.append(self._expression(_PREC_IFELSE))
            if self._peek()[1] != ",":
                break
            self._take()
        self._expect(")")
        problem = _arity_problem(text, len(args))
        if problem is not None:
            self._error(token, f"'{text}(...)' {problem}")
        return Call(text, tuple(args))

    def _lookahead(self, offset: int) -> str:
        index = self.position + offset
        return self.tokens[index][1] if index < len(self.tokens) else ""

    def _after(self, expr: Expr) -> Expr:
        """``expr``, refusing what Python would apply to it: ``.x``, ``[i]``, ``(...)``."""
        token = self._peek()
        if token[0] == tokenize.OP and token[1] == ".":
            self._fail(token, "attribute access")
        if token[0] == tokenize.OP and token[1] == "[":
            self._fail(token, "subscript", "a node holds one number; refer to it by its id")
        if token[0] == tokenize.OP and token[1] == "(":
            self._error(
                token,
                f"calling an expression is not allowed; only the functions {_FUNCTION_LIST} "
                "can be called",
            )
        return expr


def _usage(func: str) -> str:
    return _FORMULA_FUNCTIONS[func].usage


def _shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters so a message stays readable."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _parses(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
