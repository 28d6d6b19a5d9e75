"""Rules on the graph itself: nodes, arrows, names, kinds, and advice on good form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .._lazy import lazy_import
from ..distributions import Distribution
from ..errors import Diagnostic, did_you_mean, shown
from ..expr import Expr, Formula
from ..model import Body, Node, Situation, Value, draws
from .context import Context, formula_text, own_inputs
from .registry import rule

if TYPE_CHECKING:
    import networkx as nx
else:  # loaded when a graph algorithm is needed
    nx = lazy_import("networkx")


@rule("empty-model", "error", "the model has no nodes")
def _empty_model(ctx: Context) -> Iterator[Diagnostic]:
    """A model without nodes has nothing to check or run (nodes that failed to read are
    reported already)."""
    if len(ctx.model) == 0 and not ctx.model.broken:
        yield ctx.error(
            "empty-model",
            "the model has no nodes; add assumptions under 'nodes:'",
        )


@rule(
    "cycle",
    "error",
    "formulas lead back to where they started; the message has the path (a long one by its "
    "ends and length)",
)
def _cycles(ctx: Context) -> Iterator[Diagnostic]:
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


@rule("self-reference", "error", "a node's formula uses the node itself")
def _self_references(ctx: Context) -> Iterator[Diagnostic]:
    """A formula that uses its own node can never be evaluated."""
    for node in ctx.model:
        if node.id in node.inputs:
            yield ctx.error(
                "self-reference",
                f"'{node.id}' uses itself in its formula {shown(formula_text(node))}; "
                "refer to another node, or give the starting value its own node",
                node,
                "formula",
            )


@rule("unknown-name", "error", 'a formula uses an id that is not a node (with a "did you mean")')
def _unknown_names(ctx: Context) -> Iterator[Diagnostic]:
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


@rule(
    "unused",
    "error",
    "a node that is not a main node, that no formula uses and that is not marked `unused: true`",
)
def _unused(ctx: Context) -> Iterator[Diagnostic]:
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


_EXPECTS: dict[str, tuple[str, Callable[[Node], bool]]] = {
    "uncertain": (
        "an estimate (a probability model)",
        lambda n: any(isinstance(b, Distribution) for _s, b in own_inputs(n)),
    ),
    "intermediate": ("a formula", lambda n: isinstance(n.body, Formula)),
    "constant": (
        "a value (or a 'fixed' estimate)",
        lambda n: bool(own_inputs(n)) and not draws(n.body),
    ),
}

_FIX: dict[str, str] = {
    "uncertain": "give it 'estimate: [low, mid, high]', or change its kind",
    "intermediate": "give it a 'formula', or change its kind",
    "constant": "give it a 'value', or change its kind",
}


@rule(
    "kind-mismatch",
    "error",
    "the node's kind does not match its body (estimate, formula, value or situation), e.g. an "
    "`uncertain` node with a formula",
)
def _kinds(ctx: Context) -> Iterator[Diagnostic]:
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


@rule("missing-source", "warning", "an assumption with its own number states no `source`")
def _missing_sources(ctx: Context) -> Iterator[Diagnostic]:
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


@rule("duplicate", "warning", "the same assumption entered twice (the same label or formula)")
def _duplicates(ctx: Context) -> Iterator[Diagnostic]:
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


@rule("no-main", "warning", "the model has nodes but no main node")
def _no_main(ctx: Context) -> Iterator[Diagnostic]:
    """Without a main node nothing is carried into the business case.

    Not said while some nodes could not be read: one of them may be the main node.
    """
    if len(ctx.model) and not ctx.model.main_nodes and not ctx.broken:
        yield ctx.warning(
            "no-main",
            "the model has no main node, so nothing is carried into the business case "
            "('run' shows main nodes by default); mark the amounts with 'kind: main'",
        )
