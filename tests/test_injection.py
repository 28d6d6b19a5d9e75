"""Hostile text in a model cannot change what an output does, only what it says.

A business-case model carries a hostile text in every field that is displayed
(name, description, money unit, labels, units, sources, risk and gain names...).
Two families of payload: *markup* (a text that starts with ``<`` and ends with
``>``, so Graphviz would take it for an HTML-like label, holding ``<script>``,
a ``URL="javascript:..."`` attribute, quotes, a backslash before a quote, a
matplotlib ``$...$`` formula and terminal control sequences) and *formula* (a
text that starts with ``=``, ``+``, ``-`` or ``@``, as a spreadsheet formula
does, with control sequences too). Each field's text carries a marker of its
own, so a test can find where it is shown.

Every output is made through the command line: ``draw`` as SVG and as DOT,
``export`` (xlsx, read back with openpyxl) and ``run``'s text tables and CSV for
both families, ``report`` (HTML, the slowest) for the markup family. The tests
check that every field is shown where it belongs, as text, and that no output
carries anything active: no script element, no event attribute, no link that
leaves the page, no formula cell, no control character, and a DOT file that
Graphviz parses. The convention checked: a control character (but tab and line
break) shows as U+FFFD in every output.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest

from assumption_graph.cli import main

N, SEED = 300, 1
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet may evaluate
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MARKUP = ("svg", "dot", "html")  # outputs that could carry a script or a link
WHOLE = ("html", "xlsx", "text")  # outputs that show a text whole, unwrapped
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


# ---------------------------------------------------------------------------- the hostile model


def markup(marker: str, k: int) -> str:
    """Markup that would inject Graphviz or HTML statements if it were not escaped."""
    return (
        f'<b>{marker}</b> URL="javascript:alert({k})" href="javascript:alert({k})"'
        f' \\"]; x [URL="javascript:alert({k})"] <script>alert({k})</script>'
        f' "><img src=x onerror=alert({k})> $\\frac{{$ ]]> \x1b[2J\x00\x85 <i>'
    )


def formula(marker: str, k: int) -> str:
    """A spreadsheet formula with terminal control sequences in it."""
    start = "=+-@"[k % 4]
    return f'{start}HYPERLINK("javascript:alert({k})";"{marker}")\x1b]0;{marker}\x07\x1b[2J\r\x7f'


FAMILIES = {"markup": markup, "formula": formula}

FIELDS = (
    "name",
    "description",
    "money_unit",
    "risk_name",
    "gain_name",
    "gain_unit",
    "input_label",
    "input_unit",
    "input_source",
    "situation_label",
    "situation_source",
    "cost_label",
    "gain_label",
    "gain_source",
)


def marker(field: str) -> str:
    return f"M{field.upper().replace('_', '')}M"


def hostile_texts(family: str) -> dict[str, str]:
    """Every field's hostile text, each with its own marker."""
    make = FAMILIES[family]
    return {field: make(marker(field), k) for k, field in enumerate(FIELDS)}


def hostile_model(texts: dict[str, str]) -> dict:
    """A business case that passes ``check``, a hostile text in every displayed field."""
    return {
        "name": texts["name"],
        "description": texts["description"],
        "money_unit": texts["money_unit"],
        "business_case": {
            "purpose": "efficiency",
            "start_year": 2025,
            "end_year": 2027,
            "current_phase": "analysis",
            "phases": {"analysis": ["2025-01", "2025-06"]},
            "risks": [
                {
                    "id": 1,
                    "name": texts["risk_name"],
                    "probability": 2,
                    "consequence": 3,
                    "type": "technical",
                }
            ],
            "non_economic_gains": [
                {
                    "name": texts["gain_name"],
                    "unit": texts["gain_unit"],
                    "before": 1,
                    "after": 2,
                    "purpose": "efficiency",
                }
            ],
        },
        "nodes": {
            "hours": {
                "label": texts["input_label"],
                "estimate": [10, 12, 15],
                "unit": texts["input_unit"],
                "source": texts["input_source"],
                "risk": [1],
            },
            "rate": {
                "label": texts["situation_label"],
                "situation": {"without": {"value": 1}, "with": {"estimate": [1, 2, 3]}},
                "source": texts["situation_source"],
            },
            "cost": {
                "label": texts["cost_label"],
                "kind": "main",
                "side": "cost",
                "phase": "analysis",
                "category": "it_services",
                "formula": "hours * rate",
                "purpose": "efficiency",
            },
            "gain": {
                "label": texts["gain_label"],
                "kind": "main",
                "side": "gain",
                "years": [2026, 2027],
                "estimate": [5, 10, 20],
                "source": texts["gain_source"],
                "purpose": "efficiency",
            },
        },
    }


