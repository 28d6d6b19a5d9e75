"""Portfolios: many business cases run with one seed and compared side by side.

Each case is compiled and run on its own (one kernel for all of them), and the
portfolio keeps per case only what its tables need: the key figures, the costs
by category and a quantile sketch of the NPV, plus the portfolio totals as
per-sample sums across the cases (:data:`TOTALS`). Inputs shared through an
assumption library (``library:`` in a model file) have the same id in every
case, so they draw the same stream in every case and the totals are coherent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from .business.expand import CaseGraph
from .business.figures import Table
from .business.settings import CATEGORIES
from .cluster import Cluster
from .compile.kernel import threads_for
from .errors import RunError
from .model import Model
from .results import NodeSummary, summarise
from .run import RunsTogether, Simulator, checked_whole
from .settings import DEFAULT_SAMPLES, DEFAULT_SEED
from .validate import CheckedModel

__all__ = ["CaseRow", "PortfolioResult", "FIGURES", "TOTALS", "run_portfolio"]

#: The figures of a case the portfolio shows, with their labels.
FIGURES: dict[str, str] = {
    "npv": "NPV",
    "irr": "IRR",
    "mirr": "MIRR",
    "project_cost": "Project cost",
    "buffer": "Buffer",
    "project_cost_p50": "Project cost P50",
    "project_cost_p85": "Project cost P85",
    "npv_below_zero": "Share of samples with NPV < 0",
}
#: Key figures summed per sample across the cases.
TOTALS: tuple[str, ...] = ("npv", "project_cost")
#: The cost groups of a case's by-category table that the portfolio sums, each by the
#: eight categories; then the gains, by the categories the cases give them.
_COST_GROUPS: tuple[str, ...] = (
    "project cost",
    "operating without",
    "operating with",
    "operating, the same without and with",
)
_GAINS = "gain"
_NO_CATEGORY = "(no category)"


@dataclass(frozen=True)
class CaseRow:
    """What a portfolio keeps of one case: its figures, costs by category, NPV sketch.

    ``figures`` are risk-adjusted, by the names of :data:`FIGURES` (``None`` where
    undefined); ``costs`` are risk-adjusted costs and gains over all years by
    ``(group, category)``; ``npv`` summarises the NPV (its ``quantiles`` draw the chart);
    ``totals`` holds the expected and weighted figure of each of :data:`TOTALS`.
    """

    name: str
    file: str | None
    money_unit: str
    figures: Mapping[str, float | None]
    costs: Mapping[tuple[str, str], float]
    npv: NodeSummary
    totals: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class PortfolioResult:
    """The cases of a portfolio side by side and the portfolio's totals per sample."""

    samples: int
    seed: int
    method: str
    cases: tuple[CaseRow, ...]
    totals: Mapping[str, np.ndarray]

    def total_summaries(self) -> dict[str, NodeSummary]:
        """Each total's distribution; expected and weighted are the cases' sums."""
        return {
            name: summarise(
                values,
                {
                    figure: math.fsum(case.totals[name][figure] for case in self.cases)
                    for figure in ("expected", "weighted")
                },
            )
            for name, values in self.totals.items()
        }

    def figure_table(self) -> Table:
        """The cases' figures side by side, and the portfolio's: summed NPV and project
        cost, and the percentiles and NPV < 0 share of the per-sample totals."""
        cost, npv = self.totals["project_cost"], self.totals["npv"]
        finite = cost[np.isfinite(cost)]
        portfolio: dict[str, float | None] = {
            name: _sum([case.figures[name] for case in self.cases]) for name in TOTALS
        }
        if finite.size:
            portfolio["project_cost_p50"] = float(np.quantile(finite, 0.5))
            portfolio["project_cost_p85"] = float(np.quantile(finite, 0.85))
        portfolio["npv_below_zero"] = float(np.mean(npv < 0))
        rows = tuple(
            (label, (*(case.figures[name] for case in self.cases), portfolio.get(name)))
            for name, label in FIGURES.items()
        )
        columns = (*(case.name for case in self.cases), "portfolio")
        note = "risk-adjusted; the portfolio's percentiles and NPV < 0 share are of the totals"
        return Table("Key figures by case", columns, rows, note)

    def category_table(self) -> Table:
        """Risk-adjusted costs by category over all years, the same rows for every case:
        each cost group that some case has, by the eight categories (and ``(no category)``
        where a cost has none), then the gains by the categories the cases give them."""
        found = {key for case in self.cases for key in case.costs}
        names = []
        for group in _COST_GROUPS:
            if any(g == group for g, _ in found):
                extra = (_NO_CATEGORY,) if (group, _NO_CATEGORY) in found else ()
                names += [(group, category) for category in (*CATEGORIES, *extra)]
        names += [(_GAINS, c) for c in (*CATEGORIES, _NO_CATEGORY) if (_GAINS, c) in found]
        rows = []
        for group, category in names:
            values = [case.costs.get((group, category), 0.0) for case in self.cases]
            rows.append((f"{group}: {category}", (*values, math.fsum(values))))
        columns = (*(case.name for case in self.cases), "portfolio")
        return Table(
            "Costs by category and gains, all years", columns, tuple(rows), "risk-adjusted"
        )

    def as_dict(self) -> dict[str, object]:
        """The ``portfolio --json`` object (no NaN or infinity in it)."""
        totals = self.total_summaries()
        return {
            "samples": self.samples,
            "seed": self.seed,
            "method": self.method,
            "cases": [
                {"name": c.name, "file": c.file, "figures": dict(c.figures)} for c in self.cases
            ],
            "key_figures": self.figure_table().as_dict(),
            "by_category": self.category_table().as_dict(),
            "totals": {
                name: {
                    **summary.as_dict(),
                    "below_zero": float(np.mean(self.totals[name] < 0)),
                }
                for name, summary in totals.items()
            },
        }


