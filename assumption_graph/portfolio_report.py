"""A portfolio's results as text, an HTML page with the NPV charts (from the Jinja2
template ``templates/portfolio.html.j2``), and an xlsx workbook.

Every output shows the same three things: the cases' key figures side by side
with the portfolio's, the costs by category summed across the cases, and the
portfolio totals (per-sample sums across the cases) as distributions.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ._version import __version__
from .business.figures import Table
from .export import sheet_name
from .html_report import inline_svg
from .pages import render_page
from .plots import LEGEND_CURVES, curves_figure, figure_svg
from .portfolio import TOTALS, PortfolioResult
from .report import _aligned, format_cell, output_suffix, table_rows, text_table
from .results import PERCENTILES, level_key
from .text import printable

__all__ = [
    "OUTPUT_FORMATS",
    "portfolio_text",
    "portfolio_html",
    "portfolio_workbook",
    "portfolio_output",
]

_RATE_ROWS = frozenset({"IRR", "MIRR", "Share of samples with NPV < 0"})
_TOTAL_LABELS = {"npv": "Portfolio NPV", "project_cost": "Portfolio project cost"}
_TOTAL_STATS = ("expected", "weighted", "mean", "std", "min", "max")


def _money_unit(result: PortfolioResult) -> str:
    """The cases' money unit (a portfolio's cases share one)."""
    return result.cases[0].money_unit


def _figure_rows(table: Table) -> list[list[str]]:
    """The key-figure table's cells, one row per case and the portfolio's last (a long
    portfolio reads down the page), rates and shares as percentages."""
    columns = [
        [(_percent if name in _RATE_ROWS else format_cell)(v) for v in values]
        for name, values in table.rows
    ]
    rows = [["case", *(name for name, _ in table.rows)]]
    rows += [[case, *cells] for case, *cells in zip(table.columns, *columns, strict=True)]
    return rows


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _total_rows(result: PortfolioResult) -> list[list[str]]:
    """One row per total: its expected, weighted, mean, spread and percentiles."""
    levels = [f"P{level_key(p)}" for p in PERCENTILES]
    rows = [["total", *_TOTAL_STATS, *levels]]
    for name, summary in result.total_summaries().items():
        stats = [getattr(summary, stat) for stat in _TOTAL_STATS]
        percentiles = [summary.percentiles[p] for p in PERCENTILES]
        rows.append([_TOTAL_LABELS[name], *(format_cell(v) for v in (*stats, *percentiles))])
    return rows


def portfolio_text(result: PortfolioResult) -> str:
    """The portfolio as aligned text tables, for the terminal."""
    unit = _money_unit(result)
    figures = result.figure_table()
    lines = [
        f"Portfolio of {len(result.cases)} business case(s): {result.samples:,} samples, "
        f"seed {result.seed}, method {result.method}; amounts in {unit}",
        "",
        figures.title,
        *_aligned(_figure_rows(figures)),
        f"({figures.note})",
        "",
        "Portfolio totals (sums per sample across the cases)",
        *_aligned(_total_rows(result)),
        "",
        text_table(result.category_table()),
    ]
    return printable("\n".join(lines))


def portfolio_html(result: PortfolioResult) -> str:
    """A self-contained HTML page in the report's style: the tables, every case's NPV
    curve on one chart and the totals' curves on another."""
    unit = _money_unit(result)
    totals = result.total_summaries()
    cases = curves_figure({case.name: case.npv for case in result.cases}, "NPV of each case", unit)
    summed = curves_figure(
        {_TOTAL_LABELS[name]: totals[name] for name in TOTALS}, "Portfolio totals", unit
    )
    named = "" if len(result.cases) <= LEGEND_CURVES else " (too many to name: see the table)"
    figures, categories = result.figure_table(), result.category_table()
    return render_page(
        "portfolio.html.j2",
        title=f"Portfolio of {len(result.cases)} business case(s)",
        facts=[
            ("Cases", f"{len(result.cases)} (named in the tables)"),
            ("Samples", f"{result.samples:,} per case"),
            ("Seed", str(result.seed)),
            ("Method", result.method),
            ("Amounts in", unit),
            ("Made with", f"assumption_graph {__version__}"),
        ],
        sections=[
            _Section("key-figures", figures.title, _figure_rows(figures), figures.note),
            _Section(
                "npv-distributions",
                "NPV distributions",
                chart=inline_svg(figure_svg(cases), "npv"),
                caption="The S-curve (share of samples at or below each NPV) of every case"
                f"{named}.",
            ),
            _Section(
                "totals",
                "Portfolio totals (sums per sample across the cases)",
                _total_rows(result),
                chart=inline_svg(figure_svg(summed), "totals"),
                caption="The S-curves of the portfolio's NPV and project cost: the cases'"
                " figures summed sample by sample, so a shared assumption moves every case at"
                " once.",
            ),
            _Section("by-category", categories.title, table_rows(categories), categories.note),
        ],
    )


class _Section(NamedTuple):
    """A section of the page: a table (rows, the header first) and its note, and/or a
    chart (inline SVG markup) and its caption."""

    id: str
    heading: str
    rows: list[list[str]] | None = None
    note: str | None = None
    chart: str | None = None
    caption: str = ""


def portfolio_output(result: PortfolioResult, path: str | Path) -> str | bytes:
    """The ``-o`` file's content, in the format its name ends in (see :data:`OUTPUT_FORMATS`)."""
    return OUTPUT_FORMATS[output_suffix(path, OUTPUT_FORMATS, "the portfolio")](result)


def portfolio_workbook(result: PortfolioResult) -> bytes:
    """The portfolio as an ``.xlsx`` workbook: key figures, totals, costs by category."""
    import xlsxwriter  # imported here so that ``import assumption_graph`` stays fast

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    book.set_properties({"comments": f"assumption_graph {__version__}"})
    taken: list[str] = []
    totals = result.total_summaries()
    total_table = Table(
        "Portfolio totals",
        (*_TOTAL_STATS, *(f"P{level_key(p)}" for p in PERCENTILES)),
        tuple(
            (
                _TOTAL_LABELS[name],
                (
                    *(getattr(totals[name], stat) for stat in _TOTAL_STATS),
                    *(totals[name].percentiles[p] for p in PERCENTILES),
                ),
            )
            for name in TOTALS
        ),
    )
    for table in (result.figure_table(), total_table, result.category_table()):
        sheet = book.add_worksheet(sheet_name(table.title, taken))
        taken.append(sheet.name)
        sheet.write_row(0, 0, ["", *(printable(c) for c in table.columns)])
        for row, (name, values) in enumerate(table.rows, start=1):
            sheet.write_string(row, 0, printable(name))
            for col, value in enumerate(values, start=1):
                if value is not None:
                    sheet.write_number(row, col, value)
        sheet.set_column(0, 0, max(len(name) for name, _ in table.rows) + 2)
        sheet.set_column(1, len(table.columns), 16)
        sheet.freeze_panes(1, 1)
    book.close()
    return buffer.getvalue()


#: The ``-o`` formats by their file name's ending.
OUTPUT_FORMATS: dict[str, Callable[[PortfolioResult], str | bytes]] = {
    ".html": portfolio_html,
    ".xlsx": portfolio_workbook,
}
