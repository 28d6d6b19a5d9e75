"""A hand-written fused kernel of a layered graph: the bar a whole run is held to.

The graph is written out as one numba function, generated as source from the
model: a parallel loop over the samples (numba's ``prange``) in which each input
takes its uniform from the same counter stream as the engine's kernel
(``streams.uniform(stream_key(seed, id), sample, 0)``) through the triangle's
inverse CDF, each formula is its own Python expression, and the main nodes are
written to an output array. No interpreter, no program, no blocks: what one
would write by hand for this one graph, giving the engine's samples bit for bit
(:func:`same_samples` checks that), so both do the same work.

It covers the benchmark's layered graphs (triangular inputs, formulas of ``+``,
``*`` and ``/``); source: ``fused_kernel(...).source``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from assumption_graph.compile.reference import input_distributions
from assumption_graph.distributions import Triangle
from assumption_graph.distributions.registry import jit_scalars
from assumption_graph.run import Simulator
from assumption_graph.streams import stream_key
from assumption_graph.validate import CheckedModel

__all__ = ["FusedKernel", "fused_kernel", "fused_source", "same_samples"]

_SCALARS = jit_scalars(numba.njit)


@dataclass(frozen=True)
class FusedKernel:
    """The compiled function of one graph, what it reads and writes, and its source."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    source: str
    function: Callable[..., None]
    compile_seconds: float

    def __call__(self, seed: int, start: int, n: int, out: np.ndarray) -> None:
        """Samples ``start .. start+n-1`` of the outputs into ``out[:, :n]``."""
        keys = np.array([stream_key(seed, x) for x in self.inputs], dtype=np.uint64)
        self.function(keys, start, n, out)


def fused_source(checked: CheckedModel) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The fused function's source, its inputs (stream order) and its outputs."""
    model = checked.model
    outputs = tuple(model.main_nodes)
    needed = set(outputs)
    for node_id in reversed(checked.order):
        if node_id in needed:
            needed.update(model[node_id].inputs)
    draws = input_distributions(checked)
    inputs = tuple(x for x in checked.order if x in needed and x in draws)
    lines = [
        "def fused(keys, start, n, out):",
        "    for i in prange(n):",
        "        sample = np.uint64(start + i)",
    ]
    for node_id in (x for x in checked.order if x in needed):
        if node_id in draws:
            body = draws[node_id]
            if not isinstance(body, Triangle):
                raise TypeError(f"the fused benchmark draws triangles only, not {body!r}")
            k = inputs.index(node_id)
            lines.append(
                f"        {node_id} = _triangle(_uniform(keys[{k}], sample, _ZERO), "
                f"{body.low!r}, {body.mid!r}, {body.high!r})"
            )
        else:
            lines.append(f"        {node_id} = {model[node_id].body.text}")
    lines += [f"        out[{k}, i] = {node_id}" for k, node_id in enumerate(outputs)]
    return "\n".join(lines) + "\n", inputs, outputs


def fused_kernel(checked: CheckedModel) -> FusedKernel:
    """Generate, compile (``parallel=True``, the kernel's error model) and warm up."""
    source, inputs, outputs = fused_source(checked)
    namespace = {
        "np": np,
        "prange": numba.prange,
        "_uniform": _SCALARS["uniform"],
        "_triangle": _SCALARS["triangle_from_u"],
        "_ZERO": np.uint64(0),
    }
    exec(compile(source, "<fused>", "exec"), namespace)  # noqa: S102 - our own generated source
    function = numba.njit(parallel=True, error_model="numpy")(namespace["fused"])
    start = time.perf_counter()
    keys = np.zeros(len(inputs), dtype=np.uint64)
    function(keys, 0, 1, np.empty((len(outputs), 1)))
    return FusedKernel(inputs, outputs, source, function, time.perf_counter() - start)


def same_samples(checked: CheckedModel, n: int = 10_000, seed: int = 1) -> bool:
    """Whether the fused kernel gives the engine's output samples bit for bit."""
    fused = fused_kernel(checked)
    out = np.empty((len(fused.outputs), n))
    fused(seed, 0, n, out)
    result = Simulator(checked).run(n, seed, outputs=fused.outputs, keep_samples=True)
    return all(np.array_equal(out[k], result.values(x)) for k, x in enumerate(fused.outputs))
