"""The self-contained HTML report (issue 6): ``assumption-graph report MODEL -o FILE.html``.

The report of the example business case is made once through the command line,
beside a ``run --json`` of the same model, samples and seed, and read back with
an XML parser (the report is well-formed markup). The tests check that every
section, table and chart is there, that the tables carry the run's own numbers,
that nothing points outside the file, and that the reproducibility block is
true (its command makes the same report again). A browser test has headless
Chromium print the report to PDF and take a screenshot.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assumption_graph import __version__, cli
from assumption_graph.business.labels import FIGURE_LABELS
from assumption_graph.cli import main
from assumption_graph.html_report import inline_svg, sensitivity_output
from assumption_graph.report import format_cell, format_rate

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "business_case.yaml"
PLAIN = ROOT / "examples" / "case_handling.yaml"
ENSURE_CHROMIUM = ROOT / "scripts" / "ensure-chromium.sh"
CHROMIUM = "/usr/bin/chromium"

N, SEED = 20_000, 3
SVG = "{http://www.w3.org/2000/svg}svg"

CASE_SECTIONS = (
    "summary",
    "contents",
    "diagram",
    "key-figures",
    "cost-by-phase",
    "by-category",
    "cash-flows",
    "risks",
    "non-economic-gains",
    "figures",
    "distributions",
    "sensitivity",
    "warnings",
    "reproducibility",
)
CASE_TABLES = (
    "key-figures-table",
    "cost-by-phase-table",
    "by-category-table",
    "cash-flows-table",
    "risks-table",
    "risk-types-table",
    "non-economic-gains-table",
    "figures-table",
    "tornado-table",
    "contribution-table",
)
JSON_TABLES = {  # report table id -> the run --json business-case table it shows
    "cost-by-phase-table": "cost_by_phase",
    "by-category-table": "by_category",
    "cash-flows-table": "cash_flows",
    "non-economic-gains-table": "non_economic_gains",
}


# ---------------------------------------------------------------------------- helpers


def quiet_main(*argv: object) -> tuple[int, str]:
    """Run the command line in-process; its exit code and what it said on stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in argv])
    return code, err.getvalue()


