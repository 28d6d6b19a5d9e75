"""What ``check`` says about a model file: numbers as written, warnings only when true,
every bad correlation at its own line, values cut short, undefined correlations as null.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from assumption_graph.cli import main
from assumption_graph.io import loads, read_model_text
from assumption_graph.sensitivity import SensitivityResult, contributions, spearman

CASE_NODES = """\
nodes:
  hours: {estimate: [1, 2, 3], source: s}
  cost: {kind: main, formula: hours * 2, category: external, year: 2025}
"""


def check(capsys: pytest.CaptureFixture[str], path: Path, text: str) -> tuple[int, list[str]]:
    """``check`` on ``text`` written to ``path``: exit code and printed lines."""
    path.write_text(text, encoding="utf-8")
    code = main(["check", str(path)])
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(
    "written", ["1e6", "1E6", "1e-6", "5e-2", "1e308", "-2.5e+3", "1.5E6", ".5e1", "+3e0"]
)
def test_numbers_with_an_exponent_are_numbers(written: str) -> None:
    text = f"nodes:\n  a: {{value: {written}}}\n  b: {{value: 1e309}}\n"
    model, [problem] = read_model_text(text)
    assert model["a"].body.value == float(written)  # type: ignore[union-attr]
    assert problem.message == "'value' must be a finite number, got inf"  # a number, too big


@pytest.mark.parametrize("text", ["1e", "e6", "1e6x", "1_e6", "1e6.5"])
def test_what_only_looks_like_an_exponent_stays_text(text: str) -> None:
    assert loads(f"nodes:\n  a: {{value: 1, label: {text}}}\n")["a"].label == text


def test_a_bad_business_case_does_not_claim_there_is_none(capsys, tmp_path):
    text = "business_case:\n  start_year: 2025\n  discount_rate: high\n" + CASE_NODES
    code, lines = check(capsys, tmp_path / "m.yaml", text)
    assert code == 1
    assert any(":3: error business-case:" in line and "discount_rate" in line for line in lines)
    assert not any("ignored-case-keys" in line for line in lines), lines


def test_without_a_business_case_its_keys_are_still_flagged(capsys, tmp_path):
    code, lines = check(capsys, tmp_path / "m.yaml", CASE_NODES)
    assert any("warning ignored-case-keys" in line for line in lines), lines


def test_nodes_that_all_fail_are_not_called_no_nodes(capsys, tmp_path):
    text = "nodes:\n  a: {valeu: 1}\n  b: {estimate: [1, 2]}\n"
    code, lines = check(capsys, tmp_path / "m.yaml", text)
    assert code == 1
    assert [line.split(" error ")[0] for line in lines if " error " in line] == [
        f"{tmp_path / 'm.yaml'}:2:",
        f"{tmp_path / 'm.yaml'}:3:",
    ]
    assert not any("no nodes" in line for line in lines), lines


BAD_CORRELATIONS = [
    ("[a, b, 0.5]", None),
    ("[a, 3]", "bad-value"),
    ("[a, c, 2]", "correlation-range"),
    ("[a, b, x]", "bad-value"),
    ("[b, zz, 0.1]", "correlation-node"),
    ("{a: b}", "bad-value"),
]
INPUTS = {name: {"estimate": [1, 2, 3], "source": "s"} for name in "abc"}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_every_bad_correlation_is_reported_at_its_own_line(capsys, tmp_path, suffix):
    if suffix == ".yaml":
        entries = "".join(f"  - {entry}\n" for entry, _ in BAD_CORRELATIONS)
        text = (
            "correlations:\n"
            + entries
            + "nodes:\n"
            + "".join(f"  {name}: {{estimate: [1, 2, 3], source: s}}\n" for name in "abc")
        )
        text += "  y: {kind: main, formula: a + b + c}\n"
    else:  # the same entries, one a line
        entries = ",\n".join(
            json.dumps(json_entry)
            for json_entry in (["a", "b", 0.5], ["a", 3], ["a", "c", 2], ["a", "b", "x"])
            + (["b", "zz", 0.1], {"a": "b"})
        )
        nodes = {**INPUTS, "y": {"kind": "main", "formula": "a + b + c"}}
        text = '{"correlations": [\n' + entries + '],\n"nodes": ' + json.dumps(nodes) + "}\n"
    code, lines = check(capsys, tmp_path / f"m{suffix}", text)
    assert code == 1
    errors = [line.split(": error ") for line in lines if ": error " in line]
    expected = [(k + 2, code) for k, (_, code) in enumerate(BAD_CORRELATIONS) if code]
    found = [(int(where.rsplit(":", 1)[1]), what.split(":")[0]) for where, what in errors]
    assert found == expected, lines


def test_an_impossible_set_of_correlations_points_at_its_first_entry(capsys, tmp_path):
    text = (
        "nodes:\n"
        + "".join(f"  {name}: {{estimate: [1, 2, 3], source: s}}\n" for name in "abc")
        + "  y: {kind: main, formula: a + b + c}\n"
        + "correlations:\n  - [a, b, 0.9]\n  - [b, c, 0.9]\n  - [a, c, -0.9]\n"
    )
    code, lines = check(capsys, tmp_path / "m.yaml", text)
    assert [line.split(": error ")[0][-2:] for line in lines if ": error " in line] == [":7"]


def test_a_huge_value_is_cut_in_the_message(capsys, tmp_path):
    text = "nodes:\n  a:\n    estimate: [" + ", ".join(map(str, range(50_000))) + "]\n"
    code, lines = check(capsys, tmp_path / "m.yaml", text)
    assert code == 1
    [error] = [line for line in lines if " error " in line]
    assert "got [0, 1, 2, 3, 4, 5, ...] (50,000 values)" in error
    assert len(error) < 300


def test_a_constant_output_has_no_rank_correlation() -> None:
    """The README: null for anything undefined; an input that does not vary moves nothing."""
    x, constant = np.arange(10.0), np.full(10, 4.0)
    assert math.isnan(spearman(x, constant))
    assert spearman(constant, x) == 0.0
    assert math.isnan(spearman(np.array([1.0, np.nan]), np.array([1.0, 2.0])))  # one pair
    rho = {"a": spearman(x, constant), "b": spearman(x[::-1], constant)}
    result = SensitivityResult("y", 10, 0, "mc", 4.0, (), rho, contributions(rho), None)
    data = json.loads(json.dumps(result.as_dict(), allow_nan=False))
    assert data["rank_correlation"] == {"a": None, "b": None}
    assert data["contribution_to_variance"] == {"a": None, "b": None}


def test_a_long_formula_is_cut_in_the_message(capsys, tmp_path):
    long_name = "b" * 500
    text = f"nodes:\n  {long_name}: {{value: 1, source: s}}\n"
    text += f"  a: {{kind: main, formula: a + {long_name}}}\n"
    code, lines = check(capsys, tmp_path / "m.yaml", text)
    [error] = [line for line in lines if "self-reference" in line]
    assert "its formula 'a + bbbb" in error and "(504 characters)" in error
    assert len(error) < 300


LONG = "q" * 300_000
LONG_TEXTS = {
    "an undefined name": {"y": {"kind": "main", "formula": f"1 + {LONG}"}},
    "a long node id": {LONG: {"value": 1, "source": "s"}, "y": {"kind": "main", "formula": "2"}},
    "a unit": {
        "a": {"value": 1, "source": "s"},
        "y": {"kind": "main", "formula": "a", "unit": LONG},
    },
    "a category": {
        "a": {"value": 1, "source": "s"},
        "y": {"kind": "main", "formula": "a", "side": "cost", "category": LONG},
    },
    "a phase": {
        "a": {"value": 1, "source": "s"},
        "y": {"kind": "main", "formula": "a", "side": "cost", "phase": LONG},
    },
}


@pytest.mark.parametrize("where", LONG_TEXTS)
@pytest.mark.parametrize("form", ["text", "json"])
def test_a_long_name_or_text_from_the_file_is_cut_in_every_message(capsys, tmp_path, where, form):
    """Messages repeat ids, names and texts from the file; a huge one is cut, not repeated."""
    model = {"name": "t", "nodes": LONG_TEXTS[where]}
    if where in ("a category", "a phase"):
        model["business_case"] = {"purpose": LONG, "start_year": 2025, "end_year": 2026}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    code = main(["check", "--format", form, str(path)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    if form == "json":  # the node field names the node in full; the messages are cut
        out = "\n".join(d["message"] for d in json.loads(out)["diagnostics"])
    assert "q" * 200 not in out + err, max(map(len, (out + err).splitlines()))
    assert re.search(r"\(300,00\d characters\)", out), out  # the word, with its quotes
