"""The estimates sheet: a model's uncertain inputs as rows for estimators to fill in.

One row per uncertain input of the model's own file (a node with an estimate,
and each situation of a node whose estimate differs without and with the
project, as ``id@without`` and ``id@with``): its id, label, unit and source,
the estimate's ``low``, ``mid`` and ``high``, the model, the probabilities
(when not the model's defaults) and an empty ``notes`` column. Written as an
Excel workbook or CSV; read back (openpyxl for ``.xlsx``; a CSV file with commas or,
as Excel in a decimal-comma language saves it, semicolons) as
:class:`EstimateRow` records for :mod:`.estimates_update`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .distributions import Distribution
from .errors import EstimatesError, shown
from .model import Model, Situation

__all__ = [
    "COLUMNS",
    "SHEET_SUFFIXES",
    "EstimateRow",
    "SheetInput",
    "sheet_inputs",
    "sheet_bytes",
    "read_sheet",
]

COLUMNS: tuple[str, ...] = (
    "id",
    "label",
    "unit",
    "source",
    "low",
    "mid",
    "high",
    "model",
    "probabilities",
    "notes",
)
SHEET_SUFFIXES: tuple[str, ...] = (".xlsx", ".csv")
_SHEET = "Estimates"
_FORMULA_START = ("=", "+", "-", "@")  # what a spreadsheet would run as a formula
#: A number as a decimal-comma language writes it: ``1.234,5`` (dots group thousands).
_COMMA_NUMBER = re.compile(r"\s*(-?\d{1,3}(?:\.\d{3})+|-?\d+)(?:,(\d+))?\s*")


@dataclass(frozen=True)
class SheetInput:
    """An uncertain input as the sheet shows it: ``path`` leads from ``nodes`` to it."""

    id: str
    path: tuple[str, ...]
    label: str
    unit: str
    source: str
    body: Distribution


@dataclass(frozen=True)
class EstimateRow:
    """One filled-in row as read: its sheet row number and its cells by column."""

    row: int
    cells: dict[str, Any]


def sheet_inputs(model: Model) -> list[SheetInput]:
    """The uncertain inputs of the model's own file, in the file's order."""
    found = []
    for node in model:
        if node.file is not None:  # a shared library's node: its own file has it
            continue
        common = (node.label, node.unit or "", node.source or "")
        if isinstance(node.body, Situation):
            for situation, body in node.body.entries():
                if isinstance(body, Distribution) and body.draws:
                    path = (node.id, "situation", situation)
                    found.append(SheetInput(f"{node.id}@{situation}", path, *common, body))
        elif isinstance(node.body, Distribution) and node.body.draws:
            found.append(SheetInput(node.id, (node.id,), *common, node.body))
    return found


def _row(item: SheetInput) -> list[Any]:
    """The sheet's cells for one input, in :data:`COLUMNS`' order."""
    body = item.body
    weights = body.non_default("probabilities")  # each as repr writes it: read back exactly
    shown_weights = ", ".join(repr(float(w)) for w in weights) if weights is not None else ""
    return [
        item.id,
        item.label,
        item.unit,
        item.source,
        body.low,
        body.mid,
        body.high,
        body.name,
        shown_weights,
        "",
    ]


def sheet_bytes(model: Model, suffix: str) -> bytes:
    """The estimates sheet of ``model`` as an ``.xlsx`` workbook or ``.csv`` text."""
    rows = [_row(item) for item in sheet_inputs(model)]
    if suffix == ".csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([[_safe(cell) for cell in row] for row in rows])
        return text.getvalue().encode("utf-8")
    import xlsxwriter  # imported here so that ``import assumption_graph`` stays fast

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = book.add_worksheet(_SHEET)
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, COLUMNS, bold)
    for k, row in enumerate(rows, start=1):
        sheet.write_row(k, 0, row)
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 40)
    sheet.set_column(3, 3, 40)
    sheet.set_column(9, 9, 40)
    book.close()
    return buffer.getvalue()


def _safe(cell: Any) -> Any:
    """Text a spreadsheet would run as a formula, quoted by a leading apostrophe."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell


def read_sheet(path: str | os.PathLike[str]) -> list[EstimateRow]:
    """The rows of a filled-in estimates sheet (``.xlsx`` or ``.csv``), blank rows skipped.

    Columns are found by their header (any order, any case); ``id`` is required.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise EstimatesError(
            f"an estimates sheet ends in {' or '.join(SHEET_SUFFIXES)}", file=str(file)
        )
    table = list(_csv_rows(file) if suffix == ".csv" else _xlsx_rows(file))
    if not table:
        raise EstimatesError("the sheet is empty", file=str(file))
    header = [str(cell).strip().lower() if cell is not None else "" for cell in table[0]]
    if "id" not in header:
        raise EstimatesError(
            f"the first row must name the columns, with 'id'; found {shown(table[0])}",
            file=str(file),
            hint=f"keep the header row the sheet was written with: {', '.join(COLUMNS)}",
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        named = {
            name: cells[k] if k < len(cells) else None for k, name in enumerate(header) if name
        }
        named = {name: (None if value == "" else value) for name, value in named.items()}
        if any(value is not None for value in named.values()):
            rows.append(EstimateRow(number, named))
    return rows


def _csv_rows(file: Path) -> Iterator[list[Any]]:
    """The rows of a CSV file, comma-separated or, as a spreadsheet set to a language
    with decimal commas saves it, semicolon-separated with decimal commas (``95,5``)."""
    with open(file, encoding="utf-8-sig", newline="") as handle:
        header = handle.readline()
        handle.seek(0)
        if header.count(";") <= header.count(","):
            yield from csv.reader(handle)
            return
        for row in csv.reader(handle, delimiter=";"):
            yield [_from_decimal_comma(cell) for cell in row]


def _from_decimal_comma(cell: str) -> str:
    """A decimal-comma number as Python writes it (``1.234,5`` -> ``1234.5``); other text as is."""
    number = _COMMA_NUMBER.fullmatch(cell)
    if number is None:
        return cell
    whole, fraction = number.group(1).replace(".", ""), number.group(2)
    return whole if fraction is None else f"{whole}.{fraction}"


def _xlsx_rows(file: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook  # imported here: only reading a sheet needs it

    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is no workbook
        raise EstimatesError(f"cannot read the workbook: {error}", file=str(file)) from None
    try:
        sheet = book[_SHEET] if _SHEET in book.sheetnames else book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()
