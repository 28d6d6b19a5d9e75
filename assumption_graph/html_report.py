"""One self-contained HTML file that reports a run: what ``assumption-graph report`` writes.

The report holds the model's name, purpose and price level, the assumption
diagram (the overview, with the full diagram folded in a ``<details>``), the
business case's tables (key figures, cost by phase and year, costs and gains by
category, cash flows, risks and non-economic gains), a histogram and an S-curve
for each main output, the tornado and contribution-to-variance charts, every
``check`` warning, and the settings needed to make the same numbers again.

Everything is inline: styles in one ``<style>``, diagrams and charts as inline
SVG, no scripts and no external addresses, so the file opens offline, prints to
A4 (a page per section) and reads on a phone. Every text from the model goes
through :func:`~assumption_graph.text.html_text` (escaped, control characters
shown as symbols), and the markup is well-formed XML, so a plain XML parser can
read it. Numbers are the run's own (``RunResult`` and its business
case); nothing here recomputes a figure.

Graphviz is needed for the diagram (without ``dot`` the section says so), and
matplotlib for the charts (imported when a report is built).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ._version import __version__
from .business.figures import RATES, BusinessCaseResult, KeyFigure
from .errors import Diagnostic
from .model import Model
from .render import AUTO, RenderError, diagram, resolve_level
from .report import (
    format_cell,
    format_rate,
    format_signed,
    html_table,
    key_figure_rows,
    node_rows,
    risk_rows,
    table_rows,
)
from .results import NodeSummary, RunResult
from .run import Simulator, checked_whole
from .text import html_text

if TYPE_CHECKING:
    from .sensitivity import SensitivityResult

__all__ = [
    "CHARTED_OUTPUTS",
    "SENSITIVITY_SAMPLES",
    "Reproduction",
    "file_sha256",
    "html_report",
    "inline_svg",
    "report_sensitivity",
    "sensitivity_output",
]

SENSITIVITY_SAMPLES = 100_000  # at most this many samples for the report's sensitivity run
CHARTED_OUTPUTS = 20  # at most this many outputs get a histogram and an S-curve
_TABLE_SECTIONS = (  # business-case table key, section id
    ("cost_by_phase", "cost-by-phase"),
    ("by_category", "by-category"),
    ("cash_flows", "cash-flows"),
)


@dataclass(frozen=True)
class Reproduction:
    """How a report's numbers were made, beyond what the run records itself.

    The run gives samples, seed, method and overrides; this adds the model file
    and its SHA-256 (so a changed file shows), the command that makes the same
    report again, and when it was made.
    """

    model_file: str | None = None
    model_sha256: str | None = None
    command: str | None = None
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def for_file(cls, path: str | os.PathLike[str], command: str | None = None) -> Reproduction:
        """The reproduction record of a model read from ``path``."""
        return cls(model_file=str(path), model_sha256=file_sha256(path), command=command)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- what to run


def sensitivity_output(result: RunResult) -> str | None:
    """What the report's sensitivity explains: the NPV of a business case, else the
    main output with the largest spread (``None`` when no output varies)."""
    if result.business_case is not None:
        return "npv"
    spreads = {k: s.std for k, s in result.summaries.items() if s.std}
    return max(spreads, key=lambda k: spreads[k]) if spreads else None


def report_sensitivity(
    simulator: Simulator,
    result: RunResult,
    *,
    sobol: bool = False,
    samples: int = SENSITIVITY_SAMPLES,
) -> SensitivityResult | None:
    """The sensitivity of :func:`sensitivity_output`, with the run's seed, method and overrides.

    It takes at most ``samples`` samples (and no more than the run had) and skips
    the Sobol indices unless asked, so a report stays quick.
    """
    from .sensitivity import sensitivity  # scipy and SALib load only when a report needs them

    samples = checked_whole(samples, "samples", least=1)
    output = sensitivity_output(result)
    if output is None:
        return None
    return sensitivity(
        simulator,
        output,
        n=min(samples, result.samples),
        seed=result.seed,
        sobol=sobol,
        overrides=dict(result.overrides),
        method=result.method,
    )


# ---------------------------------------------------------------------------- the document


def html_report(
    model: Model,
    result: RunResult,
    reproduction: Reproduction,
    *,
    diagnostics: Iterable[Diagnostic] = (),
    sensitivity: SensitivityResult | None = None,
    sensitivity_note: str = "Sensitivity was not computed for this report.",
) -> str:
    """The report of ``result`` (a run of ``model``) as one self-contained HTML document.

    ``diagnostics`` are ``check``'s findings (the warnings of a model that passed);
    ``sensitivity`` the result of :func:`report_sensitivity`, or ``None`` and
    ``sensitivity_note`` saying why not.

    >>> m = Model("Demo")
    >>> m.add("hours", estimate=[10, 12, 15], source="offer")
    >>> m.add("cost", kind="main", formula="hours * 2", unit="tkr", source="rate card")
    >>> page = html_report(m, Simulator(m).run(1000, 1), Reproduction())
    >>> page.startswith("<!DOCTYPE html>"), 'id="histogram-cost"' in page
    (True, True)
    """
    case = result.business_case
    sections = [_summary_section(model, result), _diagram_section(model)]
    sections += _case_sections(case, model.money_unit) if case else [_no_case_section()]
    sections += [
        _figures_section(result, model),
        _distribution_section(result, model),
        _sensitivity_section(sensitivity, sensitivity_note, result, model),
        _warnings_section(tuple(diagnostics)),
        _reproduction_section(result, reproduction, sensitivity),
    ]
    return _document(model.name or "Assumption graph report", sections)


class _Section(NamedTuple):
    id: str
    title: str
    body: str


def _document(title: str, sections: Sequence[_Section]) -> str:
    """The page: the first section (the summary) under an ``h1``, the contents, the rest."""
    first, rest = sections[0], sections[1:]
    contents = "".join(f'<li><a href="#{s.id}">{html_text(s.title)}</a></li>' for s in rest)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f'<meta name="generator" content="assumption_graph {html_text(__version__)}"/>',
        f"<title>{html_text(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f'<header id="{first.id}"><h1>{html_text(first.title)}</h1>{first.body}</header>',
        f'<nav id="contents"><h2>Contents</h2><ol>{contents}</ol></nav>',
        *(f'<section id="{s.id}"><h2>{html_text(s.title)}</h2>{s.body}</section>' for s in rest),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _summary_section(model: Model, result: RunResult) -> _Section:
    facts: list[tuple[str, str]] = []
    case = model.business_case
    if case is not None:
        purposes = case.purpose or "not stated"
        if case.secondary_purposes:
            purposes += " (secondary: " + ", ".join(case.secondary_purposes) + ")"
        facts.append(("Purpose", purposes))
        price = str(case.price_level) if case.price_level is not None else "not stated"
        facts.append(("Price level", price))
        facts.append(("Years", f"{case.start_year}–{case.end_year}"))
        facts.append(("Discount rate", format_rate(case.discount_rate) + " a year"))
        finance, reinvestment = (format_rate(r) for r in case.mirr_rates)
        facts.append(("MIRR rates", f"finance {finance}, reinvestment {reinvestment} a year"))
        if case.current_phase:
            facts.append(("Current phase", case.current_phase))
        adjustment = "Monte Carlo mean" if case.high_risk else "probability-weighted"
        risk = "high-risk project" if case.high_risk else "not a high-risk project"
        facts.append(("Risk-adjusted figures", f"{adjustment} ({risk})"))
    else:
        served = sorted({p for node in model if node.kind == "main" for p in node.purpose})
        facts.append(("Purposes served", ", ".join(served) or "not stated"))
        facts.append(("Price level", "not stated (the model has no business case)"))
    facts.append(("Money unit", model.money_unit))
    facts.append(("Simulation", f"{result.samples:,} samples, seed {result.seed}"))
    body = f'<p class="description">{html_text(model.description)}</p>' if model.description else ""
    body += _facts("facts", facts)
    return _Section("summary", model.name or "Assumption graph report", body)


def _facts(element_id: str, facts: Sequence[tuple[str, str]], ids: Sequence[str] = ()) -> str:
    """A definition list of (term, text); ``ids`` name the ``dd`` elements, in order."""
    items = []
    for k, (term, text) in enumerate(facts):
        dd_id = f' id="{ids[k]}"' if k < len(ids) else ""
        items.append(f"<dt>{html_text(term)}</dt><dd{dd_id}>{html_text(text)}</dd>")
    return f'<dl id="{element_id}">{"".join(items)}</dl>'


def _diagram_section(model: Model) -> _Section:
    """The overview, with the full diagram folded below it; a diagram too big for
    Graphviz to lay out in seconds (see :func:`~assumption_graph.render.resolve_level`)
    is left out with a note that says how to draw it."""
    title = "Assumption diagram"
    try:
        level, note = resolve_level(model, AUTO)
    except RenderError as error:
        body = _note(f"The diagram is not drawn: {error}.", "diagram-too-big")
        return _Section("diagram", title, body)
    overview = _diagram_svg(model, "overview")
    if overview is None:
        body = _note(
            "The diagram needs Graphviz's 'dot' program, which was not found: install"
            " Graphviz (e.g. 'apt-get install graphviz') and make the report again.",
            "diagram-missing",
        )
        return _Section("diagram", title, body)
    body = (
        '<figure id="diagram-overview" class="diagram">'
        + inline_svg(overview, "overview")
        + "<figcaption>Overview: the main assumptions, each with the number of"
        " sub-assumptions folded into it.</figcaption></figure>"
    )
    if level == "detail":
        body += (
            '<details id="diagram-detail" class="diagram">'
            "<summary>The full diagram, every assumption</summary>"
            + inline_svg(_diagram_svg(model, "detail") or "", "detail")
            + "</details>"
        )
    else:
        body += _note(f"The full diagram is left out: {note}.", "diagram-detail-missing")
    return _Section("diagram", title, body)


def _diagram_svg(model: Model, level: str) -> str | None:
    """The diagram as SVG text, or ``None`` when Graphviz's ``dot`` is missing."""
    import graphviz

    try:
        return diagram(model, level=level).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        return None


