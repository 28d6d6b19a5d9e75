"""The deterministic figures as live spreadsheet formulas: what ``export --formulas`` writes.

:func:`plan_calculation` lays out the "Calculation" sheet: one row per node of the
graph the engine runs (a business case's key figures and yearly net flows included),
in evaluation order, its expected, weighted, best and worst figure each a formula over
the estimates' cells on the "Assumptions" sheet and the rows above it, computed as
:func:`~assumption_graph.compile.reference.deterministic_figures` computes them:

- an input's figures are its readings (mid, weighted, and low or high), each written
  by its probability model from the estimate's cells
  (:meth:`~assumption_graph.distributions.Distribution.sheet_readings`);
- a formula node's are its formula in each operation's spreadsheet spelling
  (:attr:`~assumption_graph.functions.FormulaOp.sheet`) over the cells of its inputs;
- its best (worst) figure puts every uncertain input at the end the engine chose for
  that node. The ends are chosen when the workbook is written; a node above whose
  own best or worst case puts some input at another end than this node's gets a row
  of the "Cases" sheet for that combination;
- a business case's NPV is written with the spreadsheet's ``NPV`` (the start year
  outside it, since ``NPV`` discounts its first value), the MIRR with ``MIRR``, the IRR
  with ``IRR`` guessing the discount rate.

Where a figure cannot be written faithfully (an operation without a spelling, a
reading without a formula, flows with more than one IRR) the node's figures are
written as values and :attr:`Calculation.warnings` says which node and why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .business.expand import CaseGraph, PlainGraph
from .business.labels import IRR_MULTIPLE
from .compile.reference import best_ends, evaluate, input_distributions
from .distributions import Distribution
from .expr import Call, Expr, Formula, Name, Num, visit
from .finance import irr_note, irr_roots
from .functions import FormulaOp, sheet_number
from .model import Value

__all__ = [
    "FIGURES",
    "CALCULATION_COLUMNS",
    "SheetCell",
    "CalculationRow",
    "CaseRow",
    "Calculation",
    "plan_calculation",
    "sheet_formula",
    "quoted",
]

FIGURES = ("expected", "weighted", "best", "worst")
#: The Calculation sheet's columns; the figures are in C to F.
CALCULATION_COLUMNS = ("id", "label", *FIGURES, "unit", "formula")
_KEY_FIGURES = ("npv", "irr", "mirr")  # written with the spreadsheet's own function
_READING = {"expected": "mid", "weighted": "weighted"}  # the reading each figure takes
_FIGURE_COLUMN = {name: "CDEF"[k] for k, name in enumerate(FIGURES)}
_CELL = re.compile(r"^((?:'(?:[^']|'')*'!)?)\$([A-Z]+)\$(\d+)$")  # an absolute cell
_NUMBER = r"\d+(?:\.\d*)?(?:E[+-]?\d+)?"  # as sheet_number writes one
_TERM = re.compile(rf"[A-Za-z_][A-Za-z0-9_.]*|{_NUMBER}|\(-{_NUMBER}\)")  # a name, a number
_CALL = re.compile(r"^[A-Z][A-Z0-9.]*\(")


@dataclass(frozen=True)
class SheetCell:
    """A computed cell: its formula (``None``: the value is written) and the engine's value."""

    formula: str | None
    value: float


@dataclass(frozen=True)
class CalculationRow:
    """A node's row: its figures by name, and what its formula is or why it has none."""

    id: str
    label: str | None
    figures: Mapping[str, SheetCell]
    note: str | None


@dataclass(frozen=True)
class CaseRow:
    """A node under another node's best or worst ends, on the "Cases" sheet."""

    id: str
    case: str
    cell: SheetCell


@dataclass
class Calculation:
    """The planned Calculation and Cases sheets, and the warnings about them."""

    rows: list[CalculationRow] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Unwritable(Exception):
    """A formula has no faithful spreadsheet spelling; the message says why."""


