"""The business case's figures and tables, from a run's node summaries.

Every table is a sum of main-node figures weighted by the years they fall in,
so each column (expected, risk-adjusted, best, worst) is read straight off the
nodes' own figures; the key figures with their Monte Carlo distributions come
from the kernel's key-figure nodes. :class:`BusinessCaseResult` holds it all
as objects, and ``as_dict()`` is the ``business_case`` object of ``run --json``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..finance import discount_factors, irr_note, irr_roots
from ..results import NodeSummary, by_level
from .expand import CaseGraph, CaseItem, row_items, yearly_rows, yearly_sums
from .labels import FIGURE_LABELS, IRR_MULTIPLE, KEY_FIGURES
from .settings import CATEGORIES, PHASES, BusinessCase

__all__ = [
    "format_rate",
    "KeyFigure",
    "RiskAmount",
    "Table",
    "Change",
    "BusinessCaseResult",
    "summarise_case",
    "RATES",
    "SIGNIFICANT_SHARE",
    "SIGNIFICANT_AMOUNT",
    "SIGNIFICANT_DELAY_MONTHS",
]

COLUMNS = ("expected", "weighted", "best", "worst")
RATES = ("irr", "mirr")  # key figures that are fractions, not amounts
PRIMARY_SHARE = 0.7  # of a risk amount, to the primary risk when there is a secondary one
# A change from the previous phase is significant from 10 % and 6 million
# (6,000 in the model's thousand-unit money), or a delay of 3 months or more.
SIGNIFICANT_SHARE = 0.10
SIGNIFICANT_AMOUNT = 6_000.0
SIGNIFICANT_DELAY_MONTHS = 3
_COST_FIGURES = ("project_cost", "total_with_project")


@dataclass(frozen=True)
class KeyFigure:
    """One key figure in every column; ``None`` where not defined, with ``note`` saying why.

    ``mean_se``, ``percentiles_se`` and ``quantiles`` are those of the key
    figure's node (see :class:`~assumption_graph.results.NodeSummary`). The IRR
    alone has ``multiple_share``, the share of samples whose flows have more than
    one IRR, and ``roots``, every IRR of each column's flows (highest first): where
    there are several, each figure is the one nearest the discount rate.
    """

    name: str
    label: str
    risk_adjusted: float | None
    expected: float | None
    weighted: float | None
    best: float | None
    worst: float | None
    mean: float | None
    percentiles: Mapping[float, float | None]
    nonfinite: int = 0
    note: str | None = None
    previous: float | None = None
    mean_se: float | None = None
    percentiles_se: Mapping[float, float | None] = field(default_factory=dict)
    quantiles: tuple[float, ...] = field(default=(), repr=False, compare=False)
    multiple_share: float | None = None
    roots: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "risk_adjusted": self.risk_adjusted,
            "expected": self.expected,
            "weighted": self.weighted,
            "best": self.best,
            "worst": self.worst,
            "mean": self.mean,
            "mean_se": self.mean_se,
            "percentiles": by_level(self.percentiles),
            "percentiles_se": by_level(self.percentiles_se),
            "nonfinite": self.nonfinite,
        }
        if self.note:
            data["note"] = self.note
        if self.previous is not None:
            data["previous"] = self.previous
        if self.multiple_share is not None:
            data["multiple_share"] = self.multiple_share
        if self.roots:
            data["roots"] = {column: list(rates) for column, rates in self.roots.items()}
        return data


@dataclass(frozen=True)
class RiskAmount:
    """A risk of the register and the money it accounts for (risk-adjusted - expected)."""

    id: int
    name: str
    type: str
    probability: int | None
    consequence: int | None
    amount: float

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "probability": self.probability,
            "consequence": self.consequence,
            "amount": self.amount,
        }


@dataclass(frozen=True)
class Table:
    """A titled table of figures: named rows of values under named columns."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "title": self.title,
            "columns": list(self.columns),
            "rows": [
                {"name": name, "values": dict(zip(self.columns, values, strict=True))}
                for name, values in self.rows
            ],
        }
        if self.note:
            data["note"] = self.note
        return data

    def row(self, name: str) -> dict[str, float | None]:
        """One row's values by column."""
        for row_name, values in self.rows:
            if row_name == name:
                return dict(zip(self.columns, values, strict=True))
        raise KeyError(f"no row {name!r} in table {self.title!r}")


