"""What every rule shares: the :class:`Context` of one check, and small node helpers.

The context works out each node's users and the evaluation order once, and makes the
rules' diagnostics (file and best line filled in).
"""

from __future__ import annotations

import functools
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
        self.users = self.model.users()
        self.order = self.model.order(self.users)
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