# Where each field is shown. The diagram shows the name, the labels and (with
# ``--show estimates``) the units; the report every text but the sources and the
# inputs' units; the workbook every text but the description; ``run``'s tables the name, the main
# nodes' labels, the money unit, the risks and the non-economic gains.
DIAGRAM_FIELDS = {
    "name",
    "input_label",
    "input_unit",
    "situation_label",
    "cost_label",
    "gain_label",
}
SHOWN: dict[str, set[str]] = {
    "svg": DIAGRAM_FIELDS,
    "dot": DIAGRAM_FIELDS,
    "html": set(FIELDS) - {"input_unit", "input_source", "situation_source", "gain_source"},
    "xlsx": set(FIELDS) - {"description"},
    "text": {
        "name",
        "money_unit",
        "risk_name",
        "gain_name",
        "gain_unit",
        "cost_label",
        "gain_label",
    },
}
REPORTED = "markup"  # the family the report is made of (a report takes the longest)
FORMATS = {family: [f for f in SHOWN if f != "html" or family == REPORTED] for family in FAMILIES}
CASES = [
    (family, fmt, field)
    for family, formats in FORMATS.items()
    for fmt in formats
    for field in FIELDS
    if field in SHOWN[fmt]
]


# ---------------------------------------------------------------------------- the outputs


class Outputs:
    """What every command made of one hostile model."""

    def __init__(self, folder: Path, family: str) -> None:
        self.family = family
        self.texts = hostile_texts(family)
        self.model = folder / "hostile.json"
        self.model.write_text(json.dumps(hostile_model(self.texts)), encoding="utf-8")
        self.paths = {fmt: folder / f"out.{fmt}" for fmt in ("svg", "dot", "html", "xlsx", "csv")}
        self.codes: dict[str, int] = {}
        self.said: dict[str, str] = {}
        show = ("--show", "estimates")
        self.call("svg", "draw", self.model, "-o", self.paths["svg"], *show)
        self.call("dot", "draw", self.model, "-o", self.paths["dot"], *show)
        if family == REPORTED:
            self.call("html", "report", self.model, "-o", self.paths["html"], "-n", N)
        self.call("xlsx", "export", self.model, "-o", self.paths["xlsx"], "-n", N, "--seed", SEED)
        self.call("text", "run", self.model, "-n", N, "--seed", SEED, "--csv", self.paths["csv"])

    def call(self, key: str, *argv: object) -> None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            self.codes[key] = main([str(a) for a in argv])
        self.said[key] = out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outputs]:
    """Each family's outputs, made when a test first asks for them."""
    return {}


@pytest.fixture
def outputs_of(made: dict[str, Outputs], tmp_path_factory: pytest.TempPathFactory):
    def get(family: str) -> Outputs:
        if family not in made:
            made[family] = Outputs(tmp_path_factory.mktemp(family), family)
        return made[family]

    return get


