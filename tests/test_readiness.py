"""Getting a big model ready: the short ways ``check`` and the parser take agree with the long.

``check`` orders the graph with its own heap-based topological sort over plain lists
and builds no networkx graph unless a rule needs one (a cycle to report, situation
nodes to follow); unit inference skips a formula whose names carry no unit. Each
short way is compared here with the long way it replaces, on random models.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph import validate
from assumption_graph.model import Model
from assumption_graph.validate import check
from benchmarks.graphs import layered

from .strategies import formulas


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


UNITS = (None, "h", "tkr", "tkr/h", "1", "case/h")


@st.composite
def unit_models(draw: st.DrawFn) -> Model:
    """Acyclic models with declared units here and there, some main nodes among them."""
    model = Model("units")
    ids: list[str] = []
    for i in range(draw(st.integers(1, 4))):
        keys: dict[str, Any] = {"value": 2.0, "source": "s", "unused": True}
        unit = draw(st.sampled_from(UNITS))
        if unit is not None:
            keys["unit"] = unit
        model.add(f"x{i}", **keys)
        ids.append(f"x{i}")
    for j in range(draw(st.integers(1, 6))):
        keys = {"formula": draw(formulas(ids)), "unused": True}
        unit = draw(st.sampled_from(UNITS))
        if unit is not None:
            keys["unit"] = unit
        if draw(st.booleans()):
            keys["kind"] = "main"
        model.add(f"f{j}", **keys)
        ids.append(f"f{j}")
    return model


@settings(max_examples=200, deadline=None)
@given(unit_models())
def test_skipping_formulas_without_units_finds_what_walking_them_finds(
    model: Model,
) -> None:
    short = check(model).diagnostics
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validate._Units, "unknown_inputs", lambda self, formula: False)
        long = check(model).diagnostics
    assert short == long