def sheet_formula(expr: Expr, cell_of: Callable[[str], str]) -> str:
    """``expr`` as a spreadsheet formula (without the ``=``), node ids as ``cell_of``'s cells.

    Every operation is spelled as :attr:`~assumption_graph.functions.FormulaOp.sheet`
    has it, every operand that is more than one term bracketed, so neither side's
    precedence (a spreadsheet's unary minus binds tighter than ``^``) can change it.
    Raises :class:`_Unwritable` for an operation without a spelling.

    >>> from assumption_graph.expr import parse_formula
    >>> sheet_formula(parse_formula("-a ** 2 + floor(b)").expr, lambda n: n.upper())
    '(-(A^2))+INT(B)'
    """

    def number(expr: Num) -> str:
        if not math.isfinite(expr.value):
            raise _Unwritable(f"the number {expr.value!r} has no spreadsheet spelling")
        return sheet_number(expr.value)

    def apply(op: FormulaOp, expr: Expr, operands: list[str]) -> str:
        if op.sheet is None:
            raise _Unwritable(f"'{op.symbol}' has no spreadsheet spelling")
        terms = [text if _single(text) else f"({text})" for text in operands]
        template = op.sheet
        exponent = expr.right if op is FormulaOp.POW else None  # type: ignore[union-attr]
        if isinstance(exponent, Num) and exponent.value.is_integer() and exponent.value != 0:
            template = "{0}^{1}"  # a whole power other than 0 is the same on both sides
        flows = _range(terms[1:]) if "{flows}" in template else ""
        return template.format(*terms, args=",".join(terms), flows=flows)

    return visit(expr, number, lambda name: cell_of(name.id), apply)


def quoted(sheet: str) -> str:
    """A sheet's name as a formula refers to it: ``'Cases'``."""
    return "'" + sheet.replace("'", "''") + "'"


def _single(text: str) -> bool:
    """Whether ``text`` is one term: a cell, a number or a call that spans it all."""
    if _CELL.match(text) or _TERM.fullmatch(text):
        return True
    if not _CALL.match(text):
        return False
    depth = 0
    for position, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0 and char == ")":
            return position == len(text) - 1
    return False


def _range(cells: Sequence[str]) -> str:
    """The cells as one range (``$C$4:$C$9``); they must follow one another in a column."""
    found = [_CELL.match(cell) for cell in cells]
    if not cells or not all(found):
        raise _Unwritable("the yearly flows are not cells of one column")
    parts = [(m.group(1), m.group(2), int(m.group(3))) for m in found if m]
    sheet, column, first = parts[0]
    if parts != [(sheet, column, first + k) for k in range(len(parts))]:
        raise _Unwritable("the yearly flows are not consecutive cells of one column")
    return f"{cells[0]}:${column}${first + len(cells) - 1}"


def plan_calculation(
    graph: PlainGraph,
    figures: Mapping[str, Mapping[str, float]],
    pins: Mapping[str, float],
    estimate_cells: Mapping[str, Mapping[str, str]],
    labels: Callable[[str], str | None],
    sheets: tuple[str, str],
) -> Calculation:
    """The Calculation and Cases sheets of ``graph`` (see the module's doc).

    ``figures`` are the engine's deterministic figures of every node of the graph
    under the pins ``pins`` (the expanded ids a run's overrides pin);
    ``estimate_cells`` give, for each input's id in the graph, the cell of each
    number of its estimate (``low``, ``mid``, ``high``, ``p_low``, ... as
    :meth:`~assumption_graph.distributions.Distribution.sheet_readings` takes them);
    ``sheets`` are the names of the Calculation and the Cases sheet, for references
    from one to the other.
    """
    return _Planner(graph, figures, pins, estimate_cells, labels, sheets).plan()


