"""Writing a model as a SIPmath 3.0 library: virtual SIPs in, stored trials out.

Every random input becomes a virtual SIP: a bounded metalog fitted to its
quantiles (:func:`~.metalog.fit_metalog`) of the uniforms of its own HDR
generator, whose seeds are stable: the entity (an option, else a number from the
model's name) and a variable id from the input's id, so adding nodes changes
no input's trials. Inputs under the model's correlations share a Gaussian
copula with their normal correlations. An input no metalog fits (a discrete
one, a risk event) keeps its exact distribution as stored trials of the same
uniforms. The library's own inputs then run the model, and the main outputs
(those not inputs themselves) and key figures are stored as their trials
(``SIP_Array``): per trial they belong with the inputs' trials of the same
``PM_Index``.
"""

from __future__ import annotations

import datetime
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._version import __version__
from ..errors import RunError
from ..results import RunResult
from ..run import Simulator
from ..sampling import normal_correlations
from .hdr import HDR_MAX_SEED
from .library import library_from_data
from .metalog import Metalog, fit_metalog

__all__ = ["SipWriting", "write_sip_library", "stable_seed", "variable_ids"]

_COPULA = "correlated inputs"
_MATRIX = "correlation matrix"
_INDEX = "PM_Index"


def stable_seed(text: str) -> int:
    """A seed in 1 .. 99,999,999 from ``text`` alone (CRC-32), the same on every machine.

    >>> stable_seed("hours")
    17008293
    """
    return 1 + zlib.crc32(text.encode("utf-8")) % HDR_MAX_SEED


def variable_ids(ids: list[str]) -> dict[str, int]:
    """Each id's HDR variable id: its :func:`stable_seed`, the next free one on a clash.

    Clashes are settled in the order of the sorted ids, so an id's number
    depends on no other id unless two share a seed.
    """
    taken: dict[str, int] = {}
    used: set[int] = set()
    for node_id in sorted(ids):
        seed = stable_seed(node_id)
        while seed in used:
            seed = seed % HDR_MAX_SEED + 1
        taken[node_id] = seed
        used.add(seed)
    return taken


@dataclass(frozen=True)
class SipWriting:
    """A written library (``data``, ready for JSON), the run that filled its outputs,
    and the inputs stored as trials because no metalog fits them."""

    data: dict[str, Any]
    result: RunResult
    stored_inputs: tuple[str, ...]


def write_sip_library(
    simulator: Simulator,
    n: int,
    *,
    entity: int | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SipWriting:
    """The model of ``simulator`` as a SIPmath 3.0 library with ``n`` trials of its outputs.

    ``entity`` is the HDR entity id (default: :func:`stable_seed` of the model's
    name). Every random input comes from the library, so no seed or sampling
    method changes a trial: the HDR generator's seeds say them all.
    """
    model = simulator.model
    entity = stable_seed(model.name or "model") if entity is None else entity
    if not 0 <= entity <= HDR_MAX_SEED:
        raise RunError(f"the SIPmath entity must be a whole number 0 .. {HDR_MAX_SEED:,}")
    inputs = simulator.random_inputs()
    numbers = variable_ids(list(inputs))
    rngs = [_hdr(node_id, numbers[node_id], entity) for node_id in inputs]
    correlated = sorted({x for c in model.correlations for x in (c.a, c.b) if x in inputs})
    pairs = [c.pair for c in model.correlations if c.a in inputs and c.b in inputs]
    data: dict[str, Any] = {
        "name": model.name or "assumption graph",
        "objectType": "sipModel",
        "libraryType": "SIPmath_3_0",
        "dateCreated": datetime.date.today().isoformat(),
        "provenance": f"assumption_graph {__version__}: {model.file or model.name}",
        "version": "1",
        "globalVariables": [],
        "U01": {
            "rng": [*rngs, {"name": _INDEX, "function": "Index", "arguments": {"counter": _INDEX}}]
        },
        "sips": [],
    }
    if correlated:
        data["globalVariables"].append(_matrix(correlated, normal_correlations(correlated, pairs)))
        data["U01"]["copula"] = [_copula(correlated)]
    generators = library_from_data(data)  # the uniforms of inputs stored as trials
    for node_id, distribution in inputs.items():
        ref = (
            {"source": "copula", "name": _COPULA, "copulaLayer": node_id}
            if node_id in correlated
            else {"source": "rng", "name": node_id}
        )
        fit = fit_metalog(distribution.quantile)
        if fit is None:
            values = distribution.quantile(generators.uniforms(ref, 0, n)).tolist()
            data["sips"].append(_stored(node_id, values))
        else:
            data["sips"].append(_virtual(node_id, ref, *fit, distribution.name))
    stored = tuple(s["name"] for s in data["sips"] if s["function"] == "SIP_Array")
    result = simulator.run(
        n,
        keep_samples=True,
        threads=threads,
        progress=progress,
        sip_library=library_from_data(data),
    )
    # a main node that is an input itself is in the library already, as its input; a key
    # figure goes by its name (npv), or by its node's id where a node has that name
    kept = {o: o for o in result.summaries if o not in inputs}
    for name, node_id in simulator.case.key_figures.items():
        kept[node_id if name in kept or name in inputs else name] = node_id
    for name, node_id in kept.items():
        data["sips"].append(_stored(name, result.arrays[node_id].tolist()))
    return SipWriting(data, result, stored)


def _virtual(
    name: str, ref: dict[str, Any], metalog: Metalog, error: float, model: str
) -> dict[str, Any]:
    """A virtual SIP: the bounded metalog of the uniforms ``ref`` points to."""
    arguments: dict[str, Any] = {"aCoefficients": list(metalog.coefficients)}
    if metalog.lower is not None:
        arguments["lowerBound"] = metalog.lower
    if metalog.upper is not None:
        arguments["upperBound"] = metalog.upper
    metadata = {"model": model, "fitError": error}
    return {
        "name": name,
        "ref": ref,
        "function": "Metalog_1_0",
        "arguments": arguments,
        "metadata": metadata,
    }


def _hdr(name: str, var_id: int, entity: int) -> dict[str, Any]:
    arguments = {"counter": _INDEX, "entity": entity, "varId": var_id, "seed3": 0, "seed4": 0}
    return {"name": name, "function": "HDR_2_0", "arguments": arguments}


def _matrix(ids: list[str], matrix: Any) -> dict[str, Any]:
    """The copula's correlation matrix as a global variable (upper triangle, by name)."""
    entries = [
        {"row": a, "col": ids[j], "value": float(matrix[i, j])}
        for i, a in enumerate(ids)
        for j in range(i, len(ids))
    ]
    return {"name": _MATRIX, "value": {"columns": ids, "rows": ids, "matrix": entries}}


def _copula(ids: list[str]) -> dict[str, Any]:
    return {
        "name": _COPULA,
        "function": "GaussianCopula",
        "arguments": {
            "correlationMatrix": {"type": "globalVariables", "value": _MATRIX},
            "rng": ids,
        },
        "copulaLayer": ids,
    }


def _stored(name: str, values: list[float]) -> dict[str, Any]:
    """A SIP of stored trials, read at ``PM_Index``; ``null`` where a trial has no value."""
    trials = [v if math.isfinite(v) else None for v in values]
    return {
        "name": name,
        "ref": {"source": "rng", "name": _INDEX},
        "function": "SIP_Array",
        "arguments": {"type": "array", "value": trials},
    }
