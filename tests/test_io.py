"""Model files in and out: loading, line tracking, every bad input's diagnostic, saving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph.business import PHASES, PURPOSES, RISK_TYPES
from assumption_graph.errors import Diagnostic, ModelFileError, OutputError
from assumption_graph.io import (
    UNREADABLE_CODES,
    dump,
    load,
    loads,
    read_model,
    read_model_text,
    save,
)
from assumption_graph.model import Model

from . import business_models
from .strategies import input_keys

ROOT = Path(__file__).resolve().parent.parent

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


BUSINESS = """\
name: Business
business_case:
  purpose: efficiency
  secondary_purposes: [quality, compliance]
  start_year: 2025
  end_year: 2028
  discount_rate: 0.04
  price_level: 2024
  high_risk: true
  current_phase: analysis
  phases:
    analysis: [2025-01, 2025-06]
    implementation: [2025-07, 2026-06]
  risks:
    - {id: 1, name: Capacity, probability: 2, consequence: 3, type: organisation}
    - {id: 2, name: Unrated}
  non_economic_gains:
    - {name: Satisfaction, unit: points, before: 3.5, after: 4, purpose: quality}
    - {name: Openness, before: 1, after: 2}
nodes:
  minutes:
    situation:
      without: {estimate: [20, 30, 40], model: pert}
      with: {value: 12}
    unit: min
    risk: [1, 0]
    source: time study
  modules:
    situation: {without: {value: 0}, with: {mean: 3, sd: 0.5}}
  running:
    kind: main
    side: operating
    category: it_services
    years: [2026, 2027, 2028]
    profile: [0.5, 1, 1]
    situation:
      without: {value: 100}
      with: {estimate: [50, 60, 90], model: discrete, probabilities: [0.2, 0.5, 0.3]}
  build:
    kind: main
    side: cost
    category: intangible
    phase: implementation
    formula: minutes * modules
    purpose: efficiency
  study:
    kind: main
    side: cost
    phase: analysis
    year: 2025
    estimate: [10, 20, 30]
    risk: [2]
  saving: {kind: main, side: gain, years: [2027, 2028], value: 40, favourable: high}
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
@pytest.mark.parametrize("text", [MINIMAL, RICH, BUSINESS], ids=["minimal", "rich", "business"])
def test_save_then_load_round_trips(tmp_path: Path, suffix: str, text: str) -> None:
    model = loads(text)
    path = tmp_path / f"out{suffix}"
    save(model, path)
    again = load(path)
    assert dump(again) == dump(model)
    assert_same_model(again, model)  # nodes compare by value, not by line
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left over


def test_saved_yaml_keeps_unicode_and_key_order(tmp_path: Path) -> None:
    path = tmp_path / "out.yaml"
    save(loads(RICH), path)
    text = path.read_text(encoding="utf-8")
    assert "Tidsbesparelse på sagsbehandling" in text
    assert text.index("name:") < text.index("description:") < text.index("nodes:")
    assert json.loads(json.dumps(yaml.safe_load(text)))["nodes"]["wage"]["sd"] == 0.05


def test_dump_writes_the_business_case_and_its_node_keys() -> None:
    data = dump(loads(BUSINESS))
    assert list(data) == ["name", "business_case", "nodes"]
    assert data["business_case"] == {
        "purpose": "efficiency",
        "secondary_purposes": ["quality", "compliance"],
        "start_year": 2025,
        "end_year": 2028,
        "discount_rate": 0.04,
        "price_level": 2024,
        "high_risk": True,
        "current_phase": "analysis",
        "phases": {
            "analysis": ["2025-01", "2025-06"],
            "implementation": ["2025-07", "2026-06"],
        },
        "risks": [
            {
                "id": 1,
                "name": "Capacity",
                "probability": 2,
                "consequence": 3,
                "type": "organisation",
            },
            {"id": 2, "name": "Unrated"},
        ],
        "non_economic_gains": [
            {
                "name": "Satisfaction",
                "unit": "points",
                "before": 3.5,
                "after": 4.0,
                "purpose": "quality",
            },
            {"name": "Openness", "before": 1.0, "after": 2.0},
        ],
    }
    nodes = data["nodes"]
    assert nodes["minutes"] == {
        "unit": "min",
        "source": "time study",
        "situation": {
            "without": {"estimate": [20.0, 30.0, 40.0], "model": "pert"},
            "with": {"value": 12.0},
        },
        "risk": [1, 0],
    }
    assert nodes["modules"] == {
        "situation": {"without": {"value": 0.0}, "with": {"mean": 3.0, "sd": 0.5}}
    }
    assert list(nodes["running"]) == [
        "kind",
        "situation",
        "side",
        "category",
        "years",
        "profile",
    ]
    assert nodes["running"]["side"] == "operating"
    assert nodes["study"]["phase"] == "analysis" and nodes["study"]["year"] == 2025
    assert nodes["saving"]["years"] == [2027, 2028]


