"""Tests for the Graphviz diagram: DOT conventions, overview folding, files, contrast."""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph import render
from assumption_graph.business import CATEGORIES, PHASES
from assumption_graph.cli import main
from assumption_graph.errors import Diagnostic, OutputError
from assumption_graph.io import load, loads
from assumption_graph.model import Model
from assumption_graph.render import STYLES, RenderError, diagram, format_number

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' program is not installed")
SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------------------- helpers


@dataclass
class Stmt:
    """One node or edge statement of DOT source, with the clusters around it."""

    attrs: dict[str, str]
    clusters: list[str] = field(default_factory=list)


def _value(text: str, i: int) -> tuple[str, int]:
    """Read one attribute value at ``text[i]``: ``<html>``, ``"quoted"`` or bare."""
    if text[i] == "<":
        depth = 0
        for j in range(i, len(text)):
            depth += {"<": 1, ">": -1}.get(text[j], 0)
            if depth == 0:
                return text[i + 1 : j], j + 1
        raise ValueError(f"unbalanced HTML label in {text!r}")
    if text[i] == '"':
        j = i + 1
        while text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return text[i + 1 : j], j + 1
    j = i
    while j < len(text) and text[j] not in " ]":
        j += 1
    return text[i:j], j


def _attrs(text: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        eq = text.index("=", i)
        key = text[i:eq]
        attrs[key], i = _value(text, eq + 1)
    return attrs


def _unquote(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name


def parse_dot(source: str) -> tuple[dict[str, Stmt], dict[tuple[str, str], Stmt]]:
    """Nodes and edges of DOT source as written by the graphviz package (one per line)."""
    nodes: dict[str, Stmt] = {}
    edges: dict[tuple[str, str], Stmt] = {}
    stack: list[str] = []
    name = r'("(?:[^"\\]|\\.)*"|[\w.]+)'
    for raw in source.splitlines():
        line = raw.strip()
        if match := re.match(r"subgraph (\S+) \{$", line):
            stack.append(match.group(1))
        elif line == "}":
            if stack:
                stack.pop()
        elif match := re.match(rf"{name} -> {name}(?: \[(.*)\])?$", line):
            key = (_unquote(match.group(1)), _unquote(match.group(2)))
            edges[key] = Stmt(_attrs(match.group(3) or ""), list(stack))
        elif match := re.match(rf"{name} \[(.*)\]$", line):
            if match.group(1) in ("graph", "node", "edge"):
                continue
            clusters = [s for s in stack if s.startswith("cluster_")]
            nodes[_unquote(match.group(1))] = Stmt(_attrs(match.group(2)), clusters)
    return nodes, edges


def label_text(label: str) -> str:
    """The visible text of an HTML-like label: tags dropped, line breaks as spaces."""
    text = re.sub(r"<BR/>", " ", label)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


def svg_text(svg: bytes | str) -> str:
    """All text of an SVG, parsed as XML, joined by spaces."""
    root = ET.fromstring(svg)
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text"))


def case_model() -> Model:
    """A small case-handling model with every node kind, sides, purposes and UTF-8."""
    m = Model("Sagsbehandling")
    m.add("cases", estimate=[900, 1000, 1200], unit="stk", label="Antal sager", source="s")
    m.add(
        "minutes",
        estimate=[30, 40, 60],
        model="uniform",
        unit="min",
        label="Sagsbehandlingstid før",
        source="s",
    )
    m.add("wage", value=0.5, unit="tkr/h", label="Timeløn", source="s")
    m.add("hours", formula="cases * minutes / 60", label="Timer i alt")
    m.add(
        "saving",
        kind="main",
        formula="hours * wage",
        side="gain",
        unit="tkr",
        label="Årlige gevinster",
        purpose="efficiency",
    )
    m.add(
        "licence",
        kind="main",
        estimate=[100, 120, 150],
        side="cost",
        unit="tkr",
        label="Licens",
        source="s",
        purpose=["efficiency", "quality"],
    )
    m.add(
        "training",
        kind="main",
        value=40,
        unit="tkr",
        label="Uddannelse",
        source="s",
        purpose="compliance",
    )
    m.add("net", formula="saving - licence - training", label="Netto")
    return m


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@dataclass
class FakeSummary:
    expected: float | None
    mean: float | None
    percentiles: Mapping[float, float | None]


class FakeResult:
    """The interface ``--show results`` reads: ``result[node_id]`` -> summary."""

    def __init__(self, summaries: dict[str, FakeSummary]) -> None:
        self.summaries = summaries

    def __getitem__(self, node_id: str) -> FakeSummary:
        return self.summaries[node_id]


# ---------------------------------------------------------------------------- DOT conventions


EXPECTED = {
    # node id: (fill, font, shape, clusters, a border trait)
    "cases": ("#6d4c41", "#ffffff", "ellipse", [], ("style", "dashed")),
    "minutes": ("#6d4c41", "#ffffff", "ellipse", [], ("style", "dashed")),
    "wage": ("#e0e0e0", "#000000", "ellipse", [], ("style", "dotted")),
    "hours": ("#bbdefb", "#000000", "ellipse", [], ("style", "filled")),
    "net": ("#bbdefb", "#000000", "ellipse", [], ("style", "filled")),
    "saving": (
        "#1b5e20",
        "#ffffff",
        "ellipse",
        ["cluster_business_case", "cluster_gains"],
        ("peripheries", "2"),
    ),
    "licence": (
        "#a5d6a7",
        "#000000",
        "ellipse",
        ["cluster_business_case", "cluster_costs"],
        ("style", "bold"),
    ),
    "training": ("#a5d6a7", "#000000", "ellipse", ["cluster_main"], ("style", "bold")),
}


@pytest.mark.parametrize("node_id", sorted(EXPECTED))
def test_each_node_kind_has_its_shape_colour_and_cluster(node_id: str) -> None:
    nodes, _ = parse_dot(diagram(case_model()).source)
    fill, font, shape, clusters, (key, trait) = EXPECTED[node_id]
    stmt = nodes[node_id]
    assert stmt.attrs["fillcolor"] == fill
    assert stmt.attrs["fontcolor"] == font
    assert stmt.attrs["shape"] == shape
    assert stmt.clusters == clusters
    assert trait in stmt.attrs[key].split(",")
    assert "filled" in stmt.attrs["style"].split(",")


def test_graph_flows_left_to_right_with_dependency_edges() -> None:
    dot = diagram(case_model())
    assert "rankdir=LR" in dot.source
    _, edges = parse_dot(dot.source)
    for edge in [
        ("cases", "hours"),
        ("minutes", "hours"),
        ("hours", "saving"),
        ("wage", "saving"),
        ("saving", "net"),
        ("licence", "net"),
    ]:
        assert edge in edges
    assert ("net", "hours") not in edges


def test_business_case_cluster_is_shaded_and_main_cluster_plain() -> None:
    source = diagram(case_model()).source
    block = source.split("subgraph cluster_business_case {", 1)[1].splitlines()[1]
    assert 'label="Business case"' in block and "filled" in block and "fillcolor=" in block
    main = source.split("subgraph cluster_main {", 1)[1].splitlines()[1]
    assert 'label="Main assumptions"' in main and "fillcolor" not in main
    assert "subgraph cluster_costs {" in source and "subgraph cluster_gains {" in source


def test_nodes_without_side_get_no_business_case_cluster() -> None:
    m = Model("x")
    m.add("a", estimate=[1, 2, 3])
    m.add("total", kind="main", formula="a * 2")
    source = diagram(m).source
    assert "cluster_business_case" not in source
    nodes, _ = parse_dot(source)
    assert nodes["total"].clusters == ["cluster_main"]


def test_legend_cluster_shows_each_type_used_with_the_same_style() -> None:
    nodes, _ = parse_dot(diagram(case_model()).source)
    legend = {k: v for k, v in nodes.items() if v.clusters == ["cluster_legend"]}
    assert set(legend) == {
        "legend.main_formula",
        "legend.main_value",
        "legend.uncertain",
        "legend.intermediate",
        "legend.constant",
        "legend.purpose_primary",
        "legend.purpose_secondary",
    }
    for node_id, stmt in legend.items():
        style = STYLES[node_id.removeprefix("legend.")]
        assert stmt.attrs["fillcolor"] == style.fillcolor
        assert stmt.attrs["style"] == style.style
    assert "with sub-assumptions" in label_text(legend["legend.main_formula"].attrs["label"])


def test_purposes_are_hexagons_on_the_right_with_the_primary_emphasised() -> None:
    source = diagram(case_model()).source
    nodes, edges = parse_dot(source)
    purposes = {k: v for k, v in nodes.items() if k.startswith("purpose.")}
    assert set(purposes) == {"purpose.efficiency", "purpose.quality", "purpose.compliance"}
    assert all(p.attrs["shape"] == "hexagon" for p in purposes.values())
    # efficiency is named by two main nodes: it is the primary purpose
    primary = purposes["purpose.efficiency"].attrs
    assert float(primary["penwidth"]) >= 3 and "bold" in primary["style"]
    assert "primary purpose" in label_text(primary["label"])
    for secondary in ("purpose.quality", "purpose.compliance"):
        assert float(purposes[secondary].attrs["penwidth"]) < 3
        assert "secondary purpose" in label_text(purposes[secondary].attrs["label"])
    assert re.search(r"subgraph purposes \{\s*rank=sink", source)
    for edge in [
        ("saving", "purpose.efficiency"),
        ("licence", "purpose.efficiency"),
        ("licence", "purpose.quality"),
        ("training", "purpose.compliance"),
    ]:
        assert edge in edges
    assert ("hours", "purpose.efficiency") not in edges


def test_primary_purpose_ties_go_by_efficiency_quality_compliance() -> None:
    m = Model("x")
    m.add("a", kind="main", value=1, purpose="compliance")
    m.add("b", kind="main", value=2, purpose="quality")
    nodes, _ = parse_dot(diagram(m).source)
    assert "bold" in nodes["purpose.quality"].attrs["style"]
    assert "bold" not in nodes["purpose.compliance"].attrs["style"]


def test_model_without_purposes_draws_no_hexagons() -> None:
    m = Model("x")
    m.add("a", kind="main", value=1)
    assert "hexagon" not in diagram(m).source


CASE = """\
name: Case
business_case:
  purpose: quality
  secondary_purposes: [compliance]
  start_year: 2025
  end_year: 2027
nodes:
  minutes:
    label: Minutes
    situation:
      without: {estimate: [20, 30, 40]}
      with: {value: 12}
    unit: min
    source: s
  modules:
    situation: {without: {value: 0}, with: {value: 3}}
    source: s
  running:
    kind: main
    side: operating
    years: [2026, 2027]
    formula: minutes * modules
    purpose: efficiency
  build: {kind: main, side: cost, year: 2025, value: 100, source: s, purpose: efficiency}
  saving: {kind: main, side: gain, year: 2026, value: 50, source: s, purpose: quality}
"""


def test_operating_main_nodes_have_their_own_cluster_in_the_business_case() -> None:
    source = diagram(loads(CASE)).source
    nodes, edges = parse_dot(source)
    assert nodes["running"].clusters == ["cluster_business_case", "cluster_operating"]
    assert nodes["build"].clusters == ["cluster_business_case", "cluster_costs"]
    assert nodes["saving"].clusters == ["cluster_business_case", "cluster_gains"]
    block = source.split("subgraph cluster_operating {", 1)[1].splitlines()[1]
    assert re.search(r'label="?Operating"? ', block)
    assert f'fillcolor="{render.CLUSTER_FILLS["operating"]}"' in block
    assert ("minutes", "running") in edges and ("modules", "running") in edges


def test_primary_purpose_is_the_business_cases_and_its_purposes_are_drawn() -> None:
    nodes, edges = parse_dot(diagram(loads(CASE)).source)
    # efficiency is named by two main nodes, quality by one: the case's purpose wins
    assert "bold" in nodes["purpose.quality"].attrs["style"]
    assert "primary purpose" in label_text(nodes["purpose.quality"].attrs["label"])
    assert "bold" not in nodes["purpose.efficiency"].attrs["style"]
    # the secondary purpose is drawn though no main node names it
    assert "secondary purpose" in label_text(nodes["purpose.compliance"].attrs["label"])
    assert edges[("saving", "purpose.quality")].attrs["penwidth"] == "2"
    assert edges[("build", "purpose.efficiency")].attrs["style"] == "dashed"


def test_business_case_without_purpose_has_no_primary_purpose() -> None:
    text = CASE.replace("  purpose: quality\n  secondary_purposes: [compliance]\n", "")
    nodes, _ = parse_dot(diagram(loads(text)).source)
    purposes = {k: v for k, v in nodes.items() if k.startswith("purpose.")}
    assert set(purposes) == {"purpose.efficiency", "purpose.quality"}
    assert all("secondary purpose" in label_text(p.attrs["label"]) for p in purposes.values())


def test_situation_nodes_show_both_estimates() -> None:
    model = loads(CASE)
    nodes, _ = parse_dot(diagram(model, show="estimates").source)
    text = {k: label_text(v.attrs["label"]) for k, v in nodes.items()}
    assert text["minutes"] == "Minutes without: 20 / 30 / 40 min, triangle with: 12 min"
    assert text["modules"] == "modules without: 0 with: 3"
    assert "<I>without:</I>" in nodes["minutes"].attrs["label"]
    assert nodes["minutes"].attrs["fillcolor"] == STYLES["uncertain"].fillcolor
    assert nodes["modules"].attrs["fillcolor"] == STYLES["constant"].fillcolor
    assert "without and with the project" in nodes["minutes"].attrs["tooltip"]
    plain, _ = parse_dot(diagram(model).source)
    assert label_text(plain["minutes"].attrs["label"]) == "Minutes"


def test_business_case_with_findings_draws_with_check() -> None:
    text = CASE.replace("year: 2025, value: 100", "value: 100")  # build: no period
    nodes, _ = parse_dot(diagram(loads(text), check=True).source)
    assert nodes["build"].attrs["color"] == render.ERROR_COLOR
    assert "no-period" in nodes["build"].attrs["tooltip"]


def test_labels_are_wrapped_and_html_escaped() -> None:
    m = Model("R&D")
    long = 'R&D <costs> for the "new" case handling system'
    m.add("rd", kind="main", value=1, label=long)
    nodes, _ = parse_dot(diagram(m).source)
    label = nodes["rd"].attrs["label"]
    assert "R&amp;D &lt;costs&gt;" in label
    assert "<costs>" not in label
    lines = re.sub(r"</?B>", "", label).split("<BR/>")
    assert len(lines) > 1
    assert all(len(label_text(line)) <= render.WRAP for line in lines)
    assert label_text(label) == long


def test_nodes_named_like_dot_keywords_are_quoted() -> None:
    m = Model("x")
    m.add("node", estimate=[1, 2, 3])
    m.add("graph", kind="main", formula="node + 1")
    nodes, edges = parse_dot(diagram(m).source)
    assert {"node", "graph"} <= set(nodes)
    assert ("node", "graph") in edges


def test_unknown_formula_names_do_not_crash_rendering() -> None:
    m = Model("x")
    m.add("a", estimate=[1, 2, 3])
    m.add("total", kind="main", formula="a + missing_thing")
    nodes, edges = parse_dot(diagram(m).source)
    assert set(nodes) >= {"a", "total"}
    assert all("missing_thing" not in n for n in nodes)
    # in check mode the missing name is drawn, marked, where it is used
    nodes, edges = parse_dot(diagram(m, check=True).source)
    assert "missing.missing_thing" in nodes
    assert ("missing.missing_thing", "total") in edges
    assert nodes["total"].attrs["color"] == render.ERROR_COLOR


def test_a_missing_name_used_twice_is_drawn_once_and_failed_loads_say_so() -> None:
    m = Model("x")
    m.add("a", kind="main", formula="broken * 2")
    m.add("b", kind="main", formula="broken + 1")
    found = [Diagnostic("error", "formula", "bad formula text", node="broken")]
    source = diagram(m, diagnostics=found).source
    assert source.count('"missing.broken" [') == 1
    nodes, edges = parse_dot(source)
    assert {("missing.broken", "a"), ("missing.broken", "b")} <= set(edges)
    assert "could not be read" in label_text(nodes["missing.broken"].attrs["label"])


def test_awkward_model_names_still_make_valid_dot() -> None:
    """The name is never a DOT id (a name like ``<x>`` would be taken for HTML there):
    the graph's id is fixed, and the name is shown, escaped, in the title label."""
    m = Model('Sag "A" \\ B\\ <x>')
    m.add("a", kind="main", value=1)
    source = diagram(m).source
    assert source.splitlines()[0] == f"digraph {render.GRAPH_ID} {{"
    assert "<B>Sag &quot;A&quot; \\ B\\ &lt;x&gt;</B>" in source
    if HAS_DOT:
        assert 'Sag "A" \\ B\\ <x>' in svg_text(diagram(m).pipe(format="svg"))


# ---------------------------------------------------------------------------- overview


def overview_model() -> Model:
    m = Model("x")
    m.add("a", estimate=[1, 2, 3])
    m.add("b", value=2)
    m.add("c", estimate=[1, 2, 3])
    m.add("i", formula="b * c")
    m.add("shared", value=3)
    m.add("main1", kind="main", formula="a + i + shared", side="cost", purpose="efficiency")
    m.add("main2", kind="main", formula="shared * 2", side="gain", purpose="efficiency")
    m.add("main3", kind="main", value=5)
    m.add("bridge", formula="main1 * 2")
    m.add("main4", kind="main", formula="bridge + main3")
    m.add("total", formula="main1 + main2 + main4")
    m.add("spare", value=1, unused=True)
    return m


def test_overview_folds_exactly_the_sub_assumptions() -> None:
    nodes, edges = parse_dot(diagram(overview_model(), level="overview").source)
    drawn = {k for k in nodes if not k.startswith(("legend.", "purpose."))}
    assert drawn == {"main1", "main2", "main3", "main4", "bridge", "total"}
    labels = {k: label_text(nodes[k].attrs["label"]) for k in drawn}
    assert labels["main1"].endswith("+5 sub-assumptions")  # a, b, c, i, shared
    assert labels["main2"].endswith("+1 sub-assumption")  # shared
    assert "sub-assumption" not in labels["main3"]
    assert "sub-assumption" not in labels["main4"]  # bridge and main3 stay visible
    assert "sub-assumption" not in labels["total"]
    assert set(edges) == {
        ("main1", "bridge"),
        ("bridge", "main4"),
        ("main3", "main4"),
        ("main1", "total"),
        ("main2", "total"),
        ("main4", "total"),
        ("main1", "purpose.efficiency"),
        ("main2", "purpose.efficiency"),
    } | {e for e in edges if e[0].startswith("legend.")}
    # main nodes keep their style and clusters
    assert nodes["main1"].clusters == ["cluster_business_case", "cluster_costs"]
    assert nodes["main1"].attrs["fillcolor"] == "#1b5e20"


def test_detail_shows_every_node_without_fold_counts() -> None:
    m = overview_model()
    nodes, _ = parse_dot(diagram(m, level="detail").source)
    assert set(m.nodes) <= set(nodes)
    assert "sub-assumption" not in " ".join(
        label_text(s.attrs["label"]) for k, s in nodes.items() if not k.startswith("legend.")
    )


def test_overview_marks_a_main_node_whose_folded_inputs_have_findings() -> None:
    m = overview_model()
    found = [Diagnostic("error", "estimate-order", "bad", node="c")]
    nodes, _ = parse_dot(diagram(m, level="overview", diagnostics=found).source)
    assert nodes["main1"].attrs["color"] == render.ERROR_COLOR
    assert nodes["main2"].attrs["color"] != render.ERROR_COLOR


# ---------------------------------------------------------------------------- --show


def test_show_estimates_adds_unit_three_points_and_model() -> None:
    m = case_model()
    m.add("p", estimate=[1, 2, 3], model="discrete", probabilities=[0.3, 0.4, 0.3], unused=True)
    nodes, _ = parse_dot(diagram(m, show={"estimates"}).source)
    text = {k: label_text(v.attrs["label"]) for k, v in nodes.items()}
    assert text["cases"] == "Antal sager 900 / 1,000 / 1,200 stk triangle"
    assert text["minutes"].endswith("30 / 40 / 60 min uniform")
    assert text["wage"] == "Timeløn 0.5 tkr/h"
    assert text["saving"] == "Årlige gevinster [tkr]"
    assert "discrete (0.3 / 0.4 / 0.3)" in text["p"]
    plain, _ = parse_dot(diagram(m).source)
    assert label_text(plain["cases"].attrs["label"]) == "Antal sager"


def test_show_results_adds_expected_p50_and_p10_p90() -> None:
    pct = {
        5.0: 1250.6,
        10.0: 1296.0,
        25.0: 1386.9,
        50.0: 1501.2,
        70.0: 1612.8,
        75.0: 1646.1,
        80.0: 1682.7,
        90.0: 1774.0,
        95.0: 1839.1,
    }
    results = FakeResult({"saving": FakeSummary(expected=1482.3, mean=1520.3, percentiles=pct)})
    nodes, _ = parse_dot(diagram(case_model(), show="estimates,results", results=results).source)
    text = label_text(nodes["saving"].attrs["label"])
    assert "expected 1,480" in text
    assert "P50 1,500" in text
    assert "P10–P90 1,300 – 1,770" in text
    assert "expected" not in label_text(nodes["licence"].attrs["label"])  # not in the result


def test_show_results_needs_a_result_and_show_names_are_checked() -> None:
    with pytest.raises(RenderError, match="simulation result"):
        diagram(case_model(), show={"results"})
    with pytest.raises(RenderError, match="estimates, results"):
        diagram(case_model(), show={"estimate"})
    with pytest.raises(RenderError, match="detail, overview"):
        diagram(case_model(), level="summary")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (0.95, "0.95"),
        (1.5, "1.5"),
        (12.345, "12.3"),
        (-12.345, "-12.3"),
        (999.7, "1,000"),
        (1234.0, "1,230"),
        (1_234_567.0, "1,230,000"),
        (-2_500_000.0, "-2,500,000"),
        (0.000012345, "1.23e-05"),
        (float("nan"), "NaN"),
        (float("inf"), "∞"),
    ],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


# ---------------------------------------------------------------------------- --check


def test_check_outlines_errors_red_and_warnings_orange() -> None:
    found = [
        Diagnostic("warning", "missing-source", "no source", node="cases"),
        Diagnostic("error", "estimate-order", "bad", node="minutes"),
        Diagnostic("warning", "missing-source", "no source", node="minutes"),
        Diagnostic("warning", "no-main", "no node"),
    ]
    dot = diagram(case_model(), diagnostics=found)
    nodes, _ = parse_dot(dot.source)
    assert nodes["cases"].attrs["color"] == render.WARNING_COLOR == "#ff8f00"
    assert nodes["minutes"].attrs["color"] == render.ERROR_COLOR
    assert float(nodes["cases"].attrs["penwidth"]) == 3
    assert float(nodes["minutes"].attrs["penwidth"]) == 3
    assert nodes["wage"].attrs["color"] == STYLES["constant"].color
    assert "check: 1 error, 3 warnings" in dot.source
    assert "estimate-order" in nodes["minutes"].attrs["tooltip"]


def test_check_true_runs_the_validator() -> None:
    m = case_model()
    m.add("nosource", estimate=[1, 2, 3], unused=True)  # missing-source: a warning
    nodes, _ = parse_dot(diagram(m, check=True).source)
    assert nodes["nosource"].attrs["color"] == render.WARNING_COLOR
    assert nodes["cases"].attrs["color"] == STYLES["uncertain"].color  # clean


def cyclic_model() -> Model:
    m = Model("cyclic")
    m.add("x", estimate=[1, 2, 3], source="s")
    m.add("a", formula="x + c")
    m.add("b", formula="a * 2")
    m.add("c", formula="b - 1")
    m.add("s", formula="s + 1")  # self-reference
    m.add("total", kind="main", formula="c + s")
    return m


def test_cyclic_model_renders_with_cycle_edges_marked() -> None:
    nodes, edges = parse_dot(diagram(cyclic_model(), check=True).source)
    for edge in [("c", "a"), ("a", "b"), ("b", "c"), ("s", "s")]:
        assert edges[edge].attrs["color"] == render.ERROR_COLOR
        assert float(edges[edge].attrs["penwidth"]) >= 3
        assert "bold" in edges[edge].attrs["style"]
    for edge in [("x", "a"), ("c", "total"), ("s", "total")]:
        assert "color" not in edges[edge].attrs
    assert nodes["s"].attrs["color"] == render.ERROR_COLOR  # self-reference
    cycle_nodes = [n for n in "abc" if nodes[n].attrs["color"] == render.ERROR_COLOR]
    assert cycle_nodes  # the diagnostic names one node on the cycle
    assert render.cycle_edges(cyclic_model().graph) == {
        ("c", "a"),
        ("a", "b"),
        ("b", "c"),
        ("s", "s"),
    }


def test_cycle_edges_are_plain_without_check() -> None:
    _, edges = parse_dot(diagram(cyclic_model()).source)
    assert "color" not in edges[("a", "b")].attrs


@needs_dot
def test_cyclic_model_renders_to_svg(tmp_path: Path) -> None:
    out = render.render(cyclic_model(), tmp_path / "cycle.svg", check=True)
    root = ET.parse(out).getroot()
    strokes = {p.get("stroke") for p in root.iter(f"{SVG}path")}
    assert render.ERROR_COLOR in strokes


# ---------------------------------------------------------------------------- files


@needs_dot
def test_svg_parses_as_xml_and_contains_every_visible_label(tmp_path: Path) -> None:
    m = case_model()
    m.add("graph", kind="main", value=1, label="Øvrige omkostninger & <andet>")
    out = render.render(m, tmp_path / "diagram.svg")
    text = svg_text(out.read_bytes())
    for node in m:
        assert node.display_label in text
    for label in (
        "Sagsbehandlingstid før",
        "Årlige gevinster",
        "Timeløn",
        "Legend",
        "Business case",
        "Costs",
        "Gains",
        "Efficiency",
        "Sagsbehandling",
    ):
        assert label in text


@needs_dot
def test_overview_svg_contains_fold_counts(tmp_path: Path) -> None:
    out = render.render(overview_model(), tmp_path / "o.svg", level="overview")
    text = svg_text(out.read_bytes())
    assert "+5 sub-assumptions" in text and "+1 sub-assumption" in text


MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph"}


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_each_format_is_written_by_extension(fmt: str, tmp_path: Path) -> None:
    if fmt != "dot" and not HAS_DOT:
        pytest.skip("Graphviz 'dot' program is not installed")
    out = render.render(case_model(), tmp_path / f"diagram.{fmt}", show="estimates")
    assert out == tmp_path / f"diagram.{fmt}"
    assert out.read_bytes().startswith(MAGIC[fmt])
    assert os.listdir(tmp_path) == [f"diagram.{fmt}"]  # no temporary file left


def test_dot_source_is_utf8_and_matches_diagram(tmp_path: Path) -> None:
    out = render.render(case_model(), tmp_path / "d.DOT", level="overview")
    text = out.read_text(encoding="utf-8")
    assert text == diagram(case_model(), level="overview").source
    assert "Årlige gevinster" in text


@needs_dot
def test_format_option_overrides_the_extension(tmp_path: Path) -> None:
    out = render.render(case_model(), tmp_path / "diagram", format="PNG")
    assert out.read_bytes().startswith(b"\x89PNG")


def test_without_dot_program_dot_works_and_others_say_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    render.render(case_model(), tmp_path / "d.dot")
    with pytest.raises(RenderError) as info:
        render.render(case_model(), tmp_path / "d.svg")
    message = str(info.value)
    assert "\n" not in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert ".dot" in message
    assert os.listdir(tmp_path) == ["d.dot"]


def test_executable_not_found_is_a_render_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # dot vanished since
    with pytest.raises(RenderError, match="install graphviz"):
        render.render(case_model(), tmp_path / "d.pdf")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["diagram.jpg", "diagram.txt", "diagram"])
