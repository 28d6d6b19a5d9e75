"""Which uncertain inputs drive an output: tornado, rank correlation and Sobol indices.

Three views of one question, from cheapest to most complete:

- **tornado** (deterministic): each input moved alone from its low to its high,
  every other input at mid, evaluated with the reference interpreter; ranked by
  the swing of the output. It reads the three-point estimates only, so it shows
  how far each estimate's range reaches, not how likely the ends are.
- **rank correlation** (one Monte Carlo run): Spearman's rho between each input's
  samples and the output's, and each input's *contribution to variance*: the
  squared correlations normalised to sum to 1 (the usual "contribution to
  variance" of risk-analysis tools; exact shares only for a monotone additive
  model, a ranking otherwise).
- **Sobol indices** (SALib, Saltelli's scheme): first-order S1 (the share of the
  output's variance an input explains alone) and total ST (alone and in every
  interaction), by the compiled kernel on SALib's quasi-random design.

The inputs are the random inputs the output depends on: uncertain nodes with a
non-fixed model upstream of it (an input elsewhere in the graph cannot move it).
With a business case a situation input counts twice, as ``id@without`` and
``id`` (with the project), as the run sees it. ``output`` may be a node id or a
key figure's name (``npv`` is the node ``@npv``). The tornado and the Sobol
indices move the inputs independently; the rank correlations come from an
ordinary run, so they include any ``correlations:`` the model declares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .business.expand import PlainGraph
from .business.figures import RATES
from .business.labels import FIGURE_LABELS, situation_title
from .cluster import Cluster
from .compile.reference import evaluate, input_distributions
from .distributions import Distribution
from .errors import RunError, did_you_mean
from .results import RunResult, average_ranks, spearman
from .run import DEFAULT_SAMPLES, DEFAULT_SEED, RANK_ROWS, Simulator, check_memory, checked_flag

__all__ = [
    "DEFAULT_SOBOL_SAMPLES",
    "TornadoBar",
    "SobolIndices",
    "SensitivityResult",
    "sensitivity",
    "tornado",
    "spearman",
    "contributions",
    "sobol_indices",
    "output_node",
    "random_inputs",
    "input_label",
    "output_label",
    "output_unit",
]

DEFAULT_SOBOL_SAMPLES = 1024  # Saltelli base samples: N·(k + 2) kernel evaluations for k inputs
_BATCH = 256  # inputs moved together in one reference evaluation (bounds its memory)
_RUN_GROUP = 64  # inputs kept per Monte Carlo run (bounds the kept samples' memory)
_EDGE = 1e-12  # SALib's uniforms are kept this far from 0 and 1 (unbounded quantiles)
_SOBOL_VALUES = 50_000_000  # most input values a Sobol design may hold (400 MB a copy)
_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class TornadoBar:
    """The output with one input at its low and at its high, every other input at mid.

    ``low``/``high`` are ``None`` where the output is not defined (e.g. a
    division by zero); ``swing`` is ``|high - low|``, NaN when either is undefined.
    """

    input: str
    label: str
    low: float | None
    high: float | None
    swing: float

    def as_dict(self) -> dict[str, object]:
        """The bar as the JSON's tornado entry."""
        return {"input": self.input, "low": self.low, "high": self.high, "swing": _data(self.swing)}


@dataclass(frozen=True)
class SobolIndices:
    """First-order and total Sobol indices with their 95 % confidence half-widths.

    ``samples`` is the number of Saltelli base samples used (each costs k + 2
    evaluations); base samples whose output was not finite are left out.
    """

    S1: Mapping[str, float]
    ST: Mapping[str, float]
    S1_conf: Mapping[str, float]
    ST_conf: Mapping[str, float]
    samples: int

    def as_dict(self) -> dict[str, object]:
        """The JSON's ``sobol`` object (undefined values as ``None``)."""
        return {
            name: {k: _data(v) for k, v in getattr(self, name).items()}
            for name in ("S1", "ST", "S1_conf", "ST_conf")
        }


@dataclass(frozen=True)
class SensitivityResult:
    """Everything :func:`sensitivity` found for one output; ``as_dict()`` is its JSON."""

    output: str
    samples: int
    seed: int
    method: str
    base: float  # output with every input at mid (the expected figure)
    tornado: tuple[TornadoBar, ...]  # largest swing first
    rank_correlation: Mapping[str, float]
    contribution_to_variance: Mapping[str, float]  # squared rank correlations, sum 1
    sobol: SobolIndices | None

    def as_dict(self) -> dict[str, object]:
        """The ``sensitivity --json`` document: no NaN or infinity, ``None`` where undefined."""
        return {
            "output": self.output,
            "samples": self.samples,
            "seed": self.seed,
            "method": self.method,
            "base": _data(self.base),
            "tornado": [bar.as_dict() for bar in self.tornado],
            "rank_correlation": {k: _data(v) for k, v in self.rank_correlation.items()},
            "contribution_to_variance": {
                k: _data(v) for k, v in self.contribution_to_variance.items()
            },
            "sobol": None if self.sobol is None else self.sobol.as_dict(),
        }


