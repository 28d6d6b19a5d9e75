"""The run's figures as CSV (``run --csv``) and as HTML (a result in a notebook)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from assumption_graph.cli import main
from assumption_graph.io import load
from assumption_graph.run import Simulator

ROOT = Path(__file__).resolve().parent.parent
CONSULTANCY = ROOT / "examples" / "consultancy.yaml"
BUSINESS_CASE = ROOT / "examples" / "business_case.yaml"


def test_csv_holds_the_same_numbers_as_the_json(tmp_path, capsys):
    out_csv, out_json = tmp_path / "figures.csv", tmp_path / "figures.json"
    argv = ["run", str(BUSINESS_CASE), "-n", "3000", "--seed", "4"]
    assert main([*argv, "--csv", str(out_csv), "--json", str(out_json)]) == 0
    nodes = json.loads(out_json.read_text(encoding="utf-8"))["nodes"]
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8"))))
    assert [row["node"] for row in rows] == list(nodes)
    for row in rows:
        figures = nodes[row["node"]]
        for key in ("expected", "weighted", "best", "worst", "mean", "std", "min", "max"):
            assert float(row[key]) == figures[key]
        assert float(row["P50"]) == figures["percentiles"]["50"]
        assert int(row["nonfinite"]) == figures["nonfinite"]


def test_csv_leaves_undefined_figures_empty(tmp_path, capsys):
    model = tmp_path / "nan.yaml"
    model.write_text(
        "nodes:\n  x: {estimate: [-1, 0, 1], source: s}\n"
        "  y: {kind: main, formula: 0 / (x * 0), unit: tkr}\n",
        encoding="utf-8",
    )
    out_csv = tmp_path / "figures.csv"
    assert main(["run", str(model), "-n", "100", "--csv", str(out_csv)]) == 0
    (row,) = csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8")))
    assert row["mean"] == "" and row["expected"] == "" and row["nonfinite"] == "100"


def test_csv_into_a_missing_folder_fails_cleanly(tmp_path, capsys):
    target = tmp_path / "missing" / "figures.csv"
    assert main(["run", str(CONSULTANCY), "-n", "100", "--csv", str(target)]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    assert not target.exists()


@pytest.mark.parametrize("path", [CONSULTANCY, BUSINESS_CASE], ids=["plain", "business_case"])
def test_a_result_shows_as_html_in_a_notebook(path):
    result = Simulator(load(path)).run(2000, 1)
    text = result._repr_html_()
    root = ET.fromstring(f"<div>{text}</div>")  # well-formed: every tag closed, text escaped
    cells = [cell.text for cell in root.iter("td")]
    for node_id in result.summaries:
        assert node_id in cells
    tables = root.findall("table")
    assert len(tables) == (2 if result.business_case is not None else 1)
    if result.business_case is not None:
        assert "Net present value" in cells and "Internal rate of return" in cells