class Report:
    """A written report, parsed: the root element and every element by id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.root = ET.fromstring(self.text)  # well-formed, or this raises
        self.ids: dict[str, ET.Element] = {}
        self.duplicates: list[str] = []
        for element in self.root.iter():
            element_id = element.get("id")
            if element_id is None:
                continue
            if element_id in self.ids:
                self.duplicates.append(element_id)
            self.ids[element_id] = element

    def table(self, element_id: str) -> list[list[str]]:
        """The rows of cell texts of the table inside the element with this id."""
        tables = list(self.ids[element_id].iter("table"))
        assert len(tables) == 1, element_id
        return [["".join(cell.itertext()) for cell in row] for row in tables[0].iter("tr")]

    def text_of(self, element_id: str) -> str:
        return "".join(self.ids[element_id].itertext())


def make_report(folder: Path, model: Path, *options: object) -> Report:
    out = folder / "report.html"
    code, err = quiet_main("report", model, "-o", out, "-n", N, "--seed", SEED, *options)
    assert code == 0, err
    assert err.strip().splitlines()[-1] == f"wrote {out}"
    return Report(out)


@pytest.fixture(scope="module")
def case_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return make_report(tmp_path_factory.mktemp("case"), CASE)


@pytest.fixture(scope="module")
def case_json(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("json") / "run.json"
    code, err = quiet_main("run", CASE, "-n", N, "--seed", SEED, "--json", out)
    assert code == 0, err
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plain_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return make_report(tmp_path_factory.mktemp("plain"), PLAIN)


# ---------------------------------------------------------------------------- structure


def test_report_parses_as_html_too(case_report):
    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.tags.append(tag)

    parser = Tags()
    parser.feed(case_report.text)
    parser.close()
    assert parser.tags[:3] == ["html", "head", "meta"]
    assert '<meta charset="utf-8"/>' in case_report.text
    assert not {"script", "link", "img", "iframe", "object"} & set(parser.tags)


def test_every_section_table_and_figure_is_there(case_report):
    assert not case_report.duplicates, "ids must be unique on the page"
    for section in CASE_SECTIONS:
        assert section in case_report.ids, section
    for table_id in CASE_TABLES:
        rows = case_report.table(table_id)
        assert len(rows) >= 2, f"{table_id} has no rows"
    assert case_report.ids["diagram-overview"].find(SVG) is not None
    detail = case_report.ids["diagram-detail"]
    assert detail.tag == "details" and detail.find(SVG) is not None
    assert case_report.ids["tornado"].find(SVG) is not None
    assert case_report.ids["contribution"].find(SVG) is not None
    assert "no-business-case" not in case_report.ids


def test_each_key_figure_has_a_histogram_and_an_s_curve(case_report, case_json):
    for name, figure in case_json["business_case"]["key_figures"].items():
        if figure["mean"] is None:
            continue
        for kind in ("histogram", "s-curve"):
            chart = case_report.ids[f"{kind}-{name}"]
            assert chart.tag == "figure" and chart.find(SVG) is not None, (kind, name)
        cell = format_rate if name in ("irr", "mirr") else format_cell
        caption = case_report.text_of(f"histogram-{name}")
        for level in ("10", "50", "90"):
            assert f"P{level} {cell(figure['percentiles'][level])}" in caption
        caption = case_report.text_of(f"s-curve-{name}")
        assert f"expected {cell(figure['expected'])}" in caption
        assert f"risk-adjusted {cell(figure['risk_adjusted'])}" in caption


def test_summary_names_purpose_and_price_level(case_report):
    facts = case_report.text_of("facts")
    assert "Price level2025" in facts
    assert "Purposeefficiency (secondary: quality)" in facts
    assert "MIRR ratesfinance 5.0 %, reinvestment 5.0 % a year" in facts  # the discount rate's
    assert case_report.root.find(".//header/h1").text.startswith("Nyt sagsbehandlingssystem")


# ---------------------------------------------------------------------------- numbers


def test_key_figures_equal_the_run_json(case_report, case_json):
    rows = case_report.table("key-figures-table")
    assert rows[0] == ["key figure", "risk-adjusted", "expected", "best", "worst", "P10", "P90"]
    figures = case_json["business_case"]["key_figures"]
    assert [row[0] for row in rows[1:]] == [FIGURE_LABELS[name] for name in figures]
    for row, (name, figure) in zip(rows[1:], figures.items(), strict=True):
        cell = format_rate if name in ("irr", "mirr") else format_cell
        values = [figure[k] for k in ("risk_adjusted", "expected", "best", "worst")]
        values += [figure["percentiles"]["10"], figure["percentiles"]["90"]]
        assert row[1:] == [cell(v) for v in values], name


def test_case_tables_equal_the_run_json(case_report, case_json):
    tables = case_json["business_case"]["tables"]
    for table_id, key in JSON_TABLES.items():
        rows = case_report.table(table_id)
        table = tables[key]
        assert rows[0] == ["", *(c.replace("_", " ") for c in table["columns"])], table_id
        expected = [
            [row["name"], *(format_cell(row["values"][c]) for c in table["columns"])]
            for row in table["rows"]
        ]
        assert rows[1:] == expected, table_id


def test_risks_equal_the_run_json(case_report, case_json):
    case = case_json["business_case"]
    rows = case_report.table("risks-table")
    assert [row[-1] for row in rows[1:]] == [format_cell(r["amount"]) for r in case["risks"]]
    types = case_report.table("risk-types-table")
    assert {row[0]: row[1] for row in types[1:]} == {
        name: format_cell(amount) for name, amount in case["risk_types"].items()
    }


def test_node_figures_equal_the_run_json(case_report, case_json):
    rows = case_report.table("figures-table")
    nodes = case_json["nodes"]
    assert len(rows) == 1 + len(nodes)
    for row, (node_id, figures) in zip(rows[1:], nodes.items(), strict=True):
        assert row[0].split(" (")[0] == node_id
        assert row[1:5] == [
            format_cell(figures[k]) for k in ("expected", "weighted", "best", "worst")
        ]


def test_sensitivity_explains_the_npv(case_report):
    text = case_report.text_of("sensitivity")
    assert "Net present value" in text
    assert f"{min(N, 100_000):,} Monte Carlo samples (seed {SEED})" in text
    swings = [row[3] for row in case_report.table("tornado-table")[1:]]
    numbers = [float(s.replace(",", "")) for s in swings]
    assert numbers == sorted(numbers, reverse=True), "the tornado is largest swing first"


# ---------------------------------------------------------------------------- self-contained


def test_nothing_points_outside_the_file(case_report):
    for element in case_report.root.iter():
        for name, value in element.attrib.items():
            if name.endswith("href") or name.endswith("src"):
                assert value.startswith("#"), (element.tag, name, value)
    # the only addresses in the file are the SVG namespace names, which nothing fetches
    for match in re.finditer(r"https?://", case_report.text):
        before = case_report.text[max(0, match.start() - 20) : match.start()]
        assert re.search(r'xmlns(:\w+)?="$', before), case_report.text[match.start() - 60 :][:120]
    assert "@import" not in case_report.text and "url(http" not in case_report.text


def test_inline_svg_prefixes_ids_and_references():
    svg = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "x" "http://example.org/svg.dtd">\n'
        "<!-- made by hand -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        "<metadata><rdf:RDF>http://purl.org/dc</rdf:RDF></metadata>"
        '<defs><path id="m1" data-id="keep"/></defs><g id="g" clip-path="url(#c1)">'
        '<use xlink:href="#m1"/></g></svg>'
    )
    out = inline_svg(svg, "chart")
    assert out.startswith("<svg ") and "<?xml" not in out and "DOCTYPE" not in out
    assert "metadata" not in out and "<!--" not in out
    assert 'id="chart-m1"' in out and 'id="chart-g"' in out and 'data-id="keep"' in out
    assert "url(#chart-c1)" in out and 'xlink:href="#chart-m1"' in out
    with pytest.raises(ValueError, match="no <svg>"):
        inline_svg("<html/>", "x")


# ---------------------------------------------------------------------------- reproducibility


def test_reproducibility_block(case_report):
    assert case_report.text_of("repro-samples") == str(N)
    assert case_report.text_of("repro-seed") == str(SEED)
    assert case_report.text_of("repro-method") == "mc"
    assert case_report.text_of("repro-version") == f"assumption_graph {__version__}"
    assert case_report.text_of("repro-model-file") == str(CASE)
    sha = hashlib.sha256(CASE.read_bytes()).hexdigest()
    assert case_report.text_of("repro-sha256") == sha
    assert case_report.text_of("repro-overrides") == "none"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", case_report.text_of("repro-created")
    )
    assert "no Sobol indices" in case_report.text_of("repro-sensitivity")


def test_the_command_in_the_report_makes_the_same_report(case_report, tmp_path):
    words = shlex.split(case_report.text_of("repro-command"))
    assert words[:2] == ["assumption-graph", "report"]
    assert words[words.index("-n") + 1] == str(N) and words[words.index("--seed") + 1] == str(SEED)
    again = tmp_path / "again.html"
    words[words.index("-o") + 1] = str(again)
    code, err = quiet_main(*words[1:])
    assert code == 0, err
    second = Report(again)
    for table_id in CASE_TABLES:
        assert second.table(table_id) == case_report.table(table_id), table_id
    # apart from the time and the file name, the whole report is the same
    for report in (case_report, second):
        report.ids["repro-created"].text = report.ids["repro-command"].text = ""
    assert ET.tostring(second.root) == ET.tostring(case_report.root)


def test_overrides_method_and_sobol_are_recorded(tmp_path):
    options = ("--set", "wage_per_hour=0.5", "--sobol", "--method", "lhs")
    report = make_report(tmp_path, PLAIN, *options)
    assert report.text_of("repro-overrides") == "wage_per_hour=0.5"
    assert report.text_of("repro-method") == "lhs"
    assert "with Sobol indices" in report.text_of("repro-sensitivity")
    assert "method lhs" in report.text_of("repro-sensitivity")
    command = report.text_of("repro-command")
    assert "--set wage_per_hour=0.5" in command and "--method lhs" in command
    assert len(report.table("sobol-table")) >= 2


# ---------------------------------------------------------------------------- other models


def test_plain_model_reports_without_business_case_sections(plain_report):
    assert "no-business-case" in plain_report.ids
    assert "business_case:" in plain_report.text_of("no-business-case")
    for section in ("key-figures", "cost-by-phase", "cash-flows", "risks", "non-economic-gains"):
        assert section not in plain_report.ids
    rows = plain_report.table("figures-table")
    main_ids = [row[0].split(" (")[0] for row in rows[1:]]
    assert main_ids, "the plain model's main nodes are listed"
    for node_id in main_ids:
        assert plain_report.ids[f"histogram-{node_id}"].find(SVG) is not None
        assert plain_report.ids[f"s-curve-{node_id}"].find(SVG) is not None
    assert "Price levelnot stated" in plain_report.text_of("facts")
    assert plain_report.ids["tornado"].find(SVG) is not None


def test_plain_sensitivity_explains_the_widest_output():
    from assumption_graph import load

    result = load(PLAIN).compile().run(2000, 1)
    widest = max(result.summaries, key=lambda k: result[k].std or 0.0)
    assert sensitivity_output(result) == widest


WARNED = """
name: "Æblemost <script>alert(1)</script> & co"
nodes:
  litres:
    label: "Liter pr. år <b>\\"ø\\"</b>"
    estimate: [900, 1000, 1300]
    unit: l
  price:
    label: Pris pr. liter
    value: 0.02
    unit: tkr/l
    source: Price list
  cost:
    label: Udgift & moms
    kind: main
    formula: litres * price
    unit: tkr
