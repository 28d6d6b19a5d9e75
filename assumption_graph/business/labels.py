"""What the case graph's nodes are called: their ids, their situation and their titles.

The expansion (:mod:`.expand`) gives a node that differs without and with the
project two nodes, ``id`` (with the project) and ``id@without``. A
:class:`CaseNode` is such a node as a structured value, the model's node and
whether it is the copy without the project; its :attr:`~CaseNode.key` is the
one place that writes the ``id@without`` text that the command line and
``run --json`` use. :func:`case_nodes` lists them for a model's nodes, so a
presenter finds the node behind a reported id by looking it up, never by taking
the id apart. The key figures, the yearly net flows and the engine's helper
nodes have ids starting with ``@`` (``@npv``, ``@flow_2025``), which no model
node can have; their titles are here too, so the expansion writes none itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # labels name a model's nodes; they need nothing of the model at run time
    from ..model import Model

__all__ = [
    "CaseNode",
    "case_nodes",
    "situation_title",
    "FIGURE_LABELS",
    "KEY_FIGURES",
    "COST_FIGURES",
    "IRR_MULTIPLE",
    "MIRR_GAINS",
    "MIRR_COSTS",
    "HELPER_LABELS",
    "figure_id",
    "flow_id",
    "flow_label",
]

_WITHOUT = "@without"  # the id suffix of a node's copy in the situation without the project
FIGURE_LABELS: dict[str, str] = {
    "npv": "Net present value",
    "irr": "Internal rate of return",
    "mirr": "Modified internal rate of return",
    "project_cost": "Total project cost",
    "operating_without": "Operating cost without the project",
    "operating_with": "Operating cost with the project, excl. project cost",
    "gross_gain": "Gross gain (without - with)",
    "total_with_project": "Total cost with the project (with + project cost)",
    "net_gain": "Net gain (gross gain - project cost)",
}
KEY_FIGURES: tuple[str, ...] = tuple(FIGURE_LABELS)
#: The key figures that are costs (better lower); the others are gains (better higher).
COST_FIGURES: frozenset[str] = frozenset(
    {"project_cost", "operating_without", "operating_with", "total_with_project"}
)
IRR_MULTIPLE = "@irr_multiple"  # 1 in a sample with more than one IRR, else 0
MIRR_GAINS = "@mirr_gains"  # the MIRR's positive net flows, compounded to the end year
MIRR_COSTS = "@mirr_costs"  # the MIRR's negative net flows, discounted to the start year
#: The titles of the engine's helper nodes (those that are no key figure or yearly flow).
HELPER_LABELS: dict[str, str] = {
    IRR_MULTIPLE: "More than one IRR",
    MIRR_GAINS: "MIRR: gains",
    MIRR_COSTS: "MIRR: costs",
}


@dataclass(frozen=True)
class CaseNode:
    """A model node in the expanded graph: the node itself, or its copy without the project.

    >>> CaseNode("minutes", without=True).key
    'minutes@without'
    """

    node: str
    without: bool = False

    @property
    def key(self) -> str:
        """Its id in the expanded graph and in a run's outputs: ``id`` or ``id@without``."""
        return self.node + _WITHOUT if self.without else self.node

    def __str__(self) -> str:
        return self.key


def case_nodes(model: Model) -> dict[str, CaseNode]:
    """Each id a run may report for ``model``'s own nodes, with the node it stands for.

    A node that differs without and with the project (a ``situation`` node and
    every node below one) has its copy without the project too.

    >>> from assumption_graph import Model
    >>> m = Model("demo")
    >>> m.add("minutes", situation={"without": {"value": 5}, "with": {"value": 3}})
    >>> m.add("rent", value=10)
    >>> sorted(case_nodes(m))
    ['minutes', 'minutes@without', 'rent']
    """
    nodes = {node_id: CaseNode(node_id) for node_id in model.nodes}
    for node_id in model.situation_dependents():
        without = CaseNode(node_id, without=True)
        nodes[without.key] = without
    return nodes


def situation_title(title: str, node: CaseNode, mark_with: bool = False) -> str:
    """``title`` saying which situation ``node`` is in.

    The copy without the project says so; with ``mark_with`` (both copies are
    listed side by side) the other copy says it is with the project.

    >>> situation_title("Minutes", CaseNode("minutes", without=True))
    'Minutes (without the project)'
    """
    if node.without:
        return f"{title} (without the project)"
    return f"{title} (with the project)" if mark_with else title


def figure_id(name: str) -> str:
    """The node id of a key figure in the expanded graph, e.g. ``@npv``."""
    return f"@{name}"


def flow_id(year: int) -> str:
    """The node id of a year's net flow (gross gain - project cost), e.g. ``@flow_2025``."""
    return f"@flow_{year}"


def flow_label(year: int) -> str:
    """The title of a year's net flow node, e.g. ``Net flow 2025``."""
    return f"Net flow {year}"