def _sum(values: Sequence[float | None]) -> float | None:
    """The sum of ``values``; ``None`` when one of them is undefined."""
    numbers = [v for v in values if v is not None]
    return math.fsum(numbers) if len(numbers) == len(values) else None


def run_portfolio(
    models: Sequence[Model | CheckedModel],
    n: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    *,
    method: str = "mc",
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    cluster: Cluster | None = None,
) -> PortfolioResult:
    """Run every business case of ``models`` with ``n`` samples from ``seed``.

    The cases run side by side, as many at a time as ``threads`` (default: all the
    machine's), sharing the threads: while one case's kernel runs, another's
    summaries and tables are worked out. Ctrl-C, or a case that fails, stops the
    others at their next chunk. The totals are the per-sample sums of the cases' NPV and
    project cost, added in the order of ``models``, so they equal the sums of
    separate runs bit for bit. A model without a business case, two cases with
    the same name, or cases in different money units, is a :class:`RunError`
    before anything runs. With a ``cluster`` each case runs whole on a Dask
    worker (one thread each), and only its row and its samples of the totals
    come back.
    """
    n = checked_whole(n, "n (the number of samples)", least=1)
    if not models:
        raise RunError("a portfolio needs at least one business case")
    names = _case_names([m.model if isinstance(m, CheckedModel) else m for m in models])
    if cluster is not None:
        jobs = [(model, name, n, seed, method) for model, name in zip(models, names, strict=True)]
        with closing(cluster.map(_run_case, jobs, [n] * len(jobs), progress)) as cases:
            return _portfolio(cases, n, seed, method)
    at_once = min(len(models), threads_for(threads))
    each = max(1, threads_for(threads) // at_once)  # threads per case
    together = RunsTogether("portfolio", progress)

    @together.failing
    def run_case(model: Model | CheckedModel, name: str) -> tuple[CaseRow, dict[str, np.ndarray]]:
        return _run_case(model, name, n, seed, method, each, together.progress)

    pool = ThreadPoolExecutor(at_once, thread_name_prefix="portfolio")
    try:
        with together.reporting():  # Ctrl-C or a failed case: the others stop at their next chunk
            return _portfolio(pool.map(run_case, models, names), n, seed, method)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _portfolio(
    cases: Iterable[tuple[CaseRow, dict[str, np.ndarray]]], n: int, seed: int, method: str
) -> PortfolioResult:
    """The portfolio of the cases' rows and samples, given in the order of the models: each
    case's samples are added to the totals as it comes and then let go."""
    totals = {name: np.zeros(n) for name in TOTALS}
    rows = []
    for row, samples in cases:
        for total in TOTALS:
            totals[total] += samples[total]
        rows.append(row)
    return PortfolioResult(n, seed, method, tuple(rows), totals)


def _case_names(models: Sequence[Model]) -> list[str]:
    """Each case's column name (its model's name); every model must be a business case,
    and all in one money unit (their amounts are summed)."""
    names: dict[str, str | None] = {}
    first = models[0]
    for model in models:
        if model.money_unit != first.money_unit:
            raise RunError(
                f"{model.file or model.name} counts in {model.money_unit!r}, "
                f"{first.file or first.name} in {first.money_unit!r}: a portfolio sums the "
                "cases' amounts, so they must share one money unit",
                hint="give every case the same 'money_unit:'",
            )
        where = model.file or model.name
        if model.business_case is None:
            raise RunError(
                f"{where} is not a business case",
                hint="a portfolio compares models with a 'business_case:' section",
            )
        name = model.name or where
        if name in names:
            raise RunError(
                f"two cases are named {name!r}: {names[name]} and {where}",
                hint="give each case its own 'name:'",
            )
        names[name] = where
    return list(names)


def _run_case(
    model: Model | CheckedModel,
    name: str,
    n: int,
    seed: int,
    method: str,
    threads: int | None = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[CaseRow, dict[str, np.ndarray]]:
    """One case's row, and its samples of each of :data:`TOTALS` (copies: the run's
    other samples go with the run). On one thread unless told otherwise: what a
    Dask worker runs for a case."""
    simulator = Simulator(model)
    model, case = simulator.model, simulator.case
    if not isinstance(case, CaseGraph):  # the model was checked to have a business case
        raise RunError(f"{model.file or model.name} is not a business case")
    ids = {total: case.key_figures[total] for total in TOTALS}
    result = simulator.run(
        n,
        seed,
        method=method,
        outputs=tuple(ids.values()),
        keep_samples=True,
        threads=threads,
        progress=progress,
        rank_correlations=False,  # a portfolio never shows them
    )
    business = result.business_case
    if business is None:  # a CaseGraph's run always has one
        raise RunError(f"{model.file or model.name}: the run gave no business case figures")
    samples = {total: result.values(node_id).copy() for total, node_id in ids.items()}
    cost, npv = samples["project_cost"], samples["npv"]
    finite_cost = cost[np.isfinite(cost)]
    figures: dict[str, float | None] = {
        name: business[name].risk_adjusted for name in ("npv", "irr", "mirr", "project_cost")
    }
    figures["buffer"] = business.buffer
    figures["project_cost_p50"] = business["project_cost"].percentiles[50.0]
    figures["project_cost_p85"] = (
        float(np.quantile(finite_cost, 0.85)) if finite_cost.size else None
    )
    figures["npv_below_zero"] = float(np.mean(npv < 0))
    row = CaseRow(
        name=name,
        file=model.file,
        money_unit=model.money_unit,
        figures=figures,
        costs=_costs(business.tables["by_category"]),
        npv=summarise(npv, {}),
        totals={
            total: {
                "expected": _number(business[total].expected),
                "weighted": _number(business[total].weighted),
            }
            for total in TOTALS
        },
    )
    return row, samples


def _number(value: float | None) -> float:
    return math.nan if value is None else value


def _costs(table: Table) -> dict[tuple[str, str], float]:
    """The rows of a case's by-category table by (group, category), risk-adjusted."""
    costs = {}
    for row_name, values in table.rows:
        group, _, category = row_name.partition(": ")
        if group in (*_COST_GROUPS, _GAINS):
            value = dict(zip(table.columns, values, strict=True))["risk_adjusted"]
            costs[(group, category)] = 0.0 if value is None else value
    return costs
