"""End-to-end tests of the command line: ``check``, ``run`` and ``draw``.

Most tests call :func:`assumption_graph.cli.main` in-process (the numba kernel is
then loaded once per session); one test runs ``python -m assumption_graph.cli``
in a subprocess to prove the module entry works, and one the installed console
scripts when they exist.

The bad-input table mirrors issue 2's "Bad input it must survive": each model
must give a non-zero exit, a message naming file and line (and the node, where
there is one), no traceback, and nothing written.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from assumption_graph.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CONSULTANCY = EXAMPLES / "consultancy.yaml"
CASE_HANDLING = EXAMPLES / "case_handling.yaml"
EXAMPLE_FILES = [CONSULTANCY, CASE_HANDLING]

N = 2000  # samples for the in-process runs: enough to exercise everything, fast

NODE_KEYS = {"expected", "weighted", "best", "worst", "mean", "mean_se", "std", "min", "max",
             "percentiles", "percentiles_se", "nonfinite"}
PERCENTILE_KEYS = {"5", "10", "25", "50", "70", "75", "80", "90", "95"}
TOP_KEYS = {"model", "samples", "seed", "method", "nodes"}


# ---------------------------------------------------------------------------- helpers


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def call(capsys: pytest.CaptureFixture[str], *argv: object) -> Outcome:
    """Run the command line in-process; argparse's SystemExit becomes the exit code."""
    capsys.readouterr()  # drop anything printed before
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse usage errors, --help, --version
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def strict_json(text: str) -> object:
    """``json.loads`` that refuses NaN / Infinity tokens (not JSON, though Python accepts them)."""

    def refuse(token: str) -> object:
        raise AssertionError(f"non-standard JSON constant {token!r} in output")

    return json.loads(text, parse_constant=refuse)