@dataclass(frozen=True)
class Change:
    """A difference from the previous phase's figures, and whether it is significant."""

    figure: str
    previous: float | None
    current: float | None
    significant: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "figure": self.figure,
            "previous": self.previous,
            "current": self.current,
            "significant": self.significant,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class BusinessCaseResult:
    """Every figure and table of the business case, as objects with a plain-data form."""

    risk_adjustment: str
    key_figures: Mapping[str, KeyFigure]
    buffer: float | None
    risks: tuple[RiskAmount, ...]
    risk_types: Mapping[str, float]
    tables: Mapping[str, Table]
    phases: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()

    def __getitem__(self, name: str) -> KeyFigure:
        return self.key_figures[name]

    def as_dict(self) -> dict[str, object]:
        """The ``business_case`` object of ``run --json`` (no NaN or infinity in it)."""
        data: dict[str, object] = {
            "risk_adjustment": self.risk_adjustment,
            "key_figures": {name: f.as_dict() for name, f in self.key_figures.items()},
            "buffer": self.buffer,
            "risks": [r.as_dict() for r in self.risks],
            "risk_types": dict(self.risk_types),
            "tables": {name: t.as_dict() for name, t in self.tables.items()},
            "phases": {name: list(span) for name, span in self.phases.items()},
        }
        if self.changes:
            data["changes"] = [c.as_dict() for c in self.changes]
        return data

    def compared_with(self, previous: Mapping[str, object]) -> BusinessCaseResult:
        """This result with the previous phase's figures (a ``business_case`` JSON object).

        Each key figure gains its previous risk-adjusted value; ``changes`` lists
        the cost figures and phase ends that moved, flagged significant from
        10 % and 6,000 (thousand) or from a delay of 3 months.
        """
        old_figures = previous.get("key_figures")
        old_figures = old_figures if isinstance(old_figures, Mapping) else {}
        figures = {}
        for name, figure in self.key_figures.items():
            old = old_figures.get(name)
            value = old.get("risk_adjusted") if isinstance(old, Mapping) else None
            number = float(value) if isinstance(value, int | float) else None
            figures[name] = replace(figure, previous=number)
        changes = [_cost_change(figures[name]) for name in _COST_FIGURES]
        old_phases = previous.get("phases")
        changes += _delays(self.phases, old_phases if isinstance(old_phases, Mapping) else {})
        return replace(
            self, key_figures=figures, changes=tuple(c for c in changes if c is not None)
        )


# ---------------------------------------------------------------------------- building


def summarise_case(
    graph: CaseGraph,
    summaries: Mapping[str, NodeSummary],
    shifts: Mapping[str, float],
) -> BusinessCaseResult:
    """The business case of a run.

    ``summaries`` hold every main node (both situations) and every key-figure
    node of ``graph``; ``shifts`` how the net gain moves when each input alone
    goes from expected to weighted (:func:`~assumption_graph.compile.reference.input_shifts`).
    """
    case = graph.case
    monte_carlo = case.high_risk
    risk_adjusted = "mean" if monte_carlo else "weighted"
    figure_of = _figure_reader(summaries, risk_adjusted)
    key_figures = {
        name: _key_figure(name, summaries[graph.key_figures[name]], risk_adjusted, graph, summaries)
        for name in KEY_FIGURES
    }
    key_figures["irr"] = _irr_figure(key_figures["irr"], graph, summaries)
    cost = summaries[graph.key_figures["project_cost"]]
    if monte_carlo:
        p70, p50 = cost.percentiles[70.0], cost.percentiles[50.0]
        buffer = None if p70 is None or p50 is None else p70 - p50
    else:
        buffer = _difference(cost.weighted, cost.expected)
    risks, risk_types = _risk_amounts(graph, shifts)
    tables = {
        "cost_by_phase": _cost_by_phase(graph, figure_of, summaries, monte_carlo, buffer),
        "by_category": _by_category(graph, summaries, figure_of),
        "cash_flows": _cash_flows(graph, figure_of),
    }
    if case.non_economic_gains:
        tables["non_economic_gains"] = _non_economic_gains(graph, figure_of)
    return BusinessCaseResult(
        risk_adjustment="monte_carlo" if monte_carlo else "weighted",
        key_figures=key_figures,
        buffer=buffer,
        risks=risks,
        risk_types=risk_types,
        tables=tables,
        phases={name: (str(p.start), str(p.end)) for name, p in case.phases.items()},
    )


