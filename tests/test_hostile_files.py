"""Hostile model files: memory and time bombs, deep nesting, fuzzed input.

Each bomb goes through ``check`` in a real subprocess, with its address space
capped so that a regression fails with a memory error instead of taking the
machine down, and a timeout that only a hang reaches (the process's own start
counts, measured once). The loader must refuse it with exit 2 and one line
that names the limit and how to raise it. The fuzzing feeds random bytes and
random YAML to the loader: only the package's own diagnostics may come out.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assumption_graph.errors import AssumptionGraphError
from assumption_graph.io import read_model_text

ROOT = Path(__file__).resolve().parent.parent
MEMORY = 2 << 30  # bytes of address space a checking process may take
TIMEOUT = 60.0  # seconds; only a hang (or minutes of work) reaches it, even on a busy machine


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _check(path: Path | str, **env: str) -> tuple[int, str]:
    """``check`` in a subprocess: the exit code and everything it printed."""
    environment = dict(os.environ)
    environment.update(env)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    done = subprocess.run(
        [sys.executable, "-m", "assumption_graph.cli", "check", str(path)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_cap_memory,
    )
    return done.returncode, done.stdout + done.stderr


def _refused(code: int, output: str, *words: str) -> str:
    """The one error line of a refused file; it must hold every word."""
    assert code == 2, output
    assert "Traceback" not in output and "internal error" not in output, output
    lines = [line for line in output.splitlines() if " error " in line or "error:" in line]
    assert len(lines) == 1, output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _only_problem(text: str, format: str = "yaml") -> str:
    """The one diagnostic reading ``text`` in memory gives, as printed."""
    model, diagnostics = read_model_text(text, file="m", format=format)
    assert len(diagnostics) == 1, diagnostics
    assert len(model) == 0
    return str(diagnostics[0])


def _repeats(first: str, line: str, count: int) -> str:
    """An anchored ``first`` line, then ``count`` lines each repeating the one before."""
    return first + "".join(line.format(i=i, j=i - 1) for i in range(1, count + 1))


MERGE_BOMB = "nodes:\n  a: {kind: main, value: 1, source: s}\n" + _repeats(
    "x0: &x0 {a: 1, b: 2}\n", "x{i}: &x{i} {{<<: [*x{j}, *x{j}]}}\n", 40
)
LIST_BOMB = "nodes:\n  a: {kind: main, value: 1, source: s}\n" + _repeats(
    "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n",
    "l{i}: &l{i} [" + ", ".join(["*l{j}"] * 10) + "]\n",
    9,
)


def test_a_merge_key_bomb_is_refused_at_its_line(tmp_path):
    """Each line doubles a mapping: 2**40 keys, never built."""
    path = tmp_path / "bomb.yaml"
    path.write_text(MERGE_BOMB)
    refused = _refused(
        *_check(path), "bomb.yaml:19: error limit: the file holds more than 1,000,000"
    )
    assert "ASSUMPTION_GRAPH_MAX_VALUES=" in refused  # how to raise it


def test_an_alias_bomb_is_refused_where_it_passes_the_limit():
    assert _only_problem(LIST_BOMB).startswith(
        "m:8: error limit: the file holds more than 1,000,000"
    )


def test_a_long_list_is_refused_while_reading(monkeypatch):
    monkeypatch.setenv("ASSUMPTION_GRAPH_MAX_LIST", "1000")
    text = "nodes:\n  a:\n    values: [" + ", ".join(["1"] * 1500) + "]\n"
    assert _only_problem(text) == (
        "m:3: error limit: a list holds more than 1,000 values (limit: ASSUMPTION_GRAPH_MAX_LIST)"
        " (hint: if the file is right, raise the limit, e.g. ASSUMPTION_GRAPH_MAX_LIST=10000)"
    )


def test_a_big_file_is_refused_before_reading_it(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("nodes:\n  a: {kind: main, value: 1, source: s}\n" + "#" * (2 << 20) + "\n")
    _refused(
        *_check(path, ASSUMPTION_GRAPH_MAX_FILE_MB="1"),
        "larger than 1 MB",
        "ASSUMPTION_GRAPH_MAX_FILE_MB",
    )


def test_an_endless_device_is_read_only_up_to_the_limit():
    _refused(*_check("/dev/zero"), "larger than 16 MB", "ASSUMPTION_GRAPH_MAX_FILE_MB")


def test_too_many_values_and_too_many_nodes(monkeypatch):
    text = "nodes:\n" + "".join(f"  n{i}: {{value: {i}}}\n" for i in range(300))  # 1,201 values
    monkeypatch.setenv("ASSUMPTION_GRAPH_MAX_VALUES", "1000")
    problem = _only_problem(text)
    assert problem.startswith("m:251: error limit: the file holds more than 1,000 values")
    assert "(limit: ASSUMPTION_GRAPH_MAX_VALUES)" in problem
    monkeypatch.setenv("ASSUMPTION_GRAPH_MAX_VALUES", "500")  # surely over: refused unread
    assert _only_problem(text).startswith("m: error limit: the file holds more than 500 values")
    monkeypatch.delenv("ASSUMPTION_GRAPH_MAX_VALUES")
    monkeypatch.setenv("ASSUMPTION_GRAPH_MAX_NODES", "200")
    assert _only_problem(text).startswith(
        "m:1: error limit: 'nodes' holds more than 200 nodes (limit: ASSUMPTION_GRAPH_MAX_NODES)"
    )


def test_a_bad_limit_setting_is_named(monkeypatch):
    monkeypatch.setenv("ASSUMPTION_GRAPH_MAX_LIST", "lots")
    problem = _only_problem("nodes:\n  a: {value: 1}\n")
    assert "ASSUMPTION_GRAPH_MAX_LIST must be a whole number above 0, got 'lots'" in problem


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("deep.yaml", "nodes:\n  a:\n    values: " + _nested(500) + "\n", 3),
        ("deep.json", '{"nodes": {\n  "a": {"values": ' + _nested(500) + "}}}\n", 2),
    ],
    ids=["yaml", "json"],
)
def test_deep_nesting_is_refused_with_its_line(tmp_path, name, text, line):
    path = tmp_path / name
    path.write_text(text)
    _refused(*_check(path), f"{name}:{line}: error limit: the file is nested deeper than 64 levels")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("nodes:\n  a:\n" + "".join("  " * (k + 2) + "- \n" for k in range(300)), 65),
        ("nodes:\n  a: {value: 1}\n" + _repeats("l0: &l0 [1]\n", "l{i}: &l{i} [*l{j}]\n", 400), 65),
        ('{"nodes": {"a": {"label": "\x7f"}},\n "x": ' + _nested(300) + "}", None),
    ],
    ids=["block", "alias-chain", "json-yaml-cannot-read"],
)
def test_nesting_through_indentation_aliases_or_json_only(text, line):
    where = "m:" if line is None else f"m:{line}:"
    format = "yaml" if line else "json"
    assert _only_problem(text, format).startswith(
        f"{where} error limit: the file is nested deeper than 64 levels"
    )


# ---------------------------------------------------------------------------- fuzzing

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_TOKENS = "nodes:|\n|  |- |: |&a |*a|<<: |[|]|{|}|, |a|1e6|!!str |'|\"|#|value|? |---|\t".split("|")


def _read_quietly(text: str, format: str) -> None:
    try:
        read_model_text(text, format=format)
    except AssumptionGraphError:
        pass  # the package's own errors may come out; nothing else


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data):
    text = data.decode("utf-8", errors="replace")
    _read_quietly(text, "yaml")
    _read_quietly(text, "json")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents, st.booleans())
def test_fuzz_random_structures(document, as_json):
    if as_json:
        _read_quietly(json.dumps({"nodes": document}), "json")
    else:
        _read_quietly(yaml.safe_dump({"nodes": document}), "yaml")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), max_size=40))
def test_fuzz_yaml_token_soup(tokens):
    _read_quietly("".join(tokens), "yaml")


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("nested", "nested deeper than"),
        ("endless", "larger than 1 MB"),
        ("big", "larger than 1 MB"),
    ],
)
def test_a_hostile_previous_result_is_refused_in_one_line(
    capsys, tmp_path, monkeypatch, kind, says
):
    """--previous reads a second file: the model file's limits hold for it too (/dev/zero was
    read until memory ran out, deep nesting ended in an internal RecursionError)."""
    from assumption_graph.cli import main

    monkeypatch.setenv("ASSUMPTION_GRAPH_MAX_FILE_MB", "1")
    previous = tmp_path / "previous.json"
    if kind == "nested":
        previous.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "big":
        previous.write_text(json.dumps({"key_figures": {}, "pad": "x" * 2_000_000}))
    else:
        previous = Path("/dev/zero")
    model = ROOT / "examples" / "business_case.yaml"
    code = main(["run", str(model), "-n", "100", "--quiet", "--previous", str(previous)])
    err = capsys.readouterr().err
    assert code == 2, err
    [line] = [line for line in err.splitlines() if "error" in line]
    assert says in line and str(previous) in line and "internal" not in line