def yaml_nodes(path: Path) -> dict[str, dict]:
    """The example's nodes read with plain PyYAML, independent of the package's loader."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["nodes"]


def main_nodes(path: Path) -> list[str]:
    return [node_id for node_id, body in yaml_nodes(path).items() if body.get("kind") == "main"]


def assert_clean_failure(result: Outcome) -> None:
    """A user mistake: non-zero exit, no traceback, no internal error, something said."""
    assert result.code != 0
    assert "Traceback" not in result.err
    assert "internal error" not in result.err
    assert result.err.strip(), "a failing command must say why on stderr"


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def assert_contract(data: dict, node_ids: list[str]) -> None:
    """The DESIGN.md ``run --json`` contract, exactly: keys, types, finite numbers."""
    assert set(data) == TOP_KEYS
    assert isinstance(data["model"], str) and data["model"]
    assert isinstance(data["samples"], int) and isinstance(data["seed"], int)
    assert data["method"] == "mc"
    assert set(data["nodes"]) == set(node_ids)
    for node_id, figures in data["nodes"].items():
        assert set(figures) == NODE_KEYS, node_id
        assert set(figures["percentiles"]) == PERCENTILE_KEYS, node_id
        assert set(figures["percentiles_se"]) == PERCENTILE_KEYS, node_id
        assert isinstance(figures["nonfinite"], int) and figures["nonfinite"] >= 0
        for key in NODE_KEYS - {"percentiles", "percentiles_se", "nonfinite"}:
            value = figures[key]
            finite = isinstance(value, float | int) and math.isfinite(value)
            assert value is None or finite, (node_id, key)
        levels = [figures["percentiles"][k] for k in sorted(PERCENTILE_KEYS, key=float)]
        if all(v is not None for v in levels):
            assert levels == sorted(levels), f"{node_id}: percentiles not increasing"
            assert figures["min"] <= levels[0] and levels[-1] <= figures["max"]


# ---------------------------------------------------------------------------- help


@pytest.mark.parametrize("columns", [60, 140])
def test_help_is_wrapped_at_the_terminals_width_asked_once_a_parser(capsys, monkeypatch, columns):
    """The help wraps at the terminal's width less 2, as argparse's own formatter does,
    and each parser asks the terminal once, not once for every argument it adds."""
    monkeypatch.setenv("COLUMNS", str(columns))
    asked = []
    real = shutil.get_terminal_size
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: asked.append(1) or real(*a))
    result = call(capsys, "run", "--help")
    assert result.code == 0
    widest = max(map(len, result.out.splitlines()))
    assert widest <= columns - 2
    assert columns < 100 or widest > 100  # the width is used, not a default
    assert 0 < len(asked) <= 11  # the top parser and its ten commands


# ---------------------------------------------------------------------------- check


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_check_examples_are_clean(capsys, path):
    result = call(capsys, "check", path)
    assert result.code == 0, result.out + result.err
    n_nodes = len(yaml_nodes(path))
    assert result.out.strip().splitlines()[-1] == (
        f"{path}: ok: 0 error(s), 0 warning(s), {n_nodes} node(s)"
    )
    assert "Traceback" not in result.err


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_check_format_json(capsys, path):
    result = call(capsys, "check", "--format", "json", path)
    assert result.code == 0
    data = strict_json(result.out)  # stdout is the JSON and nothing else
    assert data["ok"] is True
    assert data["diagnostics"] == []
    assert data["errors"] == 0
    assert data["file"] == str(path)


def test_check_json_model_file(capsys, tmp_path):
    """JSON model files are accepted too (DESIGN.md §3)."""
    model = yaml.safe_load(CONSULTANCY.read_text(encoding="utf-8"))
    path = tmp_path / "consultancy.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    result = call(capsys, "check", path)
    assert result.code == 0, result.out
    assert ": ok: 0 error(s)" in result.out


def test_check_format_json_lists_errors(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace("formula: hours * rate", "formula: hours * rte"), encoding="utf-8")
    result = call(capsys, "check", "--format", "json", path)
    assert result.code == 1
    data = strict_json(result.out)
    assert data["ok"] is False and data["errors"] >= 1
    codes = {d["code"] for d in data["diagnostics"] if d["severity"] == "error"}
    assert codes == {"unknown-name", "unused"}  # 'rate' is no longer used by any formula
    [diag] = [d for d in data["diagnostics"] if d["code"] == "unknown-name"]
    assert diag["node"] == "total"
    assert diag["line"] == 11
    assert diag["file"] == str(path)
    assert "did you mean 'rate'" in diag["message"]


# ---------------------------------------------------------------------------- run


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_run_table_lists_every_main_node(capsys, path):
    result = call(capsys, "run", path, "-n", N)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    lines = result.out.splitlines()
    assert f"{N:,} samples, seed 0, method mc" in lines[0]
    header = lines[1].split()
    for column in ("expected", "weighted", "best", "worst", "mean", "std", "P10", "P50", "P90",
                   "nonfinite"):
        assert column in header
    rows = {line.split()[0]: line for line in lines[2:] if line.strip()}
    assert set(rows) == set(main_nodes(path))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_run_json_stdout_is_only_json(capsys, path):
    result = call(capsys, "run", path, "-n", N, "--seed", 3, "--json", "-")
    assert result.code == 0, result.err
    data = strict_json(result.out)  # the whole of stdout, nothing else
    assert_contract(data, main_nodes(path))
    assert data["samples"] == N and data["seed"] == 3
    assert data["model"] == yaml.safe_load(path.read_text(encoding="utf-8"))["name"]
    for figures in data["nodes"].values():
        assert figures["nonfinite"] == 0
    # the table went to stderr instead
    assert f"{N:,} samples, seed 3" in result.err


def test_run_consultancy_figures(capsys):
    """The small example's figures by hand: hours (1200, 1500, 2100) x 0.95."""
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--json", "-")
    figures = strict_json(result.out)["nodes"]["consultancy"]
    assert figures["expected"] == pytest.approx(1500 * 0.95)
    assert figures["weighted"] == pytest.approx((0.2 * 1200 + 0.6 * 1500 + 0.2 * 2100) * 0.95)
    assert figures["best"] == pytest.approx(1200 * 0.95)
    assert figures["worst"] == pytest.approx(2100 * 0.95)
    assert 1200 * 0.95 <= figures["min"] <= figures["max"] <= 2100 * 0.95
    # triangle(1200, 1500, 2100): mean 1600, sd sqrt((a²+b²+c²-ab-ac-bc)/18)
    a, b, c = 1200, 1500, 2100
    sd = math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18) * 0.95
    assert figures["mean"] == pytest.approx(1600 * 0.95, abs=5 * sd / math.sqrt(N))
    assert figures["std"] == pytest.approx(sd, rel=0.1)