def _figure_reader(
    summaries: Mapping[str, NodeSummary], column: str
) -> Callable[[str], float | None]:
    def figure_of(node_id: str) -> float | None:
        value: float | None = getattr(summaries[node_id], column)
        return value

    return figure_of


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _key_figure(
    name: str,
    summary: NodeSummary,
    risk_adjusted: str,
    graph: CaseGraph,
    summaries: Mapping[str, NodeSummary],
) -> KeyFigure:
    return KeyFigure(
        name=name,
        label=FIGURE_LABELS[name],
        risk_adjusted=getattr(summary, risk_adjusted),
        expected=summary.expected,
        weighted=summary.weighted,
        best=summary.best,
        worst=summary.worst,
        mean=summary.mean,
        percentiles=summary.percentiles,
        nonfinite=summary.nonfinite,
        mean_se=summary.mean_se,
        percentiles_se=summary.percentiles_se,
        quantiles=summary.quantiles,
        note=_note(name, summary, graph, summaries) if name in RATES else None,
    )


def _note(
    name: str, summary: NodeSummary, graph: CaseGraph, summaries: Mapping[str, NodeSummary]
) -> str | None:
    """Why a rate is not defined in a column, or in how many samples."""
    for column in COLUMNS:
        if getattr(summary, column) is None:
            flows = yearly_rows(graph, _figure_reader(summaries, column))["net_flow"]
            reason = irr_note(flows) if name == "irr" else _mirr_note(flows)
            if reason:
                return f"{column}: {reason}"
    if summary.nonfinite:
        return f"not defined in {summary.nonfinite:,} of the samples; statistics are over the rest"
    return None


def _irr_figure(
    figure: KeyFigure, graph: CaseGraph, summaries: Mapping[str, NodeSummary]
) -> KeyFigure:
    """The IRR with every root of each column's flows, the share of samples with
    several, and a note on either."""
    roots = {}
    for column in COLUMNS:
        flows = yearly_rows(graph, _figure_reader(summaries, column))["net_flow"]
        roots[column] = tuple(irr_roots(flows)) if np.isfinite(flows).all() else ()
    share = summaries[IRR_MULTIPLE].mean
    columns_with: dict[tuple[float, ...], list[str]] = {}
    for column, found in roots.items():
        if len(found) > 1:
            columns_with.setdefault(found, []).append(column)
    notes = [figure.note] if figure.note else []
    notes += [
        f"{_and(columns)}: {len(found)} IRRs, {_and([format_rate(r) for r in found])}"
        for found, columns in columns_with.items()
    ]
    if share:
        notes.append(f"more than one IRR in {100 * share:.3g} % of the samples")
    if columns_with or share:
        notes.append(
            "where there are several, the one nearest the discount rate"
            f" of {format_rate(graph.case.discount_rate)} is shown"
        )
    return replace(figure, multiple_share=share, roots=roots, note="; ".join(notes) or None)


def format_rate(value: float | None) -> str:
    """A rate (a fraction) as a percentage with one decimal, ``-`` when undefined.

    >>> format_rate(0.0523), format_rate(None)
    ('5.2 %', '-')
    """
    if value is None or not math.isfinite(value):
        return "-"
    return f"{100 * value:,.1f} %"


def _and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _mirr_note(flows: np.ndarray) -> str | None:
    if flows.size < 2:
        return "not defined: the business case covers a single year"
    if not (flows < 0).any():
        return "not defined: no net flow is negative, so there is nothing to finance"
    if not (flows > 0).any():
        return "not defined: no net flow is positive"
    return None


