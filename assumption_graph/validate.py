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
                                 value)
estimate-order         error     an estimate is not ordered low <= mid <= high
probability-range      error     a probability is outside [0, 1]
probability-sum        error     probabilities do not sum to 1 (within 1e-6)
probabilities-count    error     not one probability for each of low, mid, high
scale                  error     a spread parameter (sd, sigma) is not positive
nonfinite              error     a distribution parameter is NaN or infinite
unit-mismatch          error     units that must agree do not (``+ - min max clip``, branches
                                 of ``if``, comparisons, a declared unit vs its formula)
main-unit              error     a main node's unit is not the model's money unit
asymmetric-estimate    warning   a normal given by an estimate whose mid is not halfway
                                 between low and high (more than 1 % of the range)
missing-source         warning   an assumption with its own number states no ``source``
duplicate              warning   the same assumption entered twice (same label or formula)
no-main                warning   the model has nodes but no main node
=====================  ========  ==========================================================

The distribution codes (``estimate-order`` ... ``nonfinite``) are the ones the
distribution reports through ``problems()``. Diagnostics from loading a file
(passed as ``extra``) are merged in with their own codes.

Units are checked only where they are declared: a bare number carries no unit, and a
node whose unit cannot be worked out from declared units is not checked.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import networkx as nx

from .distributions import Distribution, Normal
from .errors import CheckFailed, Diagnostic
from .expr import Binary, Call, Compare, Expr, Formula, IfElse, Name, Num, Unary, to_source
from .model import Model, Node, Value

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
    return CheckedModel(model, _order(context.graph), tuple(found))


def _order(graph: nx.DiGraph) -> tuple[str, ...]:
    """A topological order with ties broken by id; ``()`` when the graph has a cycle."""
    try:
        return tuple(nx.lexicographical_topological_sort(graph))
    except nx.NetworkXUnfeasible:
        return ()


@dataclass
class _Context:
    """What every rule needs: the model, its graph once, and a diagnostic factory."""

    model: Model
    graph: nx.DiGraph = field(init=False)
    broken: frozenset[str] = field(init=False)
    money_unit: str = field(init=False)

    def __post_init__(self) -> None:
        self.graph = self.model.graph
        self.broken = frozenset(getattr(self.model, "broken", None) or ())
        self.money_unit = str(getattr(self.model, "money_unit", None) or "tkr")

    def error(self, code: str, message: str, node: Node | None = None, key: str = "") -> Diagnostic:
        return self._make("error", code, message, node, key)

    def warning(
        self, code: str, message: str, node: Node | None = None, key: str = ""
    ) -> Diagnostic:
        return self._make("warning", code, message, node, key)

    def _make(
        self, severity: str, code: str, message: str, node: Node | None, key: str
    ) -> Diagnostic:
        line = None if node is None else node.line_of(key) if key else node.line
        return Diagnostic(
            severity,  # type: ignore[arg-type]
            code,
            message,
            node=None if node is None else node.id,
            file=self.model.file,
            line=line,
        )


Rule = Callable[[_Context], Iterable[Diagnostic]]


# ---------------------------------------------------------------------------- structure


def _empty_model(ctx: _Context) -> Iterator[Diagnostic]:
    """A model without nodes has nothing to check or run."""
    if len(ctx.model) == 0:
        yield ctx.error(
            "empty-model",
            "the model has no nodes; add assumptions under 'nodes:'",
        )


def _cycles(ctx: _Context) -> Iterator[Diagnostic]:
    """Arrows never lead back: one diagnostic per strongly connected component."""
    for component in nx.strongly_connected_components(ctx.graph):
        if len(component) < 2:
            continue
        sub = ctx.graph.subgraph(component)
        edges = nx.find_cycle(sub, source=min(component))
        path = [u for u, _v in edges]
        start = path.index(min(path))
        path = path[start:] + path[:start]
        text = " -> ".join([*path, path[0]])
        others = sorted(component - set(path))
        also = f" (also involved: {', '.join(others)})" if others else ""
        yield ctx.error(
            "cycle",
            f"formulas go round in a cycle: {text}{also}; arrows must flow forward, "
            "so one of these formulas must stop using the node before it",
            ctx.model[path[0]],
            "formula",
        )