def _case_sections(case: BusinessCaseResult, money_unit: str) -> list[_Section]:
    sections = [_key_figure_section(case, money_unit)]
    for key, section_id in _TABLE_SECTIONS:
        table = case.tables[key]
        body = _table(f"{section_id}-table", table_rows(table), table.note, money_unit)
        sections.append(_Section(section_id, table.title, body))
    sections.append(_risk_section(case, money_unit))
    gains = case.tables.get("non_economic_gains")
    if gains is None:
        body = _note("The business case states no non-economic gains.")
    else:
        body = _table("non-economic-gains-table", table_rows(gains), gains.note)
    sections.append(_Section("non-economic-gains", "Non-economic gains", body))
    return sections


def _key_figure_section(case: BusinessCaseResult, money_unit: str) -> _Section:
    adjustment = (
        "the Monte Carlo mean" if case.risk_adjustment == "monte_carlo" else "probability-weighted"
    )
    body = _table(
        "key-figures-table",
        key_figure_rows(case),
        f"risk-adjusted = {adjustment}; IRR and MIRR in percent",
        money_unit,
    )
    notes = [f"{f.label}: {f.note}" for f in case.key_figures.values() if f.note]
    notes.append(f"Cost buffer: {format_cell(case.buffer)} {money_unit}")
    for change in case.changes:
        flag = "Significant change" if change.significant else "Change"
        notes.append(f"{flag} from the previous phase: {change.figure}: {change.reason}")
    body += '<ul class="notes">' + "".join(f"<li>{html_text(n)}</li>" for n in notes) + "</ul>"
    return _Section("key-figures", "Key figures", body)