class _Planner:
    """Builds a :class:`Calculation` row by row, in the graph's evaluation order."""

    def __init__(
        self,
        graph: PlainGraph,
        figures: Mapping[str, Mapping[str, float]],
        pins: Mapping[str, float],
        estimate_cells: Mapping[str, Mapping[str, str]],
        labels: Callable[[str], str | None],
        sheets: tuple[str, str],
    ) -> None:
        self.graph, self.checked = graph, graph.checked
        self.figures, self.pins, self.cells, self.labels = figures, pins, estimate_cells, labels
        self.calculation_sheet, self.cases_sheet = (quoted(name) for name in sheets)
        self.order = [n for n in self.checked.order if n != IRR_MULTIPLE]  # a Monte Carlo share
        self.row_of = {node_id: k for k, node_id in enumerate(self.order)}
        self.dists = input_distributions(self.checked, pins)
        inputs, high = best_ends(self.checked, self.order, pins, graph.objective)
        self.input_index = {node_id: k for k, node_id in enumerate(inputs)}
        self.high_is_best = {n: high[:, k] for k, n in enumerate(self.order)}
        self.reaches = self._reaches()
        self.case_cells: dict[tuple[str, frozenset[int]], str] = {}
        self.case_ends: list[np.ndarray] = []
        self.result = Calculation()

    def plan(self) -> Calculation:
        for node_id in self.order:
            self.result.rows.append(self._row(node_id))
        self._case_values()
        return self.result

    # ------------------------------------------------------------------ cells

    def ref(self, node_id: str, figure: str) -> str:
        return f"${_FIGURE_COLUMN[figure]}${self.row_of[node_id] + 2}"

    def _reaches(self) -> dict[str, frozenset[int]]:
        """The uncertain inputs (by index) each node depends on."""
        reaches: dict[str, frozenset[int]] = {}
        for node_id in self.checked.order:
            body = self.checked.model[node_id].body
            if node_id in self.input_index:
                reaches[node_id] = frozenset((self.input_index[node_id],))
            elif isinstance(body, Formula) and node_id not in self.pins:
                reaches[node_id] = frozenset().union(*(reaches[n] for n in body.names))
            else:
                reaches[node_id] = frozenset()
        return reaches

    def _ends(self, node_id: str, figure: str) -> np.ndarray:
        """Whether each uncertain input is at its high end in the node's best or worst case."""
        return self.high_is_best[node_id] ^ (figure == "worst")

    # ------------------------------------------------------------------ rows

    def _row(self, node_id: str) -> CalculationRow:
        body = self.checked.model[node_id].body
        label = self.labels(node_id)
        values = self.figures[node_id]
        try:
            if node_id in self.pins:
                cells = {f: SheetCell(None, self.pins[node_id]) for f in FIGURES}
                return CalculationRow(node_id, label, cells, "pinned: a value")
            if isinstance(body, Formula):
                formulas = {f: self._formula(node_id, body.expr, f) for f in FIGURES}
                note = body.text
            else:
                formulas = self._input(node_id, body)
                note = None
        except _Unwritable as why:
            self.result.warnings.append(
                f"node '{node_id}': {why}; its figures are written as values"
            )
            cells = {f: SheetCell(None, values[f]) for f in FIGURES}
            return CalculationRow(node_id, label, cells, f"values: {why}")
        cells = {f: SheetCell(formulas[f], values[f]) for f in FIGURES}
        return CalculationRow(node_id, label, cells, note)

    def _input(self, node_id: str, body: object) -> dict[str, str]:
        """An input's figures: its readings from its estimate's cells."""
        cells = self.cells[node_id]
        if isinstance(body, Value):
            return dict.fromkeys(FIGURES, cells["mid"])
        assert isinstance(body, Distribution)
        readings = body.sheet_readings(cells)
        wanted = {figure: _READING.get(figure, "mid") for figure in FIGURES}
        if node_id in self.input_index:
            for figure in ("best", "worst"):
                high = self._ends(node_id, figure)[self.input_index[node_id]]
                wanted[figure] = "high" if high else "low"
        missing = sorted({r for r in wanted.values() if r not in readings})
        if missing:
            raise _Unwritable(
                f"the {body.name} model has no spreadsheet formula for its {', '.join(missing)}"
            )
        return {figure: readings[reading] for figure, reading in wanted.items()}

    def _formula(self, node_id: str, expr: Expr, figure: str) -> str:
        """A formula node's figure: its formula over the cells of its inputs' figures."""
        if figure in _READING:
            return self._spelled(node_id, expr, lambda name: self.ref(name, figure))
        ends, origin = self._ends(node_id, figure), f"as in the {figure} case of {node_id}"
        return self._spelled(node_id, expr, lambda name: self._case_ref(name, ends, origin))

    def _spelled(self, node_id: str, expr: Expr, cell_of: Callable[[str], str]) -> str:
        """The formula, a key figure in the spreadsheet's own function where it has one."""
        for name, node in self.graph.key_figures.items():
            if node == node_id and name in _KEY_FIGURES:
                return self._key_figure(name, expr, cell_of)
        return sheet_formula(expr, cell_of)

    def _key_figure(self, name: str, expr: Expr, cell_of: Callable[[str], str]) -> str:
        assert isinstance(self.graph, CaseGraph)
        if name == "irr":
            self._check_irr()
            return sheet_formula(expr, cell_of)
        case = self.graph.case
        flows = [cell_of(n) for n in self._flow_ids()]
        if name == "npv":
            first, rest = flows[0], flows[1:]
            if not rest:
                return first
            return f"{first}+NPV({sheet_number(case.discount_rate)},{_range(rest)})"
        finance, reinvestment = (sheet_number(r) for r in case.mirr_rates)
        return f"MIRR({_range(flows)},{finance},{reinvestment})"

    def _flow_ids(self) -> list[str]:
        """The yearly net flow nodes, in year order: the IRR's operands after its rate."""
        irr = self.checked.model[self.graph.key_figures["irr"]].body
        assert isinstance(irr, Formula) and isinstance(irr.expr, Call)
        return [arg.id for arg in irr.expr.args[1:] if isinstance(arg, Name)]

    def _check_irr(self) -> None:
        """A spreadsheet's IRR searches from its guess: faithful where the flows of every
        figure have one IRR, or where they lack a gain or a cost (an error there too)."""
        for figure in FIGURES:
            flows = np.array([self.figures[n][figure] for n in self._flow_ids()])
            if not np.isfinite(flows).all() or not ((flows > 0).any() and (flows < 0).any()):
                continue
            note = irr_note(flows)
            roots = irr_roots(flows) if note is None else []
            if note is not None or len(roots) != 1:
                why = note or f"{len(roots)} IRRs, of which a spreadsheet's IRR may find another"
                raise _Unwritable(f"the {figure} flows: {why}")

    # ------------------------------------------------------------------ best and worst

    def _case_ref(self, node_id: str, ends: np.ndarray, origin: str) -> str:
        """The cell of ``node_id`` with the uncertain inputs at ``ends``: its own best or
        worst cell where those put its inputs there, else a row of the Cases sheet."""
        reach = self.reaches[node_id]
        if not reach:
            return self.ref(node_id, "expected")
        wanted = frozenset(i for i in reach if ends[i])
        for figure in ("best", "worst"):
            own = self._ends(node_id, figure)
            if wanted == frozenset(i for i in reach if own[i]):
                return self.ref(node_id, figure)
        key = (node_id, wanted)
        if key not in self.case_cells:
            self._add_case(node_id, ends, key, origin)
        return self.case_cells[key]

    def _add_case(
        self, node_id: str, ends: np.ndarray, key: tuple[str, frozenset[int]], origin: str
    ) -> None:
        """A Cases row for ``node_id`` at ``ends`` (the rows it needs come first)."""
        body = self.checked.model[node_id].body
        assert isinstance(body, Formula)

        def cell_of(name: str) -> str:  # on the Cases sheet: a Calculation cell named so
            ref = self._case_ref(name, ends, origin)
            return ref if "!" in ref else f"{self.calculation_sheet}!{ref}"

        formula = sheet_formula(body.expr, cell_of)
        self.result.cases.append(CaseRow(node_id, origin, SheetCell(formula, math.nan)))
        self.case_ends.append(ends)
        self.case_cells[key] = f"{self.cases_sheet}!$C${len(self.result.cases) + 1}"

    def _case_values(self) -> None:
        """The engine's value of every Cases row: the graph evaluated at its ends."""
        if not self.result.cases:
            return
        size = len(self.result.cases)
        values: dict[str, np.ndarray | float] = {n: d.mid for n, d in self.dists.items()}
        values.update(self.pins)
        for node_id, k in self.input_index.items():
            dist = self.dists[node_id]
            high = np.array([ends[k] for ends in self.case_ends])
            values[node_id] = np.where(high, dist.high, dist.low)
        ids = [row.id for row in self.result.cases]
        result = evaluate(self.checked, values, size, sorted(set(ids)))
        self.result.cases = [
            CaseRow(row.id, row.case, SheetCell(row.cell.formula, float(result[row.id][k])))
            for k, row in enumerate(self.result.cases)
        ]
