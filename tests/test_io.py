"""Model files in and out: loading, line tracking, every bad input's diagnostic, saving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from assumption_graph.errors import Diagnostic, ModelFileError
from assumption_graph.io import (
    UNREADABLE_CODES,
    dump,
    load,
    loads,
    read_model,
    read_model_text,
    save,
)

MINIMAL = """\
name: Case handling system
nodes:
  hours:
    label: Consultant hours
    estimate: [1200, 1500, 2100]   # low, mid, high  (or {low:, mid:, high:})
    model: triangle
    probabilities: [0.2, 0.6, 0.2]
    unit: h
    source: Supplier offer 2024-03
  rate:
    label: Price per hour
    value: 0.95                     # a constant (t.kr. per hour)
    unit: tkr/h
  consultancy:
    label: Consultancy, analysis phase
    kind: main
    formula: hours * rate
    unit: tkr
"""

MINIMAL_JSON = """\
{
  "name": "Case handling system",
  "nodes": {
    "hours": {
      "label": "Consultant hours",
      "estimate": [1200, 1500, 2100],
      "model": "triangle",
      "probabilities": [0.2, 0.6, 0.2],
      "unit": "h",
      "source": "Supplier offer 2024-03"
    },
    "rate": {"label": "Price per hour", "value": 0.95, "unit": "tkr/h"},
    "consultancy": {
      "label": "Consultancy, analysis phase",
      "kind": "main",
      "formula": "hours * rate",
      "unit": "tkr"
    }
  }
}
"""

RICH = """\
name: Rich
description: Every kind of node
money_unit: mkr
nodes:
  cases: {estimate: {low: 10, mid: 12, high: 20}, unit: cases, favourable: high}
  minutes: {estimate: [5, 6, 9], model: discrete, probabilities: [0.1, 0.7, 0.2]}
  wage: {mean: 0.4, sd: 0.05, unit: tkr/h}
  licence: {mu: 2.0, sigma: 0.3, unit: tkr, unused: true}
  spread: {estimate: [1, 2, 4], model: pert}
  flat: {estimate: [1, 2, 3], model: uniform}
  known: {estimate: [3, 3, 3], model: fixed}
  gain:
    kind: main
    formula: cases * minutes / 60 * wage
    side: gain
    purpose: [efficiency, quality]
    label: "Tidsbesparelse på sagsbehandling"