def test_dump_leaves_out_business_case_defaults_but_keeps_an_empty_section() -> None:
    model = loads(
        "business_case: {discount_rate: 0.05, high_risk: false}\nnodes:\n  a: {value: 1}\n"
    )
    assert dump(model)["business_case"] == {}
    again = loads(yaml.safe_dump(dump(model)))
    assert again.business_case is not None and again.business_case == model.business_case
    assert "business_case" not in dump(loads("nodes:\n  a: {value: 1}\n"))


def assert_same_model(again: Model, model: Model) -> None:
    """Equal nodes (by value, not by line), business case and settings."""
    assert [n for n in again] == [n for n in model]
    assert again.business_case == model.business_case
    assert (again.name, again.description, again.money_unit) == (
        model.name,
        model.description,
        model.money_unit,
    )


REPO_MODELS = {
    "business": BUSINESS,
    "example": (ROOT / "examples" / "business_case.yaml").read_text(encoding="utf-8"),
    **{
        name.lower(): getattr(business_models, name)
        for name in ("SPREAD", "WEIGHTED", "BEST_WORST", "CRN", "RISKS", "LINEAR")
    },
}


@pytest.mark.parametrize("text", list(REPO_MODELS.values()), ids=list(REPO_MODELS))
def test_dump_then_load_gives_an_equal_business_model(text: str) -> None:
    model = loads(text)
    again = loads(yaml.safe_dump(dump(model), allow_unicode=True, sort_keys=False))
    assert_same_model(again, model)
    assert dump(again) == dump(model)


@st.composite
def months(draw: st.DrawFn) -> str:
    return f"{draw(st.integers(1990, 2100)):04d}-{draw(st.integers(1, 12)):02d}"


NAMES = st.text(st.sampled_from("abcxyzæøå ÆØÅ019-:,'\"#"), max_size=12)
WHOLE = st.integers(-5, 3000)
FINITE = st.floats(-1e6, 1e6, allow_nan=False)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def business_cases() -> st.SearchStrategy[dict[str, Any]]:
    """Any ``business_case:`` section the reader accepts (not only ones ``check`` passes)."""
    purposes = st.sampled_from([*PURPOSES, "other"])
    risk = st.fixed_dictionaries(
        {"id": WHOLE, "name": NAMES},
        optional={
            "probability": maybe(WHOLE),
            "consequence": maybe(WHOLE),
            "type": st.sampled_from([*RISK_TYPES, "", "other"]),
        },
    )
    gain = st.fixed_dictionaries(
        {"name": NAMES, "before": FINITE, "after": FINITE},
        optional={"unit": NAMES, "purpose": maybe(purposes)},
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "purpose": maybe(purposes),
            "secondary_purposes": st.lists(purposes, max_size=3),
            "start_year": maybe(WHOLE),
            "end_year": maybe(WHOLE),
            "discount_rate": st.floats(-0.99, 5, allow_nan=False),
            "finance_rate": maybe(st.floats(-0.99, 5, allow_nan=False)),
            "reinvestment_rate": maybe(st.floats(-0.99, 5, allow_nan=False)),
            "price_level": maybe(WHOLE),
            "high_risk": st.booleans(),
            "current_phase": maybe(st.sampled_from([*PHASES, "later"])),
            "phases": st.dictionaries(
                st.sampled_from(PHASES), st.lists(months(), min_size=2, max_size=2)
            ),
            "risks": st.lists(risk, max_size=3),
            "non_economic_gains": st.lists(gain, max_size=2),
        },
    )


