"""Portfolios of business cases and the shared assumption library they draw on.

The totals are checked against separate runs of each case (bit for bit), the
shared inputs against each other across the cases, and every bad portfolio or
library input must be refused with a one-line message and nothing written.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

import assumption_graph as ag
from assumption_graph import RunError, load, loads, read_model
from assumption_graph.business import CATEGORIES
from assumption_graph.io import dump
from assumption_graph.plots import LEGEND_CURVES, curves_figure
from assumption_graph.portfolio import FIGURES, TOTALS, PortfolioResult, run_portfolio
from assumption_graph.portfolio_report import portfolio_text
from assumption_graph.render import diagram
from assumption_graph.run import Simulator
from assumption_graph.validate import check

from .commands import run_cli

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "examples" / "portfolio"
CASES = sorted((FOLDER / "cases").glob("*.yaml"))
SHARED = ("wage_per_hour", "supplier_rate", "internal_rate")
N, SEED = 20_000, 11


@pytest.fixture(scope="module")
def portfolio():  # type: ignore[no-untyped-def]
    return run_portfolio([load(path) for path in CASES], N, SEED)


# ---------------------------------------------------------------------------- numbers


def test_totals_are_the_per_sample_sums_of_separate_runs(portfolio) -> None:  # type: ignore[no-untyped-def]
    expected = {name: np.zeros(N) for name in TOTALS}
    for path in CASES:
        simulator = Simulator(load(path))
        ids = [simulator.case.key_figures[name] for name in TOTALS]
        run = simulator.run(N, SEED, outputs=ids, keep_samples=True)
        for name, node_id in zip(TOTALS, ids, strict=True):
            expected[name] += run.values(node_id)
    for name in TOTALS:
        assert portfolio.totals[name].tobytes() == expected[name].tobytes()


def test_each_case_row_matches_its_own_run(portfolio) -> None:  # type: ignore[no-untyped-def]
    for path, row in zip(CASES, portfolio.cases, strict=True):
        case = Simulator(load(path)).run(N, SEED).business_case
        assert case is not None
        assert row.figures["npv"] == case["npv"].risk_adjusted
        assert row.figures["project_cost"] == case["project_cost"].risk_adjusted
        assert row.figures["buffer"] == case.buffer
        assert row.figures["project_cost_p50"] == case["project_cost"].percentiles[50.0]
        assert 0.0 <= row.figures["npv_below_zero"] <= 1.0
        assert set(row.figures) == set(FIGURES)
        gains = [
            (name, v) for name, v in case.tables["by_category"].rows if name.startswith("gain")
        ]
        assert gains  # every example case has gains, and the portfolio keeps them
        for name, (_, risk_adjusted) in gains:
            assert row.costs[tuple(name.split(": "))] == risk_adjusted


def test_the_portfolio_is_in_the_top_level_api() -> None:
    assert ag.run_portfolio is run_portfolio and ag.PortfolioResult is PortfolioResult


def test_a_run_without_rank_correlations_has_the_same_numbers() -> None:
    """A portfolio skips the achieved rank correlations; every figure stays the same."""
    simulator = Simulator(load(CASES[0]))
    assert simulator.model.correlations  # the case has correlated inputs
    ranked = simulator.run(N, SEED).to_dict()
    skipped = simulator.run(N, SEED, rank_correlations=False).to_dict()
    assert ranked.pop("correlations") and "correlations" not in skipped
    assert skipped == ranked


def test_shared_inputs_draw_the_same_numbers_in_every_case() -> None:
    drawn = []
    for path in CASES:
        simulator = Simulator(load(path))
        used = [x for x in SHARED if not simulator.model[x].unused]
        run = simulator.run(N, SEED, outputs=used, keep_samples=True)
        drawn.append({x: run.values(x) for x in used})
    for node_id in SHARED:
        samples = [d[node_id] for d in drawn if node_id in d]
        assert len(samples) >= 2, node_id
        assert np.ptp(samples[0]) > 0 or node_id == "internal_rate"
        for other in samples[1:]:
            assert other.tobytes() == samples[0].tobytes(), node_id


def test_an_interruption_stops_every_case() -> None:
    calls = []

    def interrupt(count: int) -> None:
        calls.append(count)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_portfolio([load(path) for path in CASES], 600_000, SEED, progress=interrupt)
    assert len(calls) <= 2  # the first chunk of the cases running when it came, no more


def test_category_table_has_the_same_rows_for_every_case(portfolio) -> None:  # type: ignore[no-untyped-def]
    table = portfolio.category_table()
    costs = [row for row in table.rows if row[0].startswith("project cost: ")]
    assert len(costs) == 8
    for group in ("project cost", "operating without", "operating with"):
        names = [name for name, _ in table.rows if name.startswith(f"{group}: ")]
        assert names == [f"{group}: {category}" for category in CATEGORIES]
    gains = dict(table.rows)["gain: (no category)"]
    assert gains[-1] == pytest.approx(sum(gains[:-1])) and all(v > 0 for v in gains)
    for _name, values in table.rows:
        assert len(values) == len(CASES) + 1
        assert values[-1] == pytest.approx(sum(values[:-1]))
    figures = portfolio.figure_table()
    npv = dict(figures.rows)["NPV"]
    assert npv[-1] == pytest.approx(sum(npv[:-1]))


def test_key_figures_read_down_the_page_one_row_per_case(portfolio) -> None:  # type: ignore[no-untyped-def]
    lines = portfolio_text(portfolio).splitlines()
    start = lines.index("Key figures by case") + 1
    assert lines[start].split()[:2] == ["case", "NPV"]
    names = [case.name for case in portfolio.cases] + ["portfolio"]
    for line, name in zip(lines[start + 1 :], names, strict=False):
        assert line.startswith(name)


def test_a_crowd_of_cases_is_charted_without_a_legend(portfolio) -> None:  # type: ignore[no-untyped-def]
    npv = portfolio.cases[0].npv
    few = curves_figure({f"c{k}": npv for k in range(3)}, "NPV")
    crowd = curves_figure({f"c{k}": npv for k in range(LEGEND_CURVES + 1)}, "NPV")
    assert len(few.legends) == 1 and not crowd.legends


def test_total_summary_is_of_the_summed_samples(portfolio) -> None:  # type: ignore[no-untyped-def]
    summary = portfolio.total_summaries()["npv"]
    assert summary.mean == pytest.approx(float(np.mean(portfolio.totals["npv"])))
    weighted = sum(row.totals["npv"]["weighted"] for row in portfolio.cases)
    assert summary.weighted == pytest.approx(weighted)


# ---------------------------------------------------------------------------- the library


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


CASE = """name: {name}
library: {library}
business_case: {{start_year: 2025, end_year: 2027}}
nodes:
  hours: {{estimate: [10, 20, 40], unit: h, source: plan}}
  {extra}
  build:
    kind: main
    side: cost
    category: staff
    year: 2025
    formula: hours * {rate}
    unit: tkr
