"""Units: the unit algebra, a formula's unit worked out bottom-up, and the unit rules.

Units are checked only where they are declared: a bare number carries no unit, and a
node whose unit cannot be worked out from declared units is not checked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._lazy import lazy_import
from ..errors import Diagnostic, shown
from ..expr import Binary, Compare, Expr, Formula, Num, Unary, operands, to_source, visit
from ..functions import FormulaOp, UnitRule
from ..model import Node
from .context import Context, formula_text
from .registry import rule

if TYPE_CHECKING:
    import textwrap
else:  # only a mismatch's message needs it
    textwrap = lazy_import("textwrap")

__all__ = ["Unit", "formula_unit", "unit_of"]


@dataclass(frozen=True)
class Unit:
    """A unit as base symbols with integer exponents; no symbols is dimensionless ("1").

    >>> unit_of("tkr/h") * unit_of("h") == unit_of("tkr")
    True
    >>> str(unit_of("min/case") ** -1), str(unit_of("m^2")), str(unit_of("h/h"))
    ('case/min', 'm^2', '1')
    """

    powers: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, powers: Mapping[str, int]) -> Unit:
        """A unit from a mapping symbol -> exponent (zero exponents dropped)."""
        return cls(tuple(sorted((s, e) for s, e in powers.items() if e != 0)))

    def __mul__(self, other: Unit) -> Unit:
        powers = dict(self.powers)
        for symbol, exponent in other.powers:
            powers[symbol] = powers.get(symbol, 0) + exponent
        return Unit.of(powers)

    def __truediv__(self, other: Unit) -> Unit:
        return self * other**-1

    def __pow__(self, exponent: int) -> Unit:
        return Unit.of({s: e * exponent for s, e in self.powers})

    def root(self) -> Unit | None:
        """The square root, or ``None`` when an exponent is odd."""
        if any(e % 2 for _s, e in self.powers):
            return None
        return Unit.of({s: e // 2 for s, e in self.powers})

    def __str__(self) -> str:
        def part(symbol: str, exponent: int) -> str:
            return symbol if exponent == 1 else f"{symbol}^{exponent}"

        above = [part(s, e) for s, e in self.powers if e > 0]
        below = [part(s, -e) for s, e in self.powers if e < 0]
        return "/".join(["*".join(above) or "1", *below])


_UNIT_TOKEN = re.compile(
    r"\s*(?:(?P<symbol>[^\W\d][\w.%€$]*|[%€$])|(?P<number>[-+]?\d+)|(?P<op>\*\*|[*/^·()]))"
)
_SUPERSCRIPTS = str.maketrans({"²": "^2", "³": "^3", "⁻": "^-"})


def unit_of(text: str | None) -> Unit | None:
    """Parse a unit such as ``tkr``, ``tkr/h``, ``min/case``, ``m^2``, ``kr*h`` or ``1``.

    ``/`` divides everything after it unless parenthesised (``a/b/c`` = a·b⁻¹·c⁻¹);
    ``*`` and ``·`` multiply; ``^n`` or ``**n`` raise to an integer power. Returns
    ``None`` for no unit or text that is not a unit, so it is not checked.

    >>> unit_of("cases/year") == unit_of("cases / year")
    True
    >>> str(unit_of("kr·h/(m^2*year)")), unit_of("per hour") is None
    ('h*kr/m^2/year', True)
    """
    if text is None or not text.strip():
        return None
    tokens: list[str] = []
    rest = text.strip().translate(_SUPERSCRIPTS)
    while rest.strip():
        match = _UNIT_TOKEN.match(rest)
        if match is None:
            return None
        tokens.append(match.group().strip())
        rest = rest[match.end() :]
    parser = _UnitParser(tokens)
    unit = parser.product()
    return unit if unit is not None and parser.done() else None


@dataclass
class _UnitParser:
    """Recursive descent over unit tokens; every method returns ``None`` on bad input."""

    tokens: list[str]
    at: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.at += 1
        return token

    def done(self) -> bool:
        return self.at == len(self.tokens)

    def product(self) -> Unit | None:
        unit = self.power()
        dividing = False
        while unit is not None and self.peek() in ("*", "/", "·"):
            if self.take() == "/":
                dividing = True
            factor = self.power()
            if factor is None:
                return None
            unit = unit / factor if dividing else unit * factor
        return unit

    def power(self) -> Unit | None:
        unit = self.atom()
        if unit is not None and self.peek() in ("^", "**"):
            self.take()
            exponent = self.take()
            if exponent is None or not re.fullmatch(r"[-+]?\d+", exponent):
                return None
            unit = unit ** int(exponent)
        return unit

    def atom(self) -> Unit | None:
        token = self.take()
        if token == "(":
            unit = self.product()
            return unit if self.take() == ")" else None
        if token == "1":
            return Unit()
        if token is None or not re.match(r"[^\W\d]|[%€$]", token):
            return None
        return Unit.of({token: 1})


@dataclass(frozen=True)
class _Mismatch:
    """Units that must agree inside a formula but do not."""

    parts: tuple[tuple[str, Unit], ...]
    joiner: str


def formula_unit(
    expr: Expr, unit_of_name: Callable[[str], Unit | None]
) -> tuple[Unit | None, list[_Mismatch]]:
    """The unit of a formula's result, bottom-up, and the places where units disagree.

    ``unit_of_name`` gives a node's unit (``None`` when unknown). A number has no
    unit; an unknown operand makes a sum unknown, so only declared units are checked.

    >>> units = {"hours": unit_of("h"), "rate": unit_of("tkr/h")}
    >>> from assumption_graph.expr import parse_formula
    >>> str(formula_unit(parse_formula("hours * rate").expr, units.get)[0])
    'tkr'
    >>> formula_unit(parse_formula("hours / 60").expr, units.get)[0] is None
    True
    """
    inference = _Inference(unit_of_name)
    return inference.unit(expr), inference.mismatches


class _Inference:
    """One formula's unit, bottom-up: one method per unit rule of the table of operations.

    Each operation's rule is its :attr:`~assumption_graph.functions.FormulaOp.units`; its
    method gets the units of the operands, worked out first (left to right, by
    :func:`~assumption_graph.expr.visit`, so a sum of thousands of terms cannot overflow
    the stack). ``lookup`` gives a node's unit; ``mismatches`` collects, children first,
    the places where units that must agree do not.
    """

    def __init__(self, lookup: Callable[[str], Unit | None]) -> None:
        self.lookup = lookup
        self.mismatches: list[_Mismatch] = []

    def unit(self, expr: Expr) -> Unit | None:
        return visit(expr, lambda num: None, lambda name: self.lookup(name.id), self.combine)

    def combine(self, op: FormulaOp, expr: Expr, units: list[Unit | None]) -> Unit | None:
        return _UNIT_RULES[op.units](self, expr, units)

    def same(self, parts: Sequence[Expr], units: Sequence[Unit | None], joiner: str) -> Unit | None:
        """The unit ``parts`` share: unknown unless all are known; a mismatch when they differ."""
        known = {u for u in units if u is not None}
        if len(known) > 1:
            shown = tuple(
                (textwrap.shorten(to_source(p), 60, placeholder="..."), u)
                for p, u in zip(parts, units, strict=True)
                if u is not None
            )
            self.mismatches.append(_Mismatch(shown, joiner))
            return None
        return units[0] if known and None not in units else None

    def shared(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        """``a + b``, ``min(a, b, ...)``: the operands' one unit."""
        joiner = f" {expr.op} " if isinstance(expr, Binary | Compare) else ", "
        return self.same(operands(expr), units, joiner)

    def compared(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        self.shared(expr, units)
        return None

    def branches(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        return self.same(operands(expr)[1:], units[1:], " else ")

    def first(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        return units[0]

    def product(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        a, b = units
        return None if a is None or b is None else a * b

    def quotient(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        a, b = units
        return None if a is None or b is None else a / b

    def root(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        return None if units[0] is None else units[0].root()

    def unknown(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        return None

    def power(self, expr: Expr, units: list[Unit | None]) -> Unit | None:
        """``base ** exponent``: a literal exponent multiplies the exponents (integers only)."""
        base, value = units[0], _literal(operands(expr)[1])
        if base is None or value is None:
            return None
        if not base.powers:
            return base
        scaled = {s: e * value for s, e in base.powers}
        if any(not math.isclose(v, round(v), abs_tol=1e-9) for v in scaled.values()):
            return None
        return Unit.of({s: round(v) for s, v in scaled.items()})


_UNIT_RULES: dict[UnitRule, Callable[[_Inference, Expr, list[Unit | None]], Unit | None]] = {
    UnitRule.SAME: _Inference.shared,
    UnitRule.FIRST: _Inference.first,
    UnitRule.PRODUCT: _Inference.product,
    UnitRule.QUOTIENT: _Inference.quotient,
    UnitRule.POWER: _Inference.power,
    UnitRule.ROOT: _Inference.root,
    UnitRule.COMPARED: _Inference.compared,
    UnitRule.BRANCHES: _Inference.branches,
    UnitRule.UNKNOWN: _Inference.unknown,
}


def _literal(expr: Expr) -> float | None:
    """The value of a number literal, possibly signed; ``None`` for anything else."""
    sign = 1.0
    while isinstance(expr, Unary):
        sign = -sign if expr.op == "-" else sign
        expr = expr.operand
    return sign * expr.value if isinstance(expr, Num) else None


def _mismatch_text(mismatch: _Mismatch) -> str:
    return mismatch.joiner.join(f"{text} ({unit})" for text, unit in mismatch.parts)


class _Units:
    """Each node's unit: declared, else worked out from its formula, else unknown.

    A main node without a declared unit is an amount in the money unit. Inference
    is memoised; a node met again while it is being worked out (a cycle) is unknown.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.nodes = ctx.model.nodes
        self.money = unit_of(ctx.money_unit)
        self.inferred: dict[str, Unit | None] = {}
        self.mismatches: dict[str, list[_Mismatch]] = {}
        self.busy: set[str] = set()
        self.parsed: dict[str, Unit | None] = {}  # unit text -> unit, each text parsed once

    def declared(self, node: Node) -> Unit | None:
        if node.unit is None:
            return None
        if node.unit not in self.parsed:
            self.parsed[node.unit] = unit_of(node.unit)
        return self.parsed[node.unit]

    def of_node(self, node_id: str) -> Unit | None:
        """The unit other formulas see for ``node_id`` (a formula's once worked out)."""
        node = self.nodes.get(node_id)
        if node is None:
            return None
        if node.unit is not None:
            return self.declared(node)
        if node.kind == "main":
            return self.money
        return self.inferred.get(node_id)

    def of_formula(self, node_id: str) -> Unit | None:
        """The unit ``node_id``'s formula gives (``None`` without a formula)."""
        self._infer_upstream(node_id)
        return self.inferred.get(node_id)

    def _inferable(self, node_id: str) -> bool:
        """Whether ``node_id``'s unit comes from its formula and is still to be worked out."""
        node = self.nodes.get(node_id)
        return (
            node is not None
            and node.unit is None
            and node_id not in self.inferred
            and node_id not in self.busy
            and isinstance(node.body, Formula)
        )

    def _infer_upstream(self, node_id: str) -> None:
        """Work out ``node_id``'s formula unit, after those of the formulas it uses.

        A depth-first walk with an explicit stack (a chain of thousands of nodes written
        top-down is that deep). ``busy`` holds the nodes on the walk's path, so a node met
        again inside a cycle counts as unknown.
        """
        node = self.nodes.get(node_id)
        if node is None or node_id in self.inferred or not isinstance(node.body, Formula):
            return
        stack = [node_id]
        while stack:
            current = stack[-1]
            if current in self.inferred:
                stack.pop()
                continue
            if current not in self.busy:
                self.busy.add(current)
                waiting = [
                    n
                    for n in self.nodes[current].inputs
                    if self.nodes.get(n) is not None
                    and self.nodes[n].kind != "main"
                    and self._inferable(n)
                ]
                stack.extend(reversed(waiting))
                continue
            stack.pop()
            body = self.nodes[current].body
            assert isinstance(body, Formula)
            unit, mismatches = formula_unit(body.expr, self.of_node)
            self.busy.discard(current)
            self.inferred[current] = unit
            self.mismatches[current] = mismatches


@rule(
    "unit-mismatch",
    "error",
    "units that must agree do not (`+ - min max clip`, the branches of `if`, comparisons, a "
    "declared unit and its formula's)",
)
@rule("main-unit", "error", "a main node's unit is not the model's money unit")
def _units(ctx: Context) -> Iterator[Diagnostic]:
    """Declared units agree through formulas; main nodes are in the money unit."""
    units = _Units(ctx)
    for node in ctx.model:
        inferred = units.of_formula(node.id)
        for mismatch in units.mismatches.get(node.id, []):
            yield ctx.error(
                "unit-mismatch",
                f"'{node.id}': {_mismatch_text(mismatch)}: units differ; convert one side "
                "or correct a declared unit",
                node,
                "formula",
            )
        declared = units.declared(node)
        if declared is not None and inferred is not None and declared != inferred:
            yield ctx.error(
                "unit-mismatch",
                f"'{node.id}' declares unit {declared} but its formula "
                f"{shown(formula_text(node))} gives {inferred}; correct the formula or the unit",
                node,
                "unit",
            )
        if node.kind == "main":
            yield from _main_unit(ctx, units, node, inferred)


def _main_unit(
    ctx: Context, units: _Units, node: Node, inferred: Unit | None
) -> Iterator[Diagnostic]:
    money = ctx.money_unit
    if node.unit is not None:
        declared = units.declared(node)
        same = node.unit.strip() == money or (declared is not None and declared == units.money)
        if not same:
            yield ctx.error(
                "main-unit",
                f"main node '{node.id}' has unit {node.unit} but main assumptions are amounts "
                f"in the model's money unit ({money}); convert it to {money}, or make it a "
                "sub-assumption of a main node",
                node,
                "unit",
            )
    elif inferred is not None and units.money is not None and inferred != units.money:
        yield ctx.error(
            "main-unit",
            f"main node '{node.id}' has formula {shown(formula_text(node))} which gives "
            f"{inferred}, but main assumptions are amounts in the model's money unit "
            f"({money}); convert it to {money}",
            node,
            "formula",
        )