def _data(value: float | None) -> float | None:
    """A number for JSON: ``None`` for undefined (NaN, infinite)."""
    return None if value is None or not math.isfinite(value) else float(value)


def sensitivity(
    simulator: Simulator,
    output: str,
    *,
    n: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sobol: bool = True,
    sobol_samples: int = DEFAULT_SOBOL_SAMPLES,
    overrides: Mapping[str, float] | None = None,
    method: str = "mc",
    cluster: Cluster | None = None,
) -> SensitivityResult:
    """How much each uncertain input drives ``output``: tornado, rank correlation, Sobol.

    ``n``, ``seed`` and ``method`` set the Monte Carlo run behind the rank
    correlations; ``sobol_samples`` (a power of two) the Saltelli base samples
    behind the Sobol indices (``sobol=False`` skips them). ``overrides`` pin
    nodes for all three, which removes a pinned input from the analysis.
    ``cluster`` runs the kernel's work (the run and the Sobol design's
    evaluations) on its Dask workers: the same numbers.

    Undefined outputs: non-finite output samples are dropped pairwise from the
    rank correlations and whole Saltelli blocks from the Sobol indices. An input
    that does not vary in the run gets a rank correlation of 0 and a contribution
    of 0; if nothing correlates, every contribution is 0. An output that does not
    vary has no rank correlations or contributions: NaN (null in the JSON). Same
    arguments, same numbers.

    >>> from assumption_graph.model import Model
    >>> m = Model("demo")
    >>> m.add("a", estimate=[0, 1, 2], model="uniform")
    >>> m.add("b", estimate=[0, 1, 4], model="uniform")
    >>> m.add("y", kind="main", formula="a + b")
    >>> result = sensitivity(Simulator(m), "y", n=2000, sobol=False)
    >>> [(bar.input, bar.low, bar.high, bar.swing) for bar in result.tornado]
    [('b', 1.0, 5.0, 4.0), ('a', 1.0, 3.0, 2.0)]
    """
    if not isinstance(output, str):
        raise RunError(f"output must be a node id or a key figure's name, got {output!r}")
    node = output_node(simulator, output)
    sobol_samples, sobol = _checked_sobol_samples(sobol_samples), checked_flag(sobol, "sobol")
    pinned = simulator.checked_overrides(overrides)
    pins = simulator.case.pins(pinned)
    dists = random_inputs(simulator.case, node, pins)
    if sobol:  # before the run: a design too big to hold costs nothing
        _check_sobol_size(sobol_samples, len(dists))
    run, rho = _rank_correlations(simulator, node, list(dists), n, seed, pinned, method, cluster)
    factor = simulator.case.totals.get(node, 1.0)  # a node with `years` reports its total
    base, bars = tornado(simulator.case, node, dists, pins, factor)
    return SensitivityResult(
        output=output,
        samples=run.samples,
        seed=run.seed,
        method=run.method,
        base=base,
        tornado=bars,
        rank_correlation=rho,
        contribution_to_variance=contributions(rho),
        sobol=(
            sobol_indices(simulator, node, dists, pins, sobol_samples, seed, cluster)
            if sobol
            else None
        ),
    )


def output_node(simulator: Simulator, output: str) -> str:
    """The expanded graph's node for ``output``: a node id, or a key figure's name."""
    case = simulator.case
    if output in case.key_figures:
        return case.key_figures[output]
    if output in case.checked.model:
        return output
    choices = [*case.key_figures, *case.visible]
    hint = did_you_mean(output, choices, "see 'assumption-graph check' for the ids")
    raise RunError("the sensitivity output names no node or key figure", node=output, hint=hint)


def random_inputs(
    case: PlainGraph, node: str, pins: Mapping[str, float]
) -> dict[str, Distribution]:
    """The inputs ``node`` depends on that draw, in evaluation order.

    Those with a non-fixed probability model, upstream of ``node`` (or ``node``
    itself) through no pinned node: no other input can move it.
    """
    model = case.checked.model
    upstream, stack = {node}, [node]
    while stack:
        current = stack.pop()
        if current in pins:
            continue
        for name in model[current].inputs - upstream:
            upstream.add(name)
            stack.append(name)
    dists = input_distributions(case.checked, pins)
    return {n: d for n, d in dists.items() if n in upstream and model[n].is_uncertain}


