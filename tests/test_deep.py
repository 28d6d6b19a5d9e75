"""Deep graphs and long formulas: no walk recurses over a depth the user controls.

A chain of thousands of nodes written top-down, a cycle of thousands of nodes and a
flat sum of thousands of terms are valid (or cleanly refused) models: ``check`` and
``run`` handle them without a ``RecursionError``. Genuinely nested formulas (brackets
inside brackets) keep a limit, refused with a one-line message. One test runs the
command line with a recursion limit far below the depths involved, proving the walks
are iterative.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph.cli import main
from assumption_graph.compile.reference import simulate
from assumption_graph.errors import AssumptionGraphError
from assumption_graph.expr import Expr, _LongParser, _Parser, parse_formula, to_source
from assumption_graph.io import loads
from assumption_graph.run import Simulator
from assumption_graph.validate import check

ROOT = Path(__file__).resolve().parent.parent

DEPTH = 2000  # nodes in the chain and in the cycle
TERMS = 5000  # terms of the flat sum


def chain_text(n: int, cycle: bool = False) -> str:
    """``n0 = n1 + 1``, ``n1 = n2 + 1``, ...: each node written before the node it uses."""
    parts = ["name: chain\nnodes:\n  n0:\n    kind: main\n    formula: n1 + 1\n"]
    parts += [f"  n{i}:\n    formula: n{i + 1} + 1\n" for i in range(1, n - 1)]
    last = "formula: n0 + 1" if cycle else "estimate: [1, 2, 3]\n    source: test"
    parts.append(f"  n{n - 1}:\n    {last}\n")
    return "".join(parts)


def sum_text(n: int, inputs: int = 50) -> str:
    """One main node summing ``n`` terms, ``x0 + x1 + ...``, over ``inputs`` inputs in turn."""
    terms = " + ".join(f"x{i % inputs}" for i in range(n))
    nodes = "".join(
        f"  x{i}:\n    estimate: [{i}, {i + 1}, {i + 3}]\n    source: t\n" for i in range(inputs)
    )
    return f"name: long sum\nnodes:\n  total:\n    kind: main\n    formula: {terms}\n{nodes}"


def cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def long_sum(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deep") / "sum.yaml"
    path.write_text(sum_text(TERMS), encoding="utf-8")
    return path


def test_top_down_chain_checks_and_runs(tmp_path, capsys):
    path = tmp_path / "chain.yaml"
    path.write_text(chain_text(DEPTH), encoding="utf-8")
    code, out, err = cli(capsys, "check", path)
    assert code == 0, err
    assert f"{DEPTH} node(s)" in out
    code, out, err = cli(capsys, "run", path, "-n", 1000, "--json", tmp_path / "out.json")
    assert code == 0, err
    mean = json.loads((tmp_path / "out.json").read_text())["nodes"]["n0"]["mean"]
    assert DEPTH - 1 + 1 < mean < DEPTH - 1 + 3  # the estimate [1, 2, 3] moved up by 1 a node


def test_long_cycle_reported_with_its_path(tmp_path, capsys):
    path = tmp_path / "cycle.yaml"
    path.write_text(chain_text(DEPTH, cycle=True), encoding="utf-8")
    code, out, err = cli(capsys, "check", path)
    assert code == 1
    assert "Traceback" not in out + err and "internal error" not in out + err
    [line] = [x for x in out.splitlines() if "error cycle" in x]
    assert f"cycle: n0 -> n{DEPTH - 1} -> n{DEPTH - 2} -> " in line  # arrows: input -> user
    assert len(line) < 1000  # the path is abbreviated, not 2,000 ids long
    assert f"{DEPTH}" in line  # ... but says how many nodes go round


def test_flat_sum_parses_checks_and_runs(long_sum, tmp_path, capsys):
    code, out, err = cli(capsys, "check", long_sum)
    assert code == 0, err
    code, out, err = cli(capsys, "run", long_sum, "-n", 200, "--json", tmp_path / "out.json")
    assert code == 0, err
    mean = json.loads((tmp_path / "out.json").read_text())["nodes"]["total"]["mean"]
    assert np.isfinite(mean)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_flat_sum_draws(long_sum, tmp_path, capsys):
    """The formula in a node's tooltip is cut: Graphviz refuses strings over 16,384 characters."""
    code, out, err = cli(capsys, "draw", long_sum, "-o", tmp_path / "sum.svg")
    assert code == 0, err
    assert (tmp_path / "sum.svg").stat().st_size > 0


def test_flat_sum_equals_the_reference_bit_for_bit(long_sum):
    checked = check(loads(long_sum.read_text(encoding="utf-8"))).raise_for_errors()
    kernel = Simulator(checked).run(n=300, seed=5, keep_samples=True).arrays["total"]
    reference = simulate(checked, 300, 5, ["total"])["total"]
    assert np.array_equal(kernel, reference)  # summed left to right by both


def test_long_chains_of_every_operator_parse_and_print_back():
    for op in ("+", "-", "*", "/"):
        text = f" {op} ".join(f"a{i}" for i in range(TERMS))
        formula = parse_formula(text)
        assert len(formula.names) == TERMS
        assert to_source(formula.expr) == text
    arguments = ", ".join(f"a{i}" for i in range(TERMS))
    assert len(parse_formula(f"max({arguments})").names) == TERMS