def test_unknown_format_fails_cleanly(name: str, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="svg, png, pdf, dot"):
        render.render(case_model(), tmp_path / name)
    with pytest.raises(RenderError, match="svg, png, pdf, dot"):
        render.render(case_model(), tmp_path / "diagram.svg", format="gif")
    assert os.listdir(tmp_path) == []


def test_bad_path_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        render.render(case_model(), tmp_path / "no" / "such" / "diagram.dot")
    (tmp_path / "folder.svg").mkdir()
    with pytest.raises(OutputError, match="folder"):
        render.render(case_model(), tmp_path / "folder.svg")
    assert os.listdir(tmp_path) == ["folder.svg"]
    assert os.listdir(tmp_path / "folder.svg") == []


def test_failed_write_leaves_no_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "diagram.dot"
    target.write_text("old")

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OutputError, match="No space left"):
        render.render(case_model(), target)
    assert os.listdir(tmp_path) == ["diagram.dot"]
    assert target.read_text() == "old"


@needs_dot
def test_repr_svg_returns_svg_text() -> None:
    svg = case_model()._repr_svg_()
    assert isinstance(svg, str)
    assert ET.fromstring(svg).tag == f"{SVG}svg"
    assert "Årlige gevinster" in svg_text(svg)


# ---------------------------------------------------------------------------- legibility


