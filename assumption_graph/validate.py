"""Every rule an assumption diagram must satisfy, as diagnostics with stable codes.

:func:`check` runs one small function per rule and returns a :class:`CheckedModel`:
the model, its evaluation order and every finding. Errors stop a model from being
compiled; warnings are advice. Each diagnostic names the node(s) involved, the file
and the best line, and says what to do.

=====================  ========  ==========================================================
code                   severity  meaning
=====================  ========  ==========================================================
empty-model            error     the model has no nodes
cycle                  error     formulas lead back to where they started (path in message)
self-reference         error     a node's formula uses the node itself
unknown-name           error     a formula uses an id that is not a node (did-you-mean)
unused                 error     a non-main node no formula uses, not marked ``unused: true``
kind-mismatch          error     the node's kind does not match its body (estimate, formula,
                                 value, situation)
estimate-order         error     an estimate is not ordered low <= mid <= high
probability-range      error     a probability is outside [0, 1] (a risk event's too)
probability-sum        error     probabilities do not sum to 1 (within 1e-6)
probabilities-count    error     not one probability for each of low, mid, high (or for
                                 each of the ``values``)
metalog-infeasible     error     a metalog's P50 so close to P10 or P90 that its quantile
                                 function would turn back (|a3|/a2 >= 1.66711)
scale                  error     a spread parameter (sd, sigma) is negative, or the model's
                                 draws, mean or variance pass float64's largest number
nonfinite              error     a distribution parameter is NaN or infinite
unit-mismatch          error     units that must agree do not (``+ - min max clip``, branches
                                 of ``if``, comparisons, a declared unit vs its formula)
main-unit              error     a main node's unit is not the model's money unit
asymmetric-estimate    warning   a normal given by an estimate whose mid is not halfway
                                 between low and high (more than 1 % of the range)
missing-source         warning   an assumption with its own number states no ``source``
duplicate              warning   the same assumption entered twice (same label or formula)
no-main                warning   the model has nodes but no main node
ignored-case-keys      warning   a node uses business-case keys (category, phase, year,
                                 years, profile, risk) but the model has no business case
correlation-node       error     a correlation names an id that is not a node
correlation-input      error     a correlation names a node that does not draw (a formula,
                                 a constant, a ``fixed`` model) or a ``situation`` node
correlation-range      error     a rank correlation outside [-1, 1]
correlation-pair       error     a node correlated with itself, or a pair listed twice
correlation-matrix     error     correlations no joint distribution can have (the copula's
                                 matrix is not positive semi-definite); names the pairs
=====================  ========  ==========================================================

A ``situation`` node (values without and with the project) is checked like an input:
it fits kind ``uncertain`` when either situation has an estimate and kind ``constant``
when neither draws; each situation's estimate is checked on its own, the message naming
the situation; it states a source and has its declared unit.

With a ``business_case:`` section (and only then) these rules apply too:

=====================  ========  ==========================================================
code                   severity  meaning
=====================  ========  ==========================================================
no-purpose             warning   the business case names no primary purpose
unknown-purpose        error     a purpose of the case, a secondary purpose or a
                                 non-economic gain's purpose is not one of PURPOSES
secondary-purpose      error     a secondary purpose repeats the primary or is listed twice
off-purpose            warning   a main node or non-economic gain serves a purpose the case
                                 names neither as primary nor as secondary
case-years             error     ``start_year`` or ``end_year`` is missing or not in 1..9999,
                                 the case ends before it starts, or it counts more than
                                 MAX_HORIZON (200) years
discount-rate          error     the discount rate is outside RATE_RANGE, -0.9 to 10
discount-percent       warning   the discount rate is above 0.25: probably written in percent
no-side                error     a main node has no ``side`` (cost, gain, operating), so the
                                 business case does not count it
unknown-category       error     a ``category`` that is not one of CATEGORIES
no-category            warning   a main node with ``side: cost`` has no ``category``
no-period              error     a main node has none of ``year``, ``years``, ``phase``
period-conflict        error     a main node has both ``year`` and ``years``, or lists a year
                                 twice in ``years``
profile                error     a ``profile`` without ``years``, or not one share per year
year-range             error     a main node's year or a phase lies outside
                                 ``start_year``..``end_year``
phase-years            error     a main node with a ``phase`` falls in a year the phase's
                                 months do not touch (it would cover more than one phase)
unknown-phase          error     a node's ``phase`` or ``current_phase`` is not one of PHASES
undefined-phase        error     a main node's phase is not defined under ``phases:``
phase-dates            error     a phase ends before it starts
phase-order            error     phases do not follow each other in the order of PHASES
phase-overlap          error     a phase starts before the one before it ends
risk-id                error     a register id is 0 (general uncertainty), negative or repeated
risk-scale             error     a risk's probability or consequence is missing or not 1-4
risk-type              error     a risk's type is missing or not one of RISK_TYPES
node-risk              error     a node's ``risk`` has more than two or repeated entries, or
                                 names a risk that is not in the register (0 is allowed)
risk-target            error     ``risk`` on a formula node, which has no estimate of its own
risk-constant          warning   ``risk`` on a constant, which has no uncertainty
main-only-key          warning   ``side``, ``category``, ``phase``, ``year``, ``years`` or
                                 ``profile`` on a node that is not a main node
no-lift                warning   a non-economic gain's level is the same before and after
situation-side         warning   a cost or gain main node depends on a ``situation`` node, so
                                 only its with-project value counts
=====================  ========  ==========================================================

The distribution codes (``estimate-order`` ... ``nonfinite``) are the ones the
distribution reports through ``problems()``. Diagnostics from loading a file
(passed as ``extra``) are merged in with their own codes.

Units are checked only where they are declared: a bare number carries no unit, and a
node whose unit cannot be worked out from declared units is not checked.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._lazy import lazy_import
from .business import (
    CATEGORIES,
    MAX_HORIZON,
    PHASES,
    PURPOSES,
    RATE_RANGE,
    RISK_TYPES,
    YEAR_RANGE,
    BusinessCase,
)
from .distributions import Distribution, Normal
from .errors import CheckFailed, Diagnostic, did_you_mean, shown
from .expr import Binary, Compare, Expr, Formula, Num, Unary, operands, to_source, visit
from .functions import FormulaOp, UnitRule
from .model import Body, Input, Model, Node, Situation, Value, draws

if TYPE_CHECKING:
    import networkx as nx
else:  # loaded when a graph algorithm is needed
    nx = lazy_import("networkx")

__all__ = ["CheckedModel", "Unit", "check", "unit_of", "formula_unit"]


# ---------------------------------------------------------------------------- result


@dataclass(frozen=True)
class CheckedModel:
    """A model with its evaluation order and every finding of :func:`check`.

    ``order`` is a topological order of the node ids (ties broken by id, so it does not
    depend on the order of the nodes in the file); it is ``()`` when the graph has a
    cycle. ``diagnostics`` are sorted by line, then code.
    """

    model: Model
    order: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The findings that stop the model from being compiled."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The findings that are advice only."""
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def raise_for_errors(self) -> CheckedModel:
        """Raise :class:`CheckFailed` with every diagnostic when there are errors.

        Returns ``self`` otherwise, so ``check(model).raise_for_errors().order`` reads
        as one step.
        """
        if not self.ok:
            raise CheckFailed(list(self.diagnostics))
        return self


