"""The graphs the benchmark times: the example business case and synthetic layered graphs.

A layered graph has layers of :data:`LAYER` nodes. Half of each layer are
uncertain inputs (triangle ``[0.9, 1.0, 1.1]``); the rest are formulas over
2–4 earlier nodes, drawn with a fixed generator seed so every run and every
commit times the same graph:

- a *sum* node averages 2–4 nodes of the previous layer and this layer's
  inputs, ``(a + b + c) / 3``;
- a *product* node multiplies one node of the previous layer by 1–3 of this
  layer's inputs.

Values stay near 1 at any depth: averages contract, and a product chain is a
random walk in the log with steps of about 4 %. Every formula node of a layer
feeds the next layer, so the whole graph is computed; the last layer's
formulas are the main nodes (the outputs). Inputs that no formula happens to
use are marked ``unused`` so the model passes ``check``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import assumption_graph as ag

__all__ = [
    "LAYER",
    "ESTIMATE",
    "EXAMPLE",
    "Spec",
    "layered",
    "layered_specs",
    "build",
    "example",
    "graph",
    "recipe",
]

LAYER = 10  # nodes per layer: half inputs, half formulas
ESTIMATE = (0.9, 1.0, 1.1)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "case_handling.yaml"


Spec = tuple[str, dict[str, object]]  # a node: its id and its keys, as for Model.add


def layered(n_nodes: int, seed: int = 0) -> ag.Model:
    """A layered synthetic graph of exactly ``n_nodes`` nodes (at least 2).

    >>> m = layered(100)
    >>> len(m), len(m.main_nodes), ag.check(m).ok
    (100, 5, True)
    """
    return build(f"layered-{n_nodes}", layered_specs(n_nodes, seed))


def build(name: str, specs: list[Spec]) -> ag.Model:
    """The model of ``specs``, added node by node as a user's script would."""
    model = ag.Model(name)
    for node_id, keys in specs:
        model.add(node_id, **keys)
    return model


def layered_specs(n_nodes: int, seed: int = 0) -> list[Spec]:
    """The nodes of :func:`layered`'s graph, generated at random (``seed``) but not yet added."""
    if n_nodes < 2:  # one input alone has no formula to be an output
        raise ValueError(f"a layered graph needs at least 2 nodes, got {n_nodes}")
    rng = random.Random(seed)
    n_layers = max(1, round(n_nodes / LAYER))
    sizes = [n_nodes // n_layers + (k < n_nodes % n_layers) for k in range(n_layers)]

    specs: list[Spec] = []
    used: set[str] = set()
    previous: list[str] = []  # every node of the previous layer
    previous_formulas: list[str] = []
    for depth, size in enumerate(sizes):
        n_inputs = size // 2
        inputs = [f"l{depth:04d}_x{k}" for k in range(n_inputs)]
        formulas = [f"l{depth:04d}_f{k}" for k in range(size - n_inputs)]
        for node_id in inputs:
            specs.append((node_id, {"estimate": list(ESTIMATE), "source": "synthetic"}))
        # every formula of the previous layer is a required operand of one formula
        # here (dealt round-robin), so all of them are used; other operands are random
        required: list[list[str]] = [[] for _ in formulas]
        for k, node_id in enumerate(rng.sample(previous_formulas, len(previous_formulas))):
            required[k % len(formulas)].append(node_id)
        fresh = set(inputs)  # inputs no formula uses yet: picked first
        for k, node_id in enumerate(formulas):
            text, operands = _formula(rng, required[k], previous, inputs, fresh, bool(k % 2))
            used.update(operands)
            keys: dict[str, object] = {"formula": text}
            if depth == n_layers - 1:
                keys["kind"] = "main"
            specs.append((node_id, keys))
        previous = inputs + formulas
        previous_formulas = formulas

    for node_id, keys in specs:
        if "formula" not in keys and node_id not in used:
            keys["unused"] = True
    return specs


def _formula(
    rng: random.Random,
    required: list[str],
    previous: list[str],
    inputs: list[str],
    fresh: set[str],
    product: bool,
) -> tuple[str, list[str]]:
    """A product or a sum (average) formula, and its operands.

    ``required`` are nodes of the previous layer the formula must use; inputs
    in ``fresh`` are preferred (and removed from it), so few inputs go unused.
    """
    if product and len(required) <= 1 and previous and inputs:
        base = required[0] if required else rng.choice(previous)
        terms = [base, *_pick(rng, inputs, rng.randint(1, 3), fresh)]
        return " * ".join(terms), terms
    pool = [n for n in previous + inputs if n not in required]
    count = min(max(len(required), rng.randint(2, 4)), len(pool) + len(required))
    terms = required + _pick(rng, pool, count - len(required), fresh)
    if len(terms) == 1:
        return terms[0], terms
    return f"({' + '.join(terms)}) / {len(terms)}", terms


def _pick(rng: random.Random, candidates: list[str], count: int, fresh: set[str]) -> list[str]:
    """``count`` distinct random candidates, those in ``fresh`` first."""
    shuffled = rng.sample(candidates, len(candidates))
    chosen = sorted(shuffled, key=lambda name: name not in fresh)[:count]
    fresh.difference_update(chosen)
    return chosen


def example() -> ag.Model:
    """The realistic example business case, ``examples/case_handling.yaml``."""
    return ag.load(EXAMPLE)


def graph(name: str) -> ag.Model:
    """A benchmark graph by name: ``example`` or ``layered-<nodes>``.

    >>> len(graph("layered-30"))
    30
    """
    return recipe(name)()


def recipe(name: str) -> Callable[[], ag.Model]:
    """What makes the graph ``name``: load its file, or add its generated nodes.

    A layered graph's nodes are generated here, so that timing the returned
    function times the engine building the model, not the benchmark's own
    random generator.
    """
    if name == "example":
        return example
    prefix, _, size = name.partition("-")
    if prefix == "layered" and size.isdigit():
        specs = layered_specs(int(size))
        return lambda: build(name, specs)
    raise ValueError(f"unknown benchmark graph {name!r}; use 'example' or 'layered-<nodes>'")