def test_run_json_file(capsys, tmp_path):
    out = tmp_path / "figures.json"
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--seed", 5, "--json", out)
    assert result.code == 0, result.err
    assert out.is_file()
    data = strict_json(out.read_text(encoding="utf-8"))
    assert_contract(data, ["consultancy"])
    assert data["samples"] == N and data["seed"] == 5
    # the table is on stdout, the note about the file on stderr
    assert "consultancy (Consultancy, analysis phase)" in result.out
    assert str(out) in result.err
    assert files_in(tmp_path) == {"figures.json"}, "no temporary files left behind"
    # the same figures as --json -
    again = call(capsys, "run", CONSULTANCY, "-n", N, "--seed", 5, "--json", "-")
    assert strict_json(again.out) == data


def test_run_json_file_replaces_existing_file(capsys, tmp_path):
    out = tmp_path / "figures.json"
    out.write_text("old content", encoding="utf-8")
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--json", out)
    assert result.code == 0
    assert strict_json(out.read_text(encoding="utf-8"))["samples"] == N


def test_run_all_reports_every_node(capsys):
    result = call(capsys, "run", CASE_HANDLING, "-n", N, "--all", "--json", "-")
    assert result.code == 0, result.err
    data = strict_json(result.out)
    every = list(yaml_nodes(CASE_HANDLING))
    assert set(data["nodes"]) == set(every)
    assert_contract(data, every)
    # constants are constants, formulas follow their inputs' expected values
    nodes = data["nodes"]
    assert nodes["wage_per_hour"]["expected"] == nodes["wage_per_hour"]["mean"] == 0.42
    assert nodes["wage_per_hour"]["std"] == 0
    assert nodes["project_organisation"]["expected"] == pytest.approx(3200 * 0.65)
    # the table lists every node too
    table = call(capsys, "run", CASE_HANDLING, "-n", N, "--all")
    rows = {line.split()[0] for line in table.out.splitlines()[2:] if line.strip()}
    assert rows == set(every)


def test_run_set_pins_a_node(capsys):
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--set", "hours=1500", "--json", "-")
    assert result.code == 0, result.err
    figures = strict_json(result.out)["nodes"]["consultancy"]
    assert figures["expected"] == pytest.approx(1500 * 0.95, rel=1e-12)
    assert figures["std"] == 0
    for key in ("weighted", "best", "worst", "mean", "min", "max"):
        assert figures[key] == pytest.approx(1500 * 0.95, rel=1e-12), key
    for level, value in figures["percentiles"].items():
        assert value == pytest.approx(1500 * 0.95, rel=1e-12), level


def test_run_set_several_and_repeatable(capsys):
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--set", "hours=1000", "--set", "rate=2",
                  "--json", "-")
    assert result.code == 0, result.err
    figures = strict_json(result.out)["nodes"]["consultancy"]
    assert figures["mean"] == pytest.approx(2000.0) and figures["std"] == 0


def test_run_set_unknown_node_is_a_clean_error(capsys, tmp_path):
    out = tmp_path / "out.json"
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--set", "huors=1500", "--json", out)
    assert_clean_failure(result)
    assert result.code == 1
    assert "huors" in result.err and "did you mean 'hours'" in result.err
    assert not out.exists()


@pytest.mark.parametrize("bad", ["hours", "hours=", "=5", "hours=abc"])
def test_run_set_malformed_is_a_usage_error(capsys, bad):
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--set", bad)
    assert result.code == 2
    assert "--set takes id=number" in result.err
    assert "Traceback" not in result.err


def test_run_same_seed_same_json_different_seed_different_means(capsys):
    first = call(capsys, "run", CASE_HANDLING, "-n", N, "--seed", 11, "--json", "-")
    second = call(capsys, "run", CASE_HANDLING, "-n", N, "--seed", 11, "--json", "-")
    other = call(capsys, "run", CASE_HANDLING, "-n", N, "--seed", 12, "--json", "-")
    assert first.code == second.code == other.code == 0
    assert first.out == second.out  # bit for bit
    a, b = strict_json(first.out)["nodes"], strict_json(other.out)["nodes"]
    for node_id in a:
        assert a[node_id]["expected"] == b[node_id]["expected"]  # deterministic figures
        assert a[node_id]["mean"] != b[node_id]["mean"], node_id


