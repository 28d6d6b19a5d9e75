"""A portfolio's results as text, an HTML page with the NPV chart, and an xlsx workbook.

Every output shows the same three things: the cases' key figures side by side
with the portfolio's, the costs by category summed across the cases, and the
portfolio totals (per-sample sums across the cases) as distributions.
"""

from __future__ import annotations

import io
from pathlib import Path

from ._version import __version__
from .business.figures import Table
from .errors import RenderError
from .export import sheet_name
from .html_report import inline_svg
from .plots import curves_figure, figure_svg
from .portfolio import TOTALS, PortfolioResult
from .report import _aligned, format_cell, html_table, table_rows, text_table
from .results import PERCENTILES, level_key
from .text import html_text, printable

__all__ = [
    "OUTPUT_FORMATS",
    "check_portfolio_output",
    "portfolio_text",
    "portfolio_html",
    "portfolio_workbook",
    "portfolio_output",
]

OUTPUT_FORMATS: tuple[str, ...] = (".html", ".xlsx")
_RATE_ROWS = frozenset({"IRR", "MIRR", "Share of samples with NPV < 0"})
_TOTAL_LABELS = {"npv": "Portfolio NPV", "project_cost": "Portfolio project cost"}
_TOTAL_STATS = ("expected", "weighted", "mean", "std", "min", "max")


def _money_unit(result: PortfolioResult) -> str:
    units = {case.money_unit for case in result.cases}
    return units.pop() if len(units) == 1 else "mixed units"


def _figure_rows(table: Table) -> list[list[str]]:
    """The key-figure table's cells, rates and shares as percentages."""
    rows = [["", *table.columns]]
    for name, values in table.rows:
        cell = _percent if name in _RATE_ROWS else format_cell
        rows.append([name, *(cell(v) for v in values)])
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


def check_portfolio_output(path: str | Path) -> str:
    """The output's format (``.html`` or ``.xlsx``), or an error naming the path."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise RenderError(
            f"cannot write the portfolio to {str(path)!r}: the name must end in "
            + " or ".join(OUTPUT_FORMATS)
        )
    return suffix


def portfolio_output(result: PortfolioResult, path: str | Path) -> bytes:
    """The ``-o`` file's bytes, in the format its name asks for."""
    if check_portfolio_output(path) == ".xlsx":
        return portfolio_workbook(result)
    return portfolio_html(result).encode("utf-8")


def portfolio_html(result: PortfolioResult) -> str:
    """A self-contained HTML page: the tables and the cases' NPV curves on one chart."""
    unit = _money_unit(result)
    chart = curves_figure(
        {
            **{case.name: case.npv for case in result.cases},
            "portfolio (total)": result.total_summaries()["npv"],
        },
        "NPV of each case and of the portfolio",
        unit,
    )
    figures, categories = result.figure_table(), result.category_table()
    title = f"Portfolio of {len(result.cases)} business case(s)"
    body = [
        f"<h1>{html_text(title)}</h1>",
        f"<p>{result.samples:,} samples, seed {result.seed}, method "
        f"{html_text(result.method)}; amounts in {html_text(unit)}.</p>",
        f"<h2>{html_text(figures.title)}</h2>",
        html_table(_figure_rows(figures)),
        f'<p class="note">{html_text(figures.note or "")}</p>',
        "<h2>NPV distributions</h2>",
        f"<figure>{inline_svg(figure_svg(chart), 'npv')}</figure>",
        "<h2>Portfolio totals (sums per sample across the cases)</h2>",
        html_table(_total_rows(result)),
        f"<h2>{html_text(categories.title)}</h2>",
        html_table(table_rows(categories)),
        f'<p class="note">{html_text(categories.note or "")}</p>',
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8"/>',
            f'<meta name="generator" content="assumption_graph {html_text(__version__)}"/>',
            f"<title>{html_text(title)}</title><style>{_CSS}</style></head><body>",
            *body,
            "</body></html>",
            "",
        ]
    )


_CSS = (
    "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1100px;margin:0 auto;"
    "padding:1em}table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;"
    "border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child"
    "{text-align:left}.note{color:#555;font-size:13px}svg{max-width:100%;height:auto}"
)


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
