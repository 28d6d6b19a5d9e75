"""Bad arguments to the public API and the command line: a message naming the argument.

Counts, seeds, chunks, thread counts, flags, mappings and callbacks are checked
before anything runs: a chunk of 0 once returned numbers read from
uninitialised memory, ``--threads 0`` spoke of "the number of samples".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import assumption_graph as ag
from assumption_graph.cli import main
from assumption_graph.errors import AssumptionGraphError
from assumption_graph.html_report import report_sensitivity
from assumption_graph.plots import PlotAccessor
from assumption_graph.render import render
from assumption_graph.run import Simulator
from assumption_graph.sensitivity import sensitivity

ROOT = Path(__file__).resolve().parent.parent
CONSULTANCY = ROOT / "examples" / "consultancy.yaml"
N = 1000


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(ag.load(CONSULTANCY))


@pytest.fixture(scope="module")
def result(sim: Simulator) -> ag.RunResult:
    return sim.run(N, 1)


API_CASES = [
    pytest.param(
        lambda s, r: s.run(0),
        "n (the number of samples) must be a whole number of at least 1, got 0",
        id="run-n-0",
    ),
    pytest.param(
        lambda s, r: s.run(10.0),
        "n (the number of samples) must be a whole number",
        id="run-n-float",
    ),
    pytest.param(
        lambda s, r: s.run(True),
        "n (the number of samples)",
        id="run-n-bool",
    ),
    pytest.param(
        lambda s, r: s.run(N, 1.5),
        "seed must be a whole number, got 1.5",
        id="run-seed-float",
    ),
    pytest.param(
        lambda s, r: s.run(N, "1"),
        "seed must be a whole number, got '1'",
        id="run-seed-text",
    ),
    pytest.param(
        lambda s, r: s.run(N, chunk=0),
        "chunk must be a whole number of at least 1, got 0",
        id="run-chunk-0",
    ),
    pytest.param(
        lambda s, r: s.run(N, chunk=-5),
        "chunk must be a whole number of at least 1, got -5",
        id="run-chunk-negative",
    ),
    pytest.param(
        lambda s, r: s.run(N, chunk=np.int64(0)),
        "chunk must be a whole number of at least 1",
        id="run-chunk-numpy-0",
    ),
    pytest.param(
        lambda s, r: s.run(N, chunk=100.0),
        "chunk must be a whole number",
        id="run-chunk-float",
    ),
    pytest.param(
        lambda s, r: s.run(N, chunk=None),
        "chunk must be a whole number",
        id="run-chunk-none",
    ),
    pytest.param(
        lambda s, r: s.run(N, threads=0),
        "threads must be None (all) or a whole number >= 1, got 0",
        id="run-threads-0",
    ),
    pytest.param(
        lambda s, r: s.run(N, threads=-2),
        "threads must be None (all)",
        id="run-threads-negative",
    ),
    pytest.param(
        lambda s, r: s.run(N, threads="2"),
        "threads must be None (all)",
        id="run-threads-text",
    ),
    pytest.param(
        lambda s, r: s.run(N, threads=True),
        "threads must be None (all)",
        id="run-threads-bool",
    ),
    pytest.param(
        lambda s, r: s.run(N, keep_samples="no"),
        "keep_samples must be True or False, got 'no'",
        id="run-keep-samples",
    ),
    pytest.param(
        lambda s, r: s.run(N, progress=5),
        "progress must be a function or None, got 5",
        id="run-progress",
    ),
    pytest.param(
        lambda s, r: s.run(N, outputs=5),
        "outputs must be node ids, 'all' or None, got 5",
        id="run-outputs-number",
    ),
    pytest.param(
        lambda s, r: s.run(N, outputs=[]),
        "outputs names no node",
        id="run-outputs-empty",
    ),
    pytest.param(
        lambda s, r: s.run(N, overrides=[("hours", 1)]),
        "overrides must map node ids to numbers",
        id="run-overrides-list",
    ),
    pytest.param(
        lambda s, r: s.run(N, method="grid"),
        "unknown sampling method 'grid'",
        id="run-method",
    ),
    pytest.param(
        lambda s, r: s.run(N, precision=0),
        "the precision must be",
        id="run-precision",
    ),
    pytest.param(
        lambda s, r: ag.simulate(s.model, N, chunk=0),
        "chunk must be a whole number of at least 1",
        id="simulate-chunk-0",
    ),
    pytest.param(
        lambda s, r: ag.simulate(s.model, -1),
        "n (the number of samples)",
        id="simulate-n-negative",
    ),
    pytest.param(
        lambda s, r: s.evaluate({"hours": [1.0]}, threads=0),
        "threads must be None (all)",
        id="evaluate-threads-0",
    ),
    pytest.param(
        lambda s, r: s.evaluate({"hours": [1.0]}, seed=0.5),
        "seed must be a whole number",
        id="evaluate-seed",
    ),
    pytest.param(
        lambda s, r: s.evaluate([1.0]),
        "values must map node ids to arrays of values",
        id="evaluate-values-list",
    ),
    pytest.param(
        lambda s, r: s.evaluate({"hours": ["many"]}),
        "node 'hours': the given values must be numbers",
        id="evaluate-values-text",
    ),
    pytest.param(
        lambda s, r: s.evaluate({"hours": [1.0]}, outputs=3),
        "outputs must be node ids",
        id="evaluate-outputs",
    ),
    pytest.param(
        lambda s, r: sensitivity(s, "consultancy", n=0),
        "n (the number of samples)",
        id="sensitivity-n-0",
    ),
    pytest.param(
        lambda s, r: sensitivity(s, "consultancy", seed=None),
        "seed must be a whole number",
        id="sensitivity-seed",
    ),
    pytest.param(
        lambda s, r: sensitivity(s, "consultancy", sobol_samples=1000),
        "sobol_samples (the Sobol base samples) must be a power of two",
        id="sensitivity-sobol-samples",
    ),
    pytest.param(
        lambda s, r: sensitivity(s, "consultancy", sobol="no"),
        "sobol must be True or False, got 'no'",
        id="sensitivity-sobol-flag",
    ),
    pytest.param(
        lambda s, r: s.sensitivity(["consultancy"]),
        "output must be a node id or a key figure's name",
        id="sensitivity-output",
    ),
    pytest.param(
        lambda s, r: sensitivity(s, "consultancy", overrides=5),
        "overrides must map node ids to numbers",
        id="sensitivity-overrides",
    ),
    pytest.param(
        lambda s, r: report_sensitivity(s, r, samples=0),
        "samples must be a whole number of at least 1, got 0",
        id="report-sensitivity-samples",
    ),
    pytest.param(
        lambda s, r: report_sensitivity(s, r, sobol=1),
        "sobol must be True or False, got 1",
        id="report-sensitivity-sobol",
    ),
    pytest.param(
        lambda s, r: PlotAccessor(r, s.model).histogram("consultancy", bins=0),
        "bins must be a whole number of at least 1, got 0",
        id="histogram-bins",
    ),
    pytest.param(
        lambda s, r: render(s.model, "diagram.svg", format=5),
        "format must be one of svg, png, pdf, dot or None, got 5",
        id="render-format",
    ),
]


@pytest.mark.parametrize(("call", "says"), API_CASES)
def test_a_bad_api_argument_is_refused_by_name(sim, result, call, says):
    with pytest.raises(AssumptionGraphError) as raised:
        call(sim, result)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


def test_good_arguments_of_every_kind_still_run(sim):
    kept = sim.run(N, np.int64(3), chunk=np.int64(300), threads=np.int64(2), keep_samples=np.True_)
    assert kept.samples == N
    np.testing.assert_array_equal(
        kept.values("consultancy"), sim.run(N, 3, keep_samples=True).values("consultancy")
    )
    assert sim.run(N, 3, precision=np.float32(0.5)).samples == N  # any real number type


@pytest.mark.parametrize("value", ["0", "-3", "abc", "2.5"])
def test_a_bad_thread_cap_in_the_environment_is_refused_by_name(sim, monkeypatch, capsys, value):
    monkeypatch.setenv("ASSUMPTION_GRAPH_THREADS", value)
    with pytest.raises(ag.RunError, match=f"ASSUMPTION_GRAPH_THREADS .*got '{value}'"):
        sim.run(N, 3)
    assert main(["run", str(CONSULTANCY), "-n", "100"]) == 1
    err = capsys.readouterr().err
    assert err.count("ASSUMPTION_GRAPH_THREADS") == 1 and "Traceback" not in err


CLI_CASES = [
    (
        ["run", "--threads", "0"],
        "argument --threads: the number of threads must be at least 1, got 0",
    ),
    (
        ["run", "--threads", "two"],
        "argument --threads: the number of threads must be a whole number",
    ),
    (
        ["export", "--threads", "-1"],
        "argument --threads: the number of threads must be at least 1",
    ),
    (
        ["report", "--threads", "0"],
        "argument --threads: the number of threads must be at least 1",
    ),
    (
        ["run", "-n", "0"],
        "argument -n/--samples: the number of samples must be at least 1, got 0",
    ),
    (
        ["draw", "-n", "-3"],
        "argument -n/--samples: the number of samples must be at least 1",
    ),
    (
        ["sensitivity", "--seed", "0.5"],
        "argument --seed: the seed must be a whole number, got '0.5'",
    ),
    (
        ["run", "--set", "hours=nan"],
        "argument --set: --set takes id=number (a finite number), got 'hours=nan'",
    ),
    (
        ["run", "--set", "hours=inf"],
        "argument --set: --set takes id=number (a finite number)",
    ),
    (
        ["run", "--precision", "0"],
        "argument --precision: --precision takes a relative error",
    ),
    (
        ["run", "--method", "grid"],
        "argument --method: invalid choice: 'grid'",
    ),
    (
        ["draw", "--level", "all"],
        "argument --level: invalid choice: 'all'",
    ),
    (["run", "--json", ""], "argument --json: a file name is needed"),
    (["run", "--csv", ""], "argument --csv: a file name is needed"),
    (["run", "--previous", ""], "argument --previous: a file name is needed"),
    (["sensitivity", "--json", ""], "argument --json: a file name is needed"),
    (["sensitivity", "-o", ""], "argument -o: a file name is needed"),
    (["sensitivity", "--variance-chart", ""], "argument --variance-chart: a file name is needed"),
    (["export", "-o", ""], "argument -o/--output: a file name is needed"),
    (["report", "-o", ""], "argument -o/--output: a file name is needed"),
    (["draw", "-o", ""], "argument -o/--output: a file name is needed"),
]

OUTPUT = {
    "run": ["--json", "out.json"],
    "export": ["-o", "out.xlsx"],
    "report": ["-o", "out.html"],
    "draw": ["-o", "out.svg"],
    "sensitivity": ["--output", "consultancy", "--json", "out.json"],
}


def _case_id(value: object) -> str:
    return "-".join(value) if isinstance(value, list) else ""


@pytest.mark.parametrize(("argv", "says"), CLI_CASES, ids=_case_id)
def test_a_bad_command_line_argument_is_refused_by_name(capsys, tmp_path, monkeypatch, argv, says):
    monkeypatch.chdir(tmp_path)
    command, *options = argv
    with pytest.raises(SystemExit) as stop:
        main([command, str(CONSULTANCY), *OUTPUT[command], *options])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and says in errors[0], err
    assert list(tmp_path.iterdir()) == []


HUGE = "9" * 100_000  # a value pasted by mistake: a message quotes it cut, on one short line

LONG_CLI_CASES = [
    ["run", "-n", HUGE + "x"],
    ["run", "-n", "-" + "9" * 4000],
    ["run", "--threads", HUGE + "x"],
    ["run", "--seed", HUGE + "x"],
    ["run", "--set", "hours=" + HUGE + "x"],
    ["run", "--precision", HUGE + "x"],
    ["run", "--method", HUGE],
    ["draw", "--level", HUGE],
    ["draw", "--show", HUGE],
    ["run", "--output", "x" + HUGE],
    ["sensitivity", "--output", "x" + HUGE],
]


@pytest.mark.parametrize("argv", LONG_CLI_CASES, ids=lambda a: "-".join(x[:12] for x in a))
def test_a_huge_command_line_value_is_quoted_cut(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    command, *options = argv
    output = OUTPUT[command] if command != "sensitivity" else ["--json", "out.json"]
    try:
        code = main([command, str(CONSULTANCY), *output, *options])
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    assert code in (1, 2)
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err
    assert max(map(len, err.splitlines())) < 400, max(map(len, err.splitlines()))
    assert list(tmp_path.iterdir()) == []


LONG_API_CASES = [
    lambda s: s.run(HUGE),
    lambda s: s.run(N, HUGE),
    lambda s: s.run(N, 1, chunk=HUGE),
    lambda s: s.run(N, 1, threads=HUGE),
    lambda s: s.run(N, 1, outputs=HUGE),
    lambda s: s.run(N, 1, outputs=12345 * 10**3000),
    lambda s: s.run(N, 1, outputs=list(range(100_000))),
    lambda s: s.run(N, 1, overrides={"hours": HUGE}),
    lambda s: s.run(N, 1, overrides=list(range(100_000))),
    lambda s: s.run(N, 1, method=HUGE),
    lambda s: s.run(N, 1, precision=HUGE),
    lambda s: s.run(N, 1, keep_samples=HUGE),
    lambda s: s.run(N, 1, progress=HUGE),
]


@pytest.mark.parametrize("call", LONG_API_CASES)
def test_a_huge_api_value_is_quoted_cut(sim, call):
    with pytest.raises(AssumptionGraphError) as raised:
        call(sim)
    assert len(str(raised.value)) < 400, str(raised.value)[:500]