def _risk_amounts(
    graph: CaseGraph, shifts: Mapping[str, float]
) -> tuple[tuple[RiskAmount, ...], dict[str, float]]:
    """Each risk's amount: the net-cost shifts of its inputs, 70/30 to primary/secondary."""
    amounts = {risk.id: 0.0 for risk in graph.case.register}
    for node_id, shift in shifts.items():
        node = graph.checked.model[node_id]
        net_cost = -shift  # shifts are of the net gain; risk amounts are of net cost
        ids = node.risk or (0,)
        if len(ids) == 1:
            amounts[ids[0]] = amounts.get(ids[0], 0.0) + net_cost
        else:
            amounts[ids[0]] = amounts.get(ids[0], 0.0) + PRIMARY_SHARE * net_cost
            amounts[ids[1]] = amounts.get(ids[1], 0.0) + (1 - PRIMARY_SHARE) * net_cost
    risks = tuple(
        RiskAmount(r.id, r.name, r.type, r.probability, r.consequence, amounts[r.id])
        for r in graph.case.register
    )
    by_type: dict[str, float] = {}
    for risk in risks:
        by_type[risk.type] = by_type.get(risk.type, 0.0) + risk.amount
    return risks, by_type


def _years(case: BusinessCase) -> tuple[str, ...]:
    return tuple(str(y) for y in case.years)


def _cost_by_phase(
    graph: CaseGraph,
    figure_of: Callable[[str], float | None],
    summaries: Mapping[str, NodeSummary],
    monte_carlo: bool,
    buffer: float | None,
) -> Table:
    """Risk-adjusted project cost by phase and year, with the buffer."""
    case = graph.case
    years = list(case.years)
    costs = row_items(graph.items, "project_cost")
    phases = [p for p in (*PHASES, None) if any(item.source.phase == p for item in costs)]
    rows = []
    for phase in phases:
        items = [item for item in costs if item.source.phase == phase]
        rows.append((phase or "(no phase)", _by_year(graph, items, figure_of)))
    total = _by_year(graph, costs, figure_of)
    rows.append(("Total, risk-adjusted", total))
    if monte_carlo:
        empty = (None,) * len(years)
        rows.append(("Buffer (P70 - P50)", (*empty, buffer)))
        with_buffer = None if buffer is None or total[-1] is None else total[-1] + buffer
        rows.append(("Total incl. buffer", (*empty, with_buffer)))
        note = "risk-adjusted = Monte Carlo mean; the buffer is added on top"
    else:
        expected = _figure_reader(summaries, "expected")

        def buffer_of(node_id: str) -> float | None:
            return _difference(figure_of(node_id), expected(node_id))

        rows.append(("of which buffer", _by_year(graph, costs, buffer_of)))
        note = "risk-adjusted = probability-weighted; the buffer is included"
    return Table("Project cost by phase and year", (*_years(case), "total"), tuple(rows), note)


def _by_year(
    graph: CaseGraph, items: Sequence[CaseItem], figure_of: Callable[[str], float | None]
) -> tuple[float | None, ...]:
    """The items' figures summed per year, and their total (``None`` where undefined)."""
    cells = yearly_sums(graph, items, figure_of)
    return (*map(_finite, cells), _finite(math.fsum(cells)))


def _total(
    graph: CaseGraph, items: Sequence[CaseItem], figure_of: Callable[[str], float | None]
) -> float | None:
    """The items' figures summed over all years (``None`` where undefined)."""
    return _finite(math.fsum(yearly_sums(graph, items, figure_of)))


def _by_category(
    graph: CaseGraph,
    summaries: Mapping[str, NodeSummary],
    figure_of: Callable[[str], float | None],
) -> Table:
    """Costs, operating costs (each situation) and gains by category, over all years."""
    expected = _figure_reader(summaries, "expected")
    groups: dict[tuple[int, int], tuple[str, list[CaseItem]]] = {}
    for item in graph.items:
        group = _GROUPS[(item.side, item.situation)]
        category = item.source.category or "(no category)"
        key = (_GROUP_ORDER.index(group), _CATEGORY_ORDER.get(category, len(CATEGORIES)))
        groups.setdefault(key, (f"{group}: {category}", []))[1].append(item)
    rows = []
    for key in sorted(groups):
        name, items = groups[key]
        rows.append((name, tuple(_total(graph, items, reader) for reader in (expected, figure_of))))
    return Table("Costs and gains by category", ("expected", "risk_adjusted"), tuple(rows))