def test_run_defaults_are_100000_samples_and_seed_0(capsys):
    result = call(capsys, "run", CONSULTANCY, "--json", "-")
    assert result.code == 0, result.err
    data = strict_json(result.out)
    assert data["samples"] == 100_000
    assert data["seed"] == 0
    explicit = call(capsys, "run", CONSULTANCY, "-n", 100_000, "--seed", 0, "--json", "-")
    assert explicit.out == result.out


def test_run_threads_do_not_change_numbers(capsys):
    one = call(capsys, "run", CONSULTANCY, "-n", N, "--threads", 1, "--json", "-")
    two = call(capsys, "run", CONSULTANCY, "-n", N, "--threads", 2, "--json", "-")
    assert one.code == two.code == 0
    assert one.out == two.out


DIVISION_MODEL = """\
name: Division by zero in some samples
nodes:
  d:
    label: Divisor input
    estimate: [-1, 1, 3]
    model: discrete
    probabilities: [0.25, 0.5, 0.25]
    source: test
  k:
    label: Numerator
    value: 1
  ratio:
    label: Ratio
    kind: main
    formula: k / (d - 1)
"""


def test_run_division_by_zero_counts_nonfinite(capsys, tmp_path):
    model = tmp_path / "division.yaml"
    model.write_text(DIVISION_MODEL, encoding="utf-8")
    result = call(capsys, "run", model, "-n", N, "--all", "--json", "-")
    assert result.code == 0, result.err
    for token in ("NaN", "Infinity", "nan", "inf"):
        assert not re.search(rf"\b-?{token}\b", result.out), token
    data = strict_json(result.out)
    assert_contract(data, ["d", "k", "ratio"])
    ratio = data["nodes"]["ratio"]
    # d is 1 with probability 1/2: about half the samples divide by zero
    assert 0.4 * N < ratio["nonfinite"] < 0.6 * N
    assert data["nodes"]["d"]["nonfinite"] == data["nodes"]["k"]["nonfinite"] == 0
    assert ratio["expected"] is None  # 1 / (1 - 1) at mid
    # statistics over the finite samples only: 1/(-2) and 1/2
    assert ratio["min"] == -0.5 and ratio["max"] == 0.5
    assert all(v in (-0.5, 0.5) for v in ratio["percentiles"].values())
    # the missing source is a warning: it goes to stderr, the run goes on
    assert "warning missing-source" in result.err
    assert "Traceback" not in result.err


def test_run_division_by_zero_table_and_file(capsys, tmp_path):
    model = tmp_path / "division.yaml"
    model.write_text(DIVISION_MODEL, encoding="utf-8")
    out = tmp_path / "division.json"
    result = call(capsys, "run", model, "-n", N, "--json", out)
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert strict_json(text)["nodes"]["ratio"]["nonfinite"] > 0
    row = next(line for line in result.out.splitlines() if line.startswith("ratio"))
    assert row.split()[-1] == str(strict_json(text)["nodes"]["ratio"]["nonfinite"])


# ---------------------------------------------------------------------------- interrupt


