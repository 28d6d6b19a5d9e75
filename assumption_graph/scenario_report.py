"""A scenario comparison for people: a text table per figure, CSV and an Excel sheet.

Each figure (a business case's key figure, or a main node) gets one table: the
base and every scenario with its risk-adjusted value, mean, P10/P50/P90, its
difference from the base with the paired standard error, the standard error
two independent runs would have had, and the share of samples in which the
scenario beats the base.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._version import __version__
from .business.figures import RATES
from .report import _aligned, format_cell
from .scenarios import BASE, Compared, ScenarioResult
from .text import printable

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

__all__ = ["scenario_report", "scenarios_csv", "scenarios_workbook", "se_ratio"]

_HEAD = ("scenario", "risk-adj.", "mean", "P10", "P50", "P90", "difference", "± SE", "indep. SE")


def _value(c: Compared, value: object, signed: bool = False) -> str:
    """A figure as the table shows it: a rate in per cent, an amount as ``format_cell``."""
    if not isinstance(value, float) or not math.isfinite(value):
        return "-"
    if c.id in RATES:
        return f"{value:+.2%}" if signed else f"{value:.2%}"
    text = format_cell(value)
    return f"+{text}" if signed and value > 0 else text


def _error(c: Compared, value: object) -> str:
    """A standard error with its significant digits: ``0.0735``, ``19.3``, ``0.0041%``."""
    if not isinstance(value, float) or not math.isfinite(value):
        return "-"
    if c.id in RATES:
        return f"{value * 100:.2g}%"
    return format_cell(value) if abs(value) >= 100 else f"{value:.3g}"


def se_ratio(result: ScenarioResult) -> float | None:
    """How many times smaller the paired standard errors are than independent runs'
    (the median over scenarios and figures whose paired SE is above 0)."""
    ratios = [
        d.independent_se / d.mean_se
        for figures in result.differences.values()
        for d in figures.values()
        if d.mean_se and d.independent_se
    ]
    return float(sorted(ratios)[len(ratios) // 2]) if ratios else None


def scenario_report(result: ScenarioResult) -> str:
    """The comparison as aligned text tables, one per figure, with a note on the errors."""
    base = result.base
    lines = [
        f"Scenarios of {base.model}: {base.samples:,} samples, seed {base.seed}, method "
        f"{base.method}; every scenario with the base's random numbers"
    ]
    rows = result.rows()
    for c in result.compared:
        way = "lower" if c.lower_is_better else "higher"
        lines += ["", f"{c.label} ({c.id}): {way} is better"]
        table = [[*_HEAD, "P(better)"]]
        for row in (r for r in rows if r["figure"] == c.id):
            p = row["p_better"]
            table.append(
                [
                    str(row["scenario"]),
                    *(_value(c, row[k]) for k in ("risk_adjusted", "mean", "p10", "p50", "p90")),
                    "" if row["scenario"] == BASE else _value(c, row["difference"], signed=True),
                    _error(c, row["difference_se"]),
                    _error(c, row["independent_se"]),
                    f"{p:.1%}" if isinstance(p, float) else "",
                ]
            )
        lines += _aligned(table)
    ratio = se_ratio(result)
    lines.append("")
    lines.append(
        "Differences are taken sample by sample (common random numbers); ± SE is their standard"
        " error"
        + (f", {ratio:,.0f}x smaller (median) than two independent runs'" if ratio else "")
        + " (indep. SE). P(better): the share of samples in which the scenario beats the base."
    )
    return printable("\n".join(lines))


_CSV_COLUMNS = (
    "scenario",
    "figure",
    "risk_adjusted",
    "mean",
    "p10",
    "p50",
    "p90",
    "difference",
    "difference_se",
    "independent_se",
    "p_better",
)


def scenarios_csv(result: ScenarioResult) -> str:
    """The comparison as CSV: one row per scenario and figure, numbers unformatted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for row in result.rows():
        writer.writerow([_csv_cell(row[k]) for k in _CSV_COLUMNS])
    return buffer.getvalue()


def _csv_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(value) if isinstance(value, float) else printable(str(value))


def scenarios_workbook(result: ScenarioResult) -> bytes:
    """The comparison as an Excel workbook: one sheet, one row per scenario and figure."""
    import xlsxwriter  # imported here so that ``import assumption_graph`` stays fast

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    book.set_properties(
        {"title": printable(result.base.model), "comments": f"assumption_graph {__version__}"}
    )
    sheet = book.add_worksheet("Scenarios")
    bold = book.add_format({"bold": True})
    sheet.freeze_panes(1, 2)
    _write_row(sheet, 0, _CSV_COLUMNS, bold)
    for r, row in enumerate(result.rows(), start=1):
        _write_row(sheet, r, [row[k] for k in _CSV_COLUMNS])
    sheet.set_column(0, len(_CSV_COLUMNS) - 1, 16)
    book.close()
    return buffer.getvalue()


def _write_row(
    sheet: Worksheet, r: int, cells: Sequence[object], style: Format | None = None
) -> None:
    """One row: numbers as numbers, text as text (never a formula), empty where undefined."""
    for col, value in enumerate(cells):
        if isinstance(value, float) and math.isfinite(value):
            sheet.write_number(r, col, value)
        elif isinstance(value, str):
            sheet.write_string(r, col, printable(value), style)
