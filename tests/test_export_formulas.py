"""``export --formulas``: the Calculation sheet's live formulas, recalculated by LibreOffice.

Every workbook of this module is written first and converted by one LibreOffice run
(``soffice --convert-to xlsx`` recalculates on load, with a private profile so that
parallel runs do not clash); each test then reads the recalculated values and
compares every computed cell with the engine's deterministic figures.
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import openpyxl
import pytest

import assumption_graph as ag
from assumption_graph.cli import main
from assumption_graph.compile import compile_model
from assumption_graph.export import export_workbook
from assumption_graph.functions import FormulaOp, Kind
from assumption_graph.workbook_formulas import FIGURES, sheet_formula

from .commands import run_cli
from .test_finance import TWO_RATES, flows_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("consultancy", "case_handling", "business_case")
ENSURE = ROOT / "scripts" / "ensure-libreoffice.sh"
N, SEED = 1000, 3
# LibreOffice recalculates an .xlsx file on load only when told to (0: always).
_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

# Each formula operation's cases: (formula, its value in the formula language).
# The inputs: a = -2.5, b = 2.5, c = 3.5, h = 0.5, t = 3, two = 2, z = 0, m8 = -8,
# third = 1/3, big = 2.6.
VALUES = {
    "a": -2.5,
    "b": 2.5,
    "c": 3.5,
    "h": 0.5,
    "t": 3.0,
    "two": 2.0,
    "z": 0.0,
    "m8": -8.0,
    "third": 1 / 3,
    "big": 2.6,
}
CASES: dict[FormulaOp, list[tuple[str, float]]] = {
    FormulaOp.NEG: [("-t ** 2", -9.0), ("(-t) ** 2", 9.0), ("-a", 2.5), ("-(-a)", -2.5)],
    FormulaOp.ADD: [("a + b", 0.0), ("t + two * t", 9.0)],
    FormulaOp.SUB: [("t - (two - t)", 4.0), ("t - two - t", -2.0), ("-t - a", -0.5)],
    FormulaOp.MUL: [("a * t", -7.5), ("(t + two) * a", -12.5), ("t * (2 - 3.5)", -4.5)],
    FormulaOp.DIV: [("t / two / two", 0.75), ("t / (two * two)", 0.75), ("t / z", math.inf)],
    FormulaOp.POW: [
        ("m8 ** 3", -512.0),
        ("a ** two", 6.25),
        ("m8 ** third", math.nan),
        ("z ** z", 1.0),
        ("two ** t ** two", 512.0),
        ("two ** -t", 0.125),
        ("(-two) ** t", -8.0),
        ("h ** h", math.sqrt(0.5)),
        ("2 ** (1 - 3)", 0.25),
        ("1e-5 ** 2 * 1e10", 1e-5**2 * 1e10),
    ],
    FormulaOp.LT: [("a < b", 1.0), ("b < a", 0.0), ("a < z < b", 1.0)],
    FormulaOp.LE: [("b <= b", 1.0), ("c <= b", 0.0)],
    FormulaOp.GT: [("a > b", 0.0), ("(b > a) + (b > a)", 2.0)],
    FormulaOp.GE: [("b >= b", 1.0), ("a >= b", 0.0)],
    FormulaOp.EQ: [("a == a", 1.0), ("a == b", 0.0)],
    FormulaOp.NE: [("a != a", 0.0), ("a != b", 1.0)],
    FormulaOp.WHERE: [
        ("t if a < z else two", 3.0),
        ("t if z else two", 2.0),
        ("t if a else z", 3.0),
    ],
    FormulaOp.MIN: [("min(t, a, two)", -2.5), ("min(t, two)", 2.0)],
    FormulaOp.MAX: [("max(t, a, two)", 3.0), ("max(a, z)", 0.0)],
    FormulaOp.ABS: [("abs(a)", 2.5), ("abs(-t * two)", 6.0)],
    FormulaOp.SQRT: [("sqrt(two)", math.sqrt(2.0)), ("sqrt(a)", math.nan)],
    FormulaOp.EXP: [("exp(two)", math.exp(2.0)), ("exp(-t)", math.exp(-3.0))],
    FormulaOp.LOG: [("log(t)", math.log(3.0)), ("log(z)", -math.inf)],
    FormulaOp.FLOOR: [("floor(a)", -3.0), ("floor(b)", 2.0), ("floor(-t)", -3.0)],
    FormulaOp.CEIL: [("ceil(a)", -2.0), ("ceil(b)", 3.0), ("ceil(-t)", -3.0)],
    FormulaOp.ROUND: [
        ("round(b)", 2.0),
        ("round(a)", -2.0),
        ("round(c)", 4.0),
        ("round(-c)", -4.0),
        ("round(h)", 0.0),
        ("round(-h)", -0.0),
        ("round(big)", 3.0),
        ("round(-big)", -3.0),
        ("round(t)", 3.0),
    ],
    FormulaOp.CLIP: [("clip(t, a, two)", 2.0), ("clip(a, z, two)", 0.0), ("clip(h, z, t)", 0.5)],
    FormulaOp.SIN: [("sin(two)", math.sin(2.0))],
    FormulaOp.COS: [("cos(a)", math.cos(-2.5))],
    FormulaOp.TAN: [("tan(h)", math.tan(0.5))],
}
OP_CASES = [
    pytest.param(f"op{k}", formula, value, id=f"{op.name}:{formula}")
    for k, (op, formula, value) in enumerate(
        (op, formula, value) for op, cases in CASES.items() for formula, value in cases
    )
]


def operations_model() -> ag.Model:
    """The values above as constants, and one main node per case of :data:`CASES`."""
    model = ag.Model("operations")
    for name, value in VALUES.items():
        model.add(name, value=value, unused=True, source="test")
    for param in OP_CASES:
        node_id, formula, _ = param.values
        model.add(node_id, kind="main", formula=formula)
    return model


def every_model() -> ag.Model:
    """One input of each probability model, and their sum."""
    model = ag.Model("models")
    inputs = {
        "tri": {"estimate": [1, 2, 4], "probabilities": [0.3, 0.5, 0.2]},
        "uni": {"estimate": [1, 2, 4], "model": "uniform"},
        "per": {"estimate": [1, 2, 4], "model": "pert"},
        "nor": {"estimate": [1, 2, 4], "model": "normal"},
        "nor10": {"estimate": [1, 2, 4], "model": "normal", "percentiles": [10, 50, 90]},
        "lgn": {"estimate": [1, 2, 4], "model": "lognormal"},
        "dis": {"estimate": [1, 2, 4], "model": "discrete", "probabilities": [0.1, 0.6, 0.3]},
        "fix": {"estimate": [1, 2, 4], "model": "fixed"},
        "met": {"estimate": [1, 2, 4], "model": "metalog"},
        "ev": {"estimate": [1, 2, 4], "model": "risk_event", "probability": 0.3},
        "evp": {
            "estimate": [-1, 2, 4],
            "model": "risk_event",
            "probability": 0.6,
            "consequence_model": "pert",
        },
    }
    for name, keys in inputs.items():
        model.add(name, source="test", **keys)
    model.add("total", kind="main", formula=" + ".join(inputs))
    model.add("mixed", kind="main", formula="tri * nor - lgn / met + max(ev, evp) ** 2")
    return model


def cases_model() -> ag.Model:
    """A node whose best case puts an input above at an end of neither of its own cases."""
    model = ag.Model("cases")
    model.add("a", estimate=[1, 2, 4], source="test")
    model.add("b", estimate=[1, 3, 4], source="test")
    model.add("y", formula="a + b")
    model.add("z", kind="main", formula="y - 2 * b")
    return model


def values_model() -> ag.Model:
    """An input over a list of values, whose readings have no spreadsheet formula."""
    model = ag.Model("values")
    model.add("v", values=[1, 2, 5], probabilities=[0.2, 0.5, 0.3], source="test")
    model.add("w", estimate=[1, 2, 3], source="test")
    model.add("total", kind="main", formula="v * w")
    return model


MODELS = {
    "operations": operations_model,
    "models": every_model,
    "cases": cases_model,
    "values": values_model,
}


class Books:
    """The workbooks written for this module, each with its model and the export's warnings."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.out = folder / "recalculated"
        self.models: dict[str, ag.Model] = {}
        self.warnings: dict[str, list[str]] = {}

    def written(self, name: str) -> Path:
        return self.folder / f"{name}.xlsx"

    def recalculated(self, name: str) -> openpyxl.Workbook:
        return openpyxl.load_workbook(self.out / f"{name}.xlsx", data_only=True)

    @functools.cache  # noqa: B019 - one Books a module, read by many tests
    def results(self, name: str) -> dict[str, dict[str, object]]:
        """The recalculated Calculation sheet of ``name``."""
        return calculation(self.recalculated(name))

    @functools.cache  # noqa: B019
    def figures(self, name: str) -> dict[str, dict[str, float]]:
        """The engine's figures of ``name``'s model."""
        return engine(self.models[name])