"""
LIBRARY = """name: Shared
nodes:
  rate: {estimate: [0.9, 1.0, 1.2], unit: tkr/h, source: price list}
  spare: {value: 3, unit: h, source: nobody uses it}
"""


def case_text(
    name: str = "A", library: str = "shared.yaml", extra: str = "", rate: str = "rate"
) -> str:
    return CASE.format(name=name, library=library, extra=extra, rate=rate)


def diagnostics_of(path: Path) -> list:  # type: ignore[type-arg]
    model, problems = read_model(path)
    return list(check(model, problems).errors) if not problems else problems


def test_library_nodes_join_the_case_unused_ones_marked(tmp_path: Path) -> None:
    write(tmp_path, "shared.yaml", LIBRARY)
    model = load(write(tmp_path, "a.yaml", case_text()))
    assert check(model).ok
    assert model["rate"].file == str(tmp_path / "shared.yaml") and not model["rate"].unused
    assert model["spare"].unused
    saved = dump(model)
    assert saved["library"] == "shared.yaml" and set(saved["nodes"]) == {"hours", "build"}


def test_draw_leaves_out_library_nodes_the_case_does_not_use(tmp_path: Path) -> None:
    write(tmp_path, "shared.yaml", LIBRARY + "  spare_twice: {formula: spare * 2}\n")
    source = diagram(load(write(tmp_path, "a.yaml", case_text()))).source
    assert "rate" in source and "hours" in source
    assert "spare" not in source


def test_a_clash_names_both_files_and_lines(tmp_path: Path) -> None:
    write(tmp_path, "shared.yaml", LIBRARY)
    extra = "rate: {value: 1, unit: tkr/h, source: own}"
    path = write(tmp_path, "a.yaml", case_text(extra=extra))
    (problem,) = read_model(path)[1]
    assert problem.code == "library-clash" and problem.file == str(path) and problem.line == 6
    assert f"{path}:6" in problem.message and f"{tmp_path / 'shared.yaml'}:3" in problem.message


def test_an_unknown_id_suggests_library_ids(tmp_path: Path) -> None:
    write(tmp_path, "shared.yaml", LIBRARY)
    path = write(tmp_path, "a.yaml", case_text(rate="rte"))
    (problem,) = diagnostics_of(path)
    assert problem.code == "unknown-name" and "did you mean 'rate'" in problem.message


def test_a_library_problem_is_reported_at_the_library_line(tmp_path: Path) -> None:
    library = write(tmp_path, "shared.yaml", LIBRARY.replace("estimate: [0.9", "estimat: [0.9"))
    problems = read_model(write(tmp_path, "a.yaml", case_text()))[1]
    assert [(p.file, p.line) for p in problems] == [(str(library), 3)]
    assert "did you mean 'estimate'" in problems[0].message


@pytest.mark.parametrize(
    ("library", "code", "words"),
    [
        (None, "unreadable", "library 'missing.yaml': file not found"),
        ("name: x\nbusiness_case: {}\nnodes:\n  rate: {value: 1}\n", "unknown-key", "library"),
        ("name: x\nlibrary: other.yaml\nnodes:\n  rate: {value: 1}\n", "unknown-key", "library"),
        ("nodes: [\n", "syntax", ""),
        ("", "empty-file", "library"),
    ],
)
def test_bad_libraries_are_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    library: str | None,
    code: str,
    words: str,
) -> None:
    name = "missing.yaml" if library is None else "shared.yaml"
    if library is not None:
        write(tmp_path, name, library)
    case = write(tmp_path, "a.yaml", case_text(library=name))
    problems = read_model(case)[1]
    assert problems and problems[0].code == code and words in problems[0].message
    before = sorted(tmp_path.iterdir())
    outputs = ["--json", tmp_path / "p.json", "-o", tmp_path / "p.html", "-o", tmp_path / "p.xlsx"]
    exit_code, out, err = run_cli(capsys, "portfolio", case, "-n", 1000, *outputs)
    assert exit_code in (1, 2) and code in err and "Traceback" not in err and not out
    assert sorted(tmp_path.iterdir()) == before  # nothing written


def test_check_validates_the_library_with_the_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "shared.yaml", LIBRARY)
    extra = "rate: {value: 1, unit: tkr/h, source: own}"
    path = write(tmp_path, "a.yaml", case_text(extra=extra))
    code, out, _ = run_cli(capsys, "check", path)
    assert code == 1 and "library-clash" in out and "shared.yaml:3" in out


# ---------------------------------------------------------------------------- command line


def test_portfolio_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_json, xlsx, page = tmp_path / "p.json", tmp_path / "p.xlsx", tmp_path / "p.html"
    argv = ["portfolio", *CASES, "-n", N, "--seed", SEED, "--json", out_json]
    code, out, err = run_cli(capsys, *argv, "-o", xlsx, "-o", page)
    assert code == 0, err
    assert "Key figures by case" in out and "Costs by category" in out and "Portfolio NPV" in out
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert [c["file"] for c in data["cases"]] == [str(p) for p in CASES]
    assert set(data["totals"]) == set(TOTALS)
    assert xlsx.read_bytes()[:2] == b"PK"
    text = page.read_text(encoding="utf-8")
    assert "<svg" in text and "NPV distributions" in text
    assert "border-collapse" in text  # the report's style sheet
    assert not re.search(r"(src|href)=\"(?!#)|@import", text)  # self-contained
    for section in ("key-figures", "npv-distributions", "totals", "by-category"):
        assert f'<section id="{section}">' in text
    assert "<td>gain: (no category)</td>" in text
    for case in data["cases"]:
        assert f"<th>{html.escape(case['name'])}</th>" in text


def test_portfolio_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "portfolio", *CASES, "-n", 2000, "--json", "-")
    assert code == 0 and "Key figures by case" in err
    assert len(json.loads(out)["cases"]) == len(CASES)


@pytest.mark.parametrize(
    ("cases", "output", "words"),
    [
        ([ROOT / "examples" / "case_handling.yaml"], "p.json", "not a business case"),
        ([CASES[0], CASES[0]], "p.json", "two cases are named"),
        ([CASES[0], FOLDER / "shared.yaml"], "p.json", "shared.yaml: not a business case"),
        ([CASES[0], FOLDER / "missing.yaml"], "p.json", "file not found"),
        (CASES, "p.pdf", "must end in .html or .xlsx"),
        (CASES, "no/such/folder/p.json", "p.json"),
    ],
)
def test_bad_portfolios_are_refused_with_nothing_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cases: list[Path],
    output: str,
    words: str,
) -> None:
    target = tmp_path / output
    flag = "--json" if output.endswith(".json") else "-o"
    code, out, err = run_cli(capsys, "portfolio", *cases, "-n", 1000, flag, target)
    assert code in (1, 2) and words in err and "Traceback" not in err
    assert list(tmp_path.rglob("*")) == []


def test_cases_in_different_money_units_are_refused() -> None:
    euro = """name: In euro
money_unit: EUR
business_case: {start_year: 2025, end_year: 2027}
nodes:
  build: {kind: main, side: cost, category: staff, year: 2025, value: 10, unit: EUR}
"""
    with pytest.raises(RunError, match="counts in 'EUR', .* in 'tkr': a portfolio sums"):
        run_portfolio([load(CASES[0]), loads(euro)], 1000, SEED)
