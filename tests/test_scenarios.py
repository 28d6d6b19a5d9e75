"""Scenario comparisons: common random numbers, paired differences, scenario files, the CLI."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from assumption_graph import loads
from assumption_graph.business.labels import KEY_FIGURES
from assumption_graph.cli import main
from assumption_graph.errors import ModelFileError
from assumption_graph.report import format_cell
from assumption_graph.run import Simulator
from assumption_graph.scenario_file import changed_model, scenarios_from_data
from assumption_graph.scenario_report import scenarios_html
from assumption_graph.scenarios import paired_difference, run_scenarios

from .commands import run_cli

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "business_case.yaml"
CASE_SCENARIOS = ROOT / "examples" / "scenarios" / "business_case.yaml"

MODEL = """\
name: Demo
correlations:
  - [c, d, 0.7]
nodes:
  a: {estimate: [10, 20, 40]}
  b: {estimate: [1, 2, 4], model: pert}
  c: {estimate: [5, 6, 9]}
  d: {model: normal, mean: 3, sd: 0.5}
  rate: {estimate: [0.8, 1.0, 1.3]}
  hours: {estimate: [100, 120, 180]}
  cost: {kind: main, formula: a * b + c * d}
  labour: {kind: main, formula: hours * rate}
"""
N = 4_000
SEED = 11


@pytest.fixture(scope="module")
def demo() -> Simulator:
    return Simulator(loads(MODEL))


def _scenario(model, name: str, changes: dict):
    (scenario,), _ = scenarios_from_data({name: changes}, model)
    return scenario


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
@pytest.mark.parametrize(
    ("changed", "unchanged"),
    [("a", ("b", "c", "d", "hours", "rate")), ("c", ("a", "b", "d", "hours", "rate"))],
)
def test_unchanged_inputs_draw_the_base_streams(demo, method, changed, unchanged):
    """A replaced estimate (of a plain or a correlated input) leaves every other input's
    samples bit-identical, with every method; the replaced input keeps its uniforms."""
    scenario = _scenario(demo.model, "s", {"nodes": {changed: {"estimate": [1, 2, 3]}}})
    other = Simulator(changed_model(demo.model, scenario))
    base = demo.run(N, SEED, method=method, outputs="all", keep_samples=True)
    run = other.run(N, SEED, method=method, outputs="all", keep_samples=True)
    for node_id in unchanged:
        assert np.array_equal(base.values(node_id), run.values(node_id)), node_id
    assert not np.array_equal(base.values(changed), run.values(changed))


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_a_pin_leaves_the_other_inputs_identical(demo, method):
    base = demo.run(N, SEED, method=method, outputs="all", keep_samples=True)
    pinned = demo.run(
        N, SEED, method=method, outputs="all", keep_samples=True, overrides={"a": 25.0}
    )
    for node_id in ("b", "c", "d", "hours", "rate"):
        assert np.array_equal(base.values(node_id), pinned.values(node_id)), node_id


def test_scenarios_equal_separate_runs(demo):
    """The base is a plain run; a scenario of pins a run with those overrides; a scenario
    of a replaced node a run of the model file with that node written in."""
    changes = {
        "pinned": {"set": {"rate": 1.2}},
        "replaced": {"nodes": {"hours": {"estimate": [150, 160, 200], "model": "pert"}}},
    }
    scenarios, _ = scenarios_from_data(changes, demo.model)
    result = run_scenarios(demo, scenarios, N, SEED, method="lhs")
    assert result.base.to_dict() == demo.run(N, SEED, method="lhs").to_dict()
    pinned = demo.run(N, SEED, method="lhs", overrides={"rate": 1.2})
    assert _without_difference(result.to_dict(), "pinned") == pinned.to_dict()
    text = MODEL.replace(
        "hours: {estimate: [100, 120, 180]}", "hours: {estimate: [150, 160, 200], model: pert}"
    )
    replaced = Simulator(loads(text)).run(N, SEED, method="lhs")
    assert _without_difference(result.to_dict(), "replaced") == replaced.to_dict()


def _without_difference(data: dict, name: str) -> dict:
    run = dict(data["scenarios"][name])
    del run["difference"]
    return run


def test_paired_standard_error_matches_its_formula(demo):
    """labour = hours * rate; pinning rate to r2 instead of a draw makes the difference
    hours * (r2 - rate) per sample: its SE is sd(d)/sqrt(n) with
    var(d) = var(s) + var(b) - 2 cov(s, b), far below the independent runs' SE."""
    base = demo.run(N, SEED, outputs="all", keep_samples=True)
    result = demo.scenarios({"pinned": {"set": {"rate": 1.2}}}, N, SEED)
    s = base.values("hours") * 1.2
    b = base.values("labour")
    covariance = np.cov(s, b, ddof=1)
    expected_se = math.sqrt(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]) / math.sqrt(
        N
    )
    difference = result.differences["pinned"]["labour"]
    assert difference.mean_se == pytest.approx(expected_se, rel=1e-9)
    assert difference.mean == pytest.approx(float(np.mean(s - b)), rel=1e-12)
    assert difference.independent_se == pytest.approx(
        math.sqrt((covariance[0, 0] + covariance[1, 1]) / N), rel=1e-9
    )
    assert difference.mean_se < difference.independent_se
    assert difference.p_better == pytest.approx(float(np.mean(s < b)))  # labour is a cost