def check(model: Model, extra: Iterable[Diagnostic] = ()) -> CheckedModel:
    """Check every diagram rule; ``extra`` holds diagnostics from loading, merged in.

    >>> m = Model("Consultancy")
    >>> m.add("hours", estimate=[1200, 1500, 2100], unit="h", source="offer")
    >>> m.add("rate", value=0.95, unit="tkr/h", source="price list")
    >>> m.add("cost", kind="main", formula="hours * rate", unit="tkr")
    >>> checked = check(m)
    >>> checked.ok, checked.order
    (True, ('hours', 'rate', 'cost'))
    >>> m.add("total", kind="main", formula="hours + cost")
    >>> for d in check(m).diagnostics:
    ...     print(d)  # doctest: +ELLIPSIS
    <model>: error unit-mismatch: 'total': hours (h) + cost (tkr): units differ; ...
    """
    context = _Context(model)
    found: list[Diagnostic] = list(extra)
    for rule in _RULES:
        found.extend(rule(context))
    found.sort(key=lambda d: (d.line or 0, d.code, d.node or "", d.message))
    return CheckedModel(model, context.order, tuple(found))


def _users(model: Model) -> dict[str, list[str]]:
    """Each node's users: the nodes whose formulas use it (names that are no node left out)."""
    users: dict[str, list[str]] = {node_id: [] for node_id in model.nodes}
    for node in model:
        for name in node.inputs:
            if name in users:
                users[name].append(node.id)
    return users


