"""Draw the assumption diagram with Graphviz, the way analysts present it.

The diagram *is* the model: :func:`diagram` turns a :class:`~assumption_graph.model.Model`
into a ``graphviz.Digraph`` and :func:`render` writes it as SVG, PNG, PDF or DOT source.
Conventions (from the Danish state's business case model):

- flow runs left to right: inputs, main assumptions, then the purposes as hexagons at
  the right, the primary purpose emphasised (the business case's ``purpose``; without a
  business case, the purpose most main nodes serve);
- assumptions are ovals coloured by type (with a legend), and each type also has its
  own border so the diagram reads in greyscale print and for colour-blind readers;
- main assumptions with a ``side`` sit in a shaded "Business case" cluster, in one
  sub-cluster each for costs, gains and operating costs (without and with the project),
  or with ``group="phase"`` / ``"category"`` one per project phase or cost category;
- a ``situation`` node is drawn as the input it is; ``show="estimates"`` gives both its
  estimates, "without:" and "with:";
- ``level="overview"`` folds every sub-assumption into its main assumption with a count;
- ``check=True`` draws the findings of :func:`~assumption_graph.validate.check` on the
  diagram, so a model that fails the check can still be drawn and looked at.

``graphviz`` is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._lazy import lazy_import
from .business import CATEGORIES, PHASES
from .distributions import (
    Distribution,
)
from .errors import AssumptionGraphError, Diagnostic, RenderError
from .expr import Formula
from .io import check_outputs, write_atomic
from .model import PURPOSES, Body, Model, Node, Situation, Value
from .settings import AUTO, DIAGRAM_EDGES, DIAGRAM_NODES, FORMATS, GROUPS, LEVELS
from .text import html_text, printable
from .validate import check as check_model

if TYPE_CHECKING:
    import networkx as nx
else:  # loaded when a graph algorithm is needed
    nx = lazy_import("networkx")

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "FORMATS",
    "GROUPS",
    "LEVELS",
    "AUTO",
    "DIAGRAM_NODES",
    "DIAGRAM_EDGES",
    "PHASE_TITLES",
    "CATEGORY_TITLES",
    "SHOW",
    "STYLES",
    "NodeStyle",
    "RenderError",
    "output_format",
    "diagram",
    "diagram_size",
    "resolve_level",
    "render",
    "format_number",
    "style_key",
    "cycle_edges",
]

SHOW: frozenset[str] = frozenset({"estimates", "results"})

WRAP = 22  # characters per label line
GRAPH_ID = "assumptions"  # the DOT id of every diagram, whatever the model's name
INSTALL_HINT = (
    "install Graphviz (e.g. 'apt-get install graphviz' or 'brew install graphviz'), "
    "or write a .dot file instead"
)


@dataclass(frozen=True)
class NodeStyle:
    """How one type of node is drawn: fill and text colour, border, shape, legend text.

    Every type differs in border (``style``, ``peripheries``, ``penwidth``) as well as
    colour, so types stay apart in greyscale; ``fontcolor`` on ``fillcolor`` has a
    WCAG contrast ratio of at least 4.5 (a test checks it).
    """

    legend: str  # legend text; "\n" breaks lines
    fillcolor: str
    fontcolor: str
    color: str
    style: str = "filled"
    shape: str = "ellipse"
    peripheries: int = 1
    penwidth: float = 1.0

    def attrs(self) -> dict[str, str]:
        """The Graphviz node attributes of this style."""
        return {
            "shape": self.shape,
            "style": self.style,
            "fillcolor": self.fillcolor,
            "fontcolor": self.fontcolor,
            "color": self.color,
            "peripheries": str(self.peripheries),
            "penwidth": _number_attr(self.penwidth),
        }


STYLES: dict[str, NodeStyle] = {
    "main_formula": NodeStyle(
        "Main assumption\nwith sub-assumptions",
        "#1b5e20",
        "#ffffff",
        "#0b2e0e",
        style="filled,bold",
        peripheries=2,
        penwidth=2.0,
    ),
    "main_value": NodeStyle(
        "Main assumption\nwithout sub-assumptions",
        "#a5d6a7",
        "#000000",
        "#1b5e20",
        style="filled,bold",
        penwidth=2.5,
    ),
    "uncertain": NodeStyle(
        "Sub-assumption\nwith uncertainty",
        "#6d4c41",
        "#ffffff",
        "#2b1d18",
        style="filled,dashed",
        penwidth=1.5,
    ),
    "intermediate": NodeStyle(
        "Intermediate\ncalculation",
        "#bbdefb",
        "#000000",
        "#0d47a1",
    ),
    "constant": NodeStyle(
        "Constant\n(not uncertain)",
        "#e0e0e0",
        "#000000",
        "#424242",
        style="filled,dotted",
        penwidth=1.5,
    ),
    "purpose_primary": NodeStyle(
        "Primary purpose",
        "#ffd54f",
        "#000000",
        "#5d4037",
        style="filled,bold",
        shape="hexagon",
        penwidth=3.0,
    ),
    "purpose_secondary": NodeStyle(
        "Secondary purpose",
        "#fff8e1",
        "#000000",
        "#8d6e63",
        shape="hexagon",
    ),
    "missing": NodeStyle(
        "Missing node\n(used by a formula)",
        "#ffffff",
        "#b71c1c",
        "#b71c1c",
        style="filled,dashed",
        shape="box",
        penwidth=1.5,
    ),
}

# Cluster backgrounds, each read with black text.
CLUSTER_FILLS: dict[str, str] = {
    "business_case": "#eeeeee",
    "costs": "#fbe9e7",
    "gains": "#e8f5e9",
    "operating": "#e3f2fd",
    "group": "#fafafa",  # every phase or category sub-cluster: neutral, apart from the case's
}
# The sub-clusters of the business case: side -> (cluster key, title).
SIDE_CLUSTERS: dict[str, tuple[str, str]] = {
    "cost": ("costs", "Costs"),
    "gain": ("gains", "Gains"),
    "operating": ("operating", "Operating"),
}
# Titles of the phase and category sub-clusters (``group="phase"`` / ``"category"``), in
# the business layer's order.
PHASE_TITLES: dict[str, str] = {phase: phase.capitalize() for phase in PHASES}
_CATEGORY_NAMES: dict[str, str] = {
    "it_services": "IT services",
    "other_operating": "Other operating costs",
    "staff_capitalised": "Staff (capitalised)",
    "intangible": "Intangible assets",
    "tangible": "Tangible assets",
    "current": "Current assets",
}
CATEGORY_TITLES: dict[str, str] = {
    c: _CATEGORY_NAMES.get(c, c.replace("_", " ").capitalize()) for c in CATEGORIES
}
ERROR_COLOR = "#d50000"
WARNING_COLOR = "#ff8f00"
EDGE_COLOR = "#555555"
FONT = "Helvetica,Arial,sans-serif"

_PURPOSE_TEXT: dict[str, tuple[str, str]] = {
    "efficiency": ("Efficiency", "effektivisering"),
    "quality": ("Quality", "kvalitetsløft"),
    "compliance": ("Compliance", "overholdelse af lovgivning"),
}


def style_key(node: Node) -> str:
    """The :data:`STYLES` key of a node: its kind, with main split by having a formula.

    >>> from assumption_graph.model import node_from_keys
    >>> style_key(node_from_keys("c", {"kind": "main", "formula": "a * b"}))
    'main_formula'
    >>> style_key(node_from_keys("h", {"estimate": [1, 2, 3]}))
    'uncertain'
    """
    if node.kind == "main":
        return "main_formula" if isinstance(node.body, Formula) else "main_value"
    return node.kind


def format_number(value: float, digits: int = 3) -> str:
    """A compact number for a label: ``digits`` significant digits, thousands separators.

    Big numbers are rounded, not written in scientific notation, so amounts read
    like amounts; tiny ones fall back to ``e`` notation.

    >>> format_number(1234567.0)
    '1,230,000'
    >>> format_number(1234.0), format_number(0.95), format_number(-12.345)
    ('1,230', '0.95', '-12.3')
    >>> format_number(1500, digits=6), format_number(0.0), format_number(float("nan"))
    ('1,500', '0', 'NaN')
    """
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")
    magnitude = math.floor(math.log10(abs(rounded)))
    if magnitude < -4 or magnitude >= 18:
        return f"{rounded:.{digits - 1}e}"
    decimals = max(digits - 1 - magnitude, 0)
    text = f"{rounded:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------- diagram


def diagram(
    model: Model,
    *,
    level: str = "detail",
    group: str = "side",
    show: Iterable[str] | str = frozenset(),
    results: Any = None,
    diagnostics: Iterable[Diagnostic] | None = None,
    check: bool = False,
) -> graphviz.Digraph:
    """The assumption diagram of ``model`` as a ``graphviz.Digraph``.

    ``level`` is ``"detail"`` (every node) or ``"overview"`` (main assumptions and
    everything downstream; sub-assumptions folded into their main assumption with a
    count). ``group`` divides the "Business case" cluster of main nodes with a ``side``:
    ``"side"`` (costs, gains, operating costs), ``"phase"`` (one sub-cluster per project
    phase, in the order idea ... realisation) or ``"category"`` (one per cost category, in
    the order of :data:`~assumption_graph.business.CATEGORIES`); a main node without a
    phase (or category) goes into a last sub-cluster "No phase" ("No category"), and one
    whose phase or category is not a known one into its own, marked unknown, before that.
    ``show`` adds to the labels: ``"estimates"`` (unit, low / mid / high and
    the probability model) and ``"results"`` (expected, P50, P10-P90 from ``results``,
    any object where ``results[node_id]`` has ``expected`` and ``percentiles``; this
    module never runs a simulation itself). ``check=True`` (or given ``diagnostics``)
    outlines nodes with errors red, with warnings orange, and marks cycle edges.

    >>> m = Model("Demo")
    >>> m.add("hours", estimate=[10, 12, 15], label="Hours")
    >>> m.add("cost", kind="main", formula="hours * 2", side="cost", purpose="efficiency")
    >>> source = diagram(m).source
    >>> "rankdir=LR" in source and "cluster_business_case" in source
    True
    >>> "subgraph cluster_phase_none {" in diagram(m, group="phase").source  # no phase given
    True
    """
    import graphviz

    if level not in LEVELS:
        raise RenderError(f"unknown level {level!r}", hint="use one of: " + ", ".join(LEVELS))
    if group not in GROUPS:
        raise RenderError(f"unknown group {group!r}", hint="use one of: " + ", ".join(GROUPS))
    shown = _parse_show(show)
    if "results" in shown and results is None:
        raise RenderError(
            "showing results needs a simulation result",
            hint="pass results=model.compile().run(...), or drop 'results' from show",
        )
    marks = None
    if check or diagnostics is not None:
        marks = _Marks.of(model, diagnostics)
    return _Builder(model, level, group, shown, results, marks, graphviz.Digraph).build()


def _parse_show(show: Iterable[str] | str) -> frozenset[str]:
    """``show`` as a set; a comma-separated text such as ``"estimates,results"`` works too."""
    items = show.split(",") if isinstance(show, str) else list(show)
    shown = frozenset(s.strip() for s in items if s.strip())
    unknown = sorted(shown - SHOW)
    if unknown:
        raise RenderError(
            f"cannot show {', '.join(map(repr, unknown))}",
            hint="show one or more of: " + ", ".join(sorted(SHOW)),
        )
    return shown


@dataclass(frozen=True)
class _Marks:
    """What ``check`` found, in drawable form: per-node severity and the cycle edges."""

    severity: Mapping[str, str]
    messages: Mapping[str, tuple[str, ...]]
    cycle_edges: frozenset[tuple[str, str]]
    errors: int
    warnings: int

    @classmethod
    def of(cls, model: Model, diagnostics: Iterable[Diagnostic] | None) -> _Marks:
        if diagnostics is None:
            try:
                diagnostics = check_model(model).diagnostics
            except AssumptionGraphError as error:  # keep drawing: the point is to look
                diagnostics = [Diagnostic.from_error(error, "check")]
        found = list(diagnostics)
        severity: dict[str, str] = {}
        messages: dict[str, list[str]] = {}
        for d in found:
            if d.node is None:
                continue
            messages.setdefault(d.node, []).append(f"{d.severity} {d.code}: {d.message}")
            if d.severity == "error" or d.node not in severity:
                severity[d.node] = d.severity
        acyclic = not len(model) or bool(model.order())  # networkx only for a cycle's edges
        return cls(
            severity=severity,
            messages={k: tuple(v) for k, v in messages.items()},
            cycle_edges=frozenset() if acyclic else cycle_edges(model.graph),
            errors=sum(d.severity == "error" for d in found),
            warnings=sum(d.severity == "warning" for d in found),
        )


def cycle_edges(graph: nx.DiGraph) -> frozenset[tuple[str, str]]:
    """Every edge that lies on a cycle: self-loops and edges inside a strong component.

    Within a strongly connected component every edge ``u -> v`` is on a cycle, since
    ``v`` reaches ``u`` again.
    """
    edges: set[tuple[str, str]] = set(nx.selfloop_edges(graph))
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            edges.update(graph.subgraph(component).edges())
    return frozenset(edges)


def _primary_purpose(model: Model, nodes: Iterable[Node]) -> str | None:
    """The business case's purpose; without a business case, the purpose most main
    nodes name, ties going by the order efficiency, quality, compliance."""
    if model.business_case is not None:
        return model.business_case.purpose
    counts = Counter(p for node in nodes if node.kind == "main" for p in node.purpose)
    if not counts:
        return None
    return max(counts, key=lambda p: (counts[p], -PURPOSES.index(p)))


def _case_purposes(model: Model) -> set[str]:
    """The purposes the business case names (primary and secondary), if it has one."""
    case = model.business_case
    if case is None:
        return set()
    return {p for p in (case.purpose, *case.secondary_purposes) if p is not None}


@dataclass(frozen=True)
class _Part:
    """One sub-cluster of the business case: its cluster key, title, fill and nodes."""

    key: str
    title: str
    fill: str
    members: tuple[Node, ...]


def _parts(business: list[Node], group: str) -> list[_Part]:
    """The business case's main nodes divided by side, phase or category (see
    :func:`diagram`), in the domain's order; empty sub-clusters are left out."""
    if group == "side":
        return [
            _Part(key, title, CLUSTER_FILLS[key], tuple(n for n in business if n.side == side))
            for side, (key, title) in SIDE_CLUSTERS.items()
            if any(n.side == side for n in business)
        ]
    titles = PHASE_TITLES if group == "phase" else CATEGORY_TITLES
    values = [getattr(node, group) for node in business]
    unknown = sorted({v for v in values if v is not None and v not in titles})
    order = [*titles, *unknown, None]
    parts = []
    for k, value in enumerate(order):
        members = tuple(n for n, v in zip(business, values, strict=True) if v == value)
        if not members:
            continue
        if value is None:
            key, title = f"{group}_none", f"No {group}"
        elif value in titles:
            key, title = f"{group}_{value}", titles[value]
        else:  # only a model that fails check has one: drawn by its own name
            key, title = f"{group}_unknown_{k}", f"<{html_text(value)} <I>(unknown {group})</I>>"
        parts.append(_Part(key, title, CLUSTER_FILLS["group"], members))
    return parts