def test_text_and_fill_contrast_is_at_least_4_5() -> None:
    for key, style in STYLES.items():
        ratio = contrast(style.fontcolor, style.fillcolor)
        assert ratio >= 4.5, f"{key}: {style.fontcolor} on {style.fillcolor} is {ratio:.2f}"
    for key, fill in render.CLUSTER_FILLS.items():
        assert contrast("#000000", fill) >= 4.5, key
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_types_differ_by_border_as_well_as_colour() -> None:
    """Greyscale print and colour-blind readers tell types apart by the border."""
    kinds = ["main_formula", "main_value", "uncertain", "intermediate", "constant"]
    borders = {
        (STYLES[k].style, STYLES[k].peripheries, STYLES[k].penwidth, STYLES[k].shape) for k in kinds
    }
    assert len(borders) == len(kinds)


def big_model(groups: int = 50) -> Model:
    """About 300 connected nodes: shared inputs, chained intermediates, long labels."""
    m = Model("Stor model")
    m.add("wage", value=400, label="Timeløn for sagsbehandlere", source="s")
    for i in range(groups):
        m.add(f"u{i}a", estimate=[1, 2, 3], label=f"Antal sager pr. år i område {i}")
        m.add(f"u{i}b", estimate=[10, 12, 15], label=f"Minutter pr. sag før {i}")
        m.add(f"u{i}c", estimate=[0.1, 0.2, 0.4], model="uniform")
        m.add(f"c{i}", value=0.5, label=f"Andel {i}")
        previous = f" + m{i - 1}" if i else ""
        m.add(f"m{i}", formula=f"u{i}a * u{i}b / 60 * c{i} * wage{previous}")
        m.add(
            f"main{i}",
            kind="main",
            formula=f"m{i} * u{i}c",
            side=("cost", "gain")[i % 2],
            purpose=("efficiency", "quality", "compliance")[i % 3],
            label=f"Årlig gevinst i område {i}",
        )
    return m


