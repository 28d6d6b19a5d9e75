"""``assumption-graph export``: the Excel workbook, read back with openpyxl.

The workbook is written with XlsxWriter and read here with openpyxl, an
independent reader. Its numbers are checked against the JSON that ``run
--json`` writes for the same model, seed and sample count (and the sample
sheet against ``result.values`` from Python); its assumption rows against the
model file read with plain PyYAML, the expected cells worked out here from the
file's keys. XlsxWriter writes numbers with 16 significant digits, so numbers
are compared to a relative 1e-15.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import assumption_graph as ag
from assumption_graph import export
from assumption_graph.cli import main

ROOT = Path(__file__).resolve().parent.parent
BUSINESS = ROOT / "examples" / "business_case.yaml"
PLAIN = ROOT / "examples" / "case_handling.yaml"
N, SEED = 20_000, 3
PLAIN_N, PLAIN_SEED = 3_000, 5
Z95 = 1.6448536269514722  # the standard normal's 95 % point: normal estimates are P5 and P95
LEVELS = ("5", "10", "25", "50", "70", "75", "80", "90", "95")
NODE_STATS = ("expected", "weighted", "best", "worst", "mean", "std", "min", "max")
KEY_STATS = ("risk_adjusted", "expected", "weighted", "best", "worst", "mean")
CASE_SHEETS = [
    "Key figures",
    "Project cost by phase and year",
    "Costs and gains by category",
    "Cash flows, risk-adjusted",
    "Non-economic gains",
    "Risks",
    "Figures",
    "Assumptions",
    "Settings",
]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    """Run the command line in-process; returns the exit code and standard error."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse usage errors
        code = stop.code if isinstance(stop.code, int) else 1
    return code, capsys.readouterr().err


def rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def header(sheet) -> list[str]:
    return [c for c in rows(sheet)[0] if c is not None]


def same(cell: object, expected: float | None) -> bool:
    """A cell holds the figure: a number equal to 16 digits, or empty where it is undefined."""
    if expected is None:
        return cell is None
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return False
    return cell == pytest.approx(expected, rel=1e-15, abs=1e-300)


def assert_same(cells: list, expected: list, where: str) -> None:
    for k, (cell, value) in enumerate(zip(cells, expected, strict=True)):
        assert same(cell, value), f"{where}, cell {k}: {cell!r} != {value!r}"


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory):
    """The example business case exported, and the same run's JSON (same seed and samples)."""
    folder = tmp_path_factory.mktemp("export")
    book, data = folder / "case.xlsx", folder / "run.json"
    settings = ["-n", N, "--seed", SEED, "--all"]
    assert main(["export", str(BUSINESS), "-o", str(book), *map(str, settings)]) == 0
    assert main(["run", str(BUSINESS), "--json", str(data), *map(str, settings)]) == 0
    return openpyxl.load_workbook(book), json.loads(data.read_text(encoding="utf-8")), data


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory):
    """The plain example (no business case) exported with samples, and the run from Python."""
    book = tmp_path_factory.mktemp("export") / "plain.xlsx"
    argv = ["export", str(PLAIN), "-o", str(book), "-n", str(PLAIN_N), "--seed", str(PLAIN_SEED)]
    assert main([*argv, "--samples"]) == 0
    result = ag.load(PLAIN).compile().run(n=PLAIN_N, seed=PLAIN_SEED, keep_samples=True)
    return openpyxl.load_workbook(book), result


# ---------------------------------------------------------------------------- layout


def test_business_case_sheets(business):
    book, _, _ = business
    assert book.sheetnames == CASE_SHEETS


def test_plain_model_sheets(plain):
    book, _ = plain
    assert book.sheetnames == ["Figures", "Assumptions", "Settings", "Samples"]


def test_headers_are_bold_and_frozen(business, plain):
    for book in (business[0], plain[0]):
        for sheet in book:
            assert sheet.freeze_panes in ("A2", "B2", "C2"), sheet.title
            cells = [c for c in next(sheet.iter_rows(min_row=1, max_row=1)) if c.value is not None]
            assert cells and all(c.font.b for c in cells), sheet.title
            assert sheet.column_dimensions["A"].width > 8, sheet.title


