"""The business case expanded into the plain graph: its two types and its structured copies."""

from __future__ import annotations

from pathlib import Path

from assumption_graph.business.expand import CaseGraph, PlainGraph, expand
from assumption_graph.business.labels import IRR_MULTIPLE, CaseNode, case_nodes, figure_id
from assumption_graph.io import load, loads

from .business_models import CRN, checked_model

CONSULTANCY = Path(__file__).resolve().parent.parent / "examples" / "consultancy.yaml"


def test_a_model_without_a_case_expands_to_a_plain_graph():
    model = load(CONSULTANCY)
    graph = expand(checked_model(model))
    assert type(graph) is PlainGraph
    assert graph.checked.model is model  # nothing to double: the model itself runs
    assert graph.key_figures == {} and graph.totals == {}
    assert graph.objective is None and graph.case_ids == ()


def test_a_business_case_expands_to_a_case_graph_that_has_its_case():
    model = loads(CRN)
    graph = expand(checked_model(model))
    assert isinstance(graph, CaseGraph)
    assert graph.case is model.business_case
    assert graph.objective == figure_id("npv") == graph.key_figures["npv"]
    items = [item.node for item in graph.items]
    assert items == ["work@without", "work", "setup"]
    assert graph.case_ids == (*items, *graph.key_figures.values(), IRR_MULTIPLE)
    assert set(graph.case_ids) <= set(graph.checked.order)  # every one is a node that runs


def test_every_copy_in_the_graph_is_a_structured_node_whose_key_is_its_id():
    graph = expand(checked_model(loads(CRN)))
    assert graph.doubled == {"minutes", "work"}
    assert set(graph.nodes) == set(graph.visible)
    for node_id, node in graph.nodes.items():
        assert node.key == str(node) == node_id
        assert node.node in graph.model
    without = {node.node for node in graph.nodes.values() if node.without}
    assert without == graph.doubled
    assert graph.nodes["minutes@without"] == CaseNode("minutes", without=True)
    assert graph.nodes == case_nodes(graph.model)


def test_pins_name_both_copies_of_a_doubled_node_and_one_otherwise():
    graph = expand(checked_model(loads(CRN)))
    assert graph.pins({"minutes": 2.0, "cases": 3.0}) == {
        "minutes@without": 2.0,
        "minutes": 2.0,
        "cases": 3.0,
    }
    assert graph.pins({"minutes@without": 5.0}) == {"minutes@without": 5.0}