def input_label(case: PlainGraph, node_id: str) -> str:
    """An input's label, saying which situation a situation input's copy is."""
    node = case.nodes[node_id]
    label = case.checked.model[node_id].display_label
    return situation_title(label, node, mark_with=node.node in case.doubled)


def output_label(case: PlainGraph, output: str) -> str:
    """A key figure's title (``npv`` -> "Net present value") or a node's label."""
    if output in case.key_figures:
        return FIGURE_LABELS[output]
    return case.checked.model[output].display_label


def output_unit(case: PlainGraph, output: str) -> str:
    """The unit of ``output``: a node's own, the money unit for a key figure (none for a rate)."""
    if output in case.key_figures:
        return "" if output in RATES else case.checked.model.money_unit
    return case.checked.model[output].unit or ""


# ---------------------------------------------------------------------------- tornado


def tornado(
    case: PlainGraph,
    node: str,
    dists: Mapping[str, Distribution],
    pins: Mapping[str, float],
    factor: float = 1.0,
) -> tuple[float, tuple[TornadoBar, ...]]:
    """The output at mid (``base``) and one bar per input, largest swing first.

    Each input moves alone to its ``Distribution.low`` and ``high`` (P5 and P95
    for normal and lognormal) with every other input at mid; ``factor`` scales
    the output (a main node with ``years`` is reported as its total). Bars with
    an undefined swing come last; ties keep the inputs' evaluation order.
    """
    names = list(dists)
    base = float(_evaluate_moved(case, node, dists, pins, [])[0]) * factor
    bars = []
    for first in range(0, len(names), _BATCH):
        batch = names[first : first + _BATCH]
        y = _evaluate_moved(case, node, dists, pins, batch) * factor
        for k, name in enumerate(batch):
            low, high = float(y[2 * k]), float(y[2 * k + 1])
            bars.append(
                TornadoBar(name, input_label(case, name), _data(low), _data(high), abs(high - low))
            )
    ranked = sorted(bars, key=lambda bar: -bar.swing if math.isfinite(bar.swing) else math.inf)
    return base, tuple(ranked)


def _evaluate_moved(
    case: PlainGraph,
    node: str,
    dists: Mapping[str, Distribution],
    pins: Mapping[str, float],
    moved: Sequence[str],
) -> np.ndarray:
    """``node`` with each of ``moved`` at low then high (two columns each), others at mid.

    With nothing moved, one column: every input at mid.
    """
    size = max(1, 2 * len(moved))
    every = input_distributions(case.checked, pins)  # inputs elsewhere must have values too
    values: dict[str, np.ndarray | float] = {n: d.mid for n, d in every.items()}
    for k, name in enumerate(moved):
        column = np.full(size, dists[name].mid)
        column[2 * k], column[2 * k + 1] = dists[name].low, dists[name].high
        values[name] = column
    values.update(pins)
    return np.asarray(evaluate(case.checked, values, size, [node])[node], dtype=float)


# ---------------------------------------------------------------------------- rank correlation


def _rank_correlations(
    simulator: Simulator,
    node: str,
    inputs: Sequence[str],
    n: int,
    seed: int,
    overrides: Mapping[str, float],
    method: str,
    cluster: Cluster | None = None,
) -> tuple[RunResult, dict[str, float]]:
    """Spearman's rho of each input with ``node`` over one run of ``n`` samples.

    Many inputs are kept in groups of ``_RUN_GROUP``, each group run again with
    the same seed (so the same samples), to bound the kept samples' memory.
    Returns the (first) run too, for its settings.
    """
    groups = [list(inputs[k : k + _RUN_GROUP]) for k in range(0, len(inputs), _RUN_GROUP)]
    check_memory(  # each run checks its own outputs; this adds the ranks
        8 * n * (min(len(inputs), _RUN_GROUP) + 1 + RANK_ROWS),
        f"ranking {len(inputs):,} input(s) and the output over {n:,} samples",
        "use fewer samples (-n)",
    )
    rho: dict[str, float] = {}
    first: RunResult | None = None
    y_ranks: np.ndarray | None = None
    for group in groups or [[]]:
        run = simulator.run(
            n,
            seed,
            overrides=overrides,
            outputs=[*group, node],
            keep_samples=True,
            method=method,
            cluster=cluster,
        )
        y = run.values(node)
        if first is None:  # the same samples in every group: rank the output once
            first, y_ranks = replace(run, arrays={}), average_ranks(y[np.isfinite(y)])
        for name in group:
            rho[name] = spearman(run.values(name), y, y_ranks)
        del run, y  # one group's samples held at a time
    assert first is not None  # there is always at least one group
    return first, rho


