"""A run as an Excel workbook: key figures, business-case tables, risks, node figures,
assumptions, settings and, on request, the sampled outputs and the deterministic
figures as live formulas.

Everything is read off what the run computed (:class:`~assumption_graph.results.RunResult`
and its :class:`~assumption_graph.business.figures.BusinessCaseResult`); only the
Calculation sheet of ``formulas`` asks the engine for the deterministic figures of
every node of its graph (:mod:`.workbook_formulas` lays it out; its formulas hold
cell references and numbers only, never a model's text). Numbers are number
cells (an undefined figure is an empty cell), rates are fractions shown as
percentages, headers are bold and frozen, and units are in the headers, or in a
``unit`` column where the rows differ.
Text is always a text cell, written by ``_Sheet`` alone: a model's text that
starts with ``=``, ``+``, ``-`` or ``@`` stays text, never a formula, a number
or a link, and control characters show as U+FFFD.

The workbook is written with XlsxWriter in constant-memory mode, row by row,
so a sheet of a million samples costs a row's worth of memory while it is
written (the worksheets go through temporary files; the finished workbook is
returned as bytes and, when a path is given, written whole or not at all).
XlsxWriter writes a number with 16 significant digits, finer than the 15
Excel shows; writing takes about 4 µs a cell, so a Samples sheet of a million
rows and 40 columns takes minutes.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._version import __version__
from .business.figures import RATES, BusinessCaseResult, Table
from .business.labels import CaseNode, case_nodes, figure_id, situation_title
from .distributions import Distribution
from .errors import AssumptionGraphError
from .expr import Formula
from .io import write_atomic
from .model import Model, Node, Situation, Value
from .results import PERCENTILES, RunResult, level_key
from .text import printable
from .workbook_formulas import (
    CALCULATION_COLUMNS,
    FIGURES,
    SheetCell,
    plan_calculation,
    quoted,
)

if TYPE_CHECKING:  # XlsxWriter itself is imported when a workbook is written
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

__all__ = [
    "export_workbook",
    "check_xlsx_path",
    "sheet_name",
    "ASSUMPTION_COLUMNS",
    "MAX_SAMPLE_ROWS",
]

EXCEL_ROWS = 1_048_576  # rows in an Excel worksheet
MAX_SAMPLE_ROWS = EXCEL_ROWS - 1  # samples that fit under the header row
SAMPLE_CHUNK = 65_536  # samples converted to Python floats at a time

_MONEY = "#,##0.0"
_RATE = "0.0%"
_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")  # and control characters
_STATS = ("expected", "weighted", "best", "worst", "mean", "std", "min", "max")
_KEY_STATS = ("risk_adjusted", "expected", "weighted", "best", "worst", "mean")
_UNITLESS_COLUMNS = frozenset({"before", "after", "lift"})  # non-economic gains: own units

Cell = str | float | int | None


def check_xlsx_path(path: str | Path) -> Path:
    """The output path, or an error when it does not end in ``.xlsx``.

    >>> check_xlsx_path("case.xlsx").name
    'case.xlsx'
    """
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise AssumptionGraphError(
            f"cannot export to {str(path)!r}: the file name must end in .xlsx"
        )
    return target


def sheet_name(title: str, taken: Iterable[str] = ()) -> str:
    """A valid, unused Excel sheet name for ``title``.

    Excel allows at most 31 characters, none of ``[]:*?/\\``, no leading or
    trailing apostrophe, and names are unique regardless of case.

    >>> sheet_name("Costs: by phase/year")
    'Costs by phase year'
    >>> sheet_name("Risks", ["risks"])
    'Risks (2)'
    """
    base = re.sub(r"\s+", " ", _FORBIDDEN.sub(" ", title)).strip(" '")
    base = base[:31].rstrip(" '") or "Sheet"
    used = {name.lower() for name in taken}
    name, count = base, 1
    while name.lower() in used:
        count += 1
        suffix = f" ({count})"
        name = base[: 31 - len(suffix)].rstrip(" '") + suffix
    return name


def export_workbook(
    model: Model,
    result: RunResult,
    *,
    path: str | Path | None = None,
    model_path: str | Path | None = None,
    include_samples: bool = False,
    formulas: bool = False,
    warn: Callable[[str], None] | None = None,
) -> bytes:
    """The run of ``model`` as an ``.xlsx`` workbook; written atomically to ``path`` if given.

    Sheets: "Key figures", one per business-case table, "Risks" (with a
    business case), "Figures" (every output node), "Assumptions" (every node
    in file order), "Settings", and with ``include_samples`` "Samples" (the
    run must have kept them: ``sim.run(..., keep_samples=True)``; at most
    :data:`MAX_SAMPLE_ROWS` rows, noted in the sheet when capped).
    ``model_path`` (default ``model.file``) is named and hashed in Settings.
    With ``formulas``, "Calculation" (and, where needed, "Cases") hold every node's
    expected, weighted, best and worst figure as live formulas over the estimates'
    cells on "Assumptions" (see :mod:`.workbook_formulas`); a node whose figures
    cannot be written faithfully is written as values and ``warn`` (default:
    :func:`warnings.warn`) is called with a line saying which node and why.

    >>> import assumption_graph as ag
    >>> m = ag.Model("demo"); m.add("cost", kind="main", estimate=[1, 2, 4])
    >>> data = export_workbook(m, m.compile().run(n=100, seed=1))
    >>> data[:2]
    b'PK'
    """
    target = check_xlsx_path(path) if path is not None else None
    if include_samples and not result.arrays:
        raise AssumptionGraphError("the run kept no samples to export; run with keep_samples=True")
    import xlsxwriter  # imported here so that ``import assumption_graph`` stays fast

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    book.set_properties(
        {"title": printable(result.model), "comments": f"assumption_graph {__version__}"}
    )
    writer = _Writer(book, model, result, formulas)
    writer.write(model_path or model.file, include_samples)
    book.close()
    for text in writer.warnings:
        (warn or _warn)(text)
    data = buffer.getvalue()
    if target is not None:
        write_atomic(target, data)
    return data


class _Sheet:
    """One worksheet written row by row (constant-memory mode), column widths tracked."""

    def __init__(self, writer: _Writer, title: str, freeze: tuple[int, int] = (1, 1)) -> None:
        self.name = sheet_name(title, writer.names)
        writer.names.append(self.name)
        self.sheet: Worksheet = writer.book.add_worksheet(self.name)
        self.sheet.freeze_panes(*freeze)
        self.bold = writer.bold
        self.row = 0
        self.widths: list[int] = []

    def header(self, cells: Sequence[str]) -> None:
        """A bold header row."""
        for col, text in enumerate(cells):
            self.sheet.write_string(self.row, col, printable(text), self.bold)
            self._fit(col, len(text))
        self.row += 1

    def line(self, cells: Sequence[Cell], formats: Sequence[Format | None] | None = None) -> None:
        """A row: text as text, numbers as numbers (with ``formats[i]``), ``None`` left empty."""
        for col, value in enumerate(cells):
            style = formats[col] if formats is not None and col < len(formats) else None
            if value is None:
                continue
            if isinstance(value, str):
                self.sheet.write_string(self.row, col, printable(value))
                self._fit(col, len(value))
            else:
                number = float(value)
                if not math.isfinite(number):
                    continue
                self.sheet.write_number(self.row, col, number, style)
                self._fit(col, len(f"{number:,.1f}") + 1)
        self.row += 1

    def figures(self, cells: Sequence[SheetCell], start: int, style: Format | None) -> None:
        """Computed cells from column ``start`` on: a formula with the engine's value as its
        cached result, or the value alone (an undefined one an empty cell, or an error)."""
        for col, cell in enumerate(cells, start=start):
            value: float | str = cell.value if math.isfinite(cell.value) else "#NUM!"
            if cell.formula is not None:
                self.sheet.write_formula(self.row, col, f"={cell.formula}", style, value)
            elif math.isfinite(cell.value):
                self.sheet.write_number(self.row, col, cell.value, style)
            self._fit(col, 12)

    def skip(self) -> None:
        self.row += 1

    def _fit(self, col: int, width: int) -> None:
        self.widths.extend([0] * (col + 1 - len(self.widths)))
        self.widths[col] = max(self.widths[col], width)

    def finish(self) -> None:
        for col, width in enumerate(self.widths):
            self.sheet.set_column(col, col, min(max(width + 2, 8), 60))


class _Writer:
    """Writes the sheets of one workbook from one run."""

    def __init__(self, book: Workbook, model: Model, result: RunResult, formulas: bool) -> None:
        self.book, self.model, self.result = book, model, result
        self.formulas = formulas  # add the Calculation sheet, and label the values as such
        self.money_unit = model.money_unit
        self.nodes = case_nodes(model)
        self.names: list[str] = []
        self.warnings: list[str] = []
        self.estimate_cells: dict[str, dict[str, str]] = {}
        self.bold = book.add_format({"bold": True})
        self.money = book.add_format({"num_format": _MONEY})
        self.rate = book.add_format({"num_format": _RATE})

    def write(self, model_path: str | Path | None, include_samples: bool) -> None:
        case = self.result.business_case
        if case is not None:
            self.key_figures(case)
            for table in case.tables.values():
                self.table(table)
            self.risks(case)
        self.figures()
        self.assumptions()
        if self.formulas:
            self.calculation()
        self.settings(model_path, include_samples)
        if include_samples:
            self.samples()

    def sheet(self, title: str, freeze: tuple[int, int] = (1, 1)) -> _Sheet:
        return _Sheet(self, title, freeze)

    # ---------------------------------------------------------------- business case

    def key_figures(self, case: BusinessCaseResult) -> None:
        """Every key figure in every column; rates as percentages; buffer and changes below."""
        sheet = self.sheet("Key figures", (1, 2))
        previous = any(f.previous is not None for f in case.key_figures.values())
        levels = [f"P{level_key(p)}" for p in PERCENTILES]
        sheet.header(
            ["key figure", "id", "unit", *_KEY_STATS, *levels, "nonfinite"]
            + (["previous"] if previous else [])
            + ["note"]
        )
        for name, figure in case.key_figures.items():
            style = self.rate if name in RATES else self.money
            figures: list[Cell] = [getattr(figure, k) for k in _KEY_STATS]
            figures += [figure.percentiles.get(p) for p in PERCENTILES]
            after: list[Cell] = [figure.nonfinite, *([figure.previous] if previous else [])]
            sheet.line(
                [
                    figure.label,
                    name,
                    "%" if name in RATES else self.money_unit,
                    *figures,
                    *after,
                    figure.note,
                ],
                [None] * 3 + [style] * len(figures) + [None] + [style] * (len(after) - 1),
            )
        sheet.skip()
        adjustment = (
            "Monte Carlo mean" if case.risk_adjustment == "monte_carlo" else "probability-weighted"
        )
        money_cells = [None] * 3 + [self.money, self.money]
        sheet.line(["Cost buffer", "buffer", self.money_unit, case.buffer], money_cells)
        sheet.line(["Risk-adjusted is the", "risk_adjustment", "", adjustment])
        for change in case.changes:
            flag = "significant change" if change.significant else "change"
            cells = [flag, change.figure, "", change.previous, change.current, change.reason]
            sheet.line(cells, money_cells)
        self.values_note(sheet)
        sheet.finish()

    def table(self, table: Table) -> None:
        """A business-case table: its title over the row names, units in the column headers."""
        sheet = self.sheet(table.title)
        sheet.header([table.title, *(self._column_header(c) for c in table.columns)])
        formats = [None, *(None if c in _UNITLESS_COLUMNS else self.money for c in table.columns)]
        for name, values in table.rows:
            sheet.line([name, *values], formats)
        if table.note:
            sheet.skip()
            sheet.line([f"Note: {table.note}"])
        sheet.finish()

    def _column_header(self, column: str) -> str:
        if column in _UNITLESS_COLUMNS:
            return column
        if column == "cost_per_unit":
            return f"{column} ({self.money_unit} per unit of lift)"
        return f"{column} ({self.money_unit})"

    def risks(self, case: BusinessCaseResult) -> None:
        """The risk register with the money each risk accounts for, then sums by risk type."""
        sheet = self.sheet("Risks")
        amount = f"amount ({self.money_unit})"
        sheet.header(["id", "risk", "type", "probability (1-4)", "consequence (1-4)", amount])
        formats: list[Format | None] = [None] * 5 + [self.money]
        for risk in case.risks:
            sheet.line(
                [risk.id, risk.name, risk.type, risk.probability, risk.consequence, risk.amount],
                formats,
            )
        sheet.skip()
        sheet.header(["", "risk type", "", "", "", amount])
        for risk_type, total in case.risk_types.items():
            sheet.line([None, risk_type, None, None, None, total], formats)
        sheet.skip()
        sheet.line(
            [
                None,
                "amount: risk-adjusted minus expected net cost of the inputs tied to the risk"
                " (70 % to a primary risk, 30 % to a secondary one)",
            ]
        )
        sheet.finish()

    # ---------------------------------------------------------------- every model

    def figures(self) -> None:
        """Every output node's figures, like ``run --csv``, with its label and unit."""
        sheet = self.sheet("Figures", (1, 1))
        levels = [f"P{level_key(p)}" for p in PERCENTILES]
        sheet.header(["node", "label", "unit", *_STATS, *levels, "nonfinite"])
        for node_id, summary in self.result.summaries.items():
            unit = self.unit_of(node_id)
            style = self.money if unit == self.money_unit else None
            values: list[Cell] = [getattr(summary, k) for k in _STATS]
            values += [summary.percentiles.get(p) for p in PERCENTILES]
            formats = [None] * 3 + [style] * len(values) + [None]
            sheet.line([node_id, self.label_of(node_id), unit, *values, summary.nonfinite], formats)
        self.values_note(sheet)
        sheet.finish()

    def values_note(self, sheet: _Sheet) -> None:
        """Beside the Calculation sheet's formulas, a last line saying that these are values."""
        if self.formulas:
            sheet.skip()
            result = self.result
            sheet.line(
                [
                    f"Values of a {result.method} run of {result.samples:,} samples from seed"
                    f" {result.seed}; the deterministic figures as live formulas are on the"
                    " Calculation sheet"
                ]
            )

    def assumptions(self) -> None:
        """Every node in file order, one row per situation of a situation node."""
        sheet = self.sheet("Assumptions", (1, 1))
        sheet.header(list(ASSUMPTION_COLUMNS))
        for node in self.model:
            for situation, body in _bodies(node):
                node_id = CaseNode(node.id, without=situation == "without").key
                row = self.assumption_row(node, situation, body)
                self.estimate_cells[node_id] = _estimate_cells(sheet.name, sheet.row, row)
                sheet.line(row)
        sheet.finish()

    def calculation(self) -> None:
        """The Calculation sheet, and the Cases sheet where some best or worst case needs it."""
        from .compile import compile_model  # the graph the engine runs, and its figures

        compiled = compile_model(self.model)
        graph = compiled.case
        pins = graph.pins(self.result.overrides)
        figures = compiled.figures(graph.checked.order, pins)
        sheet = self.sheet("Calculation", (1, 2))
        cases_name = sheet_name("Cases", self.names)

        def label(node_id: str) -> str | None:
            return self.label_of(node_id) or graph.checked.model[node_id].label or None

        names = (sheet.name, cases_name)
        plan = plan_calculation(graph, figures, pins, self.estimate_cells, label, names)
        self.warnings += plan.warnings
        sheet.header(list(CALCULATION_COLUMNS))
        for row in plan.rows:
            unit = self.unit_of(row.id)
            style = self.rate if unit == "%" else self.money if unit == self.money_unit else None
            sheet.figures([row.figures[f] for f in FIGURES], 2, style)
            sheet.line([row.id, row.label, None, None, None, None, unit, row.note])
        sheet.finish()
        if plan.cases:
            cases = self.sheet("Cases", (1, 1))
            cases.header(["node", "case", "value"])
            for case in plan.cases:
                cases.figures([case.cell], 2, None)
                cases.line([case.id, case.case])
            cases.finish()

    def assumption_row(self, node: Node, situation: str | None, body: Any) -> list[Cell]:
        low, mid, high, model_name, weights = _estimate(body)
        event = body.shown().chance if isinstance(body, Distribution) else None
        primary = node.risk[0] if node.risk else None
        secondary = node.risk[1] if len(node.risk) > 1 else None
        year: Cell = node.year if node.year is not None else _listed(node.years)
        return [
            node.id,
            situation,
            node.label or None,
            node.kind,
            self.unit_of(node.id),
            low,
            mid,
            high,
            model_name,
            *(weights or (None, None, None)),
            event,
            _values(body),
            node.source,
            primary,
            secondary,
            _listed(node.purpose),
            node.side,
            node.category,
            node.phase,
            year,
            _listed(node.profile or ()),
            body.text if isinstance(body, Formula) else None,
        ]

    def settings(self, model_path: str | Path | None, include_samples: bool) -> None:
        """What produced the figures: the model and its file, the run's settings, the engine."""
        sheet = self.sheet("Settings", (1, 1))
        sheet.header(["setting", "value"])
        result, case = self.result, self.model.business_case
        rows: list[tuple[str, Cell]] = [
            ("model", result.model),
            ("model file", str(model_path) if model_path else None),
            ("file SHA-256", _sha256(model_path)),
            ("money unit", self.money_unit),
            ("samples", result.samples),
            ("seed", result.seed),
            ("method", result.method),
            ("engine version", f"assumption_graph {__version__}"),
        ]
        if result.business_case is not None:
            rows.append(("risk adjustment", result.business_case.risk_adjustment))
        if case is not None:
            rows += [("start year", case.start_year), ("end year", case.end_year)]
        if include_samples:
            rows.append(("samples in the Samples sheet", min(result.samples, MAX_SAMPLE_ROWS)))
        rows += [(f"override {node_id}", value) for node_id, value in result.overrides.items()]
        for name, value in rows:
            sheet.line([name, value])
        if case is not None:
            sheet.line(["discount rate", case.discount_rate], [None, self.rate])
            finance, reinvestment = case.mirr_rates
            sheet.line(["MIRR finance rate", finance], [None, self.rate])
            sheet.line(["MIRR reinvestment rate", reinvestment], [None, self.rate])
        sheet.finish()

    def samples(self) -> None:
        """One column per output node (and key figure), one row per sample, up to Excel's limit."""
        sheet = self.sheet("Samples", (1, 0))
        ids = self.sample_ids()
        headers = [f"{i} ({u})" if (u := self.unit_of(i)) else i for i in ids]
        rows = min(self.result.samples, MAX_SAMPLE_ROWS)
        if rows < self.result.samples:
            headers.append(
                f"note: only the first {rows:,} of {self.result.samples:,} samples"
                " fit in an Excel sheet"
            )
        sheet.header(headers)
        write = sheet.sheet.write_number
        columns = [self.result.values(i) for i in ids]
        for start in range(0, rows, SAMPLE_CHUNK):
            stop = min(start + SAMPLE_CHUNK, rows)
            block = np.column_stack([c[start:stop] for c in columns]).tolist()
            for offset, values in enumerate(block, start=start + 1):
                for col, value in enumerate(values):
                    if math.isfinite(value):
                        write(offset, col, value)
        for col in range(len(ids)):
            sheet.sheet.set_column(col, col, max(len(headers[col]) + 2, 12))

    def sample_ids(self) -> list[str]:
        """The output nodes, then the business case's key figures when the run kept them."""
        ids = [i for i in self.result.summaries if i in self.result.arrays]
        case = self.result.business_case
        if case is not None:
            ids += [figure_id(n) for n in case.key_figures if figure_id(n) in self.result.arrays]
        return ids

    # ---------------------------------------------------------------- node facts

    def unit_of(self, node_id: str) -> str | None:
        """A node's declared unit; the money unit for main nodes and key figures."""
        if node_id.startswith("@"):
            return "%" if node_id[1:] in RATES else self.money_unit
        copy = self.nodes.get(node_id)
        if copy is None:
            return None
        node = self.model[copy.node]
        return node.unit or (self.money_unit if node.kind == "main" else None)

    def label_of(self, node_id: str) -> str | None:
        copy = self.nodes.get(node_id)
        if copy is None:
            return None
        label = self.model[copy.node].label
        return situation_title(label, copy) if label else None


