"""The baseline: the graph evaluated the way one would by hand with numpy.

Every uncertain input is drawn for all samples at once with
``numpy.random.default_rng(seed)`` (``triangular`` for a triangle, and the
matching generator method for the other probability models), then every node
is computed as a whole-array numpy expression by the package's reference
interpreter. It holds every node for every sample, so its memory grows with
samples × nodes; the suite sizes its sample count to a memory budget.
"""

from __future__ import annotations

import numpy as np

from assumption_graph.compile.reference import evaluate, input_distributions
from assumption_graph.distributions import (
    Discrete,
    Distribution,
    LogNormal,
    Normal,
    Pert,
    Triangle,
    Uniform,
)
from assumption_graph.validate import CheckedModel

__all__ = ["numpy_baseline", "draw"]


def draw(rng: np.random.Generator, dist: Distribution, n: int) -> np.ndarray:
    """``n`` draws from ``dist`` with numpy's own generator methods."""
    if isinstance(dist, Triangle):
        return rng.triangular(dist.low, dist.mid, dist.high, n)
    if isinstance(dist, Uniform):
        return rng.uniform(dist.low, dist.high, n)
    if isinstance(dist, Pert):  # lambda 4, as the engine's PERT
        span = dist.high - dist.low
        alpha = 1.0 + 4.0 * (dist.mid - dist.low) / span
        beta = 1.0 + 4.0 * (dist.high - dist.mid) / span
        return dist.low + span * rng.beta(alpha, beta, n)
    if isinstance(dist, Discrete):
        return rng.choice([dist.low, dist.mid, dist.high], size=n, p=dist.probabilities)
    if isinstance(dist, Normal):
        return rng.normal(dist.mean, dist.sd, n)
    if isinstance(dist, LogNormal):
        return rng.lognormal(dist.mu, dist.sigma, n)
    raise TypeError(f"the baseline cannot draw {dist!r}")


def numpy_baseline(checked: CheckedModel, n: int, seed: int) -> dict[str, np.ndarray]:
    """Draw every input and evaluate every node on ``n`` samples; every node's array.

    >>> from benchmarks.graphs import layered
    >>> import assumption_graph as ag
    >>> values = numpy_baseline(ag.check(layered(20)), 1000, seed=1)
    >>> len(values), values["l0001_f0"].shape
    (20, (1000,))
    """
    rng = np.random.default_rng(seed)
    inputs: dict[str, np.ndarray | float] = {}
    for node_id, body in input_distributions(checked).items():
        if body.draws:  # fixed: evaluate fills it
            inputs[node_id] = draw(rng, body, n)
    return evaluate(checked, inputs, n)
