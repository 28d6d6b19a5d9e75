"""The business case as a plain graph: situations doubled, key figures added as nodes.

The kernel knows nothing about business cases. :func:`expand` rewrites a checked
model into a plain one that it can run:

- a ``situation`` node becomes two inputs, ``id@without`` and ``id`` (the with-project
  value), each with its own random stream and its own best and worst ends;
- every node that depends on a situation node is evaluated in both situations:
  ``id@without`` uses the without-copies of its inputs, ``id`` the with-copies.
  Nodes that depend on no situation node exist once and are shared, so within a
  sample both situations see the same draw (common random numbers);
- with a ``business_case:`` section, the key figures become formula nodes over
  the main nodes (``@project_cost``, ``@npv``, ``@irr``, ...), with one net flow
  node per year (``@flow_2025``, ...), so every Monte Carlo sample computes its
  own NPV and IRR inside the kernel; ``@irr_multiple`` is 1 in a sample whose
  flows have more than one IRR (the one reported is the nearest the discount rate).

Ids starting with ``@`` are the engine's own; no node id of a model can start so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..expr import (
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
    rename,
    to_source,
)
from ..finance import discount_factors
from ..model import Model, Node, Situation, input_kind
from ..validate import CheckedModel
from .labels import (
    FIGURE_LABELS,
    HELPER_LABELS,
    IRR_MULTIPLE,
    KEY_FIGURES,
    MIRR_COSTS,
    MIRR_GAINS,
    CaseNode,
    case_nodes,
    figure_id,
    flow_id,
    flow_label,
)
from .settings import BusinessCase, year_weights

__all__ = [
    "yearly_rows",
    "yearly_sums",
    "row_items",
    "CaseItem",
    "PlainGraph",
    "CaseGraph",
    "expand",
]


@dataclass(frozen=True)
class CaseItem:
    """One main node's amount in one situation, and how it falls in the years.

    ``node`` is its id in the expanded graph (``id`` or ``id@without``);
    ``situation`` is ``"with"``, ``"without"`` or ``None`` for a node that is the
    same in both. ``weights`` map each year of the horizon to the share counted.
    """

    node: str
    source: Node
    situation: str | None
    weights: Mapping[int, float]

    @property
    def side(self) -> str | None:
        return self.source.side

    @property
    def total_weight(self) -> float:
        return float(sum(self.weights.values()))


@dataclass(frozen=True)
class PlainGraph:
    """The expanded graph the kernel runs, and what a run needs to read it back.

    ``checked`` is the plain graph; ``model`` the user's model. ``reported`` are
    the ids a run reports by default (main nodes, with the copy without the
    project of each doubled one), ``visible`` every id a user may name;
    ``doubled`` the model's nodes that differ without and with the project.
    A model with a business case expands to a :class:`CaseGraph`; in a plain
    graph there are no key figures and no totals over years.
    """

    checked: CheckedModel
    model: Model
    reported: tuple[str, ...]
    visible: tuple[str, ...]
    doubled: frozenset[str] = frozenset()

    @property
    def key_figures(self) -> Mapping[str, str]:
        """Key figure name -> its node (``npv`` -> ``@npv``); none in a plain graph."""
        return {}

    @property
    def totals(self) -> Mapping[str, float]:
        """Main node -> the factor from its yearly amount to its total; none in a plain graph."""
        return {}

    @property
    def objective(self) -> str | None:
        """The node whose rise makes the best case (``@npv``); ``None`` in a plain graph."""
        return self.key_figures.get("npv")

    @property
    def case_ids(self) -> tuple[str, ...]:
        """The nodes a business case's figures are read from; none in a plain graph."""
        return ()

    @cached_property
    def nodes(self) -> dict[str, CaseNode]:
        """Each id of a model node's copy in this graph, with the node it stands for."""
        return case_nodes(self.model)

    def pins(self, overrides: Mapping[str, float]) -> dict[str, float]:
        """The expanded nodes ``overrides`` pin: both copies of a doubled node."""
        pinned: dict[str, float] = {}
        for node_id, value in overrides.items():
            if node_id in self.doubled:
                pinned[CaseNode(node_id, without=True).key] = value
            pinned[node_id] = value
        return pinned


@dataclass(frozen=True, kw_only=True)
class CaseGraph(PlainGraph):
    """A plain graph with its business case: the key figures are nodes of it.

    ``items`` hold each main node's yearly weights; ``figure_nodes`` map each key
    figure to its node. ``totals`` map a main node with ``years`` (both copies)
    to the factor that turns its yearly amount into the total over those years,
    which runs report.
    """

    case: BusinessCase
    items: tuple[CaseItem, ...]
    figure_nodes: Mapping[str, str]

    @property
    def key_figures(self) -> Mapping[str, str]:
        return self.figure_nodes

    @cached_property
    def totals(self) -> Mapping[str, float]:
        return {item.node: item.total_weight for item in self.items if item.source.years}

    @property
    def case_ids(self) -> tuple[str, ...]:
        """The main nodes, the key figures and the IRR's indicator of several roots."""
        return (*(item.node for item in self.items), *self.figure_nodes.values(), IRR_MULTIPLE)