def test_headers_name_columns_and_units(business):
    book, _, _ = business
    levels = [f"P{p}" for p in LEVELS]
    assert header(book["Key figures"]) == [
        "key figure",
        "id",
        "unit",
        *KEY_STATS,
        *levels,
        "nonfinite",
        "note",
    ]
    assert header(book["Figures"]) == ["node", "label", "unit", *NODE_STATS, *levels, "nonfinite"]
    assert header(book["Risks"]) == [
        "id",
        "risk",
        "type",
        "probability (1-4)",
        "consequence (1-4)",
        "amount (tkr)",
    ]
    assert header(book["Costs and gains by category"])[1:] == [
        "expected (tkr)",
        "risk_adjusted (tkr)",
    ]
    years = [f"{y} (tkr)" for y in range(2025, 2032)]
    assert header(book["Cash flows, risk-adjusted"])[1:] == [*years, "total (tkr)"]
    assert header(book["Non-economic gains"])[1:] == [
        "before",
        "after",
        "lift",
        "cost (tkr)",
        "cost_per_unit (tkr per unit of lift)",
    ]
    assert header(book["Assumptions"]) == list(export.ASSUMPTION_COLUMNS)


def test_no_number_is_written_as_text(business, plain):
    for book in (business[0], plain[0]):
        for sheet in book:
            units = {k for k, h in enumerate(rows(sheet)[0]) if h == "unit"}  # "1" is a unit
            for row in sheet.iter_rows(min_row=2, max_row=min(sheet.max_row, 200)):
                for k, cell in enumerate(row):
                    if isinstance(cell.value, str) and k not in units:
                        with pytest.raises(ValueError):
                            float(cell.value.replace(",", ""))
                    elif cell.value is not None and k not in units:
                        assert cell.data_type == "n", (sheet.title, cell.coordinate)


# ---------------------------------------------------------------------------- numbers = JSON


def test_key_figures_equal_the_json(business):
    book, data, _ = business
    figures = data["business_case"]["key_figures"]
    sheet = book["Key figures"]
    found = {}
    for row in sheet.iter_rows(min_row=2, max_row=1 + len(figures)):
        label, name, unit = (c.value for c in row[:3])
        figure = figures[name]
        expected = [figure[k] for k in KEY_STATS] + [figure["percentiles"][p] for p in LEVELS]
        assert_same([c.value for c in row[3:-2]], expected, name)
        assert row[-2].value == figure["nonfinite"]
        assert row[-1].value == figure.get("note")
        rate = name in ("irr", "mirr")
        assert unit == ("%" if rate else "tkr")
        numbers = [c for c in row[3:-2] if c.value is not None]
        assert all(("%" in c.number_format) == rate for c in numbers), name
        found[name] = label
    assert list(found) == list(figures)
    buffer = next(r for r in rows(sheet) if r[0] == "Cost buffer")
    assert same(buffer[3], data["business_case"]["buffer"])


def test_node_figures_equal_the_json(business):
    book, data, _ = business
    sheet_rows = rows(book["Figures"])[1:]
    assert [r[0] for r in sheet_rows] == list(data["nodes"])
    for row in sheet_rows:
        node = data["nodes"][row[0]]
        expected = [node[k] for k in NODE_STATS] + [node["percentiles"][p] for p in LEVELS]
        assert_same(list(row[3:-1]), expected, row[0])
        assert row[-1] == node["nonfinite"]


def test_tables_equal_the_json(business):
    book, data, _ = business
    tables = data["business_case"]["tables"]
    assert len(tables) == 4
    for table in tables.values():
        sheet = book[table["title"]]
        heads = header(sheet)
        assert heads[0] == table["title"]
        assert [h.split(" (")[0] for h in heads[1:]] == table["columns"]
        body = rows(sheet)[1 : 1 + len(table["rows"])]
        for line, row in zip(table["rows"], body, strict=True):
            assert row[0] == line["name"]
            expected = [line["values"][c] for c in table["columns"]]
            assert_same(list(row[1 : 1 + len(expected)]), expected, f"{table['title']}/{row[0]}")
        if "note" in table:
            assert any(r[0] == f"Note: {table['note']}" for r in rows(sheet))


def test_risks_equal_the_json(business):
    book, data, _ = business
    case = data["business_case"]
    sheet_rows = rows(book["Risks"])
    register = sheet_rows[1 : 1 + len(case["risks"])]
    for risk, row in zip(case["risks"], register, strict=True):
        assert row[:5] == (
            risk["id"],
            risk["name"],
            risk["type"],
            risk["probability"],
            risk["consequence"],
        )
        assert same(row[5], risk["amount"])
    start = 1 + len(case["risks"]) + 2  # a blank row, then the by-type header
    assert sheet_rows[start - 1][1] == "risk type"
    by_type = {r[1]: r[5] for r in sheet_rows[start : start + len(case["risk_types"])]}
    assert by_type.keys() == case["risk_types"].keys()
    for risk_type, amount in case["risk_types"].items():
        assert same(by_type[risk_type], amount), risk_type


def test_plain_figures_equal_the_run(plain):
    book, result = plain
    nodes = result.to_dict()["nodes"]
    sheet_rows = rows(book["Figures"])[1:]
    assert [r[0] for r in sheet_rows] == list(nodes)
    for row in sheet_rows:
        node = nodes[row[0]]
        expected = [node[k] for k in NODE_STATS] + [node["percentiles"][p] for p in LEVELS]
        assert_same(list(row[3:-1]), expected, row[0])