def svg_of_dot(path: Path) -> Path:
    """The SVG Graphviz makes of a DOT file (which it must parse)."""
    target = path.with_suffix(".dot.svg")
    done = subprocess.run(
        ["dot", "-Tsvg", str(path), "-o", str(target)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return target


def shown_text(outputs: Outputs, fmt: str) -> str:
    """The text an output shows its reader."""
    if fmt in ("svg", "html"):
        root = ET.parse(outputs.paths[fmt]).getroot()
        texts = ["".join(root.itertext())]
        texts += [v for e in root.iter() for k, v in e.attrib.items() if k.endswith("title")]
        return "\n".join(texts)
    if fmt == "dot":
        return shown_text_of_svg(svg_of_dot(outputs.paths["dot"]))
    if fmt == "text":
        return outputs.said["text"]
    book = openpyxl.load_workbook(outputs.paths["xlsx"])  # text cells only
    cells = (cell for sheet in book for row in sheet.iter_rows() for cell in row)
    return "\n".join(cell.value for cell in cells if cell.data_type == "s")


def shown_text_of_svg(path: Path) -> str:
    return "".join(ET.parse(path).getroot().itertext())


def assert_inert_markup(path: Path) -> None:
    """No script, no event handler, no link or source that leaves the document."""
    root = ET.parse(path).getroot()  # well-formed, or this raises
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        assert tag not in {"script", "iframe", "object", "embed", "img", "foreignobject"}, tag
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            assert not local.startswith("on"), (tag, name, value)
            if local in {"href", "src", "action", "formaction", "data"}:
                assert value.startswith("#"), (tag, name, value)
            assert not value.strip().lower().startswith("javascript:"), (tag, name, value)


# ---------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_command_succeeds(outputs_of, family: str) -> None:
    outputs = outputs_of(family)
    for key, code in outputs.codes.items():
        assert code == 0, (key, outputs.said[key])


@needs_dot
@pytest.mark.parametrize(
    ("family", "fmt"),
    [(family, fmt) for family, formats in FORMATS.items() for fmt in formats if fmt in MARKUP],
)
def test_markup_outputs_are_inert(outputs_of, family: str, fmt: str) -> None:
    path = outputs_of(family).paths[fmt]
    assert_inert_markup(svg_of_dot(path) if fmt == "dot" else path)


@needs_dot
@pytest.mark.parametrize(("family", "fmt", "field"), CASES)
def test_every_field_is_shown_as_text(outputs_of, family: str, fmt: str, field: str) -> None:
    assert marker(field) in shown_text(outputs_of(family), fmt)


def visible(text: str) -> str:
    """How every output shows a text: each control character as U+FFFD."""
    return CONTROL.sub("\ufffd", text)


@pytest.mark.parametrize(
    ("family", "fmt"),
    [(family, fmt) for family, formats in FORMATS.items() for fmt in formats if fmt in WHOLE],
)
def test_each_text_is_shown_whole(outputs_of, family: str, fmt: str) -> None:
    """The report, the workbook and the terminal show each text as written (control
    characters as U+FFFD); the diagram wraps its labels, so only the markers are checked."""
    outputs = outputs_of(family)
    shown = shown_text(outputs, fmt)
    for field in SHOWN[fmt]:
        assert visible(outputs.texts[field]) in shown, field


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_workbook_cells_are_text_never_formulas(outputs_of, family: str) -> None:
    book = openpyxl.load_workbook(outputs_of(family).paths["xlsx"])
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_terminal_output_has_no_control_characters(outputs_of, family: str) -> None:
    assert not CONTROL.findall(outputs_of(family).said["text"])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_csv_cells_never_start_a_formula(outputs_of, family: str) -> None:
    """CSV holds node ids and numbers only; no text cell can start a formula."""
    text = outputs_of(family).paths["csv"].read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 1
    for row in rows:
        for cell in row:
            try:
                float(cell)
            except ValueError:
                assert not cell.startswith(FORMULA_START), cell


# ---------------------------------------------------------------------------- drawn with --check


def broken_model(folder: Path, family: str) -> Path:
    """The hostile model made to fail ``check``: findings whose messages quote its
    text, and a phase and a category that are not known ones (drawn by their names)."""
    texts = hostile_texts(family)
    data = hostile_model(texts)
    data["nodes"]["cost"]["phase"] = texts["risk_name"]
    data["nodes"]["gain"]["category"] = texts["gain_name"]
    data["nodes"]["cost"]["unit"] = texts["input_unit"]  # a main node in another unit: an error
    path = folder / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def said(*argv: object) -> tuple[int, str]:
    """Run the command line in-process: its exit code and all it printed."""
    out = io.StringIO()
    with contextlib.redirect_stderr(out), contextlib.redirect_stdout(out):
        code = main([str(a) for a in argv])
    return code, out.getvalue()


@needs_dot
@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("fmt", ["svg", "dot"])
def test_check_findings_on_the_diagram_are_inert(tmp_path: Path, family: str, fmt: str) -> None:
    """``draw --check`` puts the findings' messages (which quote the model's text) in
    tooltips, and draws unknown phases and categories by their names."""
    model = broken_model(tmp_path, family)
    for group, field in (("phase", "risk_name"), ("category", "gain_name")):
        out = tmp_path / f"{group}.{fmt}"
        code, text = said("draw", model, "-o", out, "--check", "--group", group)
        assert code == 0, text
        svg = svg_of_dot(out) if fmt == "dot" else out
        assert_inert_markup(svg)
        assert marker(field) in shown_text_of_svg(svg)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("command", ["check", "run"])
def test_findings_on_the_terminal_have_no_control_characters(
    tmp_path: Path, family: str, command: str
) -> None:
    code, text = said(command, broken_model(tmp_path, family))
    assert code == 1
    assert marker("input_unit") in text  # the message quotes the unit...
    assert not CONTROL.findall(text)  # ...with its control characters made visible


# ---------------------------------------------------------------------------- the name of the issue

# Once the graph's DOT id, this name closed the graph and opened another: the
# SVG (and the report's diagram) got a link to ``javascript:alert(1)``.
GRAPH_BREAKER = '<x> { graph [URL="javascript:alert(1)"] } digraph <y>'


@needs_dot
@pytest.mark.parametrize("command", ["draw", "report"])
def test_a_name_that_made_a_javascript_link_is_only_shown(tmp_path: Path, command: str) -> None:
    model = tmp_path / "name.json"
    nodes = {"a": {"estimate": [1, 2, 3], "source": "s"}, "b": {"kind": "main", "formula": "a"}}
    model.write_text(json.dumps({"name": GRAPH_BREAKER, "nodes": nodes}), encoding="utf-8")
    out = tmp_path / ("name.svg" if command == "draw" else "name.html")
    extra = ("-n", 200, "--no-sensitivity") if command == "report" else ()
    code, text = said(command, model, "-o", out, *extra)
    assert code == 0, text
    assert_inert_markup(out)
    assert GRAPH_BREAKER in "".join(ET.parse(out).getroot().itertext())