def test_paired_difference_skips_nonfinite_pairs_and_counts_strictly_better():
    d = paired_difference(np.array([1.0, np.nan, 3.0, 2.0]), np.array([2.0, 1.0, 3.0, 4.0]), False)
    assert d.mean == pytest.approx(1.0)  # (1 + 0 + 2) / 3
    assert d.p_better == pytest.approx(2 / 3)  # a tie is not better
    assert paired_difference(np.array([np.nan]), np.array([1.0]), True).mean is None


def test_python_table(demo):
    result = demo.scenarios({"pinned": {"set": {"rate": 1.2}}}, 1000, SEED)
    rows = result.rows()
    assert [(r["scenario"], r["figure"]) for r in rows] == [
        ("base", "cost"),
        ("base", "labour"),
        ("pinned", "cost"),
        ("pinned", "labour"),
    ]
    assert rows[2]["difference"] == 0.0 and rows[2]["difference_se"] == 0.0
    pandas = pytest.importorskip("pandas")
    frame = result.to_pandas()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == 4


def test_a_pin_outside_the_range_is_a_warning(demo):
    with pytest.warns(UserWarning, match="pin-outside-range.*'rate' is pinned to 5") as caught:
        result = demo.scenarios({"high": {"set": {"rate": 5}}}, 100, SEED)
    assert sum("pin-outside-range" in str(w.message) for w in caught) == 1
    assert set(result.runs) == {"high"}  # a warning, not a refusal: the scenario ran


# --------------------------------------------------------------------------
# The command line, on the example business case.


@pytest.fixture(scope="module")
def case_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of one ``scenarios`` command's outputs: JSON, CSV, xlsx and HTML."""
    folder = tmp_path_factory.mktemp("scenarios")
    out = folder / "scenarios.json"
    argv = ["scenarios", CASE, CASE_SCENARIOS, "-n", 5000, "--seed", 7, "--json", out]
    argv += ["--csv", folder / "s.csv", "-o", folder / "s.xlsx", "-o", folder / "s.html"]
    assert main([str(a) for a in argv]) == 0
    assert (folder / "s.xlsx").read_bytes()[:2] == b"PK"
    assert (folder / "s.csv").read_text().startswith("scenario,figure,risk_adjusted")
    return folder


@pytest.fixture(scope="module")
def case_json(case_outputs: Path) -> dict:
    return json.loads((case_outputs / "scenarios.json").read_text())