def contributions(rho: Mapping[str, float]) -> dict[str, float]:
    """Contribution to variance: squared rank correlations normalised to sum to 1.

    Undefined (NaN) when a correlation is.

    >>> contributions({"a": 0.8, "b": -0.4, "c": 0.0})
    {'a': 0.8, 'b': 0.2, 'c': 0.0}
    """
    total = sum(r * r for r in rho.values())
    if total == 0.0:
        return dict.fromkeys(rho, 0.0)
    return {name: round(r * r / total, 15) for name, r in rho.items()}


# ---------------------------------------------------------------------------- Sobol


def _checked_sobol_samples(count: object) -> int:
    if (
        isinstance(count, bool)
        or not isinstance(count, int | np.integer)
        or count < 2
        or count & (count - 1)
    ):
        raise RunError(
            "sobol_samples (the Sobol base samples) must be a power of two of at least 2 "
            f"(e.g. 1024), got {count!r}"
        )
    return int(count)


def _check_sobol_size(samples: int, inputs: int) -> None:
    """Refuse a Saltelli design too big to hold: ``samples·(inputs + 2)`` rows of ``inputs``.

    Held four times over at the peak (SALib's design, its clipped copy, the inputs'
    values and the kernel's copy of them), which must fit in the available memory.
    """
    values = samples * (inputs + 2) * inputs
    hint = "use fewer Sobol samples (--sobol-samples) or skip them (--no-sobol)"
    if values > _SOBOL_VALUES:
        raise RunError(
            f"Sobol indices of {inputs:,} inputs from {samples:,} base samples need "
            f"{values / 1e6:,.0f} million input values, more than this analysis holds",
            hint=hint,
        )
    what = f"Sobol indices of {inputs:,} inputs from {samples:,} base samples"
    check_memory(8 * (4 * values + samples * (inputs + 2)), what, hint)


def _salib_seed(seed: int, purpose: int) -> int:
    """A non-zero, non-negative seed for SALib from the run's seed (SALib ignores 0)."""
    state = np.random.SeedSequence([seed & _MASK, purpose]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1)) + 1


def sobol_indices(
    simulator: Simulator,
    node: str,
    dists: Mapping[str, Distribution],
    pins: Mapping[str, float],
    samples: int = DEFAULT_SOBOL_SAMPLES,
    seed: int = DEFAULT_SEED,
    cluster: Cluster | None = None,
) -> SobolIndices | None:
    """S1 and ST of each input for ``node`` by SALib, the kernel as the model function.

    SALib's Saltelli design of uniforms on [0, 1] is mapped through each input's
    inverse CDF (``Distribution.quantile``), so the inputs keep their own
    distributions. ``None`` without inputs. Base samples whose output is not
    finite are left out whole; if the output never varies, every index is
    undefined (NaN, null in the JSON), as its rank correlations are.
    An output whose variance overflows (values past about 1e154) is scaled
    down by a power of two first, which leaves the indices as they are.
    """
    from SALib.analyze import sobol as sobol_analyze  # heavy: imported when asked for
    from SALib.sample import sobol as sobol_sample

    names = list(dists)
    if not names:
        return None
    _check_sobol_size(samples, len(names))
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    u = sobol_sample.sample(problem, samples, calc_second_order=False, seed=_salib_seed(seed, 1))
    u = np.clip(u, _EDGE, 1.0 - _EDGE)
    values = {name: dists[name].quantile(u[:, j]) for j, name in enumerate(names)}
    values.update({t: np.full(len(u), v) for t, v in pins.items()})
    evaluated = simulator.evaluate(values, [node], seed=seed, cluster=cluster)
    y = np.asarray(evaluated[node], dtype=float)
    blocks = y.reshape(samples, len(names) + 2)
    blocks = blocks[np.isfinite(blocks).all(axis=1)]
    if len(blocks) < 2 or np.ptp(blocks) == 0:  # no variance to share out: undefined
        nothing = dict.fromkeys(names, math.nan)
        return SobolIndices(nothing, nothing, nothing, nothing, len(blocks))
    with np.errstate(over="ignore"):
        overflows = not math.isfinite(float(np.var(blocks)))
    if overflows:  # indices are ratios of variances: a power of two scales them exactly
        blocks = np.ldexp(blocks, -math.frexp(float(np.max(np.abs(blocks))))[1])
    found = sobol_analyze.analyze(
        problem, blocks.ravel(), calc_second_order=False, seed=_salib_seed(seed, 2)
    )
    indices = {
        key: {name: float(found[key][j]) for j, name in enumerate(names)}
        for key in ("S1", "ST", "S1_conf", "ST_conf")
    }
    return SobolIndices(**indices, samples=len(blocks))


# ---------------------------------------------------------------------------- text
