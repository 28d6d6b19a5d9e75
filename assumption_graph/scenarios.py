"""Scenario comparisons with common random numbers: the base and each scenario, paired.

Every run here has the same seed, sample count and method, and each random
input draws from the stream keyed by its node id (:func:`~.streams.stream_key`),
so an input a scenario does not change has bit-identical samples in the base and
the scenario. The difference of a key figure (or main node) is then taken sample
by sample, and its standard error is that of the paired differences,
``sd(scenario - base) / sqrt(n)``, much smaller than two independent runs'
``sqrt(var(scenario) / n + var(base) / n)`` when the two move together.

Where common numbers cannot hold exactly (documented in the README): with
``sobol`` a scenario that pins an input or makes one fixed has one dimension
fewer, so the others' points move; an input correlated with a pinned input
loses that correlation and its samples change. The kernel is compiled (or
loaded) once; a scenario with replaced nodes or business-case settings is
checked and lowered to its own programs, a scenario of pins only reuses the
base's compiled model.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import threading
from collections import deque
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import numpy as np

from .business.labels import COST_FIGURES, FIGURE_LABELS
from .cluster import Cluster
from .errors import CheckFailed, ModelFileError, RunError
from .model import Node
from .results import NodeSummary, RunResult, in_threads, sample_variance
from .run import SUMMARY_ROWS, RunsTogether, Simulator, summary_workers
from .scenario_file import BASE, Scenario, changed_model
from .validate import check

_RUNS_AT_ONCE = 2  # runs sent to a cluster at once: one samples while the last is summarised

__all__ = ["Difference", "ScenarioResult", "Compared", "run_scenarios", "paired_difference"]

TABLE_LEVELS = (10.0, 50.0, 90.0)  # the percentiles a comparison table shows


@dataclass(frozen=True)
class Compared:
    """A figure the comparison reports: its id (``npv`` or a node id), node, label and way.

    ``lower_is_better``: costs (the business case's cost figures, main nodes on the
    cost or operating side, or ``favourable: low``) are better lower; gains, the
    net figures, NPV, IRR and MIRR higher.
    """

    id: str
    node: str
    label: str
    lower_is_better: bool


@dataclass(frozen=True)
class Difference:
    """A scenario's figure minus the base's, over the samples where both are finite.

    ``mean_se`` is the standard error of the paired differences' mean;
    ``independent_se`` what it would be for two independent runs of these
    spreads; ``p_better`` the share of samples in which the scenario beats the
    base (strictly: lower for a cost, higher for a gain).
    """

    mean: float | None
    mean_se: float | None
    independent_se: float | None
    p_better: float | None

    def as_dict(self) -> dict[str, float | None]:
        """The entry of ``difference`` in the ``scenarios --json`` contract."""
        return {"mean": self.mean, "mean_se": self.mean_se, "p_better": self.p_better}


@dataclass(frozen=True)
class ScenarioResult:
    """The base run, each scenario's run and its differences from the base per figure.

    ``runs`` and ``base`` are ordinary :class:`RunResult` objects (without kept
    samples); ``differences[name][id]`` a :class:`Difference`.
    """

    base: RunResult
    runs: Mapping[str, RunResult]
    differences: Mapping[str, Mapping[str, Difference]]
    compared: tuple[Compared, ...]

    def to_dict(self) -> dict[str, object]:
        """The ``scenarios --json`` contract: the base's and each scenario's ``run --json``
        object, each scenario's with its ``difference`` per figure."""
        scenarios: dict[str, object] = {}
        for name, run in self.runs.items():
            data = run.to_dict()
            data["difference"] = {c: d.as_dict() for c, d in self.differences[name].items()}
            scenarios[name] = data
        return {"base": self.base.to_dict(), "scenarios": scenarios}

    def rows(self) -> list[dict[str, object]]:
        """One row per scenario (the base first) and figure: its figures and the difference.

        Columns: scenario, figure, risk_adjusted, mean, p10, p50, p90, difference,
        difference_se, independent_se, p_better (the last four empty for the base).
        """
        rows: list[dict[str, object]] = []
        for name, run in {BASE: self.base, **self.runs}.items():
            for c in self.compared:
                risk_adjusted, mean, levels = _figures(run, c)
                d = self.differences.get(name, {}).get(c.id)
                rows.append(
                    {
                        "scenario": name,
                        "figure": c.id,
                        "risk_adjusted": risk_adjusted,
                        "mean": mean,
                        **{f"p{level:g}": levels.get(level) for level in TABLE_LEVELS},
                        "difference": d.mean if d else None,
                        "difference_se": d.mean_se if d else None,
                        "independent_se": d.independent_se if d else None,
                        "p_better": d.p_better if d else None,
                    }
                )
        return rows

    def to_pandas(self) -> object:
        """:meth:`rows` as a pandas DataFrame (pandas is an optional extra)."""
        try:
            import pandas
        except ImportError:
            raise RunError(
                "pandas is not installed",
                hint="pip install 'assumption_graph[pandas]', or use result.rows()",
            ) from None
        return pandas.DataFrame(self.rows())


def _figures(
    run: RunResult, c: Compared
) -> tuple[float | None, float | None, dict[float, float | None]]:
    """Risk-adjusted value, mean and the table's percentiles of one figure of a run."""
    if run.business_case is not None and c.id in run.business_case.key_figures:
        figure = run.business_case[c.id]
        return (
            figure.risk_adjusted,
            figure.mean,
            {p: figure.percentiles.get(p) for p in TABLE_LEVELS},
        )
    summary: NodeSummary = run[c.id]
    return summary.weighted, summary.mean, {p: summary.percentiles.get(p) for p in TABLE_LEVELS}