def test_html_page_shows_every_figure_of_every_scenario(case_outputs, case_json):
    """One section per key figure: each scenario's risk-adjusted value, mean, P10/P50/P90,
    difference ± paired SE, P(better), and how much smaller the paired SE is."""
    page = (case_outputs / "s.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "border-collapse" in page  # the report's CSS
    assert not re.search(r"(src|href)=\"(?!#)|https?://|@import", page)  # self-contained
    for name in KEY_FIGURES:
        section = page.split(f'<section id="figure-{name}">')[1].split("</section>")[0]
        assert "<th>P(better)</th>" in section and "<th>± SE</th>" in section
        for scenario in ("base", *case_json["scenarios"]):
            assert f"<tr><td>{scenario}</td>" in section, (name, scenario)
    npv = page.split('<section id="figure-npv">')[1].split("</section>")[0]
    assert "smaller (median) than two independent runs" in npv
    base_npv = case_json["base"]["business_case"]["key_figures"]["npv"]
    assert f"<tr><td>base</td><td>{format_cell(base_npv['risk_adjusted'])}</td>" in npv
    assert "The state&#x27;s discount rate is lowered." in page  # the scenarios' descriptions
    assert "business case discount_rate: 0.035" in page


def test_csv_and_workbook_hold_one_row_per_scenario_and_figure(case_outputs, case_json):
    with (case_outputs / "s.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == (1 + len(case_json["scenarios"])) * len(KEY_FIGURES)
    by_key = {(r["scenario"], r["figure"]): r for r in rows}
    base_npv = case_json["base"]["business_case"]["key_figures"]["npv"]
    assert float(by_key[("base", "npv")]["risk_adjusted"]) == base_npv["risk_adjusted"]
    slow = case_json["scenarios"]["slow_supplier"]["difference"]["npv"]
    assert float(by_key[("slow_supplier", "npv")]["difference"]) == slow["mean"]
    assert float(by_key[("slow_supplier", "npv")]["p_better"]) == slow["p_better"]
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(case_outputs / "s.xlsx")["Scenarios"]
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == list(rows[0]) and len(cells) == len(rows) + 1


def test_html_page_escapes_the_model_text(demo):
    changes = {"<b>pinned</b>": {"set": {"rate": 1.2}, "description": "<script>x</script>"}}
    scenarios, _ = scenarios_from_data(changes, demo.model)
    page = scenarios_html(run_scenarios(demo, scenarios, 500, SEED), scenarios)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<b>pinned" not in page and "&lt;b&gt;pinned&lt;/b&gt;" in page


def test_bad_output_names_are_refused_before_the_run(tmp_path, capsys):
    page, pdf = tmp_path / "s.html", tmp_path / "s.pdf"
    code, _, err = run_cli(capsys, "scenarios", CASE, CASE_SCENARIOS, "-o", page, "-o", pdf)
    assert code == 1 and "must end in .html or .xlsx" in err
    assert list(tmp_path.iterdir()) == []


def test_json_contract(case_json, capsys):
    code, out, _ = run_cli(capsys, "run", CASE, "-n", 5000, "--seed", 7, "--json", "-")
    assert code == 0
    assert case_json["base"] == json.loads(out)
    assert set(case_json["scenarios"]) == {
        "cheaper_internal_rate",
        "slow_supplier",
        "lower_discount",
    }
    for scenario in case_json["scenarios"].values():
        assert set(scenario) >= {"nodes", "business_case", "difference"}
        assert set(scenario["difference"]) == set(KEY_FIGURES)
        for entry in scenario["difference"].values():
            assert set(entry) == {"mean", "mean_se", "p_better"}


def test_differences_follow_the_changes(case_json):
    scenarios = case_json["scenarios"]
    cheaper = scenarios["cheaper_internal_rate"]["difference"]
    assert cheaper["project_cost"]["mean"] < 0 and cheaper["project_cost"]["p_better"] == 1.0
    assert cheaper["npv"]["mean"] > 0 and cheaper["npv"]["p_better"] == 1.0
    lower = scenarios["lower_discount"]["difference"]
    assert lower["project_cost"] == {"mean": 0.0, "mean_se": 0.0, "p_better": 0.0}
    assert lower["npv"]["mean"] > 0
    base_npv = case_json["base"]["business_case"]["key_figures"]["npv"]["mean"]
    slow_npv = scenarios["slow_supplier"]["business_case"]["key_figures"]["npv"]["mean"]
    assert scenarios["slow_supplier"]["difference"]["npv"]["mean"] == pytest.approx(
        slow_npv - base_npv
    )


def test_table_is_printed(capsys):
    code, out, _ = run_cli(
        capsys, "scenarios", CASE, CASE_SCENARIOS, "-n", 2000, "--seed", 7, "--method", "lhs"
    )
    assert code == 0
    assert "Net present value (npv): higher is better" in out
    assert "Total project cost (project_cost): lower is better" in out
    assert "smaller (median) than two independent runs'" in out


PLAIN = """\
nodes:
  hours: {estimate: [100, 120, 180]}
  rate: {estimate: [0.8, 1.0, 1.3]}
  cost: {kind: main, formula: hours * rate}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "scenarios:\n  s:\n    set: {hourz: 1}\n",
            ":3: 'set' names no node of the model: 'hourz' (hint: did you mean 'hours'?)",
        ),
        (
            "scenarios:\n  s:\n    nodes:\n      rat: {value: 1}\n",
            ":4: 'nodes' names no node of the model: 'rat' (hint: did you mean 'rate'?)",
        ),
        (
            "scenarios:\n  s:\n    sett: {hours: 1}\n",
            ":3: unknown key 'sett' (hint: did you mean 'set'?)",
        ),
        (
            "senarios:\n  s:\n    set: {hours: 1}\n",
            ":1: unknown key 'senarios' (hint: did you mean 'scenarios'?)",
        ),
        ("scenarios:\n  s:\n    set: {hours: lots}\n", ":3: a pin must be a finite number"),
        (
            "scenarios:\n  s:\n    business_case: {discount_rate: 0.03}\n",
            "the model has no 'business_case:' section",
        ),
        ("scenarios:\n  s: {}\n", "scenario 's' changes nothing"),
        (
            "scenarios:\n  s:\n    set: {hours: 1}\n  s:\n    set: {hours: 2}\n",
            ":4: duplicate key 's' (first on line 2)",
        ),
        (
            "scenarios:\n  s:\n    nodes:\n"
            "      cost: {kind: main, formula: hours * rate * wage}\n",
            "scenarios.yaml:4: node 'cost': scenario 's' makes",
        ),
        (
            "scenarios:\n  s:\n    nodes:\n      hours: {estimate: [3, 2, 1]}\n",
            "scenarios.yaml:4: node 'hours': scenario 's' makes the model fail its check",
        ),
        (
            "scenarios:\n  s:\n    nodes:\n      hours: {estimat: [1, 2, 3]}\n",
            ":4: node 'hours': unknown key 'estimat' (hint: did you mean 'estimate'?)",
        ),
        ("scenarios: !!python/object:os.system {}\n", ":1: unsupported YAML tag"),
        ("scenarios:\n  s:\n    set: !!python/name:os.system 3\n", ":3: unsupported YAML tag"),
        ("scenarios: [a, b\n", ":2: YAML syntax error"),
        ("", "the file is empty (hint: a scenario file needs 'scenarios:'"),
        ("scenarios: 3\n", "'scenarios' must be a mapping"),
        ("scenarios:\n  base:\n    set: {hours: 1}\n", ":2: a scenario cannot be named 'base'"),
    ],
)
def test_bad_scenario_files_are_refused_with_nothing_written(tmp_path, capsys, text, message):
    model = tmp_path / "model.yaml"
    model.write_text(PLAIN)
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(text)
    out = tmp_path / "out.json"
    argv = ["--json", out, "--csv", tmp_path / "s.csv", "-o", tmp_path / "s.html"]
    code, stdout, err = run_cli(capsys, "scenarios", model, scenarios, "-n", 100, *argv)
    assert code == 2, err
    assert message in err, err
    (error,) = [line for line in err.splitlines() if "warning missing-source" not in line]
    assert error.startswith("error: ") and not stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.yaml", "scenarios.yaml"]


def test_bad_business_case_setting_has_a_hint(capsys, tmp_path):
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios:\n  s:\n    business_case: {discount_rat: 0.03}\n")
    code, _, err = run_cli(capsys, "scenarios", CASE, scenarios, "-n", 100)
    assert code == 2 and "did you mean 'discount_rate'?" in err, err


def test_a_business_case_setting_that_fails_the_check_names_the_scenario_line(capsys, tmp_path):
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios:\n  s:\n    business_case: {discount_rate: -5}\n")
    code, _, err = run_cli(capsys, "scenarios", CASE, scenarios, "-n", 100, "--json", "-")
    assert code == 2 and f"error: {scenarios}:3: scenario 's' makes the model fail" in err, err
    assert "discount_rate -5" in err


def test_pin_outside_range_warns_on_the_command_line(capsys, tmp_path):
    model = tmp_path / "model.yaml"
    model.write_text(PLAIN)
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios:\n  s:\n    set: {hours: 500}\n")
    code, out, err = run_cli(capsys, "scenarios", model, scenarios, "-n", 100)
    assert code == 0
    assert f"{scenarios}:3: warning pin-outside-range" in err
    assert "cost (cost): lower is better" in out


def test_scenario_file_errors_name_the_file_and_line(demo):
    with pytest.raises(ModelFileError, match=r"<scenarios>: unknown key 'nodez'"):
        scenarios_from_data({"s": {"nodez": {}}}, demo.model)