@st.composite
def case_nodes(draw: st.DrawFn) -> dict[str, Any]:
    """A node with any body (a situation of any two inputs too) and any business-case keys."""
    body = draw(
        st.sampled_from(["input", "formula", "situation"]).flatmap(
            lambda kind: {
                "input": input_keys(),
                "formula": st.just({"formula": "a * 2 + b"}),
                "situation": st.tuples(input_keys(), input_keys()).map(
                    lambda pair: {"situation": {"without": pair[0], "with": pair[1]}}
                ),
            }[kind]
        )
    )
    keys = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "kind": st.just("main"),
                "side": st.sampled_from(["cost", "gain", "operating"]),
                "category": st.sampled_from(["staff", "intangible", "other"]),
                "phase": st.sampled_from([*PHASES, "later"]),
                "year": WHOLE,
                "years": st.lists(WHOLE, max_size=3),
                "profile": st.lists(FINITE, max_size=3),
                "risk": st.lists(st.integers(0, 4), max_size=3),
                "purpose": st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=2),
                "favourable": st.sampled_from(["low", "high"]),
                "unit": st.sampled_from(["tkr", "min", "h"]),
                "source": NAMES,
            },
        )
    )
    return {**body, **keys}


@settings(max_examples=60, deadline=None)
@given(
    maybe(business_cases()),
    st.lists(case_nodes(), min_size=1, max_size=4),
)
def test_any_business_model_survives_dump_and_load(
    case: dict[str, Any] | None, nodes: list[dict[str, Any]]
) -> None:
    data: dict[str, Any] = {"name": "random"}
    if case is not None:
        data["business_case"] = case
    data["nodes"] = {f"n{i}": keys for i, keys in enumerate(nodes)}
    model = loads(yaml.safe_dump(data, allow_unicode=True))
    for text in (
        yaml.safe_dump(dump(model), allow_unicode=True, sort_keys=False),
        json.dumps(dump(model)),
    ):
        again = loads(text, format="json" if text.startswith("{") else "yaml")
        assert_same_model(again, model)


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
    with pytest.raises(OutputError, match=f"cannot write {path}: no space left"):
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


def test_business_case_section_is_read_and_a_bad_value_in_it_has_its_line() -> None:
    model = loads("nodes:\n  a: {value: 1}\nbusiness_case:\n  purpose: quality\n")
    assert model.business_case is not None and model.business_case.purpose == "quality"
    diagnostic = only_error("nodes:\n  a: {value: 1}\nbusiness_case:\n  discount_rate: high\n")
    assert diagnostic.code == "business-case"
    assert diagnostic.line == 4
    assert "discount_rate" in diagnostic.message


@pytest.mark.parametrize(
    ("written", "meant"),
    [("finance_rates", "finance_rate"), ("reinvest_rate", "reinvestment_rate")],
)
def test_mirr_rates_are_read_written_and_a_misspelt_one_suggested(written, meant) -> None:
    text = "nodes:\n  a: {value: 1}\nbusiness_case:\n  finance_rate: 0.03\n"
    model = loads(text)
    assert model.business_case is not None
    assert model.business_case.mirr_rates == (0.03, 0.05)  # reinvestment: the discount rate
    assert dump(model)["business_case"] == {"finance_rate": 0.03}  # written back, only if given
    assert loads(yaml.safe_dump(dump(model))).business_case == model.business_case
    diagnostic = only_error(f"nodes:\n  a: {{value: 1}}\nbusiness_case:\n  {written}: 0.03\n")
    assert diagnostic.line == 4
    assert f"did you mean '{meant}'" in diagnostic.message
    diagnostic = only_error("nodes:\n  a: {value: 1}\nbusiness_case:\n  finance_rate: 3 %\n")
    assert diagnostic.line == 4
    assert "'finance_rate' must be a finite number" in diagnostic.message


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
    assert "'estimate' must be a finite number, got 'two'" in diagnostic.message


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
    assert (diagnostic.code, diagnostic.line, diagnostic.node) == ("limit", 8, None)
    assert "more than 1,000,000 values" in diagnostic.message


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