def test_previous_phase_column(business, tmp_path, capsys):
    _, data, previous = business
    out = tmp_path / "again.xlsx"
    code, _ = run_cli(capsys, "export", BUSINESS, "-o", out, "-n", 2000, "--previous", previous)
    assert code == 0
    sheet = openpyxl.load_workbook(out)["Key figures"]
    heads = header(sheet)
    column = heads.index("previous")
    figures = data["business_case"]["key_figures"]
    for row in rows(sheet)[1 : 1 + len(figures)]:
        assert same(row[column], figures[row[1]]["risk_adjusted"]), row[1]


# ---------------------------------------------------------------------------- assumptions


def expected_assumptions(path: Path) -> list[tuple]:
    """The Assumptions rows worked out from the file's keys (the model's vocabulary)."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    money = spec.get("money_unit", "tkr")
    found = []
    for node_id, keys in spec["nodes"].items():
        entries = (
            [("without", keys["situation"]["without"]), ("with", keys["situation"]["with"])]
            if "situation" in keys
            else [(None, keys)]
        )
        for situation, body in entries:
            found.append(_row(node_id, keys, situation, body, money))
    return found


def _inferred_kind(keys: dict) -> str:
    if "kind" in keys:
        return keys["kind"]
    if "formula" in keys:
        return "intermediate"
    bodies = keys["situation"].values() if "situation" in keys else [keys]
    return "uncertain" if any("estimate" in b or "mean" in b for b in bodies) else "constant"


def _row(node_id: str, keys: dict, situation: str | None, body: dict, money: str) -> tuple:
    low = mid = high = model = None
    weights: tuple = (None, None, None)
    if "value" in body:
        mid = body["value"]
    elif "mean" in body:
        model, mid = "normal", body["mean"]
        low, high = mid - Z95 * body["sd"], mid + Z95 * body["sd"]
    elif "estimate" in body:
        low, mid, high = body["estimate"]
        model = body.get("model", "triangle")
        defaults = {"triangle": (0.2, 0.6, 0.2), "uniform": (0.5, 0, 0.5), "fixed": (0, 1, 0)}
        weights = tuple(body.get("probabilities", defaults.get(model, (None, None, None))))
    risk = keys.get("risk", [])
    purpose = keys.get("purpose")
    years = keys.get("years")
    return (
        node_id,
        situation,
        keys.get("label"),
        _inferred_kind(keys),
        keys.get("unit", money if keys.get("kind") == "main" else None),
        low,
        mid,
        high,
        model,
        *weights,
        body.get("probability"),  # a risk event's chance of happening
        None,  # values: the examples have no input over a list of values
        keys.get("source"),
        risk[0] if risk else None,
        risk[1] if len(risk) > 1 else None,
        ", ".join(purpose) if isinstance(purpose, list) else purpose,
        keys.get("side"),
        keys.get("category"),
        keys.get("phase"),
        keys.get("year", ", ".join(map(str, years)) if years else None),
        ", ".join(map(str, keys["profile"])) if "profile" in keys else None,
        keys.get("formula"),
    )


@pytest.mark.parametrize("which", ["business", "plain"])
def test_assumptions_match_the_file(which, business, plain):
    book = business[0] if which == "business" else plain[0]
    path = BUSINESS if which == "business" else PLAIN
    sheet_rows = rows(book["Assumptions"])[1:]
    expected = expected_assumptions(path)
    assert [r[:2] for r in sheet_rows] == [e[:2] for e in expected]
    numeric = {5, 6, 7, 9, 10, 11, 12}  # low, mid, high, the three probabilities, event
    for row, want in zip(sheet_rows, expected, strict=True):
        for k, (cell, value) in enumerate(zip(row, want, strict=True)):
            if k in numeric and value is not None:
                assert cell == pytest.approx(value, rel=1e-12), (row[0], k)
            else:
                assert cell == value, (row[0], export.ASSUMPTION_COLUMNS[k])


def test_settings(business):
    book, data, _ = business
    settings = dict(rows(book["Settings"])[1:])
    assert settings["model"] == data["model"]
    assert settings["model file"] == str(BUSINESS)
    assert settings["file SHA-256"] == hashlib.sha256(BUSINESS.read_bytes()).hexdigest()
    assert (settings["samples"], settings["seed"], settings["method"]) == (N, SEED, "mc")
    assert settings["engine version"] == f"assumption_graph {ag.__version__}"
    assert settings["discount rate"] == pytest.approx(0.05)
    assert settings["MIRR finance rate"] == settings["MIRR reinvestment rate"] == 0.05


def test_overrides_are_recorded(tmp_path, capsys):
    out = tmp_path / "pinned.xlsx"
    code, _ = run_cli(capsys, "export", PLAIN, "-o", out, "-n", 500, "--set", "project_hours=3000")
    assert code == 0
    book = openpyxl.load_workbook(out)
    assert dict(rows(book["Settings"])[1:])["override project_hours"] == 3000
    project = next(r for r in rows(book["Figures"]) if r[0] == "project_organisation")
    assert project[3:8] == pytest.approx([3000 * 0.65] * 5)  # expected .. mean: all pinned


# ---------------------------------------------------------------------------- samples


def test_samples_sheet_holds_every_sample(plain):
    book, result = plain
    sheet = book["Samples"]
    assert sheet.max_row == PLAIN_N + 1
    heads = header(sheet)
    ids = [h.split(" (")[0] for h in heads]
    assert ids == list(result.summaries)
    columns = list(zip(*sheet.iter_rows(min_row=2, values_only=True), strict=True))
    for node_id, column in zip(ids, columns, strict=True):
        values = result.values(node_id)
        assert len(column) == PLAIN_N
        for cell, value in zip(column, values, strict=True):
            assert same(cell, float(value) if math.isfinite(value) else None), node_id


def test_samples_are_capped_at_the_sheet_limit(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export, "MAX_SAMPLE_ROWS", 100)  # Excel's limit, made small
    out = tmp_path / "capped.xlsx"
    code, err = run_cli(capsys, "export", PLAIN, "-o", out, "-n", 250, "--samples")
    assert code == 0
    assert "warning: the Samples sheet holds the first 100 of 250 samples" in err
    book = openpyxl.load_workbook(out)
    sheet = book["Samples"]
    assert sheet.max_row == 101
    assert "only the first 100 of 250 samples" in rows(sheet)[0][-1]
    assert dict(rows(book["Settings"])[1:])["samples in the Samples sheet"] == 100
    result = ag.load(PLAIN).compile().run(n=250, seed=0, keep_samples=True)
    first = next(iter(result.summaries))
    column = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert_same(column, [float(v) for v in result.values(first)[:100]], first)


def test_samples_of_a_business_case_include_the_key_figures():
    model = ag.load(BUSINESS)
    result = model.compile().run(n=200, seed=1, keep_samples=True)
    book = openpyxl.load_workbook(
        io.BytesIO(ag.export_workbook(model, result, include_samples=True))
    )
    heads = header(book["Samples"])
    assert "@npv (tkr)" in heads and "@irr (%)" in heads
    column = heads.index("@npv (tkr)") + 1
    npv = [
        r[0]
        for r in book["Samples"].iter_rows(
            min_row=2, min_col=column, max_col=column, values_only=True
        )
    ]
    assert_same(npv, [float(v) for v in result.values("@npv")], "@npv")


# ---------------------------------------------------------------------------- bad input


def test_bad_extension_writes_nothing(tmp_path, capsys):
    out = tmp_path / "case.xls"
    code, err = run_cli(capsys, "export", PLAIN, "-o", out, "-n", 100)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and ".xlsx" in lines[0] and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_failed_run_writes_nothing(tmp_path, capsys):
    out = tmp_path / "case.xlsx"
    code, err = run_cli(capsys, "export", PLAIN, "-o", out, "-n", 100, "--set", "nonesuch=1")
    assert code == 1 and "nonesuch" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_one_line(tmp_path, capsys):
    code, err = run_cli(capsys, "export", PLAIN, "-o", tmp_path / "no" / "case.xlsx", "-n", 100)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "does not exist" in err


def test_samples_need_kept_samples():
    model = ag.load(PLAIN)
    result = model.compile().run(n=100, seed=1)
    with pytest.raises(ag.AssumptionGraphError, match="keep_samples"):
        ag.export_workbook(model, result, include_samples=True)


def test_api_writes_the_bytes_it_returns(tmp_path):
    model = ag.load(PLAIN)
    result = model.compile().run(n=100, seed=1)
    out = tmp_path / "api.xlsx"
    data = ag.export_workbook(model, result, path=out)
    assert out.read_bytes() == data
    with pytest.raises(ag.AssumptionGraphError, match=r"\.xlsx"):
        ag.export_workbook(model, result, path=tmp_path / "api.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api.xlsx"]


@given(st.text(max_size=60), st.lists(st.text(max_size=40), max_size=5))
def test_sheet_names_are_valid_and_unique(title, taken):
    name = export.sheet_name(title, taken)
    assert 1 <= len(name) <= 31
    assert not set(name) & set("[]:*?/\\")
    assert not name.startswith("'") and not name.endswith("'")
    assert name.lower() not in {t.lower() for t in taken}
