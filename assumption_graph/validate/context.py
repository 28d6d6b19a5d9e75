"""What every rule shares: the :class:`Context` of one check, and small node helpers.

The context works out each node's users and the evaluation order once, and makes the
rules' diagnostics (file and best line filled in).
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._lazy import lazy_import
from ..errors import Diagnostic
from ..expr import Formula
from ..model import Input, Model, Node, Situation

if TYPE_CHECKING:
    import networkx as nx
else:  # loaded when a graph algorithm is needed
    nx = lazy_import("networkx")

__all__ = ["Context", "formula_text", "own_inputs"]


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
class Context:
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
            file=node.file if node is not None and node.file else self.model.file,
            line=line,
        )

    error = functools.partialmethod(_make, "error")
    warning = functools.partialmethod(_make, "warning")


def own_inputs(node: Node) -> tuple[tuple[str | None, Input], ...]:
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


def formula_text(node: Node) -> str:
    """A formula node's text; ``""`` for any other node."""
    return node.body.text if isinstance(node.body, Formula) else ""
