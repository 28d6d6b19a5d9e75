"""A scenario comparison for people: text tables, an HTML page, CSV and an Excel sheet.

Each figure (a business case's key figure, or a main node) gets one table: the
base and every scenario with its risk-adjusted value, mean, P10/P50/P90, its
difference from the base with the paired standard error, the standard error
two independent runs would have had, and the share of samples in which the
scenario beats the base. The text and the HTML page show the same cells.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__
from .business.figures import RATES
from .pages import render_page
from .report import _aligned, format_cell, output_suffix
from .scenario_file import BASE, Scenario
from .scenarios import Compared, ScenarioResult
from .text import printable

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

__all__ = [
    "OUTPUT_FORMATS",
    "scenario_report",
    "scenarios_csv",
    "scenarios_html",
    "scenarios_output",
    "scenarios_workbook",
    "se_ratio",
]

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


def se_ratio(result: ScenarioResult, figure: str | None = None) -> float | None:
    """How many times smaller the paired standard errors are than independent runs'
    (the median over the scenarios and figures, or one ``figure``'s, whose paired SE is
    above 0)."""
    ratios = [
        d.independent_se / d.mean_se
        for figures in result.differences.values()
        for name, d in figures.items()
        if d.mean_se and d.independent_se and figure in (None, name)
    ]
    return float(sorted(ratios)[len(ratios) // 2]) if ratios else None


def _way(c: Compared) -> str:
    """Which way the figure is better: ``lower is better`` for a cost."""
    return f"{'lower' if c.lower_is_better else 'higher'} is better"


def _figure_rows(result: ScenarioResult, c: Compared) -> list[list[str]]:
    """One figure's table, the header first: the base and every scenario, formatted."""
    table = [[*_HEAD, "P(better)"]]
    for row in (r for r in result.rows() if r["figure"] == c.id):
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
    return table


def _errors_note(result: ScenarioResult) -> str:
    """What the differences and their errors are, with the median reduction of the SE."""
    ratio = se_ratio(result)
    return (
        "Differences are taken sample by sample (common random numbers); ± SE is their standard"
        " error"
        + (f", {ratio:,.0f}x smaller (median) than two independent runs'" if ratio else "")
        + " (indep. SE). P(better): the share of samples in which the scenario beats the base."
    )


def scenario_report(result: ScenarioResult) -> str:
    """The comparison as aligned text tables, one per figure, with a note on the errors."""
    base = result.base
    lines = [
        f"Scenarios of {base.model}: {base.samples:,} samples, seed {base.seed}, method "
        f"{base.method}; every scenario with the base's random numbers"
    ]
    for c in result.compared:
        lines += ["", f"{c.label} ({c.id}): {_way(c)}"]
        lines += _aligned(_figure_rows(result, c))
    lines += ["", _errors_note(result)]
    return printable("\n".join(lines))


def scenarios_html(result: ScenarioResult, scenarios: Sequence[Scenario] = ()) -> str:
    """The comparison as a self-contained HTML page in the report's style: what each
    scenario changes (when ``scenarios`` are given) and one table per figure."""
    return render_page(
        "scenarios.html.j2",
        title=f"Scenarios of {result.base.model or 'the model'}",
        facts=[
            ("Samples", f"{result.base.samples:,}"),
            ("Seed", str(result.base.seed)),
            ("Method", result.base.method),
            ("Scenarios", ", ".join(result.runs)),
            (
                "Random numbers",
                "common: each scenario uses the base's streams for every input it does not change",
            ),
            ("Made with", f"assumption_graph {__version__}"),
        ],
        scenarios=[(s.name, s.description, _changes(s)) for s in scenarios],
        figures=[
            (
                f"figure-{c.id}",
                f"{c.label} ({c.id})",
                _figure_note(result, c),
                _figure_rows(result, c),
            )
            for c in result.compared
        ],
        note=_errors_note(result),
    )


def _figure_note(result: ScenarioResult, c: Compared) -> str:
    """Which way is better for a figure, and how much the pairing shrinks its errors."""
    ratio = se_ratio(result, c.id)
    if ratio:
        pairing = f"; ± SE is {ratio:,.0f}x smaller (median) than two independent runs'"
    elif all(figures[c.id].mean_se == 0 for figures in result.differences.values()):
        pairing = "; no scenario changes it (every difference is exactly 0)"
    else:
        pairing = ""
    return f"{_way(c).capitalize()}{pairing}."


def _changes(scenario: Scenario) -> str:
    """What a scenario changes, in one line: its pins, replaced nodes and settings."""
    parts = [f"{node_id} = {value:g}" for node_id, value in scenario.pins.items()]
    parts += [f"{node_id} replaced" for node_id in scenario.nodes]
    parts += [f"business case {key}: {value}" for key, value in scenario.case_keys.items()]
    return "; ".join(parts)


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


#: The ``-o`` formats by their file name's ending.
OUTPUT_FORMATS: dict[str, Callable[[ScenarioResult, Sequence[Scenario]], str | bytes]] = {
    ".html": scenarios_html,
    ".xlsx": lambda result, _: scenarios_workbook(result),
}


def scenarios_output(
    result: ScenarioResult, path: str | Path, scenarios: Sequence[Scenario] = ()
) -> str | bytes:
    """The ``-o`` file's content, in the format its name ends in (see :data:`OUTPUT_FORMATS`)."""
    return OUTPUT_FORMATS[output_suffix(path, OUTPUT_FORMATS, "the scenarios")](result, scenarios)


def _write_row(
    sheet: Worksheet, r: int, cells: Sequence[object], style: Format | None = None
) -> None:
    """One row: numbers as numbers, text as text (never a formula), empty where undefined."""
    for col, value in enumerate(cells):
        if isinstance(value, float) and math.isfinite(value):
            sheet.write_number(r, col, value)
        elif isinstance(value, str):
            sheet.write_string(r, col, printable(value), style)