def _risk_section(case: BusinessCaseResult, money_unit: str) -> _Section:
    types = [["risk type", "amount"]]
    types += [[name, format_cell(amount)] for name, amount in case.risk_types.items()]
    body = _table(
        "risks-table",
        risk_rows(case),
        "amount: the money each risk accounts for (risk-adjusted − expected net cost);"
        " risk 0 is general uncertainty",
        money_unit,
    )
    body += "<h3>By risk type</h3>" + _table("risk-types-table", types, None, money_unit)
    return _Section("risks", "Risks and risk types", body)


def _no_case_section() -> _Section:
    body = _note(
        "This model has no 'business_case:' section, so the report has no key figures,"
        " costs by phase and year, costs and gains by category, cash flows, risks or"
        " non-economic gains. Its main assumptions' figures follow.",
        "no-business-case",
    )
    return _Section("business-case", "Business case", body)


def _figures_section(result: RunResult, model: Model) -> _Section:
    body = _table("figures-table", node_rows(result, model), None, model.money_unit)
    return _Section("figures", "Main assumptions", body)


# ---------------------------------------------------------------------------- charts


class _Output(NamedTuple):
    name: str  # what the charts name: a key figure (``npv``) or a node id
    title: str
    figure: KeyFigure | NodeSummary
    risk_adjusted: float | None
    unit: str
    rate: bool