"""


def test_warnings_appear_and_labels_are_escaped(tmp_path):
    model = tmp_path / "æblemost.yaml"
    model.write_text(WARNED, encoding="utf-8")
    report = make_report(tmp_path, model, "--no-sensitivity")
    warnings = report.text_of("warnings-list")
    assert "missing-source" in warnings and "litres" in warnings
    assert "<script>" not in report.text and "&lt;script&gt;" in report.text
    assert report.root.find(".//header/h1").text == "Æblemost <script>alert(1)</script> & co"
    assert "cost (Udgift & moms)" in report.text_of("figures-table")
    detail = "".join(report.text_of("diagram-detail").split())  # Graphviz wraps labels
    assert 'Literpr.år<b>"ø"</b>' in detail
    assert "--no-sensitivity" in report.text_of("sensitivity-missing")
    assert "tornado" not in report.ids


def test_a_model_without_uncertainty_says_so(tmp_path):
    model = tmp_path / "known.yaml"
    model.write_text(
        "name: known\nnodes:\n  a: {value: 2, source: accounts}\n"
        "  c: {kind: main, formula: a * 3, source: rule}\n",
        encoding="utf-8",
    )
    report = make_report(tmp_path, model)
    assert "no main output varies" in report.text_of("sensitivity-missing")
    assert report.table("figures-table")[1][1] == "6.0"


def test_a_clean_model_says_it_has_no_warnings(plain_report):
    assert "no-warnings" in plain_report.ids


# ---------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "output, message",
    [("report.txt", "ending in .html"), ("missing/report.html", "does not exist")],
)
def test_bad_output_writes_nothing(tmp_path, output, message):
    code, err = quiet_main("report", PLAIN, "-o", tmp_path / output, "-n", 100)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_model_with_errors_writes_nothing(tmp_path):
    model = tmp_path / "broken.yaml"
    model.write_text("name: broken\nnodes:\n  a: {kind: main, formula: b * 2}\n", encoding="utf-8")
    out = tmp_path / "report.html"
    code, err = quiet_main("report", model, "-o", out, "-n", 100)
    assert code == 1 and "unknown-name" in err and "Traceback" not in err
    assert not out.exists()


class Terminal(io.StringIO):
    """Standard error as if it were a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_progress_bar_only_on_a_terminal(tmp_path, monkeypatch, terminal):
    monkeypatch.setattr(cli, "PROGRESS_THRESHOLD", 1_000)  # this run counts as long
    out = tmp_path / "r.html"
    err = Terminal() if terminal else io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", str(PLAIN), "-o", str(out), "-n", "2000", "--no-sensitivity"])
    assert code == 0
    lines = err.getvalue().strip().splitlines()
    assert lines[-1].endswith(f"wrote {out}")
    if terminal:
        assert "samples" in err.getvalue(), "a long run shows its progress on a terminal"
    else:
        assert lines == [f"wrote {out}"], "nothing but the result off a terminal"


