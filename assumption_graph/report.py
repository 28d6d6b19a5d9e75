"""Figures as text for the terminal, HTML for notebooks, and CSV for spreadsheets.

The key figures of a run and of its business case, and a sensitivity analysis.
A model's text in them is printable (control characters show as U+FFFD), so it
cannot steer a terminal, and escaped in HTML.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._lazy import lazy_import
from .business.figures import RATES, BusinessCaseResult, Table, format_rate
from .errors import RenderError
from .model import Model
from .results import PERCENTILES, RunResult, level_key
from .text import html_text, printable

if TYPE_CHECKING:  # run's table needs no sensitivity module
    import csv

    from .sensitivity import SensitivityResult, SobolIndices
else:  # only --csv needs it
    csv = lazy_import("csv")

__all__ = [
    "format_cell",
    "format_rate",
    "format_signed",
    "key_figure_table",
    "key_figure_html",
    "key_figure_rows",
    "node_rows",
    "output_suffix",
    "html_table",
    "risk_rows",
    "table_rows",
    "figures_csv",
    "text_table",
    "business_case_report",
    "sensitivity_report",
]

_COLUMNS = (
    ("expected", "expected"),
    ("weighted", "weighted"),
    ("best", "best"),
    ("worst", "worst"),
    ("mean", "mean"),
    ("std", "std"),
    ("P10", 10.0),
    ("P50", 50.0),
    ("P90", 90.0),
)


def format_cell(value: float | None) -> str:
    """A figure for a table: thousands separated, one decimal, ``-`` when undefined.

    Beyond 10^15 (a quadrillion, past any business case) in exponent form, so a
    huge figure does not spread over hundreds of digits.

    >>> format_cell(1234567.891), format_cell(0.5), format_cell(None), format_cell(1.7e308)
    ('1,234,567.9', '0.5', '-', '1.7e+308')
    """
    if value is None or not math.isfinite(value):
        return "-"
    if value != 0 and not 0.05 <= abs(value) < 1e15:
        return f"{value:.3g}"
    return f"{value:,.1f}"


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as lines: the first column left-aligned, the others right-aligned.

    A cell is one line: its tabs and line breaks become spaces.
    """
    rows = [[cell.replace("\t", " ").replace("\n", " ") for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def table_rows(table: Table) -> list[list[str]]:
    """A :class:`~.business.figures.Table` as a header and rows of formatted cells."""
    rows = [["", *table.columns]]
    rows += [[name, *(format_cell(v) for v in values)] for name, values in table.rows]
    return rows


def text_table(table: Table) -> str:
    """A :class:`~.business.figures.Table` as aligned text under its title."""
    lines = [table.title, *_aligned(table_rows(table))]
    if table.note:
        lines.append(f"({table.note})")
    return printable("\n".join(lines))


def key_figure_rows(case: BusinessCaseResult) -> list[list[str]]:
    """The header and one row per key figure (rates as percentages), previous where given."""
    previous = any(f.previous is not None for f in case.key_figures.values())
    header = ["key figure", "risk-adjusted", "expected", "best", "worst", "P10", "P90"]
    rows = [header + (["previous"] if previous else [])]
    for name, figure in case.key_figures.items():
        cell = format_rate if name in RATES else format_cell
        values = [figure.risk_adjusted, figure.expected, figure.best, figure.worst]
        values += [figure.percentiles.get(10.0), figure.percentiles.get(90.0)]
        values += [figure.previous] if previous else []
        rows.append([figure.label, *(cell(v) for v in values)])
    return rows


def business_case_report(case: BusinessCaseResult, money_unit: str = "tkr") -> str:
    """The business case's key figures, buffer, risks and tables as text."""
    rows = key_figure_rows(case)
    notes = [f"  {f.label}: {f.note}" for f in case.key_figures.values() if f.note]
    adjustment = (
        "Monte Carlo mean" if case.risk_adjustment == "monte_carlo" else "probability-weighted"
    )
    lines = [f"Key figures ({money_unit}; risk-adjusted = {adjustment})", *_aligned(rows), *notes]
    lines.append(f"Cost buffer: {format_cell(case.buffer)} {money_unit}")
    for change in case.changes:
        flag = "SIGNIFICANT CHANGE" if change.significant else "change"
        lines.append(f"{flag}: {change.figure}: {change.reason}")
    lines += [
        "",
        f"Risks: money each accounts for (risk-adjusted - expected net cost, {money_unit})",
    ]
    lines += _aligned(risk_rows(case))
    lines += ["By type: " + ", ".join(f"{t} {format_cell(a)}" for t, a in case.risk_types.items())]
    for table in case.tables.values():
        lines += ["", text_table(table)]
    return printable("\n".join(lines))


def risk_rows(case: BusinessCaseResult) -> list[list[str]]:
    """The header and one row per risk of the register, with the money it accounts for."""
    rows = [["risk", "type", "probability", "consequence", "amount"]]
    for risk in case.risks:
        rows.append(
            [
                f"{risk.id} {risk.name}",
                risk.type,
                "-" if risk.probability is None else str(risk.probability),
                "-" if risk.consequence is None else str(risk.consequence),
                format_cell(risk.amount),
            ]
        )
    return rows


def node_rows(result: RunResult, model: Model | None) -> list[list[str]]:
    """The header and one row of formatted cells per output node."""
    rows = [["node", *(name for name, _ in _COLUMNS), "nonfinite"]]
    for node_id, summary in result.summaries.items():
        label = model[node_id].label if model is not None and node_id in model else ""
        name = f"{node_id} ({label})" if label else node_id
        cells = [
            format_cell(
                summary.percentiles[key] if isinstance(key, float) else getattr(summary, key)
            )
            for _, key in _COLUMNS
        ]
        rows.append([name, *cells, str(summary.nonfinite)])
    return rows


def _title(result: RunResult) -> str:
    return f"{result.model}: {result.samples:,} samples, seed {result.seed}, method {result.method}"


def key_figure_table(result: RunResult, model: Model | None = None) -> str:
    """The run's figures, one row per output node, as aligned text."""
    return printable("\n".join([_title(result), *_aligned(node_rows(result, model))]))


def key_figure_html(result: RunResult, model: Model | None = None) -> str:
    """The run's figures as an HTML table (what a notebook shows for a result).

    With a business case, its key figures follow in a second table.
    """
    parts = [f"<p><b>{html_text(_title(result))}</b></p>", html_table(node_rows(result, model))]
    if result.business_case is not None:
        parts.append(html_table(key_figure_rows(result.business_case)))
    return "\n".join(parts)


def html_table(rows: list[list[str]]) -> str:
    """Rows of cells, the first the header, as an HTML table; every cell is escaped."""

    def line(cells: list[str], tag: str) -> str:
        return "<tr>" + "".join(f"<{tag}>{html_text(c)}</{tag}>" for c in cells) + "</tr>"

    body = "".join(line(row, "td") for row in rows[1:])
    return f"<table><thead>{line(rows[0], 'th')}</thead><tbody>{body}</tbody></table>"


def figures_csv(result: RunResult) -> str:
    """The node figures as CSV: one row per node, numbers unformatted, empty where undefined."""
    stats = ("expected", "weighted", "best", "worst", "mean", "mean_se", "std", "min", "max")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["node", *stats, *(f"P{level_key(p)}" for p in PERCENTILES), "nonfinite"])
    for node_id, summary in result.summaries.items():
        values = [getattr(summary, k) for k in stats]
        values += [summary.percentiles[p] for p in PERCENTILES]
        writer.writerow(
            [node_id, *("" if v is None else repr(v) for v in values), summary.nonfinite]
        )
    return buffer.getvalue()


def sensitivity_report(result: SensitivityResult, labels: Mapping[str, str] | None = None) -> str:
    """The result as text tables for a terminal: tornado, rank correlation, Sobol.

    ``labels`` may name the output (by ``result.output``); the inputs' labels
    come from the tornado bars.
    """
    names = {bar.input: bar.label for bar in result.tornado}
    title = (labels or {}).get(result.output, result.output)
    heading = (
        f"Sensitivity of {title} ({result.output}): {result.samples:,} samples, seed "
        f"{result.seed}; every input at mid gives {format_cell(result.base)}"
    )
    if not result.tornado:
        return printable(f"{heading}\nNo uncertain input reaches it: there is nothing to rank.")
    parts = [
        heading,
        _tornado_text(result, names),
        _correlation_text(result, names),
    ]
    if result.sobol is not None:
        parts.append(_sobol_text(result.sobol, names))
    return printable("\n\n".join(parts))


def _tornado_text(result: SensitivityResult, names: Mapping[str, str]) -> str:
    rows = [["input", "at low", "at high", "swing"]]
    rows += [
        [names[b.input], format_cell(b.low), format_cell(b.high), format_cell(b.swing)]
        for b in result.tornado
    ]
    heading = "Tornado: each input alone from its low to its high, every other input at mid"
    return "\n".join([heading, *_aligned(rows)])


def _correlation_text(result: SensitivityResult, names: Mapping[str, str]) -> str:
    share = result.contribution_to_variance
    order = sorted(share, key=lambda name: -share[name])
    rows = [["input", "rank correlation", "contribution to variance"]]
    rows += [
        [names[k], format_signed(result.rank_correlation[k]), format_rate(share[k])]
        for k in order
    ]
    heading = "Rank correlation (Spearman) with the output, from the Monte Carlo run"
    return "\n".join([heading, *_aligned(rows)])


def format_signed(rho: float | None) -> str:
    """A correlation with its sign and three decimals, ``-`` when undefined."""
    return f"{rho:+.3f}" if rho is not None and math.isfinite(rho) else "-"


def _sobol_text(sobol: SobolIndices, names: Mapping[str, str]) -> str:
    order = sorted(sobol.ST, key=lambda k: -sobol.ST[k] if math.isfinite(sobol.ST[k]) else 0)
    rows = [["input", "S1", "± conf", "ST", "± conf"]]
    for k in order:
        figures = (sobol.S1[k], sobol.S1_conf[k], sobol.ST[k], sobol.ST_conf[k])
        rows.append([names[k], *(_index(v) for v in figures)])
    heading = (
        f"Sobol indices (first order S1, total ST; ± 95 % confidence), "
        f"{sobol.samples:,} base samples"
    )
    return "\n".join([heading, *_aligned(rows)])


def _index(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "-"


def output_suffix(path: str | Path, formats: Iterable[str], what: str) -> str:
    """The format ``path`` asks for by its ending (one of ``formats``, lower case), or a
    :class:`RenderError` naming the path: checked before a run, so a bad name costs nothing.

    >>> output_suffix("P.XLSX", (".html", ".xlsx"), "the portfolio")
    '.xlsx'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        raise RenderError(
            f"cannot write {what} to {str(path)!r}: the name must end in " + " or ".join(formats)
        )
    return suffix