def test_interrupt_during_simulation(capsys, tmp_path, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("assumption_graph.run.Simulator.run", interrupted)
    out = tmp_path / "out.json"
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--json", out)
    assert result.code == 130
    assert "nothing was written" in result.err
    assert "Traceback" not in result.err
    assert not out.exists()
    assert files_in(tmp_path) == set()


def test_interrupt_with_json_to_stdout_prints_nothing(capsys, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("assumption_graph.run.Simulator.run", interrupted)
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--json", "-")
    assert result.code == 130
    assert result.out == ""
    assert "nothing was written" in result.err


def test_interrupt_while_writing_leaves_no_file(capsys, tmp_path, monkeypatch):
    """Ctrl-C at the last moment (the rename) leaves neither the file nor a temp file."""

    out = tmp_path / "out.json"
    real_replace = os.replace
    renames = []

    def interrupted(src, dst):  # only the rename onto the output file is interrupted
        if Path(dst) == out:
            renames.append(Path(src))
            assert Path(src).read_text(encoding="utf-8").strip().endswith("}")  # whole JSON
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--json", out)
    monkeypatch.undo()
    assert renames, "the run should have reached the rename"
    assert result.code == 130
    assert "nothing was written" in result.err
    assert not out.exists()
    assert files_in(tmp_path) == set(), "the temporary file must be removed"


def test_json_into_missing_folder_is_a_clean_error(capsys, tmp_path):
    out = tmp_path / "no" / "such" / "folder" / "out.json"
    result = call(capsys, "run", CONSULTANCY, "-n", N, "--json", out)
    assert_clean_failure(result)
    assert "does not exist" in result.err
    assert not out.exists()


# ---------------------------------------------------------------------------- bad input

# The valid model the bad inputs are variants of. Lines: 3-5 hours (estimate on 4),
# 6-8 rate (value on 7), 9-11 total (formula on 11).
BASE = """\
name: bad
nodes:
  hours:
    estimate: [1200, 1500, 2100]
    source: offer
  rate:
    value: 0.95
    source: agreement
  total:
    kind: main
    formula: hours * rate
"""


def variant(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


CYCLE = """\
name: cycle
nodes:
  a:
    formula: c + 1
  b:
    formula: a * 2
  c:
    formula: b - 1
  total:
    kind: main
    formula: a
"""

DUPLICATE = """\
name: bad
nodes:
  hours:
    estimate: [1200, 1500, 2100]
    source: offer
  hours:
    value: 3
    source: offer
  total:
    kind: main
    formula: hours * 2
"""


@dataclass(frozen=True)
class Bad:
    name: str
    text: str
    code: str  # the diagnostic's code
    line: int | None  # the line the message points at
    node: str | None  # the node the message must name
    says: str = ""  # a further piece of the message
    exit: int = 1  # check's exit code: 1 errors, 2 unreadable


BAD_INPUTS = [
    Bad("empty-file", "", "empty-file", None, None, "empty", exit=2),
    Bad("yaml-syntax", variant("[1200, 1500, 2100]", "[1200, 1500, 2100"), "syntax", 5, None,
        "YAML syntax error", exit=2),
    Bad("duplicate-node-id", DUPLICATE, "duplicate-node", 6, "hours", "duplicate node id"),
    Bad("unknown-key", variant("value: 0.95", "valeu: 0.95"), "node-definition", 7, "rate",
        "did you mean 'value'"),
    Bad("id-not-identifier", variant("  rate:\n", "  2rate:\n").replace("hours * rate", "hours"),
        "node-definition", 6, "2rate", "not an identifier"),
    Bad("formula-syntax", variant("hours * rate", "hours * (rate +"), "formula-syntax", 11, "total",
        "syntax error"),
    Bad("unknown-name", variant("hours * rate", "hours * rte"), "unknown-name", 11, "total",
        "did you mean 'rate'"),
    Bad("import", variant("hours * rate", "\"__import__('os').system('touch PWNED')\""),
        "formula-syntax", 11, "total", "not allowed"),
    Bad("attribute", variant("hours * rate", "hours.real * rate"), "formula-syntax", 11, "total",
        "attribute access"),
    Bad("call-outside-list", variant("hours * rate", "open(hours) * rate"), "formula-syntax", 11,
        "total", "unknown function 'open'"),
    Bad("self-dependency", variant("hours * rate", "total + hours * rate"), "self-reference", 11,
        "total", "uses itself"),
    Bad("cycle", CYCLE, "cycle", 4, "a", "cycle"),  # the first formula in the cycle
    Bad("low-above-mid", variant("[1200, 1500, 2100]", "[1600, 1500, 2100]"), "estimate-order", 4,
        "hours", "low <= mid <= high"),
    Bad("mid-above-high", variant("[1200, 1500, 2100]", "[1200, 2200, 2100]"), "estimate-order", 4,
        "hours", "low <= mid <= high"),
    Bad("probability-outside",
        variant("source: offer",
                "model: discrete\n    probabilities: [1.2, -0.2, 0]\n    source: offer"),
        "probability-range", 6, "hours", "outside [0, 1]"),
    Bad("probability-sum",
        variant("source: offer",
                "model: triangle\n    probabilities: [0.2, 0.6, 0.3]\n    source: offer"),
        "probability-sum", 6, "hours", "sum to"),
    Bad("discrete-without-probabilities",
        variant("source: offer", "model: discrete\n    source: offer"),
        "node-definition", 5, "hours", "probabilities"),
    Bad("non-numeric-estimate", variant("[1200, 1500, 2100]", "[1200, lots, 2100]"),
        "node-definition", 4, "hours", "must be a finite number"),
]
BAD_IDS = [bad.name for bad in BAD_INPUTS]


def write_bad(tmp_path: Path, bad: Bad) -> Path:
    path = tmp_path / f"{bad.name}.yaml"
    path.write_text(bad.text, encoding="utf-8")
    return path


def error_lines(text: str, path: Path) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(str(path)) and " error " in line]


def located(bad: Bad, path: Path) -> str:
    where = f"{path}:{bad.line}" if bad.line is not None else str(path)
    return f"{where}: error {bad.code}: "


def test_base_of_the_bad_inputs_is_valid(capsys, tmp_path):
    """Each bad input is one change away from this clean model, so its error is that change."""
    path = tmp_path / "base.yaml"
    path.write_text(BASE, encoding="utf-8")
    result = call(capsys, "check", path)
    assert result.code == 0, result.out
    assert result.out.strip() == f"{path}: ok: 0 error(s), 0 warning(s), 3 node(s)"


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=BAD_IDS)
def test_check_bad_input(capsys, tmp_path, monkeypatch, bad):
    monkeypatch.chdir(tmp_path)
    path = write_bad(tmp_path, bad)
    result = call(capsys, "check", path)
    assert result.code == bad.exit, result.out + result.err
    assert "Traceback" not in result.out + result.err
    errors = error_lines(result.out, path)
    matching = [line for line in errors if line.startswith(located(bad, path))]
    assert matching, f"no '{located(bad, path)}...' line in:\n{result.out}"
    assert any(bad.says in line for line in matching), matching
    assert result.out.splitlines()[-1].startswith(f"{path}: failed: ")
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=BAD_IDS)
def test_check_bad_input_json_names_node(capsys, tmp_path, bad):
    path = write_bad(tmp_path, bad)
    result = call(capsys, "check", "--format", "json", path)
    assert result.code == bad.exit
    data = strict_json(result.out)
    assert data["ok"] is False
    found = [d for d in data["diagnostics"] if d["code"] == bad.code and d["severity"] == "error"]
    assert found, data["diagnostics"]
    assert any(d["line"] == bad.line and d["file"] == str(path) for d in found), found
    if bad.node is not None:
        assert any(d["node"] == bad.node for d in found), found


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=BAD_IDS)
def test_run_bad_input(capsys, tmp_path, monkeypatch, bad):
    monkeypatch.chdir(tmp_path)
    path = write_bad(tmp_path, bad)
    out = tmp_path / "out.json"
    result = call(capsys, "run", path, "-n", N, "--json", out)
    assert_clean_failure(result)
    assert result.code == bad.exit
    assert result.out == "", "nothing on stdout when the model is broken"
    assert not out.exists(), "nothing written"
    assert files_in(tmp_path) == {path.name}
    errors = error_lines(result.err, path)
    assert any(line.startswith(located(bad, path)) for line in errors), result.err
    assert not (tmp_path / "PWNED").exists()