# ---------------------------------------------------------------------------- in a browser


def chromium() -> str:
    """Chromium's path, installing Debian's package when missing; skip when it cannot be had."""
    if not Path(CHROMIUM).exists():
        done = subprocess.run(
            ["bash", str(ENSURE_CHROMIUM)], capture_output=True, text=True, timeout=900
        )
        if not Path(CHROMIUM).exists():
            reason = done.stderr.strip().splitlines()[-1:] or ["no reason given"]
            pytest.skip(f"Chromium is not installed and could not be: {reason[0]}")
    return CHROMIUM


def headless(browser: str, profile: Path, *options: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([browser, *flags, *options], capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_chromium_prints_the_report_to_pdf_and_png(case_report, tmp_path):
    browser = chromium()
    page = case_report.path.as_uri()
    pdf, png = tmp_path / "report.pdf", tmp_path / "report.png"
    printed = headless(
        browser, tmp_path / "profile", f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page
    )
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 50_000
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert pages >= len(CASE_SECTIONS) - 2, "each section starts a page when printed"
    shot = headless(
        browser, tmp_path / "profile", f"--screenshot={png}", "--window-size=390,2000", page
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    image = png.read_bytes()
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 10_000
    width, height = int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
    assert (width, height) == (390, 2000)


def test_ensure_chromium_is_harmless_when_installed():
    if not Path(CHROMIUM).exists() or shutil.which("bash") is None:
        pytest.skip("Chromium is not installed here: the script would install it")
    done = subprocess.run(["bash", str(ENSURE_CHROMIUM)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
