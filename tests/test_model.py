"""Tests for the node records and the reading of a node's optional keys (``model.py``)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest

from assumption_graph.errors import ModelError
from assumption_graph.model import _OPTIONAL_READERS, NODE_KEYS, Node, node_from_keys

# A value for every optional key, none of them the default.
GIVEN: dict[str, Any] = {
    "label": "Hours",
    "unit": "h",
    "source": "offer",
    "favourable": "low",
    "side": "cost",
    "purpose": ["quality", "efficiency"],
    "unused": True,
    "category": "hardware",
    "phase": "implementation",
    "year": 2026.0,
    "years": 2027,
    "profile": [1, 0.5],
    "risk": [1, 2],
}
READ: dict[str, Any] = {
    **GIVEN,
    "purpose": ("quality", "efficiency"),
    "year": 2026,
    "years": (2027,),
    "profile": (1.0, 0.5),
    "risk": (1, 2),
}
BASE_FIELDS = {"id", "kind", "body", "line", "key_lines", "file"}  # identity, body, location


def test_every_optional_field_of_a_node_has_a_reader_and_a_file_key() -> None:
    optional = {f.name for f in dataclasses.fields(Node)} - BASE_FIELDS
    assert set(_OPTIONAL_READERS) == optional == set(GIVEN)
    assert optional <= set(NODE_KEYS)


def test_optional_keys_not_given_keep_the_node_defaults() -> None:
    node = node_from_keys("hours", {"estimate": [1, 2, 3]}, line=4, key_lines={"estimate": 5})
    assert node == Node("hours", "uncertain", node.body)
    assert (node.line, node.key_lines) == (4, {"estimate": 5})


@pytest.mark.parametrize("key", sorted(GIVEN))
def test_each_optional_key_given_is_read(key: str) -> None:
    node = node_from_keys("hours", {"estimate": [1, 2, 3], key: GIVEN[key]})
    expected = dataclasses.replace(Node("hours", "uncertain", node.body), **{key: READ[key]})
    assert node == expected


def test_all_optional_keys_together() -> None:
    node = node_from_keys("hours", {"kind": "main", "estimate": [1, 2, 3], **GIVEN})
    assert node == Node("hours", "main", node.body, **READ)


@pytest.mark.parametrize("raw", [None, ""])
def test_a_missing_label_is_empty_text(raw: object) -> None:
    assert node_from_keys("a", {"value": 1, "label": raw}).label == ""


def test_the_first_bad_optional_key_in_node_order_is_named() -> None:
    # written year first, but 'unused' comes first in the node's order of keys
    keys = {"value": 1, "year": "soon", "unused": "yes"}
    with pytest.raises(ModelError, match="'unused' must be true or false"):
        node_from_keys("a", keys)
    with pytest.raises(ModelError, match="'year' must be a whole number"):
        node_from_keys("a", {"value": 1, "year": "soon"})


def test_a_bad_kind_is_named_before_a_bad_optional_key() -> None:
    with pytest.raises(ModelError, match="'kind' must be one of"):
        node_from_keys("a", {"value": 1, "kind": "input", "label": ["x"]})


def test_nodes_are_frozen_slotted_records_that_copy_and_pickle() -> None:
    node = node_from_keys("cost", {"kind": "main", "formula": "hours * rate", **GIVEN}, line=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.label = "other"  # type: ignore[misc]
    assert not hasattr(node, "__dict__")
    for clone in (copy.copy(node), copy.deepcopy(node), pickle.loads(pickle.dumps(node))):
        assert clone == node and clone.line == 3 and clone.inputs == {"hours", "rate"}
    assert dataclasses.replace(node, id="other").id == "other"


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parent.parent / "examples").glob("*.yaml")), ids=lambda p: p.stem
)
def test_situation_dependents_are_the_situations_and_every_node_below(path):
    import networkx as nx

    from assumption_graph.io import load
    from assumption_graph.model import Situation

    model = load(path)
    situations = [n.id for n in model if isinstance(n.body, Situation)]
    graph = model.graph
    below = frozenset(situations).union(*(nx.descendants(graph, n) for n in situations))
    assert model.situation_dependents() == below