def _order(users: Mapping[str, list[str]]) -> tuple[str, ...]:
    """A topological order with ties broken by id; ``()`` when the graph has a cycle.

    Kahn's algorithm with a heap of the nodes whose inputs are all placed: the same
    order as networkx's ``lexicographical_topological_sort``, over the plain ``users``
    lists instead of a DiGraph, which every model on its way to a run would pay for.
    """
    waiting = dict.fromkeys(users, 0)  # inputs not yet placed
    for used_by in users.values():
        for user in used_by:
            waiting[user] += 1
    ready = [node_id for node_id, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node_id = heapq.heappop(ready)
        order.append(node_id)
        for user in users[node_id]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    return tuple(order) if len(order) == len(waiting) else ()


@dataclass
class _Context:
    """What every rule needs: the model, its users and order once, a diagnostic factory.

    The networkx :attr:`graph` is built only for a rule that needs it (a cycle to
    report, situation nodes to follow).
    """

    model: Model
    users: dict[str, list[str]] = field(init=False)
    order: tuple[str, ...] = field(init=False)
    broken: frozenset[str] = field(init=False)
    money_unit: str = field(init=False)

    def __post_init__(self) -> None:
        self.users = _users(self.model)
        self.order = _order(self.users)
        self.broken = frozenset(getattr(self.model, "broken", None) or ())
        self.money_unit = str(getattr(self.model, "money_unit", None) or "tkr")

    @functools.cached_property
    def graph(self) -> nx.DiGraph:
        return self.model.graph

    def _make(
        self,
        severity: str,
        code: str,
        message: str,
        node: Node | None = None,
        key: str = "",
        *,
        line: int | None = None,
    ) -> Diagnostic:
        """``line`` (for findings outside the nodes) wins over the node's (key's) line."""
        if line is None and node is not None:
            line = node.line_of(key) if key else node.line
        return Diagnostic(
            severity,  # type: ignore[arg-type]
            code,
            message,
            node=None if node is None else node.id,
            file=self.model.file,
            line=line,
        )

    error = functools.partialmethod(_make, "error")
    warning = functools.partialmethod(_make, "warning")


Rule = Callable[[_Context], Iterable[Diagnostic]]


# ---------------------------------------------------------------------------- structure


def _empty_model(ctx: _Context) -> Iterator[Diagnostic]:
    """A model without nodes has nothing to check or run (nodes that failed to read are
    reported already)."""
    if len(ctx.model) == 0 and not ctx.model.broken:
        yield ctx.error(
            "empty-model",
            "the model has no nodes; add assumptions under 'nodes:'",
        )


def _cycles(ctx: _Context) -> Iterator[Diagnostic]:
    """Arrows never lead back: one diagnostic per strongly connected component.

    Only a graph without a topological order has one to report.
    """
    if ctx.order or not len(ctx.model):
        return
    for component in nx.strongly_connected_components(ctx.graph):
        if len(component) < 2:
            continue
        sub = ctx.graph.subgraph(component)
        edges = nx.find_cycle(sub, source=min(component))
        path = [u for u, _v in edges]
        start = path.index(min(path))
        path = path[start:] + path[:start]
        text = _cycle_text(path)
        others = sorted(component - set(path))
        also = f" (also involved: {_listed(others)})" if others else ""
        yield ctx.error(
            "cycle",
            f"formulas go round in a cycle: {text}{also}; arrows must flow forward, "
            "so one of these formulas must stop using the node before it",
            ctx.model[path[0]],
            "formula",
        )


_SHOWN = 12  # ids a message lists before it abbreviates


def _cycle_text(path: list[str]) -> str:
    """``a -> b -> c -> a``; a long cycle by its first and last few nodes and its length."""
    if len(path) <= _SHOWN:
        return " -> ".join([*path, path[0]])
    hidden = len(path) - _SHOWN + 2
    shown = [*path[: _SHOWN - 4], f"... {hidden} more ...", *path[-2:], path[0]]
    return " -> ".join(shown) + f" ({len(path)} nodes)"


def _listed(ids: list[str]) -> str:
    """``a, b, c``; a long list by its first few ids and how many more there are."""
    if len(ids) <= _SHOWN:
        return ", ".join(ids)
    return ", ".join(ids[:_SHOWN]) + f" and {len(ids) - _SHOWN} more"


def _self_references(ctx: _Context) -> Iterator[Diagnostic]:
    """A formula that uses its own node can never be evaluated."""
    for node in ctx.model:
        if node.id in node.inputs:
            yield ctx.error(
                "self-reference",
                f"'{node.id}' uses itself in its formula {shown(_formula_text(node))}; "
                "refer to another node, or give the starting value its own node",
                node,
                "formula",
            )


def _unknown_names(ctx: _Context) -> Iterator[Diagnostic]:
    """Every name a formula uses must be a node (ids that failed to load are skipped)."""
    nodes = ctx.model.nodes
    ids = [*nodes, *sorted(ctx.broken)]
    for node in ctx.model:
        if nodes.keys() >= node.inputs:  # the usual case, tested at once: every name is a node
            continue
        unknown = [n for n in node.inputs if n not in nodes and n not in ctx.broken]
        for name in sorted(unknown):
            hint = did_you_mean(name, ids, f"define a node '{name}'")
            yield ctx.error(
                "unknown-name",
                f"'{node.id}' uses '{name}', which is not a node; {hint}",
                node,
                "formula",
            )


def _unused(ctx: _Context) -> Iterator[Diagnostic]:
    """Every non-main node feeds a formula, unless marked ``unused: true``.

    Skipped when some nodes failed to load: their formulas may use the node.
    """
    if ctx.broken:
        return
    for node in ctx.model:
        if node.kind == "main" or node.unused:
            continue
        users = ctx.users[node.id]
        if users and users != [node.id]:  # used, and not only by itself
            continue
        yield ctx.error(
            "unused",
            f"'{node.id}' is not a main assumption and no formula uses it; "
            "use it in a formula, or mark it 'unused: true'",
            node,
        )


# ---------------------------------------------------------------------------- kinds


def _own_inputs(node: Node) -> tuple[tuple[str | None, Input], ...]:
    """The bodies that give ``node`` its own number, each with its situation's name.

    ``((None, body),)`` for an estimate or a value, ``(("without", a), ("with", b))``
    for a situation, ``()`` for a formula.
    """
    body = node.body
    if isinstance(body, Situation):
        return body.entries()
    if isinstance(body, Formula):
        return ()
    return ((None, body),)


def _named(node: Node, situation: str | None) -> str:
    """How a message names the node, or one situation of it: ``'x' (situation 'with')``."""
    return f"'{node.id}'" if situation is None else f"'{node.id}' (situation '{situation}')"


_EXPECTS: dict[str, tuple[str, Callable[[Node], bool]]] = {
    "uncertain": (
        "an estimate (a probability model)",
        lambda n: any(isinstance(b, Distribution) for _s, b in _own_inputs(n)),
    ),
    "intermediate": ("a formula", lambda n: isinstance(n.body, Formula)),
    "constant": (
        "a value (or a 'fixed' estimate)",
        lambda n: bool(_own_inputs(n)) and not draws(n.body),
    ),
}

_FIX: dict[str, str] = {
    "uncertain": "give it 'estimate: [low, mid, high]', or change its kind",
    "intermediate": "give it a 'formula', or change its kind",
    "constant": "give it a 'value', or change its kind",
}


def _kinds(ctx: _Context) -> Iterator[Diagnostic]:
    """A node's kind matches its body; a main node may have any body.

    A situation counts as an estimate when either situation has one, and as a value
    when neither draws.
    """
    for node in ctx.model:
        if node.kind not in _EXPECTS:
            continue
        expects, fits = _EXPECTS[node.kind]
        if fits(node):
            continue
        yield ctx.error(
            "kind-mismatch",
            f"'{node.id}' is kind '{node.kind}', which expects {expects}, "
            f"but has {_describe(node.body)}; {_FIX[node.kind]}",
            node,
            "kind",
        )


def _describe(body: Body) -> str:
    if isinstance(body, Formula):
        return f"the formula {shown(body.text)}"
    if isinstance(body, Value):
        return f"the value {body.value:g}"
    if isinstance(body, Situation):
        parts = ", ".join(f"{name}: {_describe(entry)}" for name, entry in body.entries())
        return f"a situation ({parts})"
    return f"an estimate ({body.name} model)"


# ---------------------------------------------------------------------------- distributions


_PARAMETER_KEYS = ("estimate", "value", "mean", "sd", "mu", "sigma", "model")


def _distributions(ctx: _Context) -> Iterator[Diagnostic]:
    """Invalid distribution parameters, with the distribution's own codes.

    A situation's two estimates are checked each, the message naming the situation.
    """
    for node in ctx.model:
        for situation, body in _own_inputs(node):
            if not isinstance(body, Distribution):
                continue
            for code, message in body.problems():
                if situation is not None:
                    key = "situation"
                elif code.startswith("probabilit"):  # a risk event's own, else the list's
                    key = "probability" if "probability" in node.key_lines else "probabilities"
                else:
                    key = next((k for k in _PARAMETER_KEYS if k in node.key_lines), "estimate")
                yield ctx.error(code, f"{_named(node, situation)}: {message}", node, key)


def _asymmetric_estimates(ctx: _Context) -> Iterator[Diagnostic]:
    """A normal read from an estimate is symmetric: a skewed estimate loses its skew.

    Only possible when the distribution records the estimate it was made from
    (an ``estimate`` attribute of (low, mid, high)); otherwise nothing is reported.
    """
    for node in ctx.model:
        for situation, body in _own_inputs(node):
            if not isinstance(body, Normal):
                continue
            estimate = getattr(body, "estimate", None)
            if estimate is None or len(estimate) != 3:
                continue
            low, mid, high = (float(v) for v in estimate)
            spread = high - low
            if spread <= 0 or abs(mid - (low + high) / 2) <= 0.01 * spread:
                continue
            yield ctx.warning(
                "asymmetric-estimate",
                f"{_named(node, situation)} has a normal model but its estimate "
                f"[{low:g}, {mid:g}, {high:g}] is not symmetric (mid is not halfway between "
                "low and high); use a model that can be skewed (triangle, pert, lognormal) "
                "or make the estimate symmetric",
                node,
                "estimate" if situation is None else "situation",
            )


# ---------------------------------------------------------------------------- units


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

    def __init__(self, ctx: _Context) -> None:
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


def _units(ctx: _Context) -> Iterator[Diagnostic]:
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
                f"{shown(_formula_text(node))} gives {inferred}; correct the formula or the unit",
                node,
                "unit",
            )
        if node.kind == "main":
            yield from _main_unit(ctx, units, node, inferred)


