"""Getting a big model ready: the short ways ``check`` takes agree with the long ones.

``check`` orders the graph with its own heap-based topological sort over plain lists
and builds no networkx graph unless a rule needs one (a cycle to report, situation
nodes to follow). Each short way is compared here with the long way it replaces,
on random models.
"""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph.model import Model
from assumption_graph.validate import check
from benchmarks.graphs import layered


@st.composite
def any_graphs(draw: st.DrawFn) -> Model:
    """Nodes whose formulas use any node, themselves included, or a name that is no node."""
    ids = [f"n{i}" for i in range(draw(st.integers(1, 10)))]
    model = Model("any")
    for node_id in ids:
        inputs = draw(st.lists(st.sampled_from([*ids, "ghost"]), unique=True, max_size=3))
        if inputs:
            model.add(node_id, formula=" + ".join(inputs))
        else:
            model.add(node_id, estimate=[1, 2, 3], source="s")
    return model


@settings(max_examples=200, deadline=None)
@given(any_graphs())
def test_order_is_networkx_lexicographical_topological_sort(model: Model) -> None:
    try:
        expected = tuple(nx.lexicographical_topological_sort(model.graph))
    except nx.NetworkXUnfeasible:  # a cycle, or a node that uses itself
        expected = ()
    assert check(model).order == expected


def _no_graph(model: Model) -> nx.DiGraph:
    raise AssertionError("check built the networkx graph")


def test_check_of_an_acyclic_model_builds_no_networkx_graph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = layered(300)
    expected = check(model)
    monkeypatch.setattr(Model, "graph", property(_no_graph))
    checked = check(model)
    assert checked.ok and checked.order == expected.order
    assert checked.diagnostics == expected.diagnostics
