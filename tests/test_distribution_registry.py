"""Every registered probability model, through the kernel and through its numpy twin.

The registry is the one list of models, so these tests run over it: a model
added to it without an example here, a kernel branch or a twin fails them.
"""

from __future__ import annotations

import ast
import inspect
import math
from collections import Counter

import numpy as np
import pytest

from assumption_graph.compile import kernel, numba_backend
from assumption_graph.compile.ir import Op
from assumption_graph.distributions import (
    REGISTRY,
    Discrete,
    DiscreteValues,
    Distribution,
    Fixed,
    LogNormal,
    Metalog,
    Normal,
    Pert,
    RiskEvent,
    Triangle,
    Trigen,
    Uniform,
    UniformValues,
)
from assumption_graph.model import Model
from assumption_graph.run import Simulator
from assumption_graph.sampling import InputSampler
from assumption_graph.streams import stream_key

# A few models of each registered class: skewed, at the ends, and with negative numbers.
EXAMPLES: dict[type[Distribution], list[Distribution]] = {
    Fixed: [Fixed(3.5)],
    Uniform: [Uniform(-2, 0, 5)],
    Triangle: [Triangle(1200, 1500, 2100), Triangle(0, 0, 4), Triangle(-3, 2, 2)],
    Discrete: [Discrete(0, 100, 400, (0.5, 0.3, 0.2))],
    Pert: [Pert(1, 4, 13), Pert(0, 0, 10), Pert(-3, -1, 2)],
    Normal: [Normal(100, 15), Normal(-3, 0.5, percentiles=(10, 50, 90))],
    LogNormal: [LogNormal(0.5, 0.4)],
    Metalog: [Metalog(80, 100, 150), Metalog(-5, 0, 4, (5, 50, 95))],
    RiskEvent: [
        RiskEvent(0.3, (10, 20, 50)),
        RiskEvent(0.6, (-40, 10, 30), "uniform"),
        RiskEvent(0.3, (10, 20, 50), "pert"),
    ],
    Trigen: [Trigen(80, 100, 150), Trigen(1, 1, 5), Trigen(-2, 3, 3)],
    DiscreteValues: [DiscreteValues((20, 0, 50, 10), (0.2, 0.4, 0.1, 0.3))],
    UniformValues: [UniformValues((1, 2, 3, 4, 5, 6))],
}
CASES = [model for cls in REGISTRY for model in EXAMPLES.get(cls, [])]


def test_every_registered_model_has_an_example() -> None:
    assert set(EXAMPLES) == set(REGISTRY)


@pytest.mark.parametrize("model", CASES, ids=repr)
def test_the_kernel_draws_each_model_as_its_numpy_twin_bit_for_bit(model: Distribution) -> None:
    """A run's draws (the compiled sampler in the kernel) equal ``sample_array`` (numpy)."""
    graph = Model("twin")
    graph.add("x", kind="main", **model.file_keys())
    assert graph["x"].body == model
    n, seed = 3000, 17
    drawn = Simulator(graph).run(n, seed, keep_samples=True).values("x")
    twin = model.sample_array(stream_key(seed, "x"), np.arange(n))
    np.testing.assert_array_equal(drawn, twin)


@pytest.mark.parametrize("model", CASES, ids=repr)
def test_quantile_inverts_the_samplers_distribution(model: Distribution) -> None:
    """At each level p, ``q = quantile(p)`` has P(X < q) <= p <= P(X <= q) in the draws.

    Within five standard errors of a proportion, sqrt(p(1 - p) / n): for a
    continuous model both shares are p; for one over a few values, q is the
    value whose step crosses p.
    """
    n = 40_000
    draws = model.sample_array(stream_key(5, "quantile"), np.arange(n))
    levels = np.array([0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98])
    for p, q in zip(levels, model.quantile(levels), strict=True):
        tolerance = 5.0 * math.sqrt(p * (1.0 - p) / n) + 1e-12
        below, at_most = np.mean(draws < q), np.mean(draws <= q)
        assert below <= p + tolerance and at_most >= p - tolerance, (p, q, below, at_most)