ASSUMPTION_COLUMNS: tuple[str, ...] = (
    "id",
    "situation",
    "label",
    "kind",
    "unit",
    "low",
    "mid",
    "high",
    "model",
    "p low",
    "p mid",
    "p high",
    "event probability",
    "values",
    "source",
    "risk primary",
    "risk secondary",
    "purpose",
    "side",
    "category",
    "phase",
    "year(s)",
    "profile",
    "formula",
)


_ESTIMATE_CELLS = {  # the estimate's numbers a model's spreadsheet readings take, by column
    "low": "low",
    "mid": "mid",
    "high": "high",
    "p_low": "p low",
    "p_mid": "p mid",
    "p_high": "p high",
    "chance": "event probability",
}


def _estimate_cells(sheet: str, row: int, cells: Sequence[Cell]) -> dict[str, str]:
    """The absolute references of the estimate's numbers in an Assumptions row."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    found = {}
    for key, column in _ESTIMATE_CELLS.items():
        col = ASSUMPTION_COLUMNS.index(column)
        if isinstance(cells[col], int | float):
            found[key] = f"{quoted(sheet)}!{xl_rowcol_to_cell(row, col, True, True)}"
    return found


def _warn(text: str) -> None:
    warnings.warn(text, UserWarning, stacklevel=3)


def _bodies(node: Node) -> list[tuple[str | None, Any]]:
    """``[(None, body)]``, or one entry per situation of a situation node."""
    if isinstance(node.body, Situation):
        return list(node.body.entries())
    return [(None, node.body)]


def _estimate(
    body: Any,
) -> tuple[Cell, Cell, Cell, str | None, tuple[float, float, float] | None]:
    """(low, mid, high, model, weights) of an input; a constant has only mid.

    A risk event shows its consequence's estimate (as entered); the chance it
    happens has a column of its own.
    """
    if isinstance(body, Value):
        return None, body.value, None, None, None
    if isinstance(body, Distribution):
        return (*body.shown().points, body.name, body.weights)
    return None, None, None, None, None


def _values(body: Any) -> str | None:
    """An input over a list of values: ``1 (0.2), 2 (0.5), 5 (0.3)``; ``None`` for others."""
    values = body.shown().values if isinstance(body, Distribution) else None
    if values is None:
        return None
    chances = body.probabilities
    return ", ".join(f"{_plain(v)} ({_plain(p)})" for v, p in zip(values, chances, strict=True))


def _listed(values: Sequence[object]) -> str | None:
    """A list as text for one cell (``2027, 2028``), ``None`` when empty."""
    return ", ".join(_plain(v) for v in values) or None


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sha256(path: str | Path | None) -> str | None:
    """The file's SHA-256 in hex, or ``None`` when there is no readable file."""
    if not path:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