def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        pytest.skip(
            "LibreOffice (soffice) is not installed: scripts/ensure-libreoffice.sh installs"
            " Debian's libreoffice-calc"
        )
    return found


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Books:
    """Every workbook of this module, written, then recalculated by one LibreOffice run."""
    program = soffice()
    found = Books(tmp_path_factory.mktemp("formulas"))
    for name in EXAMPLES:
        path = ROOT / "examples" / f"{name}.yaml"
        argv = ["export", path, "-o", found.written(name), "-n", N, "--seed", SEED]
        assert main([*map(str, argv), "--formulas"]) == 0
        found.models[name] = ag.load(path)
    for name, build in MODELS.items():
        model = found.models[name] = build()
        result = model.compile().run(n=N, seed=SEED)
        warned: list[str] = found.warnings.setdefault(name, [])
        export_workbook(model, result, path=found.written(name), formulas=True, warn=warned.append)
    argv = ["export", ROOT / "examples" / "business_case.yaml", "-o", found.written("pinned")]
    pin = f"{CHANGED_INPUT}={CHANGED_VALUE}"
    assert main([*map(str, argv), "-n", "100", "--set", pin, "--formulas"]) == 0
    changed = found.written("changed")
    book = openpyxl.load_workbook(found.written("business_case"))
    for cell in _estimate_cells(book["Assumptions"], CHANGED_INPUT):
        cell.value = CHANGED_VALUE
    book.save(changed)
    profile = found.folder / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALCULATE, encoding="utf-8")
    files = sorted(found.folder.glob("*.xlsx"))
    done = subprocess.run(
        [
            program,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(found.out),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in found.out.glob("*.xlsx")) == [p.name for p in files]
    return found


CHANGED_INPUT, CHANGED_VALUE = "advisory", 2345.0  # an input of the example business case


def _estimate_cells(sheet, node_id: str) -> list:
    """The low, mid and high cells of an input's row on the Assumptions sheet."""
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == node_id:
            return [row[header.index(column)] for column in ("low", "mid", "high")]
    raise KeyError(node_id)


def calculation(book: openpyxl.Workbook) -> dict[str, dict[str, object]]:
    """The Calculation sheet's figures by node id."""
    rows = list(book["Calculation"].iter_rows(values_only=True))
    assert list(rows[0][:6]) == ["id", "label", *FIGURES]
    return {row[0]: dict(zip(FIGURES, row[2:6], strict=True)) for row in rows[1:]}


def engine(model: ag.Model, overrides: Mapping[str, float] | None = None) -> dict:
    compiled = compile_model(model)
    pins = compiled.case.pins(overrides or {})
    return compiled.figures(compiled.case.checked.order, pins)


def agrees(cell: object, value: float) -> bool:
    """A recalculated cell holds the engine's figure: equal to 1e-9, or an error where
    the figure is not a finite number."""
    if not math.isfinite(value):
        return isinstance(cell, str) and cell.startswith("#")
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return False
    return math.isclose(cell, value, rel_tol=1e-9, abs_tol=1e-9)


def assert_recalculated(books: Books, name: str) -> dict[str, dict[str, object]]:
    """Every computed cell of the workbook ``name`` equals the engine's figure."""
    figures = books.figures(name)
    cells = books.results(name)
    for node_id, row in cells.items():
        for figure in FIGURES:
            want = figures[node_id][figure]
            assert agrees(row[figure], want), (
                f"{name}: {node_id} {figure}: {row[figure]!r} != {want!r}"
            )
    return cells


# ---------------------------------------------------------------------------- the examples


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_recalculates_to_the_engines_figures(books, name):
    cells = assert_recalculated(books, name)
    written = calculation(openpyxl.load_workbook(books.written(name)))
    assert list(written) == [n for n in books.figures(name) if n != "@irr_multiple"]
    for node_id, row in written.items():
        for figure, cell in row.items():
            assert isinstance(cell, str) and cell.startswith("="), f"{node_id} {figure}: a value"
    assert len(cells) == len(written)


def test_business_case_key_figures_use_the_spreadsheets_functions(books):
    written = calculation(openpyxl.load_workbook(books.written("business_case")))
    assert "+NPV(" in str(written["@npv"]["expected"])
    assert str(written["@irr"]["expected"]).startswith("=IRR(")
    assert str(written["@mirr"]["expected"]).startswith("=MIRR(")


def test_changed_estimate_gives_the_figures_of_run_set(books):
    """Low, mid and high of an input set to one number: every figure as ``run --set``."""
    model = books.models["business_case"]
    pinned = engine(model, {CHANGED_INPUT: CHANGED_VALUE})
    before = books.figures("business_case")
    cells = calculation(books.recalculated("changed"))
    for node_id in ("@npv", "@net_gain", "@project_cost", "@flow_2026"):
        for figure in FIGURES:
            want = pinned[node_id][figure]
            assert agrees(cells[node_id][figure], want), (node_id, figure, cells[node_id], want)
    assert pinned["@npv"]["expected"] != before["@npv"]["expected"]


def test_pinned_input_is_a_value_and_the_rest_recalculates(books):
    """``export --set``: the pinned input's figures are its value, the others follow it."""
    model = books.models["business_case"]
    pinned = engine(model, {CHANGED_INPUT: CHANGED_VALUE})
    written = calculation(openpyxl.load_workbook(books.written("pinned")))
    assert set(written[CHANGED_INPUT].values()) == {CHANGED_VALUE}
    cells = calculation(books.recalculated("pinned"))
    for node_id, row in cells.items():
        for figure in FIGURES:
            assert agrees(row[figure], pinned[node_id][figure]), (node_id, figure)


@pytest.mark.parametrize(
    ("name", "sheet"), [("consultancy", "Figures"), ("business_case", "Key figures")]
)
def test_monte_carlo_figures_are_labelled_as_values(books, name, sheet):
    rows = list(openpyxl.load_workbook(books.written(name))[sheet].values)
    assert f"{N:,} samples from seed {SEED}" in str(rows[-1][0])


# ---------------------------------------------------------------------------- the operations


@pytest.mark.parametrize(("node_id", "formula", "value"), OP_CASES)
def test_operation_has_the_formula_languages_semantics(books, node_id, formula, value):
    cell = books.results("operations")[node_id]["expected"]
    figure = books.figures("operations")[node_id]["expected"]
    assert figure == value or (math.isnan(figure) and math.isnan(value)), "the engine"
    assert agrees(cell, value), f"{formula}: the spreadsheet gives {cell!r}, not {value!r}"


def test_every_formula_operation_has_cases():
    called = {op for op in FormulaOp if op.kind is not Kind.INTERNAL}
    assert called == set(CASES)
    assert all(op.sheet is not None for op in called)


def test_operations_are_bracketed_for_the_spreadsheets_precedence():
    from assumption_graph.expr import parse_formula

    spelled = sheet_formula(parse_formula("-x ** 2 - (y - x) / (x * y)").expr, str.upper)
    assert spelled == "(-(X^2))-((Y-X)/(X*Y))"


# ---------------------------------------------------------------------------- models and cases


def test_every_probability_models_readings_recalculate(books):
    assert_recalculated(books, "models")
    assert books.warnings["models"] == []


def test_best_case_at_other_ends_goes_through_the_cases_sheet(books):
    assert_recalculated(books, "cases")
    written = openpyxl.load_workbook(books.written("cases"))
    assert "Cases" in written.sheetnames
    formulas = calculation(written)
    assert "'Cases'!" in str(formulas["z"]["best"]) + str(formulas["z"]["worst"])
    cached = openpyxl.load_workbook(books.written("cases"), data_only=True)["Cases"]["C2"].value
    recalculated = books.recalculated("cases")["Cases"]["C2"].value
    assert agrees(recalculated, cached), "the case as the engine computes it"


def test_unwritable_readings_are_values_with_a_warning(books):
    (warning,) = books.warnings["values"]
    assert warning.startswith("node 'v':") and "written as values" in warning
    written = calculation(openpyxl.load_workbook(books.written("values")))
    assert all(isinstance(cell, int | float) for cell in written["v"].values())
    assert all(str(cell).startswith("=") for cell in written["total"].values())
    assert_recalculated(books, "values")


def test_flows_with_several_irrs_write_the_irr_as_values(tmp_path, capsys):
    """A spreadsheet's IRR finds one root from its guess: the command warns, and the IRR's
    row holds the engine's values while NPV and MIRR stay formulas."""
    model = tmp_path / "two.yaml"
    model.write_text(flows_model(TWO_RATES, 0.05), encoding="utf-8")
    book = tmp_path / "two.xlsx"
    code, _, err = run_cli(capsys, "export", model, "-o", book, "-n", 100, "--formulas")
    assert code == 0, err
    (warning,) = [line for line in err.splitlines() if line.startswith("warning: node")]
    assert warning.startswith("warning: node '@irr': the expected flows: 2 IRRs")
    assert warning.endswith("its figures are written as values")
    written = calculation(openpyxl.load_workbook(book))
    assert written["@irr"]["expected"] == pytest.approx(0.10, abs=1e-12)
    assert str(written["@npv"]["expected"]).startswith("=")
    assert str(written["@mirr"]["expected"]).startswith("=MIRR(")
