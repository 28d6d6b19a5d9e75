"""One self-contained HTML file that reports a run: what ``assumption-graph report`` writes.

The report holds the model's name, purpose and price level, the assumption
diagram (the overview, with the full diagram folded in a ``<details>``), the
business case's tables (key figures, cost by phase and year, costs and gains by
category, cash flows, risks and non-economic gains), a histogram and an S-curve
for each main output, the tornado and contribution-to-variance charts, every
``check`` warning, and the settings needed to make the same numbers again.

The markup comes from the package's Jinja2 templates (:mod:`.pages`), which the
live page (``assumption-graph serve``) shares. Everything is inline: styles in
one ``<style>``, diagrams and charts as inline SVG, no scripts and no external
addresses, so the file opens offline, prints to A4 (a page per section) and
reads on a phone. Every text from the model goes
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ._version import __version__
from .business.figures import RATES, BusinessCaseResult, KeyFigure
from .errors import Diagnostic
from .model import Model
from .pages import Markup, Section, render_page
from .render import AUTO, RenderError, diagram, resolve_level
from .report import (
    format_cell,
    format_rate,
    format_signed,
    key_figure_rows,
    node_rows,
    risk_rows,
    table_rows,
)
from .results import NodeSummary, RunResult
from .run import Simulator, checked_whole

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
    sections = [summary_section(model, result), diagram_section(model)]
    sections += _case_sections(case, model.money_unit) if case else [_no_case_section()]
    sections += [
        figures_section(result, model),
        distribution_section(result, model),
        sensitivity_section(sensitivity, sensitivity_note, result, model),
        warnings_section(tuple(diagnostics)),
        _reproduction_section(result, reproduction, sensitivity),
    ]
    return _document(model.name or "Assumption graph report", sections)


def _document(title: str, sections: Sequence[Section]) -> str:
    """The page: the first section (the summary) under an ``h1``, the contents, the rest."""
    return render_page("report.html.j2", title, first=sections[0], sections=sections[1:])


def summary_section(model: Model, result: RunResult) -> Section:
    """The model's name, description, purpose, price level and how the run sampled."""
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
    context = {"description": model.description, "facts": facts}
    return Section("summary", model.name or "Assumption graph report", "summary", context)


def diagram_section(model: Model) -> Section:
    """The overview, with the full diagram folded below it; a diagram too big for
    Graphviz to lay out in seconds (see :func:`~assumption_graph.render.resolve_level`)
    is left out with a note that says how to draw it."""

    def without(text: str, element_id: str) -> Section:
        return Section("diagram", title, "diagram", {"problem": {"text": text, "id": element_id}})

    title = "Assumption diagram"
    try:
        level, note = resolve_level(model, AUTO)
    except RenderError as error:
        return without(f"The diagram is not drawn: {error}.", "diagram-too-big")
    overview = _diagram_svg(model, "overview")
    if overview is None:
        return without(
            "The diagram needs Graphviz's 'dot' program, which was not found: install"
            " Graphviz (e.g. 'apt-get install graphviz') and make the report again.",
            "diagram-missing",
        )
    detail = None
    if level == "detail":
        detail = Markup(inline_svg(_diagram_svg(model, "detail") or "", "detail"))
    context = {
        "problem": None,
        "overview": Markup(inline_svg(overview, "overview")),
        "detail": detail,
        "detail_note": note,
    }
    return Section("diagram", title, "diagram", context)


def _diagram_svg(model: Model, level: str) -> str | None:
    """The diagram as SVG text, or ``None`` when Graphviz's ``dot`` is missing."""
    import graphviz

    try:
        return diagram(model, level=level).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        return None


def _case_sections(case: BusinessCaseResult, money_unit: str) -> list[Section]:
    sections = [key_figure_section(case, money_unit)]
    for key, section_id in _TABLE_SECTIONS:
        table = case.tables[key]
        rows = table_rows(table)
        sections.append(_table_section(section_id, table.title, rows, table.note, money_unit))
    sections.append(_risk_section(case, money_unit))
    gains = case.tables.get("non_economic_gains")
    title = "Non-economic gains"
    if gains is None:
        text = "The business case states no non-economic gains."
        sections.append(_note_section("non-economic-gains", title, text))
    else:
        rows = table_rows(gains)
        sections.append(_table_section("non-economic-gains", title, rows, gains.note, None))
    return sections


def _table_section(
    section_id: str,
    title: str,
    rows: list[list[str]],
    note: str | None,
    money_unit: str | None,
    previous: Mapping[str, list[str]] | None = None,
) -> Section:
    """A section of one table, ``{section_id}-table``; ``previous`` marks changed cells."""
    context = {
        "table_id": f"{section_id}-table",
        "rows": rows,
        "note": note,
        "money_unit": money_unit,
        "previous": previous,
    }
    return Section(section_id, title, "table", context)


def _note_section(section_id: str, title: str, text: str, note_id: str | None = None) -> Section:
    return Section(section_id, title, "note", {"note": text, "note_id": note_id})


def key_figure_section(
    case: BusinessCaseResult,
    money_unit: str,
    rows: list[list[str]] | None = None,
    previous: Mapping[str, list[str]] | None = None,
) -> Section:
    """The key figures with their notes; ``rows`` instead of :func:`key_figure_rows`'s and
    ``previous`` rows (by label) to mark what changed, for the live page."""
    adjustment = (
        "the Monte Carlo mean" if case.risk_adjustment == "monte_carlo" else "probability-weighted"
    )
    notes = [f"{f.label}: {f.note}" for f in case.key_figures.values() if f.note]
    notes.append(f"Cost buffer: {format_cell(case.buffer)} {money_unit}")
    for change in case.changes:
        flag = "Significant change" if change.significant else "Change"
        notes.append(f"{flag} from the previous phase: {change.figure}: {change.reason}")
    context = {
        "rows": key_figure_rows(case) if rows is None else rows,
        "note": f"risk-adjusted = {adjustment}; IRR and MIRR in percent",
        "money_unit": money_unit,
        "previous": previous,
        "notes": notes,
    }
    return Section("key-figures", "Key figures", "key_figures", context)