"""


def only_error(text: str, *, format: str = "yaml") -> Diagnostic:
    """The single diagnostic reading ``text`` gives."""
    _, diagnostics = read_model_text(text, file="m.yaml", format=format)
    assert len(diagnostics) == 1, diagnostics
    assert diagnostics[0].severity == "error"
    assert diagnostics[0].file == "m.yaml"
    return diagnostics[0]


# --- reading valid files ---------------------------------------------------------------


def test_minimal_example_loads_with_kinds_bodies_units_sources_and_lines() -> None:
    model = loads(MINIMAL, file="case.yaml")
    assert model.name == "Case handling system"
    assert model.file == "case.yaml"
    assert model.money_unit == "tkr"
    assert list(model.nodes) == ["hours", "rate", "consultancy"]
    hours, rate, consultancy = model["hours"], model["rate"], model["consultancy"]
    assert (hours.kind, rate.kind, consultancy.kind) == ("uncertain", "constant", "main")
    assert hours.body.name == "triangle"
    assert (hours.body.low, hours.body.mid, hours.body.high) == (1200, 1500, 2100)
    assert hours.body.probabilities == (0.2, 0.6, 0.2)
    assert rate.body.value == 0.95
    assert consultancy.body.text == "hours * rate"
    assert consultancy.inputs == {"hours", "rate"}
    assert (hours.unit, rate.unit, consultancy.unit) == ("h", "tkr/h", "tkr")
    assert hours.source == "Supplier offer 2024-03"
    assert rate.source is None
    assert hours.label == "Consultant hours"
    assert (hours.line, rate.line, consultancy.line) == (3, 10, 14)
    assert hours.line_of("estimate") == 5
    assert hours.line_of("source") == 9
    assert consultancy.line_of("formula") == 17
    assert model.broken == set()


def test_read_model_from_file_uses_stem_as_default_name(tmp_path: Path) -> None:
    path = tmp_path / "my_case.yaml"
    path.write_text(MINIMAL.replace("name: Case handling system\n", ""), encoding="utf-8")
    model, diagnostics = read_model(path)
    assert diagnostics == []
    assert model.name == "my_case"
    assert model.file == str(path)
    assert model["rate"].line == 9


def test_kind_is_inferred_from_the_body() -> None:
    model = loads(
        "nodes:\n"
        "  a: {estimate: [1, 2, 3]}\n"
        "  b: {value: 4}\n"
        "  c: {formula: a + b}\n"
        "  d: {kind: main, formula: c * 2}\n"
        "  e: {kind: main, estimate: [1, 2, 3]}\n"
    )
    kinds = {node.id: node.kind for node in model}
    assert kinds == {
        "a": "uncertain",
        "b": "constant",
        "c": "intermediate",
        "d": "main",
        "e": "main",
    }
    assert model["a"].body.name == "triangle"  # an estimate without a model is a triangle


def test_rich_model_estimates_and_parameterised_models() -> None:
    model = loads(RICH)
    assert model.description == "Every kind of node"
    assert model.money_unit == "mkr"
    cases = model["cases"]
    assert (cases.body.low, cases.body.mid, cases.body.high) == (10, 12, 20)
    assert cases.favourable == "high"
    assert model["minutes"].body.name == "discrete"
    assert model["minutes"].body.probabilities == (0.1, 0.7, 0.2)
    wage = model["wage"].body
    assert (wage.name, wage.mean, wage.sd) == ("normal", 0.4, 0.05)
    licence = model["licence"]
    assert (licence.body.name, licence.body.mu, licence.body.sigma) == ("lognormal", 2.0, 0.3)
    assert licence.unused is True
    assert model["spread"].body.name == "pert"
    assert model["flat"].body.name == "uniform"
    assert model["known"].kind == "constant"
    gain = model["gain"]
    assert (gain.side, gain.purpose) == ("gain", ("efficiency", "quality"))
    assert gain.label == "Tidsbesparelse på sagsbehandling"


def test_json_equivalent_loads_to_an_equal_model_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(MINIMAL_JSON, encoding="utf-8")
    model = load(path)
    assert dump(model) == dump(loads(MINIMAL))
    assert model["hours"].line == 4
    assert model["hours"].line_of("source") == 10
    assert model["consultancy"].line_of("formula") == 16


def test_json_numbers_are_json_numbers_and_tabs_keep_lines() -> None:
    model = loads('{"nodes": {\n\t"a": {"value": 1e5},\n\t"b": {"value": 2}}}', format="json")
    assert model["a"].body.value == 100000.0
    assert model["b"].line == 3


def test_merge_keys_and_aliases_keep_the_lines_where_keys_are_written() -> None:
    model = loads(
        "nodes:\n"
        "  a: &common\n"
        "    estimate: [1, 2, 3]\n"
        "    model: discrete\n"
        "    probabilities: &p [0.1, 0.8, 0.1]\n"
        "  b:\n"
        "    <<: *common\n"
        "    estimate: [4, 5, 6]\n"
        "  c: {estimate: [7, 8, 9], model: discrete, probabilities: *p}\n"
    )
    assert model["b"].body.name == "discrete"
    assert (model["b"].body.low, model["b"].body.probabilities) == (4, (0.1, 0.8, 0.1))
    assert model["b"].line_of("estimate") == 8
    assert model["b"].line_of("model") == 4
    assert model["c"].body.probabilities == (0.1, 0.8, 0.1)


def test_dates_stay_text() -> None:
    assert loads("nodes:\n  a: {value: 1, source: 2024-03-01}\n")["a"].source == "2024-03-01"


# --- dump and save -------------------------------------------------------------------------


def test_dump_writes_only_non_default_keys() -> None:
    data = dump(loads(MINIMAL))
    assert data["name"] == "Case handling system"
    assert "money_unit" not in data and "description" not in data
    assert data["nodes"]["hours"] == {
        "label": "Consultant hours",
        "unit": "h",
        "source": "Supplier offer 2024-03",
        "estimate": [1200.0, 1500.0, 2100.0],
    }
    assert data["nodes"]["rate"] == {"label": "Price per hour", "unit": "tkr/h", "value": 0.95}
    assert list(data["nodes"]["consultancy"]) == ["kind", "label", "unit", "formula"]


def test_dump_of_rich_model_names_every_model() -> None:
    nodes = dump(loads(RICH))["nodes"]
    assert nodes["wage"] == {"unit": "tkr/h", "mean": 0.4, "sd": 0.05}
    assert nodes["licence"] == {"unit": "tkr", "mu": 2.0, "sigma": 0.3, "unused": True}
    assert nodes["minutes"]["model"] == "discrete"
    assert nodes["minutes"]["probabilities"] == [0.1, 0.7, 0.2]
    assert nodes["known"] == {"estimate": [3.0, 3.0, 3.0], "model": "fixed"}
    assert nodes["gain"]["purpose"] == ["efficiency", "quality"]
    assert nodes["cases"]["favourable"] == "high"


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
@pytest.mark.parametrize("text", [MINIMAL, RICH], ids=["minimal", "rich"])
def test_save_then_load_round_trips(tmp_path: Path, suffix: str, text: str) -> None:
    model = loads(text)
    path = tmp_path / f"out{suffix}"
    save(model, path)
    again = load(path)
    assert dump(again) == dump(model)
    assert [n for n in again] == [n for n in model]  # nodes compare by value, not by line
    assert again.money_unit == model.money_unit
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left over


def test_saved_yaml_keeps_unicode_and_key_order(tmp_path: Path) -> None:
    path = tmp_path / "out.yaml"
    save(loads(RICH), path)
    text = path.read_text(encoding="utf-8")
    assert "Tidsbesparelse på sagsbehandling" in text
    assert text.index("name:") < text.index("description:") < text.index("nodes:")
    assert json.loads(json.dumps(yaml.safe_load(text)))["nodes"]["wage"]["sd"] == 0.05


def test_save_leaves_no_file_when_dumping_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_dump(*args: object, **kwargs: object) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(yaml, "safe_dump", broken_dump)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save(loads(MINIMAL), tmp_path / "out.yaml")
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.yaml"
    path.write_text("old\n", encoding="utf-8")

    def failing_replace(src: object, dst: object) -> None:
        raise OSError("no space left")

    monkeypatch.setattr("assumption_graph.io.os.replace", failing_replace)
    with pytest.raises(OSError, match="no space left"):
        save(loads(MINIMAL), path)
    assert path.read_text(encoding="utf-8") == "old\n"
    assert list(tmp_path.iterdir()) == [path]


def test_save_refuses_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"\.yaml, \.yml or \.json"):
        save(loads(MINIMAL), tmp_path / "out.txt")
    assert list(tmp_path.iterdir()) == []


# --- unreadable files ----------------------------------------------------------------------


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    model, diagnostics = read_model(tmp_path / "nope.yaml")
    assert len(model) == 0
    [diagnostic] = diagnostics
    assert diagnostic.code == "unreadable" and diagnostic.code in UNREADABLE_CODES
    assert "not found" in diagnostic.message
    assert diagnostic.file == str(tmp_path / "nope.yaml")


def test_folder_is_unreadable(tmp_path: Path) -> None:
    [diagnostic] = read_model(tmp_path)[1]
    assert diagnostic.code == "unreadable"


def test_non_utf8_file_is_unreadable_with_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("nodes:\n  a: {value: 1, label: Løn}\n".encode("latin-1"))
    [diagnostic] = read_model(path)[1]
    assert diagnostic.code == "unreadable"
    assert diagnostic.line == 2
    assert "UTF-8" in diagnostic.message


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL_JSON.encode("utf-8"))
    assert len(load(path)) == 3


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_empty_file(text: str) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "empty-file"
    assert "empty" in diagnostic.message


@pytest.mark.parametrize("text", ["# just a comment\n# and another\n", "# c\n---\n"])
def test_comment_only_file(text: str) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "empty-file"
    assert "only comments" in diagnostic.message


def test_yaml_syntax_error_has_line_and_column() -> None:
    diagnostic = only_error("name: x\nnodes:\n  a: b: 1\n")
    assert diagnostic.code == "syntax"
    assert diagnostic.line == 3
    assert diagnostic.message.startswith(
        "YAML syntax error: mapping values are not allowed here (column 7)"
    )
    assert "quoted" in diagnostic.message


def test_tab_indentation_hint() -> None:
    diagnostic = only_error("nodes:\n\ta: {value: 1}\n")
    assert diagnostic.code == "syntax"
    assert diagnostic.line == 2
    assert "spaces, not tabs" in diagnostic.message


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n- b\n", "a list"), ("just text\n", "the text 'just text'"), ("~\n", "nothing")],
)
def test_top_level_must_be_a_mapping(text: str, found: str) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "structure"
    assert diagnostic.line == 1
    assert found in diagnostic.message


def test_nodes_missing() -> None:
    diagnostic = only_error("name: x\n")
    assert diagnostic.code == "structure"
    assert "no 'nodes:'" in diagnostic.message


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("name: x\nnodes:\n", "nothing"),
        ("name: x\nnodes: {}\n", "nothing"),
        ("name: x\nnodes:\n  - a\n", "a list"),
        ("name: x\nnodes: 3\n", "a number"),
    ],
)
def test_nodes_empty_or_not_a_mapping(text: str, found: str) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "structure"
    assert diagnostic.line == 2
    assert found in diagnostic.message


# --- errors in nodes and keys ------------------------------------------------------------


def test_duplicate_node_id_names_both_lines_and_keeps_the_first() -> None:
    model, [diagnostic] = read_model_text(
        "nodes:\n  a: {value: 1}\n  b: {value: 2}\n  a: {value: 3}\n", file="m.yaml"
    )
    assert diagnostic.code == "duplicate-node"
    assert (diagnostic.line, diagnostic.node) == (4, "a")
    assert "duplicate node id 'a' (first on line 2)" in diagnostic.message
    assert model["a"].body.value == 1


def test_duplicate_key_inside_a_node() -> None:
    model, [diagnostic] = read_model_text(
        "nodes:\n  hours:\n    estimate: [1, 2, 3]\n    unit: h\n    estimate: [4, 5, 6]\n"
        "  rate: {value: 1}\n"
    )
    assert diagnostic.code == "duplicate-key"
    assert (diagnostic.line, diagnostic.node) == (5, "hours")
    assert "duplicate key 'estimate' (first on line 3)" in diagnostic.message
    assert model.broken == {"hours"}
    assert list(model.nodes) == ["rate"]


def test_duplicate_key_nested_in_an_estimate_mapping() -> None:
    diagnostic = only_error("nodes:\n  a:\n    estimate: {low: 1, mid: 2, low: 3, high: 4}\n")
    assert diagnostic.code == "duplicate-key"
    assert (diagnostic.line, diagnostic.node) == (3, "a")
    assert "duplicate key 'low'" in diagnostic.message


def test_duplicate_top_level_key() -> None:
    diagnostic = only_error("name: a\nnodes:\n  x: {value: 1}\nname: b\n")
    assert diagnostic.code == "duplicate-key"
    assert diagnostic.line == 4
    assert "(first on line 1)" in diagnostic.message


def test_unknown_node_key_suggests_the_right_one() -> None:
    model, [diagnostic] = read_model_text(
        "nodes:\n  hours:\n    label: Hours\n    estimat: [1, 2, 3]\n", file="m.yaml"
    )
    assert diagnostic.code == "node-definition"
    assert (diagnostic.line, diagnostic.node) == (4, "hours")
    assert "unknown key 'estimat'" in diagnostic.message
    assert "did you mean 'estimate'?" in diagnostic.message
    assert model.broken == {"hours"}


def test_unknown_top_level_key_suggests_the_right_one() -> None:
    model, [diagnostic] = read_model_text("nme: Case\nnodes:\n  a: {value: 1}\n")
    assert diagnostic.code == "unknown-key"
    assert diagnostic.line == 1
    assert diagnostic.node is None
    assert "unknown top-level key 'nme'" in diagnostic.message
    assert "did you mean 'name'?" in diagnostic.message
    assert list(model.nodes) == ["a"]  # the rest of the file is still read


def test_business_case_key_is_not_implemented_yet() -> None:
    diagnostic = only_error("nodes:\n  a: {value: 1}\nbusiness_case:\n  purpose: quality\n")
    assert diagnostic.code == "not-implemented"
    assert diagnostic.line == 3
    assert "business-case layer" in diagnostic.message
    assert "not implemented yet" in diagnostic.message


def test_unquoted_flow_formula_with_a_comma_says_to_quote() -> None:
    diagnostic = only_error(
        "nodes:\n  a: {value: 1}\n  b: {value: 2}\n  top: {formula: max(a, b)}\n"
    )
    assert diagnostic.code == "node-definition"
    assert (diagnostic.line, diagnostic.node) == (4, "top")
    assert "unknown key 'b)'" in diagnostic.message
    assert "quote the formula" in diagnostic.message
    assert loads("nodes:\n  a: {value: 1}\n  top: {formula: 'max(a, 2)'}\n")["top"].inputs == {"a"}


@pytest.mark.parametrize("node_id", ["2x", "my-node"])
def test_node_id_must_be_an_identifier(node_id: str) -> None:
    text = f"nodes:\n  ok: {{value: 1}}\n  {node_id}: {{value: 2}}\n"
    model, [diagnostic] = read_model_text(text)
    assert diagnostic.code == "node-definition"
    assert (diagnostic.line, diagnostic.node) == (3, node_id)
    assert "not an identifier" in diagnostic.message
    assert model.broken == {node_id}


@pytest.mark.parametrize(
    ("node_id", "read_as"), [("123", "a number"), ("true", "a yes/no value"), ("no", "yes/no")]
)
def test_node_id_that_yaml_reads_as_a_non_string(node_id: str, read_as: str) -> None:
    text = f"nodes:\n  ok: {{value: 1}}\n  {node_id}: {{value: 2}}\n"
    model, [diagnostic] = read_model_text(text)
    assert diagnostic.code == "node-id"
    assert (diagnostic.line, diagnostic.node) == (3, node_id)
    assert read_as in diagnostic.message
    assert "quote it" in diagnostic.message
    assert model.broken == {node_id}


def test_quoted_yes_no_node_id_is_text() -> None:
    assert list(loads("nodes:\n  'no': {value: 2}\n").nodes) == ["no"]


def test_formula_syntax_error_names_node_and_line() -> None:
    diagnostic = only_error("nodes:\n  a: {value: 1}\n  b:\n    label: B\n    formula: a +* 2\n")
    assert diagnostic.code == "formula-syntax"
    assert (diagnostic.line, diagnostic.node) == (5, "b")
    assert "a +* 2" in diagnostic.message


def test_formula_cannot_call_anything_outside_the_language() -> None:
    diagnostic = only_error("nodes:\n  b: {formula: \"__import__('os').system('x')\"}\n")
    assert diagnostic.code == "formula-syntax"
    assert diagnostic.node == "b"


def test_non_numeric_estimate() -> None:
    diagnostic = only_error("nodes:\n  a:\n    unit: h\n    estimate: [1, two, 3]\n")
    assert diagnostic.code == "node-definition"
    assert (diagnostic.line, diagnostic.node) == (4, "a")
    assert "'estimate' must be a number, got 'two'" in diagnostic.message


def test_empty_node_says_what_to_give() -> None:
    diagnostic = only_error("nodes:\n  a:\n  b: {value: 1}\n")
    assert diagnostic.code == "node-definition"
    assert (diagnostic.line, diagnostic.node) == (2, "a")
    assert "no keys" in diagnostic.message


def test_python_tag_is_rejected_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = (
        "nodes:\n"
        "  ok: {value: 1}\n"
        f'  evil: !!python/object/apply:os.system ["touch {marker}"]\n'
        f'  worse: {{value: !!python/object/apply:os.system ["touch {marker}"]}}\n'
    )
    model, diagnostics = read_model_text(text, file="m.yaml")
    assert [(d.code, d.line, d.node) for d in diagnostics] == [
        ("tag", 3, "evil"),
        ("tag", 4, "worse"),
    ]
    assert "!!python/object/apply:os.system" in diagnostics[0].message
    assert not marker.exists()
    assert list(model.nodes) == ["ok"]
    assert model.broken == {"evil", "worse"}


@pytest.mark.parametrize(
    ("text", "line"),
    [("!!python/object:os.system\nnodes: {}\n", 1), ("nodes: !!set\n  a: {value: 1}\n", 1)],
)
def test_tag_on_the_whole_file_or_on_nodes_is_a_structure_error(text: str, line: int) -> None:
    diagnostic = only_error(text)
    assert (diagnostic.code, diagnostic.line) == ("structure", line)
    assert "unsupported YAML tag '!!" in diagnostic.message


def test_bad_tag_on_a_setting_keeps_the_nodes() -> None:
    model, [diagnostic] = read_model_text("name: !!binary aGk=\nnodes:\n  a: {value: 1}\n")
    assert (diagnostic.code, diagnostic.line) == ("tag", 1)
    assert list(model.nodes) == ["a"]
    assert model.name == ""


def test_recursive_alias_is_an_error_not_a_hang() -> None:
    diagnostic = only_error("nodes:\n  a:\n    estimate: &x [1, *x, 3]\n")
    assert diagnostic.code == "alias"
    assert (diagnostic.line, diagnostic.node) == (3, "a")


def test_alias_bomb_is_refused() -> None:
    lines = ["nodes:", "  a:", "    l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 8)]
    diagnostic = only_error("\n".join(lines) + "\n")
    assert diagnostic.code == "alias"
    assert diagnostic.node == "a"


def test_json_duplicate_keys() -> None:
    text = (
        '{"nodes": {\n  "a": {"value": 1},\n  "b": {"value": 2, "value": 3},\n'
        '  "a": {"value": 4}\n}}'
    )
    model, diagnostics = read_model_text(text, file="m.json", format="json")
    assert [(d.code, d.line, d.node) for d in diagnostics] == [
        ("duplicate-key", 3, "b"),
        ("duplicate-node", 4, "a"),
    ]
    assert "(first on line 3)" in diagnostics[0].message
    assert "(first on line 2)" in diagnostics[1].message
    assert model["a"].body.value == 1


def test_json_syntax_error_has_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"nodes": {\n  "a": {"value": 1}\n  "b": {"value": 2}\n}}', encoding="utf-8")
    [diagnostic] = read_model(path)[1]
    assert diagnostic.code == "syntax"
    assert diagnostic.line == 3
    assert diagnostic.message.startswith("JSON syntax error: Expecting ',' delimiter (column 3)")


def test_bad_setting_value() -> None:
    diagnostic = only_error("name: [a, b]\nnodes:\n  a: {value: 1}\n")
    assert diagnostic.code == "bad-value"
    assert diagnostic.line == 1


def test_read_model_reports_every_problem_in_file_order() -> None:
    model, diagnostics = read_model_text(
        "nme: x\nnodes:\n  a: {estimat: [1, 2, 3]}\n  b: {formula: a +}\n  c: {value: 1}\n"
    )
    assert [(d.code, d.line) for d in diagnostics] == [
        ("unknown-key", 1),
        ("node-definition", 3),
        ("formula-syntax", 4),
    ]
    assert list(model.nodes) == ["c"]
    assert model.broken == {"a", "b"}


# --- strict loading -------------------------------------------------------------------------


def test_load_raises_with_all_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "nodes:\n  a: {estimat: [1, 2, 3]}\n  b: {valu: 1}\n  c: {value: x}\n", encoding="utf-8"
    )
    with pytest.raises(ModelFileError) as caught:
        load(path)
    error = caught.value
    assert [d.line for d in error.diagnostics] == [2, 3, 4]
    assert error.line == 2 and error.node == "a" and error.file == str(path)
    assert str(error).startswith(f"{path}:2: node 'a': unknown key 'estimat'")
    assert str(error).endswith("(+2 more)")


def test_loads_raises_on_unreadable_text() -> None:
    with pytest.raises(ModelFileError, match="syntax error") as caught:
        loads("a: b: c\n")
    assert [d.code for d in caught.value.diagnostics] == ["syntax"]
    assert "more)" not in str(caught.value)


def test_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="format"):
        loads("nodes: {}", format="toml")