def _links(model: Model) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each node's inputs among the model's nodes, and its users: the dependency graph as
    plain lists, all a diagram needs (importing networkx takes longer than drawing)."""
    users = model.users()
    inputs: dict[str, list[str]] = {node_id: [] for node_id in users}
    for node_id, used_by in users.items():
        for user in used_by:
            inputs[user].append(node_id)
    return inputs, users


def _overview_nodes(model: Model, users: Mapping[str, list[str]]) -> set[str]:
    """The nodes the overview draws: the main nodes and everything downstream of them."""
    return set(model.main_nodes) | _reached(users.__getitem__, model.main_nodes)


def _reached(step: Callable[[str], Iterable[str]], sources: Iterable[str]) -> set[str]:
    """Every node reached from ``sources`` by ``step`` (a node's users or inputs), each
    visited once (not once per source)."""
    found: set[str] = set()
    todo = list(sources)
    while todo:
        for node in step(todo.pop()):
            if node not in found:
                found.add(node)
                todo.append(node)
    return found


def diagram_size(model: Model, level: str) -> tuple[int, int]:
    """The model's nodes and edges the diagram of ``level`` draws (purpose nodes and the
    legend aside): what decides how long Graphviz takes to lay it out.

    >>> m = Model("x"); m.add("a", estimate=[1, 2, 3]); m.add("b", kind="main", formula="a")
    >>> diagram_size(m, "detail"), diagram_size(m, "overview")
    ((2, 1), (1, 0))
    """
    inputs, users = _links(model)
    keep = set(users) if level == "detail" else _overview_nodes(model, users)
    return len(keep), sum(a in keep for b in keep for a in inputs[b])


def resolve_level(model: Model, level: str) -> tuple[str, str | None]:
    """The level to draw, and a note when it is not the one a user would expect.

    ``"detail"`` and ``"overview"`` are drawn as asked, whatever their size. ``"auto"``
    is the detail when it has at most :data:`DIAGRAM_NODES` nodes and
    :data:`DIAGRAM_EDGES` edges (Graphviz lays that out in seconds), else the overview,
    with a note saying so; a :class:`RenderError` when the overview is too big as well.
    """
    if level != AUTO:
        return level, None
    detail = diagram_size(model, "detail")
    if _fits(detail):
        return "detail", None
    overview = diagram_size(model, "overview")
    if not _fits(overview):
        raise RenderError(
            f"the diagram is too big to lay out in seconds: {_size_text(detail)}, its"
            f" overview {_size_text(overview)}; the most drawn without asking is"
            f" {DIAGRAM_NODES} nodes and {DIAGRAM_EDGES} edges",
            hint="draw it anyway with 'draw --level overview' or 'draw --level detail';"
            " Graphviz may take minutes or hours",
        )
    note = (
        f"the diagram has {_size_text(detail)}, more than the {DIAGRAM_NODES} nodes and"
        f" {DIAGRAM_EDGES} edges Graphviz lays out in seconds, so the overview is drawn"
        f" ({_size_text(overview)}); draw every node with 'draw --level detail'"
    )
    return "overview", note


def _fits(size: tuple[int, int]) -> bool:
    return size[0] <= DIAGRAM_NODES and size[1] <= DIAGRAM_EDGES


def _size_text(size: tuple[int, int]) -> str:
    nodes, edges = size
    return f"{nodes:,} node{'s' * (nodes != 1)} and {edges:,} edge{'s' * (edges != 1)}"


def _unused_library_nodes(model: Model, inputs: Mapping[str, list[str]]) -> set[str]:
    """The ids of the library nodes (``library:``) from which no node of the model's own
    file can be reached: nothing the model draws uses them."""
    library = {node.id for node in model if node.file is not None}
    if not library:
        return set()
    own = [node.id for node in model if node.file is None]
    used = _reached(inputs.__getitem__, own)
    return library - used


def _hidden_ancestors(inputs: Mapping[str, list[str]], node_id: str, visible: set[str]) -> set[str]:
    """The hidden nodes upstream of ``node_id``, reached without passing a visible node.

    A sub-assumption behind another main node is folded into that node, not counted
    again for every main node further downstream.
    """
    found: set[str] = set()
    todo = [node_id]
    while todo:
        for parent in inputs[todo.pop()]:
            if parent not in visible and parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


class _Builder:
    """Builds one Digraph; kept as a class so the steps share the model and options."""

    def __init__(
        self,
        model: Model,
        level: str,
        group: str,
        shown: frozenset[str],
        results: Any,
        marks: _Marks | None,
        digraph: type[graphviz.Digraph],
    ) -> None:
        self.model = model
        self.level = level
        self.group = group
        self.shown = shown
        self.results = results
        self.marks = marks
        self.inputs, self.users = _links(model)
        # no text from the model is ever a DOT id: the name is shown in the title label
        self.dot = digraph(name=GRAPH_ID, encoding="utf-8")
        self.visible, self.folded = self._visible()
        self.used_styles: list[str] = []
        self.drawn_missing: set[str] = set()

    # -- which nodes are drawn

    def _visible(self) -> tuple[list[str], dict[str, set[str]]]:
        """Node ids to draw and, in the overview, the ids folded into each main node.

        A shared library's nodes that the model does not use are not drawn: they
        belong to other cases of a portfolio, not to this diagram.
        """
        unused = _unused_library_nodes(self.model, self.inputs)
        ids = [i for i in self.model.nodes if i not in unused]
        if self.level == "detail":
            return ids, {}
        keep = _overview_nodes(self.model, self.users)
        folded = {m: _hidden_ancestors(self.inputs, m, keep) for m in self.model.main_nodes}
        return [i for i in ids if i in keep], folded

    # -- the whole graph

    def build(self) -> graphviz.Digraph:
        dot = self.dot
        dot.attr(
            rankdir="LR",
            newrank="true",
            nodesep="0.25",
            ranksep="0.45",
            fontname=FONT,
            fontsize="12",
            label=self._title(),
            labelloc="t",
        )
        dot.attr("node", fontname=FONT, fontsize="11", margin="0.08,0.04")
        dot.attr("edge", color=EDGE_COLOR, arrowsize="0.7")

        nodes = [self.model[i] for i in self.visible]
        business = [n for n in nodes if n.kind == "main" and n.side is not None]
        plain_main = [n for n in nodes if n.kind == "main" and n.side is None]
        others = [n for n in nodes if n.kind != "main"]

        for node in others:
            self._node(dot, node)
        if business:
            self._business_case(business)
        if plain_main:
            with dot.subgraph(name="cluster_main") as main:
                main.attr(label="Main assumptions", style="rounded", color="#9e9e9e")
                for node in plain_main:
                    self._node(main, node)

        self._edges(nodes)
        self._purposes(nodes)
        self._legend()
        return dot

    def _business_case(self, business: list[Node]) -> None:
        """The shaded "Business case" cluster, divided by ``self.group``."""
        title = "Business case" if self.group == "side" else f"Business case by {self.group}"
        with self.dot.subgraph(name="cluster_business_case") as case:
            case.attr(
                label=title,
                style="filled,rounded",
                fillcolor=CLUSTER_FILLS["business_case"],
                color="#9e9e9e",
                fontcolor="#000000",
            )
            for part in _parts(business, self.group):
                with case.subgraph(name=f"cluster_{part.key}") as sub:
                    sub.attr(
                        label=part.title,
                        style="filled,rounded",
                        fillcolor=part.fill,
                        color="#bdbdbd",
                    )
                    for node in part.members:
                        self._node(sub, node)

    def _title(self) -> str:
        lines = [f"<B>{html_text(self.model.name)}</B>"] if self.model.name else []
        if self.level == "overview":
            lines.append('<FONT POINT-SIZE="10">overview</FONT>')
        if self.marks is not None:
            m = self.marks
            lines.append(
                f'<FONT POINT-SIZE="10">check: {m.errors} error{"s" * (m.errors != 1)}, '
                f"{m.warnings} warning{'s' * (m.warnings != 1)}</FONT>"
            )
        return f"<{'<BR/>'.join(lines)}>" if lines else ""

    # -- nodes

    def _node(self, target: graphviz.Digraph, node: Node) -> None:
        key = style_key(node)
        self._use(key)
        attrs = STYLES[key].attrs()
        tooltip = node.id
        if isinstance(node.body, Formula):
            tooltip += f" = {node.body.text}"
        elif isinstance(node.body, Situation):
            tooltip += ": differs without and with the project"
        mark = self._mark_of(node.id)
        if mark is not None:
            attrs["color"] = ERROR_COLOR if mark == "error" else WARNING_COLOR
            attrs["penwidth"] = "3"
            kept = [s for s in attrs["style"].split(",") if s not in ("dashed", "dotted", "bold")]
            attrs["style"] = ",".join([*kept, "bold"])
            messages = self.marks.messages.get(node.id, ()) if self.marks else ()
            tooltip += "".join(f"\n{m}" for m in messages)
        attrs["tooltip"] = _escape_string(_cut(tooltip, _MAX_TOOLTIP))
        target.node(node.id, label=self._label(node), **attrs)

    def _mark_of(self, node_id: str) -> str | None:
        """The worst severity on a node, or on the nodes folded into it."""
        if self.marks is None:
            return None
        ids = {node_id} | self.folded.get(node_id, set())
        found = {self.marks.severity[i] for i in ids if i in self.marks.severity}
        if "error" in found:
            return "error"
        return "warning" if found else None

    def _label(self, node: Node) -> str:
        title = _wrap(node.display_label)
        if node.kind == "main":
            title = f"<B>{title}</B>"
        small: list[str] = []
        if "estimates" in self.shown:
            small.extend(_estimate_lines(node))
        if "results" in self.shown:
            small.extend(_result_lines(self.results, node.id))
        if node.id in self.folded and self.folded[node.id]:
            count = len(self.folded[node.id])
            small.append(f"<I>+{count} sub-assumption{'s' * (count != 1)}</I>")
        parts = [title] + [f'<FONT POINT-SIZE="9">{line}</FONT>' for line in small]
        return f"<{'<BR/>'.join(parts)}>"

    def _use(self, key: str) -> None:
        if key not in self.used_styles:
            self.used_styles.append(key)

    # -- edges

    def _edges(self, nodes: list[Node]) -> None:
        visible = set(self.visible)
        cycles = self.marks.cycle_edges if self.marks else frozenset()
        for node in nodes:
            for name in sorted(node.inputs):
                if name in visible:
                    if (name, node.id) in cycles:
                        self.dot.edge(
                            name,
                            node.id,
                            color=ERROR_COLOR,
                            penwidth="3",
                            style="bold",
                            tooltip=_escape_string(f"cycle: {name} -> {node.id}"),
                        )
                    else:
                        self.dot.edge(name, node.id)
                elif name not in self.model and self.marks is not None:
                    self._missing(name, node.id)

    def _missing(self, name: str, user: str) -> None:
        """A formula name that is not a node, drawn (in check mode) where it is used.

        A node that failed to load (a lenient read reports it by id) says so.
        """
        missing_id = f"missing.{name}"
        if missing_id not in self.drawn_missing:
            self.drawn_missing.add(missing_id)
            self._use("missing")
            messages = self.marks.messages.get(name, ()) if self.marks else ()
            note = "could not be read" if messages else "not a node"
            tooltip = "".join(f"\n{m}" for m in messages) or f"\nno node '{name}' in the model"
            self.dot.node(
                missing_id,
                label=f'<{html_text(name)}<BR/><FONT POINT-SIZE="9"><I>{note}</I></FONT>>',
                tooltip=_escape_string(name + tooltip),
                **STYLES["missing"].attrs(),
            )
        self.dot.edge(missing_id, user, color=ERROR_COLOR, style="dashed")

    # -- purposes and legend

    def _purposes(self, nodes: list[Node]) -> None:
        mains = [n for n in nodes if n.kind == "main"]
        named = {p for n in mains for p in n.purpose} | _case_purposes(self.model)
        if not named:
            return
        primary = _primary_purpose(self.model, mains)
        with self.dot.subgraph(name="purposes") as purposes:
            purposes.attr(rank="sink")
            for purpose in PURPOSES:
                if purpose not in named:
                    continue
                key = "purpose_primary" if purpose == primary else "purpose_secondary"
                self._use(key)
                english, danish = _PURPOSE_TEXT[purpose]
                caption = "primary purpose" if purpose == primary else "secondary purpose"
                name = f"<B>{english}</B>" if purpose == primary else english
                label = (
                    f'<{name}<BR/><FONT POINT-SIZE="9">{html_text(danish)}</FONT>'
                    f'<BR/><FONT POINT-SIZE="9"><I>{caption}</I></FONT>>'
                )
                purposes.node(f"purpose.{purpose}", label=label, **STYLES[key].attrs())
        for node in mains:
            for purpose in node.purpose:
                if purpose == primary:
                    self.dot.edge(node.id, f"purpose.{purpose}", penwidth="2")
                else:
                    self.dot.edge(node.id, f"purpose.{purpose}", style="dashed")

    def _legend(self) -> None:
        if not self.used_styles:
            return
        order = list(STYLES)
        with self.dot.subgraph(name="cluster_legend") as legend:
            legend.attr(label="Legend", style="rounded", color="#bdbdbd", fontsize="10")
            keys = sorted(self.used_styles, key=order.index)
            for key in keys:
                style = STYLES[key]
                legend.node(
                    f"legend.{key}",
                    label="<" + "<BR/>".join(html_text(t) for t in style.legend.split("\n")) + ">",
                    fontsize="9",
                    **style.attrs(),
                )
            # Two columns: an invisible edge puts each second entry one rank to the right.
            for left, right in zip(keys[::2], keys[1::2], strict=False):
                legend.edge(f"legend.{left}", f"legend.{right}", style="invis")


# ---------------------------------------------------------------------------- labels
#
# A model's text reaches DOT in two ways only: inside an HTML-like label, through
# ``html_text`` (XML escapes, control characters shown as symbols), or as a quoted
# escString attribute (a tooltip), through ``_escape_string``. DOT ids are never the
# model's text: node ids are identifiers (the model allows no other), every other id
# is made here, and no URL or href attribute is ever set.


def _escape_string(text: str) -> str:
    """Text for a Graphviz escString attribute such as ``tooltip``: backslashes doubled,
    line breaks as ``\\n``, control characters shown as symbols, and marked as no HTML
    (a text like ``<b>`` stays a quoted string, never an HTML-like label)."""
    import graphviz

    return graphviz.nohtml(printable(text).replace("\\", "\\\\").replace("\n", "\\n"))


# Characters of a node's tooltip (its formula, its messages): Graphviz refuses a quoted
# string longer than 16,384 characters, and a formula of thousands of terms is longer.
_MAX_TOOLTIP = 2000


def _cut(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with ``…`` when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, width: int = WRAP) -> str:
    """Label text wrapped at ``width`` characters and escaped, lines joined by ``<BR/>``."""
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=True)
    return "<BR/>".join(html_text(line) for line in lines) or html_text(text)


def _estimate_lines(node: Node) -> list[str]:
    """Unit, three-point estimate and probability model, for ``show="estimates"``.

    A situation shows one line per situation: ``without: 25 / 30 / 40 min, triangle``.
    """
    if isinstance(node.body, Situation):
        return [
            f"<I>{name}:</I> " + ", ".join(_body_lines(entry, node.unit))
            for name, entry in node.body.entries()
        ]
    return _body_lines(node.body, node.unit)


def _body_lines(body: Body, unit_text: str | None) -> list[str]:
    """The ``show="estimates"`` lines of one body (a value, a formula or an estimate)."""
    unit = f" {html_text(unit_text)}" if unit_text else ""
    if isinstance(body, Value):
        return [f"{format_number(body.value, 6)}{unit}"]
    if isinstance(body, Formula):
        return [f"[{html_text(unit_text)}]"] if unit_text else []
    if not isinstance(body, Distribution):
        return []
    if not body.draws:
        return [f"{format_number(body.mid, 6)}{unit}", body.name]
    shown = body.shown()
    name = shown.name
    if shown.chance is not None:  # a risk event: the chance it happens
        name += f", p = {format_number(shown.chance, 3)}"
    if shown.variant is not None:
        name += f" ({shown.variant})"
    model_line = html_text(name)
    if shown.weights is not None:
        model_line += " (" + _listed_numbers(shown.weights, 3) + ")"
    if shown.percentiles is not None:
        model_line += " (" + " / ".join(f"P{format_number(q, 3)}" for q in shown.percentiles) + ")"
    if shown.values is not None:
        return [f"{_listed_numbers(shown.values, 6)}{unit}", model_line]
    estimate = " / ".join(format_number(p, 6) for p in shown.points)
    return [f"{estimate}{unit}", model_line]


_MAX_LISTED = 8  # numbers shown of a list of values (or probabilities) on a label


def _listed_numbers(numbers: Iterable[float], digits: int) -> str:
    """``1 / 2 / 5``; a long list is cut after ``_MAX_LISTED`` numbers with ``…``."""
    numbers = list(numbers)
    shown = " / ".join(format_number(x, digits) for x in numbers[:_MAX_LISTED])
    return shown + (" / …" if len(numbers) > _MAX_LISTED else "")


def _result_lines(results: Any, node_id: str) -> list[str]:
    """Expected value, P50 and the P10-P90 interval, for ``show="results"``."""
    try:
        summary = results[node_id]
    except (KeyError, IndexError, TypeError, AssumptionGraphError):
        return []
    lines: list[str] = []
    expected = getattr(summary, "expected", None)
    if expected is not None:
        lines.append(f"expected {format_number(expected)}")
    percentiles = getattr(summary, "percentiles", None) or {}
    p10, p50, p90 = (_percentile(percentiles, level) for level in (10, 50, 90))
    if p50 is not None:
        lines.append(f"P50 {format_number(p50)}")
    if p10 is not None and p90 is not None:
        lines.append(f"P10–P90 {format_number(p10)} – {format_number(p90)}")
    return lines


def _percentile(percentiles: Mapping[Any, float], level: int) -> float | None:
    """A percentile keyed by float (``50.0``), int (``50``) or text (``"50"``)."""
    for key in (float(level), level, str(level)):
        if key in percentiles:
            value = percentiles[key]
            return None if value is None else float(value)
    return None


def _number_attr(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------------------- files


def output_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The format a diagram is written in: ``format``, else the path's extension.

    >>> output_format("diagram.SVG"), output_format("diagram", "dot")
    ('svg', 'dot')
    """
    if format is not None and not isinstance(format, str):
        raise RenderError(f"format must be one of {', '.join(FORMATS)} or None, got {format!r}")
    target = Path(path)
    fmt = (format or target.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        given = f"format {format!r}" if format else f"extension {target.suffix or '(none)'!r}"
        raise RenderError(
            f"cannot write {target}: unknown {given}",
            hint="supported formats: " + ", ".join(FORMATS),
        )
    return fmt


def render(
    model: Model,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    **diagram_options: Any,
) -> Path:
    """Write the diagram to ``path`` as svg, png, pdf or dot (by extension or ``format``).

    ``.dot`` is the DOT source and needs no Graphviz program; the other formats run
    Graphviz ``dot``. The file is written to a temporary name in the same folder and
    then moved into place, so a failure never leaves a partial file. Raises
    :class:`RenderError` for an unknown format or a missing ``dot``, and
    :class:`~.errors.OutputError` for a path that cannot be written (checked first).
    ``diagram_options`` go to :func:`diagram`. Returns the path written.
    """
    target = Path(path)
    fmt = output_format(target, format)
    check_outputs([target])  # before the layout: a bad path costs nothing
    graph = diagram(model, **diagram_options)
    if fmt == "dot":
        data = graph.source.encode("utf-8")
    else:
        if shutil.which("dot") is None:
            raise RenderError(f"cannot write {target}: Graphviz 'dot' not found", hint=INSTALL_HINT)
        data = _dot(graph.source, fmt, target)
    write_atomic(target, data)
    return target


def _dot(source: str, fmt: str, target: Path) -> bytes:
    """Graphviz ``dot``'s ``fmt`` output for the DOT ``source``; its warnings go to stderr.

    ``dot`` is killed and waited for on any exception (Ctrl-C and SIGTERM
    included), so an interrupted draw leaves no ``dot`` running, nor a zombie.
    """
    pipe = subprocess.PIPE
    try:
        process = subprocess.Popen(
            ["dot", "-Kdot", f"-T{fmt}"], stdin=pipe, stdout=pipe, stderr=pipe
        )
    except FileNotFoundError:
        raise RenderError(
            f"cannot write {target}: Graphviz 'dot' not found", hint=INSTALL_HINT
        ) from None
    try:
        output, errors = process.communicate(source.encode("utf-8"))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    messages = errors.decode("utf-8", "replace")
    if process.returncode != 0:
        detail = messages.strip().splitlines()
        reason = detail[0] if detail else f"dot exited with status {process.returncode}"
        raise RenderError(f"Graphviz failed to draw {target}: {reason}")
    sys.stderr.write(messages)
    return output