def test_run_bad_input_json_to_stdout_prints_nothing(capsys, tmp_path):
    bad = next(b for b in BAD_INPUTS if b.name == "cycle")
    path = write_bad(tmp_path, bad)
    result = call(capsys, "run", path, "-n", N, "--json", "-")
    assert_clean_failure(result)
    assert result.out == ""


@pytest.mark.parametrize(
    "bad",
    [bad for bad in BAD_INPUTS if bad.node is not None],
    ids=[bad.name for bad in BAD_INPUTS if bad.node is not None],
)
def test_run_bad_input_message_names_the_node(capsys, tmp_path, bad):
    path = write_bad(tmp_path, bad)
    result = call(capsys, "run", path, "-n", N)
    errors = [line for line in error_lines(result.err, path) if line.startswith(located(bad, path))]
    assert errors
    # the id as a word of its own, not part of a longer id or of 'hours.real' / 'open('
    named = re.compile(rf"(?<![\w.]){re.escape(bad.node)}(?![\w.(])")
    assert any(named.search(line.split(": error ", 1)[1]) for line in errors), errors


def test_cycle_message_shows_the_path(capsys, tmp_path):
    path = write_bad(tmp_path, next(b for b in BAD_INPUTS if b.name == "cycle"))
    result = call(capsys, "run", path, "-n", N)
    rotations = ["a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"]
    assert any(r in result.err for r in rotations), result.err