def expand(checked: CheckedModel) -> PlainGraph:
    """Rewrite a checked model into the plain graph the kernel runs (see module doc)."""
    model = checked.model
    doubled = model.situation_dependents()
    case = model.business_case
    if not doubled and case is None:
        return PlainGraph(checked, model, tuple(model.main_nodes), checked.order)
    builder = _Builder(doubled)
    for node_id in checked.order:
        builder.copy(model[node_id])
    visible = tuple(builder.order)
    reported = tuple(
        n for n in visible if builder.nodes[n].kind == "main"
    )  # main nodes and their without-copies, in order
    items: tuple[CaseItem, ...] = ()
    key_figures: dict[str, str] = {}
    if case is not None:
        items = _items(model, case, builder.doubled)
        key_figures = builder.add_key_figures(case, items)
    expanded = Model(model.name, file=model.file)
    expanded.money_unit = model.money_unit
    for node_id in builder.order:
        expanded.add_node(builder.nodes[node_id])
    graph = CheckedModel(expanded, tuple(builder.order), checked.diagnostics)
    if case is None:
        return PlainGraph(graph, model, reported, visible, builder.doubled)
    return CaseGraph(
        graph,
        model,
        reported,
        visible,
        builder.doubled,
        case=case,
        items=items,
        figure_nodes=key_figures,
    )


class _Builder:
    """Collects the expanded nodes in evaluation order."""

    def __init__(self, doubled: frozenset[str]) -> None:
        self.doubled = doubled
        self.without = {n: CaseNode(n, without=True).key for n in doubled}
        self.nodes: dict[str, Node] = {}
        self.order: list[str] = []

    def add(self, node: Node) -> None:
        self.nodes[node.id] = node
        self.order.append(node.id)

    def copy(self, node: Node) -> None:
        if isinstance(node.body, Situation):
            for situation, body in node.body.entries():
                kind = node.kind if node.kind == "main" else input_kind(body)
                node_id = CaseNode(node.id, without=situation == "without").key
                self.add(dataclasses.replace(node, id=node_id, kind=kind, body=body))  # type: ignore[arg-type]
        elif node.id in self.doubled:
            assert isinstance(node.body, Formula)  # only formulas depend on other nodes
            expr = rename(node.body.expr, self.without)
            self.add(dataclasses.replace(node, id=self.without[node.id], body=_formula(expr)))
            self.add(node)
        else:
            self.add(node)

    def formula(self, node_id: str, expr: Expr, label: str) -> str:
        self.add(Node(node_id, "intermediate", _formula(expr), label=label, unused=True))
        return node_id

    def figure(self, name: str, expr: Expr) -> str:
        """A key figure's node, titled by :data:`~.labels.FIGURE_LABELS`."""
        return self.formula(figure_id(name), expr, FIGURE_LABELS[name])

    def helper(self, node_id: str, expr: Expr) -> str:
        """One of the engine's helper nodes, titled by :data:`~.labels.HELPER_LABELS`."""
        return self.formula(node_id, expr, HELPER_LABELS[node_id])

    def add_key_figures(self, case: BusinessCase, items: Sequence[CaseItem]) -> dict[str, str]:
        """The key figures as formula nodes; returns figure name -> node id."""
        f = figure_id

        def total(row: str, year: int | None = None) -> Expr:
            return _linear(
                (
                    item.weights.get(year, 0.0) if year is not None else item.total_weight,
                    Name(item.node),
                )
                for item in row_items(items, row)
            )

        flows = []
        for year in case.years:
            flow = _minus(
                _plus(
                    _minus(total("operating_without", year), total("operating_with", year)),
                    total("gain", year),
                ),
                total("project_cost", year),
            )
            flows.append(self.formula(flow_id(year), flow, flow_label(year)))
        for row in ("project_cost", "operating_without", "operating_with"):
            self.figure(row, total(row))
        gross = _minus(Name(f("operating_without")), Name(f("operating_with")))
        self.figure("gross_gain", _plus(gross, total("gain")))
        self.figure(
            "total_with_project", Binary("+", Name(f("operating_with")), Name(f("project_cost")))
        )
        self.figure("net_gain", Binary("-", Name(f("gross_gain")), Name(f("project_cost"))))
        factors = discount_factors(case.discount_rate, len(flows))
        self.figure("npv", _linear(zip(factors, map(Name, flows), strict=True)))
        flow_names = tuple(map(Name, flows))
        self.figure("irr", Call("irr", (Num(case.discount_rate), *flow_names)))
        self.helper(IRR_MULTIPLE, Compare(">", Call("irr_count", flow_names), Num(1.0)))
        self.figure("mirr", self._mirr(flows, *case.mirr_rates))
        return {name: f(name) for name in KEY_FIGURES}

    def _mirr(self, flows: Sequence[str], finance_rate: float, reinvestment_rate: float) -> Expr:
        """MIRR over ``len(flows) - 1`` periods, as Excel's ``MIRR(flows, finance, reinvest)``.

        ``(FV of the gains at the end, compounded at the reinvestment rate / -PV of the
        costs at the start, discounted at the finance rate) ** (1/n) - 1``; not defined
        (NaN or infinite) with a single year, or without a negative or a positive net
        flow. The two sums are nodes of their own, so each is computed once.
        """
        n = len(flows) - 1
        undefined = Binary("/", Num(0.0), Num(0.0))
        if n < 1:
            return undefined
        growth = (1.0 + reinvestment_rate) ** np.arange(n, -1, -1)  # to the end year
        factors = discount_factors(finance_rate, n + 1)  # to the start year
        gains = [Call("max", (Name(f), Num(0.0))) for f in flows]
        costs = [Call("min", (Name(f), Num(0.0))) for f in flows]
        future = Name(self.helper(MIRR_GAINS, _linear(zip(growth, gains, strict=True))))
        present = Name(self.helper(MIRR_COSTS, _linear(zip(factors, costs, strict=True))))
        mirr = Binary(
            "-", Binary("**", Binary("/", future, Unary("-", present)), Num(1 / n)), Num(1.0)
        )
        return IfElse(Compare(">", future, Num(0.0)), mirr, undefined)


