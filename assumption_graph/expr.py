"""Formula text to a small, frozen expression tree, parsed with :mod:`ast` and never executed.

Only arithmetic over node ids, comparisons, ``a if c else b`` and a fixed set of functions
parse; anything else is a :class:`~assumption_graph.errors.FormulaError` naming the offending
text and its column.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from assumption_graph.errors import FormulaError

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
]

_UNARY_OPS = frozenset({"-", "+"})
_BINARY_OPS = frozenset({"+", "-", "*", "/", "**"})
_COMPARE_OPS = frozenset({"<", "<=", ">", ">=", "==", "!="})


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
    """A call of one of :data:`FUNCTIONS` with positional arguments."""

    func: str
    args: tuple[Expr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))


Expr = Num | Name | Unary | Binary | Compare | IfElse | Call


def _check_op(op: str, allowed: frozenset[str], kind: str) -> None:
    if op not in allowed:
        raise ValueError(f"{kind} operator {op!r} is not one of {sorted(allowed)}")


#: Function name -> (minimum, maximum) number of arguments; ``None`` means unbounded.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "ceil": (1, 1),
    "clip": (3, 3),
    "cos": (1, 1),
    "exp": (1, 1),
    "floor": (1, 1),
    "log": (1, 1),
    "max": (2, None),
    "min": (2, None),
    "round": (1, 1),
    "sin": (1, 1),
    "sqrt": (1, 1),
    "tan": (1, 1),
}

_USAGE: dict[str, str] = {
    "clip": "clip(x, lo, hi)",
    "log": "log(x), the natural logarithm",
    "max": "max(a, b, ...)",
    "min": "min(a, b, ...)",
    "round": "round(x), halves to even",
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
    return _Parser(text, {"node": node, "file": file, "line": line}).parse()


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
    match expr:
        case Name(id=ident):
            return Name(mapping.get(ident, ident))
        case Num():
            return expr
        case Unary(op, operand):
            return Unary(op, rename(operand, mapping))
        case Binary(op, left, right):
            return Binary(op, rename(left, mapping), rename(right, mapping))
        case Compare(op, left, right):
            return Compare(op, rename(left, mapping), rename(right, mapping))
        case IfElse(cond, then, orelse):
            return IfElse(rename(cond, mapping), rename(then, mapping), rename(orelse, mapping))
        case Call(func, args):
            return Call(func, tuple(rename(a, mapping) for a in args))
    raise TypeError(f"not an expression: {expr!r}")


def to_source(expr: Expr) -> str:
    """Readable formula text for ``expr``, parenthesised where needed.

    Parsing the text again gives an equal tree, so it can be written back to a model file.
    A negative :class:`Num` is written as ``(-x)``, which parses back as ``Unary('-', ...)``;
    a NaN or infinite :class:`Num` has no formula text and raises :class:`ValueError`.

    >>> to_source(parse_formula("(a + b) * -c ** 2").expr)
    '(a + b) * -c ** 2'
    """
    match expr:
        case Num(value):
            return _number(value)
        case Name(id=ident):
            return ident
        case Unary(op, operand):
            # A nested unary gets parentheses for readability: -(-a) rather than --a.
            inner = _PREC_POWER if isinstance(operand, Unary) else _PREC_UNARY
            return op + _wrapped(operand, inner)
        case Binary("**", left, right):
            return f"{_wrapped(left, _PREC_ATOM)} ** {_wrapped(right, _PREC_UNARY)}"
        case Binary(op, left, right):
            prec = _BINARY_PREC[op]
            return f"{_wrapped(left, prec)} {op} {_wrapped(right, prec + 1)}"
        case Compare(op, left, right):
            return f"{_wrapped(left, _PREC_SUM)} {op} {_wrapped(right, _PREC_SUM)}"
        case IfElse(cond, then, orelse):
            then_src, cond_src = _wrapped(then, _PREC_COMPARE), _wrapped(cond, _PREC_COMPARE)
            return f"{then_src} if {cond_src} else {to_source(orelse)}"
        case Call(func, args):
            return f"{func}({', '.join(to_source(a) for a in args)})"
    raise TypeError(f"not an expression: {expr!r}")


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


def _wrapped(expr: Expr, min_prec: int) -> str:
    """``expr`` as text, in parentheses when it binds less tightly than ``min_prec``."""
    text = to_source(expr)
    return f"({text})" if _precedence(expr) < min_prec else text


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
        stack.extend(_children(current))


def _children(expr: Expr) -> tuple[Expr, ...]:
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

# Deep enough for any hand-written formula (a sum of 200 terms is 200 levels), shallow enough
# that to_source, rename and the compiler can recurse over the tree.
_MAX_DEPTH = 200

_NODE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NEWLINE = re.compile(r"\r\n|\r|\n")


class _Parser:
    """Turns one formula's :mod:`ast` tree into an :data:`Expr`, locating every error."""

    def __init__(self, text: str, context: dict[str, str | int | None]) -> None:
        self.original = text
        self.text = text.lstrip()
        self.context = context
        self.depth = 0

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
            self._syntax_error(error.msg, error.lineno or 1, error.offset or 1)
        except (RecursionError, MemoryError):
            self._too_deep()
        expr = self._expr(tree.body)
        return Formula(text=self.original, expr=expr, names=names(expr))

    # -- errors

    def _raise(self, message: str, column: int, hint: str | None) -> NoReturn:
        raise FormulaError(message, column=column, hint=hint, **self.context)

    def _too_deep(self) -> NoReturn:
        message = (
            f"formula '{self.shown}': nesting deeper than {_MAX_DEPTH} levels is not supported"
        )
        self._raise(message, 1, "split the formula into intermediate nodes")

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

    def _expr(self, node: ast.expr) -> Expr:
        """Convert one sub-expression, refusing trees too deep for the recursive tree walkers."""
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self._error(
                node,
                f"nesting deeper than {_MAX_DEPTH} levels is not supported",
                "split the formula into intermediate nodes",
            )
        expr = _CONVERTERS.get(type(node), _Parser._reject)(self, node)
        self.depth -= 1  # an error ends the parse, so depth needs no unwinding on one
        return expr

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

    def _constant(self, node: ast.Constant) -> Num:
        value = node.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
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

    def _name(self, node: ast.Name) -> Name:
        if node.id.startswith("__"):
            self._fail(
                node, f"name '{self._segment(node)}'", "names starting with '__' are reserved"
            )
        # Python folds some non-ASCII letters into ASCII ones; the text itself must be the id.
        # (In ASCII text every Python name already is one.)
        if not self.text.isascii():
            spelled = self.lines[node.lineno - 1][node.col_offset : node.end_col_offset]
            if not _NODE_ID.fullmatch(node.id) or spelled != node.id.encode():
                self._fail(
                    node, f"name '{self._segment(node)}'", "node ids are [A-Za-z_][A-Za-z0-9_]*"
                )
        return Name(node.id)

    def _unary(self, node: ast.UnaryOp) -> Unary:
        op = _AST_UNARY.get(type(node.op))
        if op is None:
            symbol, kind, hint = _BAD_OPERATORS[type(node.op)]
            self._fail(node, f"{kind} '{symbol}' in '{self._segment(node)}'", hint)
        return Unary(op, self._expr(node.operand))

    def _binary(self, node: ast.BinOp) -> Binary:
        op = _AST_BINARY.get(type(node.op))
        if op is None:
            symbol, kind, hint = _BAD_OPERATORS[type(node.op)]
            self._fail(node, f"{kind} '{symbol}' in '{self._segment(node)}'", hint)
        return Binary(op, self._expr(node.left), self._expr(node.right))

    def _if_else(self, node: ast.IfExp) -> IfElse:
        return IfElse(self._expr(node.test), self._expr(node.body), self._expr(node.orelse))

    def _compare(self, node: ast.Compare) -> Expr:
        """One comparison, or a chain ``a < b < c`` as the product of its links."""
        operands = [self._expr(node.left), *(self._expr(c) for c in node.comparators)]
        links: list[Expr] = []
        for index, ast_op in enumerate(node.ops):
            op = _AST_COMPARE.get(type(ast_op))
            if op is None:
                symbol, kind, hint = _BAD_OPERATORS[type(ast_op)]
                self._fail(node, f"{kind} '{symbol}' in '{self._segment(node)}'", hint)
            links.append(Compare(op, operands[index], operands[index + 1]))
        return functools.reduce(lambda left, right: Binary("*", left, right), links)

    def _call(self, node: ast.Call) -> Call:
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
        args = tuple(self._expr(arg) for arg in node.args)
        self._check_arity(node, func.id)
        return Call(func.id, args)

    def _check_arity(self, node: ast.Call, func: str) -> None:
        low, high = FUNCTIONS[func]
        count = len(node.args)
        if low <= count and (high is None or count <= high):
            return
        expected = f"at least {low}" if high is None else f"{low}"
        self._error(
            node,
            f"'{self._segment(node)}'{self._where(node)} passes {count} "
            f"argument{'' if count == 1 else 's'}; {func} takes {expected}: {_usage(func)}",
        )


# The converter of each construct of the language, looked up by the ast node's exact type;
# any other construct is rejected with a message saying why.
_CONVERTERS: dict[type[ast.AST], Callable[[_Parser, Any], Expr]] = {
    ast.Name: _Parser._name,
    ast.BinOp: _Parser._binary,
    ast.Constant: _Parser._constant,
    ast.UnaryOp: _Parser._unary,
    ast.Compare: _Parser._compare,
    ast.IfExp: _Parser._if_else,
    ast.Call: _Parser._call,
}


def _usage(func: str) -> str:
    return _USAGE.get(func, f"{func}(x)")


def _shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters so a message stays readable."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _parses(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        return False
    return True