def _self_references(ctx: _Context) -> Iterator[Diagnostic]:
    """A formula that uses its own node can never be evaluated."""
    for node in ctx.model:
        if node.id in node.inputs:
            yield ctx.error(
                "self-reference",
                f"'{node.id}' uses itself in its formula '{_formula_text(node)}'; "
                "refer to another node, or give the starting value its own node",
                node,
                "formula",
            )


def _unknown_names(ctx: _Context) -> Iterator[Diagnostic]:
    """Every name a formula uses must be a node (ids that failed to load are skipped)."""
    ids = [*ctx.model.nodes, *sorted(ctx.broken)]
    for node in ctx.model:
        for name in sorted(node.inputs):
            if name in ctx.model or name in ctx.broken:
                continue
            close = difflib.get_close_matches(name, ids, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"define a node '{name}'"
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
        if set(ctx.graph.successors(node.id)) - {node.id}:
            continue
        yield ctx.error(
            "unused",
            f"'{node.id}' is not a main assumption and no formula uses it; "
            "use it in a formula, or mark it 'unused: true'",
            node,
        )


# ---------------------------------------------------------------------------- kinds


_EXPECTS: dict[str, tuple[str, Callable[[Node], bool]]] = {
    "uncertain": (
        "an estimate (a probability model)",
        lambda n: isinstance(n.body, Distribution),
    ),
    "intermediate": ("a formula", lambda n: isinstance(n.body, Formula)),
    "constant": (
        "a value (or a 'fixed' estimate)",
        lambda n: (
            isinstance(n.body, Value)
            or (isinstance(n.body, Distribution) and n.body.name == "fixed")
        ),
    ),
}

_FIX: dict[str, str] = {
    "uncertain": "give it 'estimate: [low, mid, high]', or change its kind",
    "intermediate": "give it a 'formula', or change its kind",
    "constant": "give it a 'value', or change its kind",
}


def _kinds(ctx: _Context) -> Iterator[Diagnostic]:
    """A node's kind matches its body; a main node may have any body."""
    for node in ctx.model:
        if node.kind not in _EXPECTS:
            continue
        expects, fits = _EXPECTS[node.kind]
        if fits(node):
            continue
        yield ctx.error(
            "kind-mismatch",
            f"'{node.id}' is kind '{node.kind}', which expects {expects}, "
            f"but has {_describe_body(node)}; {_FIX[node.kind]}",
            node,
            "kind",
        )


def _describe_body(node: Node) -> str:
    body = node.body
    if isinstance(body, Formula):
        return f"the formula '{body.text}'"
    if isinstance(body, Value):
        return f"the value {body.value:g}"
    return f"an estimate ({body.name} model)"


# ---------------------------------------------------------------------------- distributions


_PARAMETER_KEYS = ("estimate", "value", "mean", "sd", "mu", "sigma", "model")


def _distributions(ctx: _Context) -> Iterator[Diagnostic]:
    """Invalid distribution parameters, with the distribution's own codes."""
    for node in ctx.model:
        body = node.body
        if not isinstance(body, Distribution):
            continue
        for code, message in body.problems():
            if code.startswith("probabilit"):
                key = "probabilities"
            else:
                key = next((k for k in _PARAMETER_KEYS if k in node.key_lines), "estimate")
            yield ctx.error(code, f"'{node.id}': {message}", node, key)


def _asymmetric_estimates(ctx: _Context) -> Iterator[Diagnostic]:
    """A normal read from an estimate is symmetric: a skewed estimate loses its skew.

    Only possible when the distribution records the estimate it was made from
    (an ``estimate`` attribute of (low, mid, high)); otherwise nothing is reported.
    """
    for node in ctx.model:
        body = node.body
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
            f"'{node.id}' has a normal model but its estimate [{low:g}, {mid:g}, {high:g}] "
            f"is not symmetric (mid is not halfway between low and high); use a model "
            "that can be skewed (triangle, pert, lognormal) or make the estimate symmetric",
            node,
            "estimate",
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
    mismatches: list[_Mismatch] = []
    unit = _infer(expr, unit_of_name, mismatches)
    return unit, mismatches


_SAME_UNIT_FUNCTIONS = frozenset({"min", "max", "clip"})
_KEEP_UNIT_FUNCTIONS = frozenset({"abs", "floor", "ceil", "round"})


def _infer(expr: Expr, lookup: Callable[[str], Unit | None], out: list[_Mismatch]) -> Unit | None:
    def same(parts: list[Expr], joiner: str) -> Unit | None:
        units = [_infer(p, lookup, out) for p in parts]
        known = [(to_source(p), u) for p, u in zip(parts, units, strict=True) if u is not None]
        if len({u for _t, u in known}) > 1:
            out.append(_Mismatch(tuple(known), joiner))
            return None
        return units[0] if known and len(known) == len(units) else None

    match expr:
        case Num():
            return None
        case Name(id=ident):
            return lookup(ident)
        case Unary(operand=operand):
            return _infer(operand, lookup, out)
        case Binary("+" | "-" as op, left, right):
            return same([left, right], f" {op} ")
        case Binary("*" | "/" as op, left, right):
            a, b = _infer(left, lookup, out), _infer(right, lookup, out)
            if a is None or b is None:
                return None
            return a * b if op == "*" else a / b
        case Binary("**", left, right):
            return _power(_infer(left, lookup, out), right, lookup, out)
        case Compare(op, left, right):
            same([left, right], f" {op} ")
            return None
        case IfElse(cond, then, orelse):
            _infer(cond, lookup, out)
            return same([then, orelse], " else ")
        case Call(func, args) if func in _SAME_UNIT_FUNCTIONS:
            return same(list(args), ", ")
        case Call(func, args) if func in _KEEP_UNIT_FUNCTIONS:
            units = [_infer(a, lookup, out) for a in args]
            return units[0]
        case Call("sqrt", args):
            unit = _infer(args[0], lookup, out)
            return None if unit is None else unit.root()
        case Call(args=args):
            for arg in args:
                _infer(arg, lookup, out)
            return None
    raise TypeError(f"not an expression: {expr!r}")


def _power(
    base: Unit | None, exponent: Expr, lookup: Callable[[str], Unit | None], out: list[_Mismatch]
) -> Unit | None:
    """``base ** exponent``: a literal exponent multiplies the exponents (integers only)."""
    _infer(exponent, lookup, out)
    value = _literal(exponent)
    if base is None or value is None:
        return None
    if not base.powers:
        return base
    scaled = {s: e * value for s, e in base.powers}
    if any(not math.isclose(v, round(v), abs_tol=1e-9) for v in scaled.values()):
        return None
    return Unit.of({s: round(v) for s, v in scaled.items()})


def _literal(expr: Expr) -> float | None:
    """The value of a number literal, possibly signed; ``None`` for anything else."""
    match expr:
        case Num(value):
            return value
        case Unary(op, operand):
            inner = _literal(operand)
            return None if inner is None else -inner if op == "-" else inner
    return None


def _mismatch_text(mismatch: _Mismatch) -> str:
    return mismatch.joiner.join(f"{text} ({unit})" for text, unit in mismatch.parts)


class _Units:
    """Each node's unit: declared, else worked out from its formula, else unknown.

    A main node without a declared unit is an amount in the money unit. Inference
    is memoised; a node met again while it is being worked out (a cycle) is unknown.
    """

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.money = unit_of(ctx.money_unit)
        self.inferred: dict[str, Unit | None] = {}
        self.mismatches: dict[str, list[_Mismatch]] = {}
        self.busy: set[str] = set()

    def declared(self, node: Node) -> Unit | None:
        return unit_of(node.unit)

    def of_node(self, node_id: str) -> Unit | None:
        """The unit other formulas see for ``node_id``."""
        if node_id not in self.ctx.model:
            return None
        node = self.ctx.model[node_id]
        if node.unit is not None:
            return self.declared(node)
        if node.kind == "main":
            return self.money
        return self.of_formula(node_id)

    def of_formula(self, node_id: str) -> Unit | None:
        """The unit ``node_id``'s formula gives (``None`` without a formula)."""
        if node_id in self.inferred:
            return self.inferred[node_id]
        node = self.ctx.model[node_id]
        if not isinstance(node.body, Formula) or node_id in self.busy:
            return None
        self.busy.add(node_id)
        unit, mismatches = formula_unit(node.body.expr, self.of_node)
        self.busy.discard(node_id)
        self.inferred[node_id] = unit
        self.mismatches[node_id] = mismatches
        return unit


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
                f"'{_formula_text(node)}' gives {inferred}; correct the formula or the unit",
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
            f"main node '{node.id}' has formula '{_formula_text(node)}' which gives "
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
            if node.body.expr in by_expr:
                reasons.append((by_expr[node.body.expr], f"the same formula '{node.body.text}'"))
            else:
                by_expr[node.body.expr] = node
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
)
