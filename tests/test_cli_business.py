"""End to end through the command line: the example business case and its tables.

The figures are re-derived here from the run's own node figures and the model
file read with plain PyYAML (years, profiles and phase months computed again by
hand), so the tables are checked against an independent computation, not
against the code that made them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from assumption_graph.cli import main

from .business_models import FIGURE_FIELDS, FIGURES
from .commands import run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "business_case.yaml"
N = 20_000


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def run_json(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bc") / "run.json"
    assert main(["run", str(EXAMPLE), "-n", str(N), "--seed", "3", "--json", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def months(text: str) -> int:
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


def weights_by_hand(keys: dict, case: dict) -> dict[int, float]:
    """Year -> share of a main node's amount, from the file's keys (the issue's rule)."""
    if "year" in keys:
        return {keys["year"]: 1.0}
    if "years" in keys:
        profile = keys.get("profile", [1.0] * len(keys["years"]))
        return dict(zip(keys["years"], map(float, profile), strict=True))
    first, last = (months(m) for m in case["phases"][keys["phase"]])
    shares: dict[int, float] = {}
    for m in range(first, last + 1):
        shares[m // 12] = shares.get(m // 12, 0.0) + 1.0 / (last - first + 1)
    return shares


def flows_by_hand(spec: dict, nodes: dict, column: str) -> dict[str, dict[int, float]]:
    """Yearly project cost, gains and operating costs from the nodes' ``column`` figure."""
    case = spec["business_case"]
    rows: dict[str, dict[int, float]] = {
        r: dict.fromkeys(range(case["start_year"], case["end_year"] + 1), 0.0)
        for r in ("cost", "gain", "without", "with")
    }
    for node_id, keys in spec["nodes"].items():
        if keys.get("kind") != "main":
            continue
        weights = weights_by_hand(keys, case)
        # a node with `years` reports its total over them; a year's amount is a share of it
        per_year = sum(weights.values()) if "years" in keys else 1.0
        for year, w in weights.items():
            if keys["side"] == "operating":
                without = nodes.get(f"{node_id}@without", nodes[node_id])
                rows["without"][year] += w * without[column] / per_year
                rows["with"][year] += w * nodes[node_id][column] / per_year
            else:
                rows[keys["side"]][year] += w * nodes[node_id][column] / per_year
    return rows


def test_check_passes(capsys):
    code, out, _ = run_cli(capsys, "check", EXAMPLE)
    assert code == 0, out
    assert "0 error(s)" in out


def test_json_has_the_contract(run_json, spec):
    assert set(run_json) == {
        "model",
        "samples",
        "seed",
        "method",
        "nodes",
        "business_case",
        "correlations",
    }
    assert [(c["a"], c["b"], c["requested"]) for c in run_json["correlations"]] == [
        tuple(pair) for pair in spec["correlations"]
    ]
    case = run_json["business_case"]
    assert case["risk_adjustment"] == "weighted"
    assert set(case["key_figures"]) == set(FIGURES)
    for figure in case["key_figures"].values():
        assert FIGURE_FIELDS <= set(figure)
    assert {"case_work", "case_work@without", "system_operation@without"} <= set(run_json["nodes"])
    assert [r["id"] for r in case["risks"]] == [0, 1, 2, 3, 4]
    assert case["risks"][0]["type"] == "general"


@pytest.mark.parametrize("column", ["expected", "weighted", "best", "worst"])
def test_key_figures_match_a_hand_computation(spec, run_json, column):
    nodes, figures = run_json["nodes"], run_json["business_case"]["key_figures"]
    rows = flows_by_hand(spec, nodes, column)
    rate = spec["business_case"]["discount_rate"]
    start = spec["business_case"]["start_year"]
    cost = sum(rows["cost"].values())
    without, with_ = sum(rows["without"].values()), sum(rows["with"].values())
    gross = without - with_ + sum(rows["gain"].values())
    npv = sum(
        (rows["without"][y] - rows["with"][y] + rows["gain"][y] - rows["cost"][y])
        / (1 + rate) ** (y - start)
        for y in rows["cost"]
    )
    expect = {
        "project_cost": cost,
        "operating_without": without,
        "operating_with": with_,
        "gross_gain": gross,
        "total_with_project": with_ + cost,
        "net_gain": gross - cost,
        "npv": npv,
    }
    for name, value in expect.items():
        assert figures[name][column] == pytest.approx(value, rel=1e-9, abs=1e-6), name


def test_tables_add_up(run_json):
    case = run_json["business_case"]
    figures, tables = case["key_figures"], case["tables"]
    phases = {r["name"]: r["values"] for r in tables["cost_by_phase"]["rows"]}
    total = phases["Total, risk-adjusted"]
    assert total["total"] == pytest.approx(figures["project_cost"]["risk_adjusted"])
    assert phases["of which buffer"]["total"] == pytest.approx(case["buffer"])
    by_phase = sum(
        v["total"]
        for name, v in phases.items()
        if name in ("analysis", "tender", "implementation", "(no phase)")
    )
    assert by_phase == pytest.approx(total["total"])
    flows = {r["name"]: r["values"] for r in tables["cash_flows"]["rows"]}
    assert flows["Net flow"]["total"] == pytest.approx(figures["net_gain"]["risk_adjusted"])
    assert flows["Discounted net flow"]["total"] == pytest.approx(figures["npv"]["risk_adjusted"])
    assert flows["Project cost"]["2026"] == pytest.approx(total["2026"])
    categories = {r["name"]: r["values"] for r in tables["by_category"]["rows"]}
    costs = sum(v["risk_adjusted"] for k, v in categories.items() if k.startswith("project cost"))
    assert costs == pytest.approx(figures["project_cost"]["risk_adjusted"])
    assert sum(case["risk_types"].values()) == pytest.approx(
        sum(r["amount"] for r in case["risks"])
    )


def test_buffer_is_weighted_minus_expected_cost(run_json):
    cost = run_json["business_case"]["key_figures"]["project_cost"]
    assert run_json["business_case"]["buffer"] == pytest.approx(cost["weighted"] - cost["expected"])
    assert run_json["business_case"]["buffer"] > 0


def test_terminal_report_shows_the_tables(capsys):
    code, out, _ = run_cli(capsys, "run", EXAMPLE, "-n", N, "--seed", 3)
    assert code == 0
    for text in (
        "Key figures",
        "Net present value",
        "Internal rate of return",
        "Cost buffer",
        "Risks",
        "Project cost by phase and year",
        "Cash flows",
        "Non-economic gains",
    ):
        assert text in out


def test_json_to_stdout_is_only_json(capsys):
    code, out, err = run_cli(capsys, "run", EXAMPLE, "-n", 2000, "--json", "-")
    assert code == 0
    assert "business_case" in json.loads(out)
    assert "Key figures" in err


def test_previous_phase_flags_significant_changes(run_json, tmp_path, capsys):
    previous = json.loads(json.dumps(run_json))
    case = previous["business_case"]
    cost_now = case["key_figures"]["project_cost"]["risk_adjusted"]
    case["key_figures"]["project_cost"]["risk_adjusted"] = cost_now + 7000.0  # -7,000: significant
    case["key_figures"]["total_with_project"]["risk_adjusted"] += 100.0  # small: not significant
    case["phases"]["implementation"] = ["2026-06", "2027-02"]  # now ends 4 months later
    path = tmp_path / "previous.json"
    path.write_text(json.dumps(previous), encoding="utf-8")
    out_path = tmp_path / "now.json"
    code, out, _ = run_cli(
        capsys, "run", EXAMPLE, "-n", N, "--seed", 3, "--previous", path, "--json", out_path
    )
    assert code == 0
    now = json.loads(out_path.read_text(encoding="utf-8"))["business_case"]
    changes = {c["figure"]: c for c in now["changes"]}
    assert changes["project_cost"]["significant"] is True
    assert changes["total_with_project"]["significant"] is False
    assert changes["phase:implementation"]["significant"] is True
    assert now["key_figures"]["project_cost"]["previous"] == pytest.approx(cost_now + 7000.0)
    assert "SIGNIFICANT CHANGE: project_cost" in out
    assert "previous" in out


def test_previous_that_is_not_a_result_fails_cleanly(tmp_path, capsys):
    bad = tmp_path / "previous.json"
    bad.write_text('{"nodes": {}}', encoding="utf-8")
    out_path = tmp_path / "out.json"
    code, _, err = run_cli(capsys, "run", EXAMPLE, "-n", 100, "--previous", bad, "--json", out_path)
    assert code == 2
    assert str(bad) in err and "no business case figures" in err
    assert "Traceback" not in err
    assert not out_path.exists()
    code, _, err = run_cli(capsys, "run", EXAMPLE, "-n", 100, "--previous", tmp_path / "none.json")
    assert code == 2 and "cannot read the previous result" in err