def _outputs(result: RunResult, model: Model) -> Iterator[_Output]:
    """The main outputs to chart: a business case's key figures, else the main nodes."""
    case = result.business_case
    if case is not None:
        for name, figure in case.key_figures.items():
            if figure.mean is not None:
                rate = name in RATES
                unit = "" if rate else model.money_unit
                yield _Output(name, figure.label, figure, figure.risk_adjusted, unit, rate)
        return
    for node_id, summary in result.summaries.items():
        if summary.mean is None:
            continue
        node = model[node_id] if node_id in model else None
        title = node.display_label if node is not None else node_id
        unit = (node.unit if node is not None else None) or model.money_unit
        yield _Output(node_id, title, summary, summary.weighted, unit, False)


def _distribution_section(result: RunResult, model: Model) -> _Section:
    from .plots import PlotAccessor  # matplotlib loads when a report is built

    charts = PlotAccessor(result, model)
    outputs = list(_outputs(result, model))
    blocks = []
    for out in outputs[:CHARTED_OUTPUTS]:
        slug = _slug(out.name)
        histogram, s_curve = charts.histogram(out.name), charts.s_curve(out.name)
        blocks.append(
            f'<div class="output" id="output-{slug}"><h3>{html_text(out.title)}</h3>'
            '<div class="charts">'
            + _figure(f"histogram-{slug}", histogram, _percentile_caption(out))
            + _figure(f"s-curve-{slug}", s_curve, _s_curve_caption(out))
            + "</div></div>"
        )
    what = (
        "each key figure of the business case"
        if result.business_case is not None
        else "each main assumption"
    )
    intro = _note(
        f"The simulated distribution of {what}: a histogram with P10, P50 and P90 marked,"
        " and the S-curve (the probability of a value at most x) with the expected and"
        " risk-adjusted figures marked."
    )
    body = intro + ("".join(blocks) or _note("No output has a finite distribution to draw."))
    if len(outputs) > CHARTED_OUTPUTS:
        body += _note(
            f"Charts of the first {CHARTED_OUTPUTS} of {len(outputs):,} outputs only (each"
            " chart takes a while to draw); every output's figures are in the tables above.",
            "distributions-cut",
        )
    return _Section("distributions", "Distributions of the main outputs", body)


def _percentile_caption(out: _Output) -> str:
    cell = format_rate if out.rate else format_cell
    levels = ", ".join(f"P{p:g} {cell(out.figure.percentiles.get(p))}" for p in (10, 50, 90))
    return f"Histogram: {levels}{_unit_suffix(out)}"


def _s_curve_caption(out: _Output) -> str:
    cell = format_rate if out.rate else format_cell
    return (
        f"S-curve: expected {cell(out.figure.expected)},"
        f" risk-adjusted {cell(out.risk_adjusted)}{_unit_suffix(out)}"
    )


def _unit_suffix(out: _Output) -> str:
    return f" ({out.unit})" if out.unit and not out.rate else ""


def _figure(element_id: str, figure: Any, caption: str) -> str:
    """A matplotlib figure as an inline SVG ``<figure>`` with a caption.

    ``figure_svg`` salts the SVG's internal ids with a fixed string, not at random,
    so the same run gives the same report, byte for byte (apart from its time);
    ``inline_svg`` prefixes them with the element's id, so charts never share one.
    """
    from .plots import figure_svg

    svg = inline_svg(figure_svg(figure), element_id)
    return (
        f'<figure id="{element_id}" class="chart">{svg}'
        f"<figcaption>{html_text(caption)}</figcaption></figure>"
    )


def _sensitivity_section(
    result: SensitivityResult | None, note: str, run: RunResult, model: Model
) -> _Section:
    title = "Sensitivity"
    if result is None:
        return _Section("sensitivity", title, _note(note, "sensitivity-missing"))
    from .plots import PlotAccessor

    charts = PlotAccessor(run, model)
    labels = {bar.input: bar.label for bar in result.tornado}
    output = _output_label(result.output, run, model)
    if not result.tornado:
        body = _note(f"No uncertain input moves {output}: there is nothing to rank.")
        return _Section("sensitivity", title, body)
    body = _note(
        f"What moves {output} most. Tornado: each uncertain input alone from its low to"
        f" its high, every other input at mid (base {format_cell(result.base)}). Rank"
        f" correlation and contribution to variance: from {result.samples:,} Monte Carlo"
        f" samples (seed {result.seed})."
    )
    tornado = [["input", "at low", "at high", "swing"]]
    tornado += [
        [
            bar.label or bar.input,
            format_cell(bar.low),
            format_cell(bar.high),
            format_cell(bar.swing),
        ]
        for bar in result.tornado
    ]
    body += (
        '<div class="charts single">'
        + _figure("tornado", charts.tornado(result), "Tornado: output at each input's low and high")
        + _figure(
            "contribution",
            charts.contribution(result),
            "Contribution to variance: squared rank correlations, normalised to 1",
        )
        + "</div>"
    )
    body += "<h3>Tornado</h3>" + _table("tornado-table", tornado)
    body += "<h3>Rank correlation and contribution to variance</h3>"
    body += _table("contribution-table", _contribution_rows(result, labels))
    if result.sobol is not None:
        body += "<h3>Sobol indices</h3>" + _table("sobol-table", _sobol_rows(result, labels))
    return _Section("sensitivity", title, body)