def _main_unit(
    ctx: _Context, units: _Units, node: Node, inferred: Unit | None
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
            f"main node '{node.id}' has formula {shown(_formula_text(node))} which gives "
            f"{inferred}, but main assumptions are amounts in the model's money unit "
            f"({money}); convert it to {money}",
            node,
            "formula",
        )


# ---------------------------------------------------------------------------- advice


def _missing_sources(ctx: _Context) -> Iterator[Diagnostic]:
    """Every assumption with its own number says where the number comes from."""
    for node in ctx.model:
        own_number = node.kind in ("uncertain", "constant") or (
            node.kind == "main" and not isinstance(node.body, Formula)
        )
        if own_number and not (node.source or "").strip():
            yield ctx.warning(
                "missing-source",
                f"'{node.id}' states no source; add 'source:' saying where the number "
                "comes from (kilde)",
                node,
            )


def _duplicates(ctx: _Context) -> Iterator[Diagnostic]:
    """A sub-assumption is entered once and reused: same label or same formula twice."""
    by_label: dict[str, Node] = {}
    by_expr: dict[Expr, Node] = {}
    for node in ctx.model:
        if node.kind == "main":
            continue
        reasons: list[tuple[Node, str]] = []
        label = " ".join(node.label.split()).casefold()
        if label:
            if label in by_label:
                reasons.append((by_label[label], f"the same label '{node.label.strip()}'"))
            else:
                by_label[label] = node
        if isinstance(node.body, Formula):
            earlier = by_expr.setdefault(node.body.expr, node)  # hashes the tree once
            if earlier is not node:
                reasons.append((earlier, f"the same formula {shown(node.body.text)}"))
        if not reasons:
            continue
        first = reasons[0][0]
        why = " and ".join(reason for other, reason in reasons if other is first)
        yield ctx.warning(
            "duplicate",
            f"'{node.id}' and '{first.id}' look like the same assumption entered twice "
            f"({why}); enter it once and reuse '{first.id}'",
            node,
        )


def _no_main(ctx: _Context) -> Iterator[Diagnostic]:
    """Without a main node nothing is carried into the business case.

    Not said while some nodes could not be read: one of them may be the main node.
    """
    if len(ctx.model) and not ctx.model.main_nodes and not ctx.broken:
        yield ctx.warning(
            "no-main",
            "the model has no main node, so nothing is carried into the business case "
            "('run' shows main nodes by default); mark the amounts with 'kind: main'",
        )


