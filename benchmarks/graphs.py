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
from pathlib import Path

import assumption_graph as ag

__all__ = ["LAYER", "ESTIMATE", "EXAMPLE", "layered", "example", "graph"]

LAYER = 10  # nodes per layer: half inputs, half formulas
ESTIMATE = (0.9, 1.0, 1.1)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "case_handling.yaml"


def layered(n_nodes: int, seed: int = 0) -> ag.Model:
    """A layered synthetic graph of exactly ``n_nodes`` nodes (at least 2).

    >>> m = layered(100)
    >>> len(m), len(m.main_nodes), ag.check(m).ok
    (100, 5, True)
    """
    if n_nodes < 2:
        raise ValueError(f"a layered graph needs at least 2 nodes, got {n_nodes}")
    rng = random.Random(seed)
    sizes = [LAYER] * (n_nodes // LAYER)
    if n_nodes % LAYER:
        sizes.append(n_nodes % LAYER)
    if sizes[-1] < 2:  # a lone input cannot be a layer of its own: fold it into the last
        sizes[-2:] = [sizes[-2] + sizes[-1]]

    specs: list[tuple[str, dict[str, object]]] = []
    used: set[str] = set()
    previous: list[str] = []  # every node of the previous layer
    previous_formulas: list[str] = []
    for depth, size in enumerate(sizes):
        n_inputs = size // 2
        inputs = [f"l{depth:04d}_x{k}" for k in range(n_inputs)]
        formulas = [f"l{depth:04d}_f{k}" for k in range(size - n_inputs)]
        last = depth == len(sizes) - 1
        for node_id in inputs:
            specs.append((node_id, {"estimate": list(ESTIMATE), "source": "synthetic"}))
        # each formula of the previous layer is the first operand of one formula here,
        # so all of them are used; the rest of the operands are drawn at random
        carried = rng.sample(previous_formulas, len(previous_formulas))
        for k, node_id in enumerate(formulas):
            first = carried[k] if k < len(carried) else None
            text = _formula(rng, first, previous, inputs, product=bool(k % 2))
            used.update(name for name in text.replace("(", " ").replace(")", " ").split()
                        if name[0] == "l")
            keys: dict[str, object] = {"formula": text}
            if last:
                keys["kind"] = "main"
            specs.append((node_id, keys))
        for node_id in formulas[len(carried):]:  # a wider layer than the one before
            pass
        previous = inputs + formulas
        previous_formulas = formulas

    model = ag.Model(f"layered-{n_nodes}")
    for node_id, keys in specs:
        if "formula" not in keys and node_id not in used:
            keys["unused"] = True
        model.add(node_id, **keys)
    return model


def _formula(rng: random.Random, first: str | None, previous: list[str], inputs: list[str],
             product: bool) -> str:
    """A sum (average) or product formula; ``first`` is a previous-layer node it must use."""
    if product and (first is not None or previous) and inputs:
        base = first if first is not None else rng.choice(previous)
        factors = rng.sample(inputs, min(len(inputs), rng.randint(1, 3)))
        return " * ".join([base, *factors])
    pool = [n for n in previous + inputs if n != first]
    count = rng.randint(2, 4)
    terms = ([first] if first is not None else []) + rng.sample(pool, min(len(pool), count))
    terms = terms[:count] if len(terms) > count else terms
    if len(terms) == 1:
        return terms[0]
    return f"({' + '.join(terms)}) / {len(terms)}"


def example() -> ag.Model:
    """The realistic example business case, ``examples/case_handling.yaml``."""
    return ag.load(EXAMPLE)


def graph(name: str) -> ag.Model:
    """A benchmark graph by name: ``example`` or ``layered-<nodes>``.

    >>> len(graph("layered-30"))
    30
    """
    if name == "example":
        return example()
    prefix, _, size = name.partition("-")
    if prefix == "layered" and size.isdigit():
        return layered(int(size))
    raise ValueError(f"unknown benchmark graph {name!r}; use 'example' or 'layered-<nodes>'")