@needs_dot
def test_300_node_model_renders(tmp_path: Path) -> None:
    m = big_model()
    assert len(m) >= 300
    out = render.render(m, tmp_path / "big.svg", show="estimates", check=True)
    root = ET.parse(out).getroot()
    drawn = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    assert len(drawn) >= 300


def test_render_module_does_not_import_later_stages() -> None:
    """render may use define/validate stages only; results come in as an argument."""
    tree = ast.parse(Path(render.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    later = {"compile", "run", "results", "report", "cli", "numba"}
    assert not {name.split(".")[-1] for name in imported} & later, imported
    assert not any(name.startswith(("numba", "matplotlib")) for name in imported)


# ---------------------------------------------------------------------------- --group

EXAMPLE_CASE = Path(__file__).resolve().parents[1] / "examples" / "business_case.yaml"

GROUPED = """\
name: Grouped
business_case: {purpose: efficiency, start_year: 2025, end_year: 2027}
nodes:
  hours: {estimate: [10, 12, 15], source: s}
  spec: {kind: main, side: cost, phase: specification, category: other_services,
         formula: hours * 2, year: 2025}
  study: {kind: main, side: cost, phase: analysis, category: staff, value: 5, year: 2025}
  build: {kind: main, side: cost, phase: implementation, category: intangible,
          value: 50, year: 2026}
  kit: {kind: main, side: cost, category: tangible, value: 20, year: 2026}
  running: {kind: main, side: operating, category: it_services, value: 8, years: [2026, 2027]}
  saving: {kind: main, side: gain, value: 30, years: [2026, 2027], purpose: efficiency}
  loose: {kind: main, value: 1}
"""


def cluster_blocks(source: str) -> list[str]:
    """The names of the ``subgraph cluster_...`` blocks of DOT source, in order."""
    return re.findall(r"^\s*subgraph (cluster_\w+) \{$", source, re.MULTILINE)


def cluster_label(source: str, cluster: str) -> str:
    """The visible label of a cluster (its first attribute line)."""
    line = source.split(f"subgraph {cluster} {{", 1)[1].splitlines()[1].strip()
    return label_text(_attrs(line)["label"])


def test_group_side_is_the_default_drawing() -> None:
    model = loads(GROUPED)
    for level in render.LEVELS:
        default = diagram(model, level=level).source
        assert diagram(model, level=level, group="side").source == default
        assert "cluster_costs" in default and "cluster_phase" not in default


def test_group_phase_puts_each_main_node_in_its_phase_in_phase_order() -> None:
    source = diagram(loads(GROUPED), group="phase").source
    nodes, _ = parse_dot(source)
    case = "cluster_business_case"
    assert nodes["study"].clusters == [case, "cluster_phase_analysis"]
    assert nodes["spec"].clusters == [case, "cluster_phase_specification"]
    assert nodes["build"].clusters == [case, "cluster_phase_implementation"]
    for no_phase in ("kit", "running", "saving"):
        assert nodes[no_phase].clusters == [case, "cluster_phase_none"]
    assert nodes["loose"].clusters == ["cluster_main"]
    assert nodes["hours"].clusters == []
    # only the phases used, in PHASES order, "No phase" last; no side clusters
    assert cluster_blocks(source)[:6] == [
        case,
        "cluster_phase_analysis",
        "cluster_phase_specification",
        "cluster_phase_implementation",
        "cluster_phase_none",
        "cluster_main",
    ]
    assert "cluster_costs" not in source and "cluster_gains" not in source
    titles = {c: cluster_label(source, c) for c in cluster_blocks(source)}
    assert titles[case] == "Business case by phase"
    assert titles["cluster_phase_analysis"] == "Analysis"
    assert titles["cluster_phase_specification"] == "Specification"
    assert titles["cluster_phase_none"] == "No phase"


def test_group_category_uses_category_order_and_readable_titles() -> None:
    source = diagram(loads(GROUPED), group="category").source
    nodes, _ = parse_dot(source)
    case = "cluster_business_case"
    expected = {
        "study": "staff",
        "running": "it_services",
        "spec": "other_services",
        "build": "intangible",
        "kit": "tangible",
        "saving": "none",  # a gain has no cost category
    }
    for node_id, category in expected.items():
        assert nodes[node_id].clusters == [case, f"cluster_category_{category}"], node_id
    blocks = [b for b in cluster_blocks(source) if b.startswith("cluster_category_")]
    assert blocks == [f"cluster_category_{c}" for c in CATEGORIES if c in expected.values()] + [
        "cluster_category_none"
    ]
    titles = {b: cluster_label(source, b) for b in blocks}
    assert titles == {
        "cluster_category_staff": "Staff",
        "cluster_category_it_services": "IT services",
        "cluster_category_other_services": "Other services",
        "cluster_category_intangible": "Intangible assets",
        "cluster_category_tangible": "Tangible assets",
        "cluster_category_none": "No category",
    }
    assert cluster_label(source, case) == "Business case by category"


def test_phase_and_category_titles_cover_the_business_layer() -> None:
    assert list(render.PHASE_TITLES) == list(PHASES)
    assert list(render.CATEGORY_TITLES) == list(CATEGORIES)
    assert render.CATEGORY_TITLES["staff_capitalised"] == "Staff (capitalised)"
    assert render.PHASE_TITLES["realisation"] == "Realisation"
    titles = [*render.PHASE_TITLES.values(), *render.CATEGORY_TITLES.values()]
    assert len(set(titles)) == len(titles)


def test_phase_and_category_sub_clusters_share_one_neutral_fill() -> None:
    source = diagram(loads(GROUPED), group="category").source
    case_fill = render.CLUSTER_FILLS["business_case"]
    group_fill = render.CLUSTER_FILLS["group"]
    assert group_fill not in {case_fill, *(render.CLUSTER_FILLS[k] for k in ("costs", "gains"))}
    for block in cluster_blocks(source):
        if block.startswith("cluster_category_"):
            attrs = source.split(f"subgraph {block} {{", 1)[1].splitlines()[1]
            assert f'fillcolor="{group_fill}"' in attrs and "filled" in attrs


def test_unknown_phase_gets_its_own_marked_cluster_before_no_phase() -> None:
    text = GROUPED.replace("phase: analysis", "phase: anlysis")  # fails check
    source = diagram(loads(text), group="phase", check=True).source
    nodes, _ = parse_dot(source)
    (own,) = [b for b in cluster_blocks(source) if b.startswith("cluster_phase_unknown")]
    assert nodes["study"].clusters == ["cluster_business_case", own]
    assert cluster_label(source, own) == "anlysis (unknown phase)"
    assert nodes["study"].attrs["color"] == render.ERROR_COLOR
    blocks = cluster_blocks(source)
    assert blocks.index("cluster_phase_implementation") < blocks.index(own)
    assert blocks.index(own) < blocks.index("cluster_phase_none")


@pytest.mark.parametrize("group", render.GROUPS)
def test_overview_keeps_the_grouping_of_the_detail(group: str) -> None:
    model = loads(GROUPED)
    detail, _ = parse_dot(diagram(model, group=group).source)
    overview, _ = parse_dot(diagram(model, group=group, level="overview").source)
    for node_id in ("spec", "study", "build", "kit", "running", "saving", "loose"):
        assert overview[node_id].clusters == detail[node_id].clusters, node_id
    assert "hours" not in overview
    assert label_text(overview["spec"].attrs["label"]).endswith("+1 sub-assumption")


def test_unknown_group_is_a_render_error_listing_the_choices() -> None:
    with pytest.raises(RenderError, match="unknown group 'year'") as info:
        diagram(loads(GROUPED), group="year")
    assert "side, phase, category" in str(info.value)
    assert "\n" not in str(info.value)


SIDES = st.sampled_from(["cost", "gain", "operating", None])


@settings(max_examples=40, deadline=None)
@given(
    keys=st.lists(
        st.tuples(SIDES, st.sampled_from([*PHASES, None]), st.sampled_from([*CATEGORIES, None])),
        min_size=1,
        max_size=12,
    ),
    group=st.sampled_from(["phase", "category"]),
)
def test_every_main_node_lands_in_the_cluster_of_its_key(
    keys: list[tuple[str | None, str | None, str | None]], group: str
) -> None:
    m = Model("random")
    for k, (side, phase, category) in enumerate(keys):
        m.add(f"n{k}", kind="main", value=k, side=side, phase=phase, category=category)
    source = diagram(m, group=group).source
    nodes, _ = parse_dot(source)
    order = [*(PHASES if group == "phase" else CATEGORIES), "none"]
    used = []
    for k, (side, phase, category) in enumerate(keys):
        value = (phase if group == "phase" else category) or "none"
        if side is None:
            assert nodes[f"n{k}"].clusters == ["cluster_main"]
        else:
            assert nodes[f"n{k}"].clusters == ["cluster_business_case", f"cluster_{group}_{value}"]
            used.append(value)
    blocks = [b for b in cluster_blocks(source) if b.startswith(f"cluster_{group}_")]
    assert blocks == [f"cluster_{group}_{v}" for v in order if v in used]


@needs_dot
@pytest.mark.parametrize("group", render.GROUPS)
def test_example_business_case_renders_with_each_group(group: str, tmp_path: Path) -> None:
    model = load(EXAMPLE_CASE)
    out = render.render(model, tmp_path / f"case_{group}.svg", group=group, show="estimates")
    text = svg_text(out.read_bytes())
    mains = [n for n in model if n.kind == "main" and n.side is not None]
    assert mains
    for node in mains:
        if group == "side":
            title = render.SIDE_CLUSTERS[node.side][1]
        elif group == "phase":
            title = render.PHASE_TITLES[node.phase] if node.phase else "No phase"
        else:
            title = render.CATEGORY_TITLES[node.category] if node.category else "No category"
        assert title in text, (node.id, title)
    nodes, _ = parse_dot(diagram(model, group=group).source)
    for node in mains:
        assert nodes[node.id].clusters[0] == "cluster_business_case"
        assert len(nodes[node.id].clusters) == 2


@needs_dot
def test_cli_draw_group_phase_writes_an_svg(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "phases.svg"
    code = main(["draw", str(EXAMPLE_CASE), "-o", str(out), "--group", "phase"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"wrote {out}" in err
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    text = svg_text(out.read_bytes())
    assert "Business case by phase" in text
    assert {"Analysis", "Tender", "Implementation", "No phase"} <= set(
        t.text for t in root.iter(f"{SVG}text")
    )
    assert os.listdir(tmp_path) == ["phases.svg"]


def test_cli_draw_rejects_an_unknown_group_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "x.dot"
    with pytest.raises(SystemExit) as stop:
        main(["draw", str(EXAMPLE_CASE), "-o", str(out), "--group", "year"])
    assert stop.value.code == 2
    assert "side, phase, category" in capsys.readouterr().err.replace("'", "")
    assert not out.exists()