@pytest.mark.parametrize(
    "formula",
    [
        "(" * 300 + "a" + ")" * 300,
        "exp(" * 250 + "a" + ")" * 250,
        "-" * 3000 + "a",
        "a ** " * 3000 + "a",
        "a if a > 0 else " * 3000 + "a",
    ],
    ids=["parentheses", "calls", "signs", "powers", "conditionals"],
)
def test_deep_nesting_refused_with_one_line(tmp_path, capsys, formula):
    path = tmp_path / "nested.yaml"
    path.write_text(
        f"name: nested\nnodes:\n  a:\n    value: 1\n    source: s\n"
        f"  total:\n    kind: main\n    formula: '{formula}'\n",
        encoding="utf-8",
    )
    code, out, err = cli(capsys, "check", path)
    assert code == 1
    [line] = [x for x in (out + err).splitlines() if "error" in x and "total" in x]
    assert "nested.yaml:" in line and "'total'" in line
    assert "nesting deeper than 200 levels" in line and "intermediate nodes" in line
    assert len(line) < 400
    assert "Traceback" not in out + err


_FORMULA_PIECES = st.sampled_from(
    [
        "a",
        "b",
        "c1",
        "2",
        "0.5",
        "1e3",
        "+",
        "-",
        "*",
        "/",
        "**",
        "(",
        ")",
        ",",
        "<",
        "<=",
        "==",
        "!=",
        " if ",
        " else ",
        "max(",
        "min(",
        "clip(",
        "exp(",
        "abs(",
        "sqrt(",
        "%",
        "//",
        ".x",
        "[0]",
        "'s'",
        "lambda",
        " and ",
        " not ",
        "@",
        "__x",
        "é",
        "\n",
        "\0",
        ";",
    ]
)


def long_parse(text: str) -> Expr:
    """``text`` through the parser of formulas too deep for Python's (used only for them)."""
    return _LongParser(_Parser(text, {"node": "n", "file": None, "line": None})).parse()


_TEXTS = st.one_of(st.lists(_FORMULA_PIECES, max_size=30).map("".join), st.text(max_size=40))


@settings(max_examples=150, deadline=None)
@given(_TEXTS)
def test_parser_raises_only_its_own_errors(text):
    for parse in (lambda t: parse_formula(t, node="n").expr, long_parse):
        try:
            expr = parse(text)
        except AssumptionGraphError:
            continue
        assert parse_formula(to_source(expr)).expr == expr


@settings(max_examples=150, deadline=None)
@given(_TEXTS)
def test_both_parsers_agree(text):
    """Python's parser and the one for long formulas accept the same formulas, as equal trees."""
    try:
        expected = parse_formula(text).expr
    except AssumptionGraphError:
        with pytest.raises(AssumptionGraphError):
            long_parse(text)
        return
    assert long_parse(text) == expected


_OPERANDS = st.sampled_from(["a", "b", "(a - 2)", "-c", "3", "max(a, -b, 2)", "2 ** -a ** 2"])
_OPERATORS = st.sampled_from([" + ", " - ", " * ", " / ", " < ", " == ", " ** ", " if a else "])


@settings(max_examples=150, deadline=None)
@given(_OPERANDS, st.lists(st.tuples(_OPERATORS, _OPERANDS), max_size=12))
def test_both_parsers_agree_on_valid_formulas(first, rest):
    text = first + "".join(op + operand for op, operand in rest)
    assert long_parse(text) == parse_formula(text).expr


def test_walks_do_not_recurse_over_depth(tmp_path):
    """``check`` and ``run`` with Python's recursion limit far below the model's depth."""
    chain, total = tmp_path / "chain.yaml", tmp_path / "sum.yaml"
    chain.write_text(chain_text(DEPTH), encoding="utf-8")
    total.write_text(sum_text(1000), encoding="utf-8")
    script = (
        "import sys\n"
        "from assumption_graph.cli import main\n"
        "import assumption_graph.compile.kernel\n"
        "sys.setrecursionlimit(200)\n"
        "codes = [main(['check', sys.argv[1]]), main(['run', sys.argv[1], '-n', '100']),\n"
        "         main(['run', sys.argv[2], '-n', '100'])]\n"
        "sys.exit(max(codes))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", script, str(chain), str(total)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Recursion" not in done.stdout + done.stderr


def test_unary_plus_on_a_node_keeps_its_value_for_later_use():
    """``a * +b`` read b in place and then freed b's slot; a later use of b read garbage."""
    checked = check(
        loads(
            "name: plus\nnodes:\n"
            "  b:\n    estimate: [1, 2, 3]\n    source: s\n"
            "  a:\n    estimate: [10, 20, 30]\n    source: s\n"
            "  x:\n    formula: a * +b\n"
            "  y:\n    formula: x + 100\n"
            "  z:\n    kind: main\n    formula: y + b + x\n"
        )
    ).raise_for_errors()
    kernel = Simulator(checked).run(n=50, seed=1, keep_samples=True).arrays["z"]
    assert np.array_equal(kernel, simulate(checked, 50, 1, ["z"])["z"])