# The rows of the yearly cash flows, each a sum over main nodes: side and situation.
_ROWS: dict[str, tuple[str, tuple[str | None, ...]]] = {
    "project_cost": ("cost", (None, "with", "without")),
    "gain": ("gain", (None, "with", "without")),
    "operating_without": ("operating", (None, "without")),
    "operating_with": ("operating", (None, "with")),
}


def row_items(items: Sequence[CaseItem], row: str) -> list[CaseItem]:
    """The items a cash-flow row sums (``project_cost``, ``gain``, ``operating_with``, ...)."""
    side, situations = _ROWS[row]
    return [item for item in items if item.side == side and item.situation in situations]


def yearly_sums(
    graph: CaseGraph, items: Iterable[CaseItem], value_of: Callable[[str], float | None]
) -> np.ndarray:
    """``sum(weight * figure)`` of ``items`` in each year of the horizon, from one figure
    of each (e.g. its weighted figure); NaN in a year where a figure counted is undefined.
    """
    years = list(graph.case.years)
    totals = np.zeros(len(years))
    for item in items:
        value = value_of(item.node)
        for k, year in enumerate(years):
            weight = item.weights.get(year, 0.0)
            if weight:
                totals[k] += weight * (np.nan if value is None else value)
    return totals


def yearly_rows(graph: CaseGraph, value_of: Callable[[str], float | None]) -> dict[str, np.ndarray]:
    """The yearly cash-flow rows from one figure of each main node (e.g. its weighted figure).

    Returns ``project_cost``, ``gain``, ``operating_without``, ``operating_with``,
    ``gross_gain`` and ``net_flow``, each an array over the horizon's years;
    the same sums the kernel's flow nodes compute per sample.
    """
    rows = {row: yearly_sums(graph, row_items(graph.items, row), value_of) for row in _ROWS}
    rows["gross_gain"] = rows["operating_without"] - rows["operating_with"] + rows["gain"]
    rows["net_flow"] = rows["gross_gain"] - rows["project_cost"]
    return rows


def _items(model: Model, case: BusinessCase, doubled: frozenset[str]) -> tuple[CaseItem, ...]:
    """Each main node's amount per situation, with its yearly weights inside the horizon."""
    horizon = set(case.years)
    items = []
    for node in model:
        if node.kind != "main" or node.side is None:
            continue
        phase = case.phases.get(node.phase) if node.phase else None
        weights = year_weights(node.year, node.years, node.profile, phase)
        weights = {y: w for y, w in weights.items() if y in horizon}
        if node.id in doubled and node.side == "operating":
            items.append(CaseItem(CaseNode(node.id, without=True).key, node, "without", weights))
            items.append(CaseItem(node.id, node, "with", weights))
        else:
            items.append(CaseItem(node.id, node, None, weights))
    return tuple(items)


# ---------------------------------------------------------------------------- expressions


def _formula(expr: Expr) -> Formula:
    return Formula(to_source(expr), expr, names(expr))


def _sum(terms: list[Expr]) -> Expr:
    """A balanced sum, so a long one stays shallow for the lowering's recursion."""
    if not terms:
        return Num(0.0)
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return Binary("+", _sum(terms[:half]), _sum(terms[half:]))


def _linear(terms: Iterable[tuple[float, Expr]]) -> Expr:
    """``sum(weight * expr)`` over the terms with a non-zero weight."""
    parts: list[Expr] = []
    for weight, expr in terms:
        if weight == 1.0:
            parts.append(expr)
        elif weight != 0.0:
            parts.append(Binary("*", Num(float(weight)), expr))
    return _sum(parts)


def _plus(left: Expr, right: Expr) -> Expr:
    return left if right == Num(0.0) else Binary("+", left, right)


def _minus(left: Expr, right: Expr) -> Expr:
    return left if right == Num(0.0) else Binary("-", left, right)