def compared_figures(simulator: Simulator) -> tuple[Compared, ...]:
    """What a comparison reports: the key figures of a business case, else the main nodes."""
    case = simulator.case
    if case.key_figures:
        return tuple(
            Compared(name, node, FIGURE_LABELS[name], name in COST_FIGURES)
            for name, node in case.key_figures.items()
        )
    return tuple(
        Compared(node_id, node_id, node_id, _lower_is_better(simulator.model[node.node]))
        for node_id, node in ((x, case.nodes[x]) for x in case.reported)
    )


def _lower_is_better(node: Node) -> bool:
    """A main node is a cost unless it is a gain or its favourable end is high."""
    return node.favourable != "high" and node.side != "gain"


def paired_difference(base: np.ndarray, other: np.ndarray, lower_is_better: bool) -> Difference:
    """``other - base`` sample by sample: its mean, standard errors and the share better.

    >>> d = paired_difference(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 2.0]), True)
    >>> d.mean, d.p_better
    (-0.6666666666666666, 0.6666666666666666)
    """
    both = np.isfinite(base) & np.isfinite(other)
    if not both.all():  # a copy only where some sample is not finite (an IRR without a root)
        base, other = base[both], other[both]
    m = base.size
    if m == 0:
        return Difference(None, None, None, None)
    d = other - base
    better = d < 0 if lower_is_better else d > 0
    if m < 2:
        return Difference(float(d[0]), None, None, float(better[0]))
    mean = float(d.mean())
    return Difference(
        mean=mean,
        mean_se=math.sqrt(sample_variance(d, mean)) / math.sqrt(m),  # numpy's std, to the bit
        independent_se=math.sqrt((sample_variance(base) + sample_variance(other)) / m),
        p_better=float(better.mean()),
    )


def run_scenarios(
    simulator: Simulator,
    scenarios: Sequence[Scenario],
    n: int,
    seed: int,
    *,
    method: str = "mc",
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    cluster: Cluster | None = None,
) -> ScenarioResult:
    """Run the base and every scenario with common random numbers and compare them.

    Every scenario is checked (and its changed model compiled) before anything
    runs, so a scenario that breaks the model costs no samples. ``cluster`` runs
    every run's chunks on its Dask workers, the next run's beside the one before (its
    chunks fill the workers while this machine summarises): the same numbers.
    """
    simulators = {s.name: _simulator(simulator, s) for s in scenarios}
    compared = compared_figures(simulator)

    together = RunsTogether("scenario comparison", progress)

    @together.failing
    def sampled(sim: Simulator, pins: Mapping[str, float]) -> RunResult:
        return sim.run(
            n,
            seed,
            method=method,
            threads=threads,
            progress=together.progress,
            keep_samples=True,
            overrides=pins,
            cluster=cluster,
        )

    jobs = [(simulator, {}), *((simulators[s.name], s.pins) for s in scenarios)]
    at_once = 1 if cluster is None else _RUNS_AT_ONCE
    runs: dict[str, RunResult] = {}
    differences: dict[str, dict[str, Difference]] = {}
    with (
        together.reporting(),  # the failure, not a run it stopped
        closing(_in_order(sampled, jobs, at_once, together.stop)) as results,
    ):
        base = next(results)
        base_samples = {c.id: base.values(c.node) for c in compared}
        workers = summary_workers(threads, n, SUMMARY_ROWS)
        for scenario, run in zip(scenarios, results, strict=True):
            tasks = [
                functools.partial(
                    paired_difference, base_samples[c.id], run.values(c.node), c.lower_is_better
                )
                for c in compared
            ]  # the figures are independent, and their passes run without the GIL
            done = in_threads(tasks, workers)
            differences[scenario.name] = {c.id: d for c, d in zip(compared, done, strict=True)}
            runs[scenario.name] = dataclasses.replace(run, arrays={})  # keep no samples
    return ScenarioResult(dataclasses.replace(base, arrays={}), runs, differences, compared)


def _in_order(
    job: Callable[..., RunResult],
    jobs: Sequence[tuple[Any, ...]],
    at_once: int,
    stop: threading.Event,
) -> Generator[RunResult, None, None]:
    """``job(*each)`` of ``jobs``, yielded in order, at most ``at_once`` started and not yet
    taken (each holds its samples); on this thread when ``at_once`` is 1. A failed job,
    Ctrl-C or closing the generator early sets ``stop`` (the jobs stop at their next
    chunk) and waits for the jobs started."""
    if at_once == 1:
        yield from (job(*each) for each in jobs)
        return
    waiting = iter(jobs)
    pool = ThreadPoolExecutor(at_once, thread_name_prefix="scenario")
    started = deque(pool.submit(job, *each) for each in itertools.islice(waiting, at_once))
    try:
        while started:
            result = started.popleft().result()
            following = next(waiting, None)
            if following is not None:
                started.append(pool.submit(job, *following))
            yield result
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _simulator(base: Simulator, scenario: Scenario) -> Simulator:
    """The base's simulator for a scenario of pins; a checked and compiled changed model else."""
    if not scenario.changes_model:
        return base
    checked = check(changed_model(base.model, scenario))
    try:
        return Simulator(checked)
    except CheckFailed:
        first = checked.errors[0]
        replaced = scenario.nodes.get(first.node or "")
        # a replaced node's problem, or the changed business case's, is the scenario file's
        ours = replaced or (first.node is None and scenario.case_keys) or first.file is None
        raise ModelFileError(
            f"scenario {scenario.name!r} makes the model fail its check: {first.message}",
            file=scenario.file if ours else first.file,
            line=replaced.line if replaced else first.line,
            node=first.node,
        ) from None