def test_formula_import_never_executes(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_bad(tmp_path, next(b for b in BAD_INPUTS if b.name == "import"))
    for argv in (["check", path], ["check", "--format", "json", path], ["run", path, "-n", N],
                 ["draw", path, "-o", tmp_path / "x.dot"],
                 ["draw", path, "--check", "-o", tmp_path / "y.dot"]):
        call(capsys, *argv)
        assert not (tmp_path / "PWNED").exists(), argv


@pytest.mark.parametrize("command", ["check", "run"])
def test_missing_file(capsys, tmp_path, command):
    path = tmp_path / "nowhere.yaml"
    out = tmp_path / "out.json"
    extra = ["-n", N, "--json", out] if command == "run" else []
    result = call(capsys, command, path, *extra)
    assert result.code == 2
    assert "Traceback" not in result.err
    text = result.err if command == "run" else result.out
    assert f"{path}: error unreadable: file not found" in text
    assert not out.exists()


def test_check_folder_instead_of_file(capsys, tmp_path):
    result = call(capsys, "check", tmp_path)
    assert result.code == 2
    assert "folder" in result.out


def test_check_bad_json_model(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"nodes": {"a": {"value": 1,}}}', encoding="utf-8")
    result = call(capsys, "check", path)
    assert result.code == 2
    assert "error syntax: JSON syntax error" in result.out


@pytest.mark.parametrize(
    "argv, says",
    [
        (["-n", "0"], "the number of samples must be at least 1, got 0"),
        (["-n", "-5"], "the number of samples must be at least 1, got -5"),
        (["-n", "1e3"], "the number of samples must be a whole number"),
        (["-n", "many"], "the number of samples must be a whole number"),
        (["--seed", "1.5"], "the seed must be a whole number, got '1.5'"),
        (["--seed", "x"], "the seed must be a whole number"),
        (["--threads", "0"], "at least 1"),
    ],
    ids=["n-0", "n-negative", "n-float", "n-word", "seed-float", "seed-word", "threads-0"],
)
def test_run_bad_arguments(capsys, tmp_path, argv, says):
    out = tmp_path / "out.json"
    result = call(capsys, "run", CONSULTANCY, *argv, "--json", out)
    assert result.code == 2
    assert "Traceback" not in result.err
    error = [line for line in result.err.splitlines() if "error:" in line]
    assert len(error) == 1 and says in error[0], result.err
    assert result.out == ""
    assert not out.exists()


def test_no_command_and_unknown_command(capsys):
    assert call(capsys).code == 2
    result = call(capsys, "simulate", CONSULTANCY)
    assert result.code == 2 and "invalid choice" in result.err


def test_version(capsys):
    import importlib.metadata

    result = call(capsys, "--version")
    assert result.code == 0
    text = (result.out + result.err).strip()
    assert text.startswith("assumption-graph ")
    try:
        installed = importlib.metadata.version("assumption_graph")
    except importlib.metadata.PackageNotFoundError:
        installed = None  # a source checkout: the version printed is the package's guess
    if installed is not None:
        assert text == f"assumption-graph {installed}"


# ---------------------------------------------------------------------------- draw


def test_draw_dot(capsys, tmp_path):
    out = tmp_path / "consultancy.dot"
    result = call(capsys, "draw", CONSULTANCY, "-o", out)
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    assert text.lstrip().startswith("digraph")
    for label in ("Consultant hours", "Price per hour", "Consultancy, analysis"):
        assert label in text
    assert re.search(r"\bhours\s*->\s*consultancy\b", text)
    assert re.search(r"\brate\s*->\s*consultancy\b", text)
    assert f"wrote {out}" in result.err
    assert files_in(tmp_path) == {out.name}


def test_draw_dot_case_handling_has_every_node(capsys, tmp_path):
    out = tmp_path / "case.dot"
    result = call(capsys, "draw", CASE_HANDLING, "-o", out)
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    for node_id in yaml_nodes(CASE_HANDLING):
        assert re.search(rf"^\s*{node_id}\s*\[", text, re.MULTILINE), node_id


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_draw_svg(capsys, tmp_path):
    out = tmp_path / "consultancy.svg"
    result = call(capsys, "draw", CONSULTANCY, "-o", out)
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    assert "<svg" in text and "</svg>" in text
    assert "Consultant hours" in text


def test_draw_broken_model_writes_nothing(capsys, tmp_path):
    path = write_bad(tmp_path, next(b for b in BAD_INPUTS if b.name == "cycle"))
    out = tmp_path / "cycle.dot"
    result = call(capsys, "draw", path, "-o", out)
    assert_clean_failure(result)
    assert result.code == 1
    assert f"{path}:4: error cycle" in result.err
    assert not out.exists()


def test_draw_check_marks_a_broken_model(capsys, tmp_path):
    path = write_bad(tmp_path, next(b for b in BAD_INPUTS if b.name == "cycle"))
    out = tmp_path / "cycle.dot"
    result = call(capsys, "draw", path, "--check", "-o", out)
    assert result.code == 0, result.err
    assert out.read_text(encoding="utf-8").lstrip().startswith("digraph")


def test_draw_bad_show(capsys, tmp_path):
    out = tmp_path / "x.dot"
    result = call(capsys, "draw", CONSULTANCY, "--show", "estimates,colours", "-o", out)
    assert_clean_failure(result)
    assert "colours" in result.err
    assert not out.exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
@pytest.mark.parametrize(("suffix", "magic"), [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_draw_binary_formats(capsys, tmp_path, suffix, magic):
    out = tmp_path / f"consultancy.{suffix}"
    result = call(capsys, "draw", CONSULTANCY, "-o", out)
    assert result.code == 0, result.err
    assert out.read_bytes().startswith(magic)


def test_draw_format_option_overrides_the_extension(capsys, tmp_path):
    out = tmp_path / "diagram.txt"
    result = call(capsys, "draw", CONSULTANCY, "--format", "dot", "-o", out)
    assert result.code == 0, result.err
    assert out.read_text(encoding="utf-8").lstrip().startswith("digraph")


@pytest.mark.parametrize("target", ["missing-folder/x.svg", "diagram.gif"])
def test_draw_bad_path_or_format_fails_cleanly(capsys, tmp_path, target):
    out = tmp_path / target
    result = call(capsys, "draw", CONSULTANCY, "-o", out)
    assert_clean_failure(result)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file left behind


def test_draw_show_results_runs_a_simulation(capsys, tmp_path):
    out = tmp_path / "results.dot"
    result = call(capsys, "draw", CONSULTANCY, "--show", "estimates,results", "-n", 2000, "-o", out)
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    assert "P50" in text and "1200" in text.replace(",", "")


# ---------------------------------------------------------------------------- entry points


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def test_module_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "assumption_graph.cli", "check", "examples/consultancy.yaml"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "examples/consultancy.yaml: ok: 0 error(s), 0 warning(s), 3 node(s)"
    )
    assert done.stderr == ""


def test_module_entry_point_exit_code_on_errors(tmp_path):
    path = tmp_path / "cycle.yaml"
    path.write_text(CYCLE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "assumption_graph.cli", "check", str(path)],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert "error cycle" in done.stdout


@pytest.mark.parametrize("script", ["assumption-graph", "agraph"])
def test_console_script(script):
    # beside the interpreter running the tests (a venv's bin/), or anywhere on PATH
    exe = shutil.which(script, path=str(Path(sys.executable).parent)) or shutil.which(script)
    if exe is None:
        pytest.skip(f"the '{script}' console script exists only after 'pip install' of the package")
    done = subprocess.run(
        [exe, "check", "examples/consultancy.yaml"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert ": ok: 0 error(s)" in done.stdout