def _output_label(output: str, run: RunResult, model: Model) -> str:
    """The sensitivity output as the report names it: a key figure's or a node's label."""
    case = run.business_case
    if case is not None and output in case.key_figures:
        return case.key_figures[output].label
    return model[output].display_label if output in model else output


def _contribution_rows(result: SensitivityResult, labels: Mapping[str, str]) -> list[list[str]]:
    rows = [["input", "rank correlation", "contribution to variance"]]
    order = sorted(
        result.contribution_to_variance,
        key=lambda k: -result.contribution_to_variance[k],
    )
    for name in order:
        rho = result.rank_correlation.get(name)
        share = result.contribution_to_variance[name]
        rows.append(
            [
                labels.get(name, name),
                format_signed(rho),
                format_rate(share),
            ]
        )
    return rows


def _sobol_rows(result: SensitivityResult, labels: Mapping[str, str]) -> list[list[str]]:
    sobol = result.sobol
    assert sobol is not None  # only called with Sobol indices
    rows = [["input", "first order S1", "± conf", "total ST", "± conf"]]
    for name in sorted(sobol.ST, key=lambda k: -sobol.ST[k]):
        values = (
            sobol.S1.get(name),
            sobol.S1_conf.get(name),
            sobol.ST[name],
            sobol.ST_conf.get(name),
        )
        rows.append([labels.get(name, name), *("-" if v is None else f"{v:.3f}" for v in values)])
    return rows


# ---------------------------------------------------------------------------- check and settings


def _warnings_section(diagnostics: Sequence[Diagnostic]) -> _Section:
    if not diagnostics:
        body = _note("check found no warnings.", "no-warnings")
    else:
        items = "".join(
            f'<li class="{html_text(d.severity)}"><code>{html_text(str(d))}</code></li>'
            for d in diagnostics
        )
        body = _note(f"check found {len(diagnostics)} warning(s):") + (
            f'<ul id="warnings-list">{items}</ul>'
        )
    return _Section("warnings", "Check warnings", body)


def _reproduction_section(
    result: RunResult, reproduction: Reproduction, sensitivity: SensitivityResult | None
) -> _Section:
    overrides = ", ".join(f"{k}={v:g}" for k, v in result.overrides.items()) or "none"
    facts = [
        ("repro-samples", "Samples", f"{result.samples}"),
        ("repro-seed", "Seed", f"{result.seed}"),
        ("repro-method", "Method", result.method),
        ("repro-version", "Engine version", f"assumption_graph {__version__}"),
        ("repro-model-file", "Model file", reproduction.model_file or "(built in code)"),
        ("repro-sha256", "Model file SHA-256", reproduction.model_sha256 or "-"),
        ("repro-overrides", "Overrides", overrides),
        ("repro-created", "Made", reproduction.created),
    ]
    if sensitivity is not None:
        sobol = "with Sobol indices" if sensitivity.sobol is not None else "no Sobol indices"
        text = (
            f"output {sensitivity.output}, {sensitivity.samples} samples, seed"
            f" {sensitivity.seed}, method {sensitivity.method}, {sobol}"
        )
        facts.append(("repro-sensitivity", "Sensitivity", text))
    if reproduction.command:
        facts.append(("repro-command", "Command to make it again", reproduction.command))
    body = _note(
        "The same model file (same SHA-256), samples, seed, method and overrides give"
        " the same numbers, bit for bit, on any machine."
    )
    body += _facts(
        "reproduction", [(term, text) for _, term, text in facts], [i for i, _, _ in facts]
    )
    return _Section("reproducibility", "Reproducibility", body)


