"""The numpy twin's deterministic evaluation: only the needed nodes, one column per case."""

from __future__ import annotations

import numpy as np

from assumption_graph.compile.reference import best_ends, deterministic_figures, evaluate
from assumption_graph.model import Model
from assumption_graph.validate import check


def _model() -> Model:
    """Two costs and a gain over three estimates; the nodes' best cases differ."""
    m = Model("twin")
    m.add("hours", estimate=[80, 100, 150], unit="h")
    m.add("rate", estimate=[0.8, 1.0, 1.1], unit="tkr/h")
    m.add("saved", estimate=[10, 20, 25], unit="tkr")
    m.add("cost", kind="main", formula="hours * rate", unit="tkr")
    m.add("gain", kind="main", formula="saved * 2", unit="tkr", side="gain")
    m.add("net", kind="main", formula="gain - cost", unit="tkr", side="gain")
    return m


def test_evaluate_computes_only_what_the_nodes_asked_for_need() -> None:
    checked = check(_model()).raise_for_errors()
    values = {"hours": np.array([80.0, 150.0]), "rate": 1.0}  # no value for saved: not needed
    result = evaluate(checked, values, 2, ["cost"])
    assert list(result) == ["cost"]
    np.testing.assert_array_equal(result["cost"], [80.0, 150.0])


def test_best_and_worst_equal_each_node_evaluated_in_its_own_case() -> None:
    checked = check(_model()).raise_for_errors()
    nodes = ["cost", "gain", "net"]
    figures = deterministic_figures(checked, nodes)
    inputs, high_is_best = best_ends(checked, nodes)
    ends = {n: checked.model[n].body for n in inputs}
    for column, node_id in enumerate(nodes):
        for name, flip in (("best", False), ("worst", True)):
            chosen = zip(inputs, high_is_best[:, column] ^ flip, strict=True)
            values = {n: (ends[n].high if high else ends[n].low) for n, high in chosen}
            alone = evaluate(checked, values, 1, [node_id])[node_id][0]
            assert figures[node_id][name] == alone, (node_id, name)
    assert (figures["cost"]["best"], figures["gain"]["best"]) == (64.0, 50.0)