def _risk_section(case: BusinessCaseResult, money_unit: str) -> Section:
    types = [["risk type", "amount"]]
    types += [[name, format_cell(amount)] for name, amount in case.risk_types.items()]
    context = {"rows": risk_rows(case), "types": types, "money_unit": money_unit}
    return Section("risks", "Risks and risk types", "risks", context)


def _no_case_section() -> Section:
    text = (
        "This model has no 'business_case:' section, so the report has no key figures,"
        " costs by phase and year, costs and gains by category, cash flows, risks or"
        " non-economic gains. Its main assumptions' figures follow."
    )
    return _note_section("business-case", "Business case", text, "no-business-case")


def figures_section(
    result: RunResult,
    model: Model,
    rows: list[list[str]] | None = None,
    previous: Mapping[str, list[str]] | None = None,
) -> Section:
    """The main assumptions' figures; ``rows`` and ``previous`` as for the key figures."""
    rows = node_rows(result, model) if rows is None else rows
    return _table_section("figures", "Main assumptions", rows, None, model.money_unit, previous)


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


def distribution_section(
    result: RunResult,
    model: Model,
    limit: int = CHARTED_OUTPUTS,
    between: Callable[[], None] | None = None,
) -> Section:
    """A histogram and an S-curve of each main output (the first ``limit``);
    ``between`` is called before each output's charts (the live page stops there)."""
    from .plots import PlotAccessor  # matplotlib loads when a report is built

    charts = PlotAccessor(result, model)
    outputs = list(_outputs(result, model))
    drawn = []
    for out in outputs[:limit]:
        if between is not None:
            between()
        slug = _slug(out.name)
        drawn.append(
            {
                "slug": slug,
                "title": out.title,
                "histogram": _chart(f"histogram-{slug}", charts.histogram(out.name)),
                "histogram_caption": _percentile_caption(out),
                "s_curve": _chart(f"s-curve-{slug}", charts.s_curve(out.name)),
                "s_curve_caption": _s_curve_caption(out),
            }
        )
    what = (
        "each key figure of the business case"
        if result.business_case is not None
        else "each main assumption"
    )
    intro = (
        f"The simulated distribution of {what}: a histogram with P10, P50 and P90 marked,"
        " and the S-curve (the probability of a value at most x) with the expected and"
        " risk-adjusted figures marked."
    )
    cut = None
    if len(outputs) > limit:
        cut = (
            f"Charts of the first {limit} of {len(outputs):,} outputs only (each"
            " chart takes a while to draw); every output's figures are in the tables above."
        )
    context = {"intro": intro, "outputs": drawn, "cut": cut}
    return Section("distributions", "Distributions of the main outputs", "distributions", context)


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


def _chart(element_id: str, figure: Any) -> Markup:
    """A matplotlib figure as inline SVG markup whose ids start with ``element_id``.

    ``figure_svg`` salts the SVG's internal ids with a fixed string, not at random,
    so the same run gives the same report, byte for byte (apart from its time);
    ``inline_svg`` prefixes them with the element's id, so charts never share one.
    """
    from .plots import figure_svg

    return Markup(inline_svg(figure_svg(figure), element_id))


def sensitivity_section(
    result: SensitivityResult | None, note: str, run: RunResult, model: Model
) -> Section:
    """The tornado, rank correlation, contribution to variance (and Sobol) of ``result``;
    ``note`` says why there is none when ``result`` is ``None``."""
    title = "Sensitivity"
    if result is None:
        return _note_section("sensitivity", title, note, "sensitivity-missing")
    from .plots import PlotAccessor

    charts = PlotAccessor(run, model)
    labels = {bar.input: bar.label for bar in result.tornado}
    output = _output_label(result.output, run, model)
    if not result.tornado:
        text = f"No uncertain input moves {output}: there is nothing to rank."
        return Section("sensitivity", title, "sensitivity", {"intro": text, "charts": None})
    intro = (
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
    context = {
        "intro": intro,
        "charts": {
            "tornado": _chart("tornado", charts.tornado(result)),
            "contribution": _chart("contribution", charts.contribution(result)),
        },
        "tornado": tornado,
        "contribution": _contribution_rows(result, labels),
        "sobol": _sobol_rows(result, labels) if result.sobol is not None else None,
    }
    return Section("sensitivity", title, "sensitivity", context)


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


def warnings_section(
    diagnostics: Sequence[Diagnostic], title: str = "Check warnings", what: str = "warning"
) -> Section:
    """check's findings, each with its file and line (``what`` names them in the count)."""
    context = {
        "heading": f"check found {len(diagnostics)} {what}(s):",
        "diagnostics": [{"severity": d.severity, "text": str(d)} for d in diagnostics],
    }
    return Section("warnings", title, "warnings", context)


def _reproduction_section(
    result: RunResult, reproduction: Reproduction, sensitivity: SensitivityResult | None
) -> Section:
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
    context = {
        "items": [(term, text) for _, term, text in facts],
        "ids": [i for i, _, _ in facts],
    }
    return Section("reproducibility", "Reproducibility", "reproduction", context)


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


def _slug(text: str) -> str:
    """Text usable in an id: letters, digits, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)