# ---------------------------------------------------------------------------- markup helpers


_COMMENT = re.compile(r"<!--.*?-->", re.S)
_METADATA = re.compile(r"<metadata\b.*?</metadata>\s*", re.S)
_ID = re.compile(r'(?<=\s)id="([^"]*)"')
_REFERENCE = re.compile(r'(url\(#|href="#)([^)"]*)')


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG document as markup to put inside HTML.

    The XML prolog, doctype, comments and metadata go, and every id (with the
    ``url(#…)`` and ``href="#…"`` references to it) is prefixed, so several
    drawings on one page cannot collide.

    >>> inline_svg('<?xml version="1.0"?><svg><g id="a" clip-path="url(#a)"/></svg>', "x")
    '<svg><g id="x-a" clip-path="url(#x-a)"/></svg>'
    """
    body = _COMMENT.sub("", svg)
    start = body.find("<svg")
    if start < 0:
        raise ValueError("not an SVG document: no <svg> element")
    body = _METADATA.sub("", body[start:])
    body = _ID.sub(lambda m: f'id="{prefix}-{m[1]}"', body)
    body = _REFERENCE.sub(lambda m: f"{m[1]}{prefix}-{m[2]}", body)
    return body.strip()


def _table(
    element_id: str,
    rows: list[list[str]],
    note: str | None = None,
    money_unit: str | None = None,
) -> str:
    """A table in a wrapper that scrolls sideways on a narrow screen, with its note."""
    header = [cell.replace("_", " ") for cell in rows[0]]
    text = html_table([header, *rows[1:]])
    notes = [n for n in (f"amounts in {money_unit}" if money_unit else None, note) if n]
    caption = _note("; ".join(notes).capitalize()) if notes else ""
    return f'<div class="table-wrap" id="{element_id}">{text}</div>{caption}'


def _note(text: str, element_id: str | None = None) -> str:
    attribute = f' id="{element_id}"' if element_id else ""
    return f'<p class="note"{attribute}>{html_text(text)}</p>'


def _slug(text: str) -> str:
    """Text usable in an id: letters, digits, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


_CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 15px;
  line-height: 1.4; color: #1a1a1a; background: #fff; max-width: 1100px; margin: 0 auto;
  padding: 1em 1.5em; }
h1 { font-size: 1.6em; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #2b5d8a; padding-bottom: 0.15em;
  margin-top: 1.6em; }
h3 { font-size: 1.05em; margin: 1.1em 0 0.4em; }
nav ol { columns: 2; padding-left: 1.4em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; overflow-wrap: anywhere; }
.note { color: #444; font-size: 0.9em; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.3em 0; }
th, td { padding: 0.2em 0.6em; border-bottom: 1px solid #ccc; white-space: nowrap; }
th { background: #eef3f8; text-align: right; }
th:first-child, td:first-child { text-align: left; white-space: normal; min-width: 12em; }
td { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0.6em 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 0.85em; color: #444; }
svg { max-width: 100%; height: auto; }
.diagram svg { max-height: 90vh; width: auto; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
  gap: 0.5em 1em; }
.charts.single { grid-template-columns: 1fr; }
.output { break-inside: avoid; page-break-inside: avoid; }
details > summary { cursor: pointer; color: #2b5d8a; margin: 0.5em 0; }
code { font-size: 0.85em; overflow-wrap: anywhere; }
li.warning code { color: #8a4b00; }
@media (max-width: 640px) {
  body { font-size: 14px; padding: 0.5em; }
  nav ol { columns: 1; }
  dl { grid-template-columns: 1fr; }
  dd { margin-bottom: 0.4em; }
  .charts { grid-template-columns: 1fr; }
}
@page { size: A4 portrait; margin: 14mm 12mm; }
@media print {
  body { font-size: 9.5pt; max-width: none; padding: 0; }
  section { break-before: page; page-break-before: always; }
  h2 { margin-top: 0; }
  .table-wrap { overflow: visible; }
  table { width: 100%; font-size: 8pt; }
  th, td { padding: 0.15em 0.3em; }
  th:first-child, td:first-child { min-width: 0; }
  .diagram svg { max-height: 240mm; }
  .charts { grid-template-columns: 1fr 1fr; }
  .charts.single { grid-template-columns: 1fr; }
  .charts.single svg { max-height: 120mm; width: auto; }
}
@media print { details::details-content { content-visibility: visible; display: contents; } }
"""