_GROUPS: dict[tuple[str | None, str | None], str] = {
    ("cost", None): "project cost",
    ("operating", "without"): "operating without",
    ("operating", "with"): "operating with",
    ("operating", None): "operating, the same without and with",
    ("gain", None): "gain",
}
_GROUP_ORDER = list(dict.fromkeys(_GROUPS.values()))
_CATEGORY_ORDER = {c: k for k, c in enumerate(CATEGORIES)}


def _cash_flows(graph: CaseGraph, figure_of: Callable[[str], float | None]) -> Table:
    """Yearly cash flows without and with the project, gains, and the discounted net flow."""
    case = graph.case
    rows = yearly_rows(graph, figure_of)
    factors = discount_factors(case.discount_rate, len(case.years))
    lines = [
        ("Operating cost without the project", rows["operating_without"]),
        ("Operating cost with the project", rows["operating_with"]),
        ("Other gains", rows["gain"]),
        ("Gross gain", rows["gross_gain"]),
        ("Project cost", rows["project_cost"]),
        ("Net flow", rows["net_flow"]),
        ("Discounted net flow", rows["net_flow"] * factors),
    ]
    table_rows = [
        (name, (*(_finite(v) for v in values), _finite(float(np.sum(values)))))
        for name, values in lines
    ]
    finance, reinvestment = (format_rate(r) for r in case.mirr_rates)
    note = (
        f"discounted at {format_rate(case.discount_rate)} a year to {case.start_year};"
        f" MIRR with costs financed at {finance} and gains reinvested at {reinvestment}"
    )
    return Table("Cash flows, risk-adjusted", (*_years(case), "total"), tuple(table_rows), note)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _non_economic_gains(graph: CaseGraph, figure_of: Callable[[str], float | None]) -> Table:
    """Each non-economic gain: level before and after, lift, and the cost of one unit of lift."""
    case = graph.case
    rows = []
    for gain in case.non_economic_gains:
        costs = [
            item
            for item in row_items(graph.items, "project_cost")
            if gain.purpose is None or gain.purpose in item.source.purpose
        ]
        cost = _total(graph, costs, figure_of)
        per_unit = None if cost is None or gain.lift == 0 else cost / gain.lift
        name = f"{gain.name} ({gain.unit})" if gain.unit else gain.name
        rows.append((name, (gain.before, gain.after, gain.lift, cost, per_unit)))
    return Table(
        "Non-economic gains",
        ("before", "after", "lift", "cost", "cost_per_unit"),
        tuple(rows),
        "cost: risk-adjusted project cost of the main nodes serving the gain's purpose",
    )


# ---------------------------------------------------------------------------- previous phase


def _cost_change(figure: KeyFigure) -> Change | None:
    old, new = figure.previous, figure.risk_adjusted
    if old is None or new is None:
        return None
    change = new - old
    share = abs(change) / abs(old) if old else math.inf
    significant = share >= SIGNIFICANT_SHARE and abs(change) >= SIGNIFICANT_AMOUNT
    reason = f"{change:+,.1f} ({share:+.1%})" if old else f"{change:+,.1f}"
    return Change(figure.name, old, new, significant, reason)


def _delays(
    phases: Mapping[str, tuple[str, str]], old_phases: Mapping[str, object]
) -> list[Change]:
    changes = []
    for name, (_, end) in phases.items():
        old = old_phases.get(name)
        if not isinstance(old, list | tuple) or len(old) != 2:
            continue
        old_end = _months(str(old[1]))
        moved = 0 if old_end is None else (_months(end) or 0) - old_end
        if moved:
            significant = moved >= SIGNIFICANT_DELAY_MONTHS
            reason = f"{name} ends {abs(moved)} month(s) {'later' if moved > 0 else 'earlier'}"
            changes.append(Change(f"phase:{name}", None, None, significant, reason))
    return changes


def _months(text: str) -> int | None:
    """Months since year 0 of ``YYYY-MM`` (``None`` for anything else)."""
    year, _, month = text.partition("-")
    if not (year.isdigit() and month.isdigit()):
        return None
    return int(year) * 12 + int(month) - 1