# ---------------------------------------------------------------------------- business case
#
# These rules apply only to a model with a ``business_case:`` section; a plain graph
# stays a plain graph. Each gets the business case as a second argument.

CaseRule = Callable[[_Context, BusinessCase], Iterable[Diagnostic]]


def _with_case(rule: CaseRule) -> Rule:
    """A rule that runs only when the model has a business case."""

    def run(ctx: _Context) -> Iterable[Diagnostic]:
        case = ctx.model.business_case
        return () if case is None else rule(ctx, case)

    return functools.update_wrapper(run, rule)


def _suggest(word: str, choices: Iterable[str]) -> str:
    """``did you mean 'x'?`` or the list of choices."""
    choices = list(choices)
    return did_you_mean(word, choices, "use one of " + ", ".join(choices))


def _main_nodes(ctx: _Context) -> Iterator[Node]:
    return (node for node in ctx.model if node.kind == "main")


@_with_case
def _case_purposes(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """One primary purpose of PURPOSES; secondary ones valid, each once, not the primary."""
    if case.purpose is None:
        yield ctx.warning(
            "no-purpose",
            "the business case names no primary purpose; add 'purpose:' under "
            f"'business_case:' ({', '.join(PURPOSES)})",
            line=case.line,
        )
    named = [
        ("'purpose'", case.purpose, case.line_of("purpose")),
        *(
            ("'secondary_purposes'", p, case.line_of("secondary_purposes"))
            for p in case.secondary_purposes
        ),
        *(
            (f"the non-economic gain '{g.name}'", g.purpose, g.line)
            for g in case.non_economic_gains
        ),
    ]
    for where, purpose, line in named:
        if purpose is not None and purpose not in PURPOSES:
            yield ctx.error(
                "unknown-purpose",
                f"{where} names the purpose '{purpose}', which is not a purpose of the "
                f"model; {_suggest(purpose, PURPOSES)}",
                line=line,
            )
    seen = {case.purpose}
    for purpose in case.secondary_purposes:
        if purpose in seen:
            what = "the primary purpose" if purpose == case.purpose else "listed twice"
            yield ctx.error(
                "secondary-purpose",
                f"the secondary purpose '{purpose}' is {what}; a business case has one "
                "primary purpose and other, different secondary ones: remove it from "
                "'secondary_purposes'",
                line=case.line_of("secondary_purposes"),
            )
        seen.add(purpose)


@_with_case
def _off_purposes(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Main nodes and non-economic gains serve the case's primary or a secondary purpose."""
    if case.purpose not in PURPOSES:
        return  # said once by ``no-purpose`` or ``unknown-purpose``
    named = {case.purpose, *case.secondary_purposes}
    fix = "add it to 'secondary_purposes' or correct the purpose"
    for node in _main_nodes(ctx):
        for purpose in node.purpose:
            if purpose not in named:
                yield ctx.warning(
                    "off-purpose",
                    f"main node '{node.id}' serves '{purpose}', which is neither the business "
                    f"case's primary nor a secondary purpose; {fix}",
                    node,
                    "purpose",
                )
    for gain in case.non_economic_gains:
        if gain.purpose in PURPOSES and gain.purpose not in named:
            yield ctx.warning(
                "off-purpose",
                f"the non-economic gain '{gain.name}' serves '{gain.purpose}', which is "
                f"neither the business case's primary nor a secondary purpose; {fix}",
                line=gain.line,
            )


@_with_case
def _case_years(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """``start_year`` and ``end_year``: given, in 1..9999, in order, MAX_HORIZON years at most."""
    first, last = YEAR_RANGE
    wrong = False
    for key in ("start_year", "end_year"):
        year = getattr(case, key)
        if year is None:
            wrong = True
            yield ctx.error(
                "case-years",
                f"the business case has no '{key}'; give the first and last year counted, "
                "e.g. 'start_year: 2025' and 'end_year: 2030'",
                line=case.line,
            )
        elif not first <= year <= last:
            wrong = True
            yield ctx.error(
                "case-years",
                f"{key} {year} is not a calendar year between {first} and {last}; "
                "give the year in full, e.g. 2025",
                line=case.line_of(key),
            )
    if not wrong and case.start_year is not None and case.end_year is not None:
        if case.start_year > case.end_year:
            yield ctx.error(
                "case-years",
                f"the business case ends ({case.end_year}) before it starts "
                f"({case.start_year}); swap 'start_year' and 'end_year'",
                line=case.line_of("end_year"),
            )
        elif case.end_year - case.start_year >= MAX_HORIZON:
            yield ctx.error(
                "case-years",
                f"the business case counts {case.end_year - case.start_year + 1:,} years "
                f"({case.start_year} to {case.end_year}); it may count at most {MAX_HORIZON} "
                "years: shorten the horizon, and count what lasts beyond it as a residual value",
                line=case.line_of("end_year"),
            )


_PERCENT_LIKE_RATE = 0.25


def _rate_error(key: str, rate: float) -> str | None:
    """Why a yearly rate (one of _RATE_KEYS) is outside RATE_RANGE, or None."""
    lowest, highest = RATE_RANGE
    if rate < lowest:
        return (
            f"{key} {rate:g} is below {lowest:g} ({lowest * 100:g} % a year), which "
            "discounts nothing sensibly; give the yearly rate as a fraction, e.g. 0.05 for 5 %"
        )
    if rate > highest:
        return (
            f"{key} {rate:g} is above {highest:g} ({highest * 100:g} % a year); "
            + _in_percent(rate)
        )
    return None


def _in_percent(rate: float) -> str:
    """The advice for a rate that looks written in percent."""
    return f"rates are fractions (0.05 is 5 %): if you meant {rate:g} %, write {rate / 100:g}"


_RATE_KEYS = ("discount_rate", "finance_rate", "reinvestment_rate")


@_with_case
def _discount_rate(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A yearly rate (discount, and the MIRR's finance and reinvestment rates) is a
    fraction within RATE_RANGE; one above 0.25 is probably in percent."""
    for key in _RATE_KEYS:
        rate = getattr(case, key)
        if rate is None:
            continue
        line = case.line_of(key)
        error = _rate_error(key, rate)
        if error is not None:
            yield ctx.error("discount-rate", error, line=line)
        elif rate > _PERCENT_LIKE_RATE:
            yield ctx.warning(
                "discount-percent",
                f"{key} {rate:g} means {rate * 100:g} % a year; " + _in_percent(rate),
                line=line,
            )


@_with_case
def _sides(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Every main node is a cost, a gain or an operating cost."""
    for node in _main_nodes(ctx):
        if node.side is None:
            yield ctx.error(
                "no-side",
                f"main node '{node.id}' has no 'side', so the business case does not count "
                "it; add 'side: cost', 'side: gain' or 'side: operating'",
                node,
            )


@_with_case
def _situation_sides(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A cost or gain that differs without and with the project counts with its with-value."""
    depends = ctx.model.situation_dependents()
    for node in _main_nodes(ctx):
        if node.side in ("cost", "gain") and node.id in depends:
            yield ctx.warning(
                "situation-side",
                f"'{node.id}' is a {node.side} that depends on a 'situation' node; only its "
                "value with the project counts. Make it 'side: operating' to count the "
                "difference between the situations",
                node,
                "side",
            )


@_with_case
def _categories(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Categories are known; a cost carries one."""
    for node in ctx.model:
        if node.category is not None and node.category not in CATEGORIES:
            yield ctx.error(
                "unknown-category",
                f"'{node.id}' has the unknown category '{node.category}'; "
                f"{_suggest(node.category, CATEGORIES)}",
                node,
                "category",
            )
        elif node.kind == "main" and node.side == "cost" and node.category is None:
            yield ctx.warning(
                "no-category",
                f"cost '{node.id}' has no 'category', so it is counted under '(no category)'; "
                "add one of " + ", ".join(CATEGORIES),
                node,
            )


_PERIOD_KEYS = "'year', 'years' or 'phase'"


@_with_case
def _periods(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A main node says when its amount falls: one year, a list of years, or one phase."""
    for node in _main_nodes(ctx):
        if node.year is None and not node.years and node.phase is None:
            yield ctx.error(
                "no-period",
                f"main node '{node.id}' gives no {_PERIOD_KEYS}, so its amount falls in no "
                "year; add one (e.g. 'year: 2026', 'years: [2026, 2027]' or "
                "'phase: implementation')",
                node,
            )
        if node.year is not None and node.years:
            yield ctx.error(
                "period-conflict",
                f"main node '{node.id}' has both 'year' and 'years'; keep 'year' for an "
                "amount that falls once, or 'years' for one that counts in each listed year",
                node,
                "years",
            )
        repeated = sorted({y for y in node.years if node.years.count(y) > 1})
        if repeated:
            yield ctx.error(
                "period-conflict",
                f"main node '{node.id}' lists the year(s) {_join(repeated)} more than once in "
                "'years'; list each year once and give the shares in 'profile'",
                node,
                "years",
            )


@_with_case
def _profiles(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A ``profile`` goes with ``years``, one share per year."""
    for node in _main_nodes(ctx):
        if node.profile is None:
            continue
        if not node.years:
            yield ctx.error(
                "profile",
                f"main node '{node.id}' has a 'profile' but no 'years' to spread it over; "
                "add 'years:' with one year per share, or remove 'profile'",
                node,
                "profile",
            )
        elif len(node.profile) != len(node.years):
            yield ctx.error(
                "profile",
                f"main node '{node.id}' has {len(node.profile)} profile share(s) for "
                f"{len(node.years)} year(s); give one share for each year in 'years'",
                node,
                "profile",
            )


@_with_case
def _node_years(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A main node's years lie inside the horizon and, with a phase, inside that phase.

    The guide: one main assumption covers at most one phase or one year, or a list
    of years of the same amount. So a node with a phase and ``year``/``years`` covers
    that one phase: each of its years must hold some of the phase's months.
    """
    horizon = case.years
    for node in _main_nodes(ctx):
        listed = [node.year] if node.year is not None else list(node.years)
        outside = [y for y in listed if horizon and y not in horizon]
        key = "year" if node.year is not None else "years"
        if outside:
            yield ctx.error(
                "year-range",
                f"main node '{node.id}' falls in {_join(outside)}, outside the business case's "
                f"years {horizon.start}-{horizon.stop - 1}; correct the year(s) or extend "
                "'start_year'/'end_year'",
                node,
                key,
            )
        phase = case.phases.get(node.phase or "")
        if phase is None or phase.start > phase.end:
            continue
        beside = [y for y in listed if phase.months_in(y) == 0]
        if beside:
            yield ctx.error(
                "phase-years",
                f"main node '{node.id}' is in phase '{phase.name}' ({phase.start} to "
                f"{phase.end}) but falls in {_join(beside)}, outside that phase; one main "
                "assumption covers one phase or one year (or years of the same amount): "
                "split it into one node per phase, or drop 'phase'",
                node,
                key,
            )


@_with_case
def _phase_names(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Phase names are known, and a main node's phase is defined under ``phases:``."""
    if case.current_phase is not None and case.current_phase not in PHASES:
        yield ctx.error(
            "unknown-phase",
            f"'current_phase' is '{case.current_phase}', which is not a phase; "
            f"{_suggest(case.current_phase, PHASES)}",
            line=case.line_of("current_phase"),
        )
    for node in ctx.model:
        if node.phase is None:
            continue
        if node.phase not in PHASES:
            yield ctx.error(
                "unknown-phase",
                f"'{node.id}' has the unknown phase '{node.phase}'; {_suggest(node.phase, PHASES)}",
                node,
                "phase",
            )
        elif node.kind == "main" and node.phase not in case.phases:
            yield ctx.error(
                "undefined-phase",
                f"main node '{node.id}' is in phase '{node.phase}', which 'phases:' does not "
                f"define; add '{node.phase}: [YYYY-MM, YYYY-MM]' under 'business_case: "
                "phases:'",
                node,
                "phase",
            )


@_with_case
def _phase_spans(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Phases start before they end, follow each other in order without overlap, and lie
    inside the horizon."""
    horizon = case.years
    for phase in case.phases.values():
        if phase.start > phase.end:
            yield ctx.error(
                "phase-dates",
                f"phase '{phase.name}' ends ({phase.end}) before it starts ({phase.start}); "
                "give [first month, last month]",
                line=phase.line,
            )
        elif horizon and (phase.start.year < horizon.start or phase.end.year >= horizon.stop):
            yield ctx.error(
                "year-range",
                f"phase '{phase.name}' ({phase.start} to {phase.end}) is not inside the "
                f"business case's years {horizon.start}-{horizon.stop - 1}; correct the "
                "months or extend 'start_year'/'end_year'",
                line=phase.line,
            )
    ordered = sorted(case.phases.values(), key=lambda p: PHASES.index(p.name))
    for before, after in itertools.pairwise(ordered):
        if after.start < before.start:
            yield ctx.error(
                "phase-order",
                f"phase '{after.name}' starts ({after.start}) before phase '{before.name}' "
                f"({before.start}); phases follow each other in the order "
                f"{', '.join(PHASES)}: correct the months",
                line=after.line,
            )
        elif after.start <= before.end:
            yield ctx.error(
                "phase-overlap",
                f"phase '{after.name}' starts ({after.start}) before phase '{before.name}' "
                f"ends ({before.end}); a month belongs to one phase: let '{after.name}' start "
                "after it",
                line=after.line,
            )


_RISK_SCALE = range(1, 5)


@_with_case
def _risk_register(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Risk ids are unique and positive (0 is general uncertainty); scales 1-4; known types."""
    seen: set[int] = set()
    for risk in case.risks:
        what = f"risk {risk.id} ('{risk.name}')"
        if risk.id <= 0:
            why = "is reserved for general uncertainty" if risk.id == 0 else "is negative"
            yield ctx.error(
                "risk-id",
                f"{what}: id {risk.id} {why}; number the register's risks 1, 2, 3, ...",
                line=risk.line,
            )
        elif risk.id in seen:
            yield ctx.error(
                "risk-id",
                f"{what}: the id {risk.id} is used twice in the register; give each risk "
                "its own id",
                line=risk.line,
            )
        seen.add(risk.id)
        for scale in ("probability", "consequence"):
            value = getattr(risk, scale)
            if value not in _RISK_SCALE:
                got = "but it is missing" if value is None else f"got {value}"
                yield ctx.error(
                    "risk-scale",
                    f"{what}: {scale} must be a whole number from 1 to 4, {got}",
                    line=risk.line,
                )
        if risk.type not in RISK_TYPES:
            given = f"type '{risk.type}' is not a risk type" if risk.type else "it has no type"
            yield ctx.error(
                "risk-type",
                f"{what}: {given}; {_suggest(risk.type, RISK_TYPES)}",
                line=risk.line,
            )


@_with_case
def _node_risks(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A node's ``risk`` names one or two risks of the register, on a node with an estimate."""
    ids = {risk.id for risk in case.register}
    for node in ctx.model:
        if not node.risk:
            continue
        if len(node.risk) > 2 or len(set(node.risk)) != len(node.risk):
            yield ctx.error(
                "node-risk",
                f"'{node.id}' has risk {list(node.risk)}; give a primary risk and at most "
                "one, different, secondary risk: [primary] or [primary, secondary]",
                node,
                "risk",
            )
        unknown = [i for i in node.risk if i not in ids]
        if unknown:
            yield ctx.error(
                "node-risk",
                f"'{node.id}' is tied to risk {_join(unknown)}, which is not in the risk "
                "register; add it under 'business_case: risks:', or use 0 for general "
                "uncertainty",
                node,
                "risk",
            )
        if isinstance(node.body, Formula):
            yield ctx.error(
                "risk-target",
                f"'{node.id}' has a formula, so it has no estimate of its own to tie to a "
                "risk; put 'risk' on the uncertain inputs its formula uses",
                node,
                "risk",
            )
        elif node.kind == "constant":
            yield ctx.warning(
                "risk-constant",
                f"'{node.id}' is a constant: it has no uncertainty, so no risk amount to "
                "attribute; remove 'risk', or give it an estimate",
                node,
                "risk",
            )


_MAIN_ONLY_KEYS = ("side", "category", "phase", "year", "years", "profile")
_CASE_NODE_KEYS = ("category", "phase", "year", "years", "profile", "risk")


def _keys_used(node: Node, keys: Iterable[str]) -> list[str]:
    """Those of ``keys`` the node sets (not at their default)."""
    return [key for key in keys if getattr(node, key) not in (None, ())]


def _quoted(keys: Iterable[str]) -> str:
    return ", ".join(f"'{key}'" for key in keys)


@_with_case
def _main_only_keys(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """Side, category, phase and years place a main node's amount; elsewhere they do nothing."""
    for node in ctx.model:
        used = _keys_used(node, _MAIN_ONLY_KEYS) if node.kind != "main" else []
        if used:
            yield ctx.warning(
                "main-only-key",
                f"only main nodes carry {_quoted(used)}; '{node.id}' is kind '{node.kind}', "
                "so the business case ignores them: remove them, or make it 'kind: main'",
                node,
                used[0],
            )


@_with_case
def _non_economic_gains(ctx: _Context, case: BusinessCase) -> Iterator[Diagnostic]:
    """A non-economic gain lifts a level: before and after differ."""
    for gain in case.non_economic_gains:
        if gain.lift == 0:
            yield ctx.warning(
                "no-lift",
                f"the non-economic gain '{gain.name}' has the same level before and after "
                f"({gain.before:g}), so there is no lift to price; correct 'before'/'after' "
                "or remove the gain",
                line=gain.line,
            )


def _ignored_case_keys(ctx: _Context) -> Iterator[Diagnostic]:
    """Without a business case its node keys do nothing: one warning per node using them.

    ``side`` and ``situation`` are not among them: they mean something in a plain graph
    too (best and worst case, without and with the project).
    """
    if ctx.model.business_case is not None or ctx.model.unread_case:
        return
    for node in ctx.model:
        used = _keys_used(node, _CASE_NODE_KEYS)
        if used:
            yield ctx.warning(
                "ignored-case-keys",
                f"'{node.id}' has {_quoted(used)}: business-case keys are ignored without a "
                "'business_case:' section; add one, or remove the keys",
                node,
                used[0],
            )


# ---------------------------------------------------------------------------- correlations


def _correlations(ctx: _Context) -> Iterator[Diagnostic]:
    """Each ``correlations:`` entry names two different drawing inputs and a rho in [-1, 1]."""
    seen: set[frozenset[str]] = set()
    valid: dict[tuple[str, str, float], int | None] = {}  # pair -> its line
    for c in ctx.model.correlations:
        found = [d for x in (c.a, c.b) for d in _correlated_node(ctx, x, c.line)]
        if not (math.isfinite(c.rho) and -1.0 <= c.rho <= 1.0):
            found.append(
                ctx.error(
                    "correlation-range",
                    f"the correlation of '{c.a}' and '{c.b}' is {c.rho!r}, outside [-1, 1]; "
                    "give a rank correlation between -1 and 1",
                    line=c.line,
                )
            )
        pair = frozenset((c.a, c.b))
        if c.a == c.b or pair in seen:
            what = "with itself" if c.a == c.b else "twice"
            found.append(
                ctx.error(
                    "correlation-pair",
                    f"'{c.a}' and '{c.b}' are correlated {what}; list each pair of two "
                    "different inputs once",
                    line=c.line,
                )
            )
        seen.add(pair)
        yield from found
        if not found:
            valid[c.pair] = c.line
    if not valid:
        return
    from .sampling import not_positive_semidefinite  # numpy: only a file with correlations

    bad = not_positive_semidefinite(list(valid))
    if bad:
        listed = "; ".join(f"{a}~{b} {rho:g}" for a, b, rho in bad)
        yield ctx.error(
            "correlation-matrix",
            f"no joint distribution has these rank correlations together: {listed}; "
            "weaken some of them (e.g. if a~b and b~c are strong, a~c cannot be strongly "
            "negative)",
            line=valid[bad[0]],
        )


def _correlated_node(ctx: _Context, node_id: str, line: int | None) -> Iterator[Diagnostic]:
    if node_id not in ctx.model:
        hint = did_you_mean(node_id, [n.id for n in ctx.model], "check the node ids")
        yield ctx.error(
            "correlation-node",
            f"a correlation names '{node_id}', which is not a node; {hint}",
            line=line,
        )
        return
    node = ctx.model[node_id]
    if isinstance(node.body, Situation) or not draws(node.body):
        what = "a situation node" if isinstance(node.body, Situation) else "not a drawing input"
        yield ctx.error(
            "correlation-input",
            f"a correlation names '{node_id}', which is {what}; correlate uncertain inputs "
            "with a probability model (not fixed), not formulas, constants or situations",
            node,
            line=line,
        )


def _join(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)


def _formula_text(node: Node) -> str:
    return node.body.text if isinstance(node.body, Formula) else ""


_RULES: tuple[Rule, ...] = (
    _empty_model,
    _cycles,
    _self_references,
    _unknown_names,
    _unused,
    _kinds,
    _distributions,
    _asymmetric_estimates,
    _units,
    _missing_sources,
    _duplicates,
    _no_main,
    _ignored_case_keys,
    _correlations,
    _case_purposes,
    _off_purposes,
    _case_years,
    _discount_rate,
    _sides,
    _situation_sides,
    _categories,
    _periods,
    _profiles,
    _node_years,
    _phase_names,
    _phase_spans,
    _risk_register,
    _node_risks,
    _main_only_keys,
    _non_economic_gains,
)