def _draw_branches() -> tuple[dict[str, int], dict[str, int]]:
    """How many branches test for each opcode, by name: in the kernel's draw section, and
    in the piece that draws the other models (compiled apart from the kernel)."""
    tree = ast.parse(inspect.getsource(numba_backend._run_blocks))
    section = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "op >= Op.UNIFORM"
    )
    piece = ast.parse(inspect.getsource(numba_backend._draw_op)).body[0]
    chain = next(node for node in piece.body if isinstance(node, ast.If))  # type: ignore[attr-defined]
    return _branch_counts(section.body[-2]), _branch_counts(chain)  # before the kernel's `continue`


def _branch_counts(branch: ast.If | None) -> dict[str, int]:
    """How many branches of the if/elif chain ``branch`` test for each opcode, by name."""
    counts: dict[str, int] = {}
    while isinstance(branch, ast.If):
        for compare in ast.walk(branch.test):
            if isinstance(compare, ast.Attribute) and ast.unparse(compare.value) == "Op":
                counts[compare.attr] = counts.get(compare.attr, 0) + 1
        branch = branch.orelse[0] if branch.orelse else None  # type: ignore[assignment]
    return counts


def test_each_drawing_model_has_exactly_one_kernel_branch_and_each_branch_a_model() -> None:
    opcodes = {Op(cls.opcode).name for cls in REGISTRY if cls.draws}
    in_kernel, in_piece = _draw_branches()
    branches = Counter(in_kernel) + Counter(in_piece)
    assert set(branches) == opcodes
    assert all(count == 1 for count in branches.values()), branches
    assert {op.name for op in Op if op >= Op.UNIFORM} == opcodes
    assert set(in_kernel) == {op.name for op in kernel._KERNEL_DRAWS}  # the piece: the rest


def test_a_model_that_does_not_draw_is_a_constant() -> None:
    for cls in REGISTRY:
        assert cls.draws == (cls.opcode != Op.CONST), cls


def every_model(correlated: bool) -> Model:
    """One input of each drawing example; each correlated with the next (0.3) if asked."""
    graph = Model("every")
    drawing = [model for model in CASES if model.draws]
    for k, model in enumerate(drawing):
        graph.add(f"x{k:02d}", kind="main", **model.file_keys())
    for k in range(len(drawing) - 1 if correlated else 0):
        graph.correlate(f"x{k:02d}", f"x{k + 1:02d}", 0.3)
    return graph


@pytest.mark.parametrize(
    ("method", "correlated"),
    [("mc", True), ("lhs", True), ("sobol", True), ("lhs", False), ("sobol", False)],
)
def test_the_kernel_makes_sampled_inputs_as_the_numpy_twin_bit_for_bit(
    method: str, correlated: bool
) -> None:
    """Latin hypercube, Sobol and correlated inputs made in the kernel (the copula's normal
    scores, mixing and normal CDF, then each model's inverse CDF) equal
    :meth:`InputSampler.values` (numpy, PERT's inverse CDF from scipy), whatever the
    chunks and threads."""
    graph = every_model(correlated)
    ids = sorted(graph.nodes)
    n, seed = 3000, 23
    sim = Simulator(graph)
    runs = [
        sim.run(n, seed, method=method, outputs=ids, keep_samples=True, **options)
        for options in ({}, {"chunk": 777, "threads": 1})
    ]
    dists = {x: graph[x].body for x in ids}
    pairs = [c.pair for c in graph.correlations]
    twin = InputSampler(method, dists, pairs, seed, n).values(0, n, ids=ids)
    for k, x in enumerate(ids):
        for run in runs:
            np.testing.assert_array_equal(run.values(x), twin[k], err_msg=x)
