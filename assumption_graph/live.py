"""The live page's updates: what ``assumption-graph serve`` shows after each save.

:class:`LiveModel` holds one model file and what the page shows of it. Its
:meth:`~LiveModel.updates` reads and checks the file, then yields the page's
sections in the order a user wants them: the diagram and the deterministic
figures (expected, weighted, best, worst) first, then the Monte Carlo figures
refined in steps (10^4, 10^5, ... up to the run's samples) with their standard
errors, then the charts and the tornado. (The deterministic figures come from a
run of one sample, whose Monte Carlo columns wait for the first step.) A file
that no longer checks yields its errors with their lines; the figures of the
last good save stay, marked stale. Cells that changed since the previous save
(or pin) at the same step are marked, with the old value beside the new: the
streams are counter-based, so a figure the change does not touch comes out the
same, bit for bit.

What-if pins fix inputs for the page's runs like ``run --set`` (checked the same
way); nothing is written to the model file. Everything here is plain Python
with no server: the server (:mod:`.serve`) calls it from one worker thread and
cancels an older run between chunks through ``cancelled``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .business.figures import RATES, KeyFigure
from .errors import Diagnostic, RunError, shown
from .html_report import (
    diagram_section,
    distribution_section,
    figures_section,
    key_figure_section,
    report_sensitivity,
    sensitivity_section,
    summary_section,
    warnings_section,
)
from .io import UNREADABLE_CODES, read_model
from .pages import Markup, Section, render_element, render_page
from .report import format_cell, format_rate, key_figure_rows, node_rows
from .results import NodeSummary, RunResult
from .run import Simulator
from .validate import check

__all__ = ["FIRST_STEP", "LIVE_CHARTS", "PENDING", "Control", "LiveModel", "Update", "sample_steps"]

FIRST_STEP = 10_000  # the first Monte Carlo step's samples; each next step has ten times more
LIVE_CHARTS = 6  # outputs with a histogram and an S-curve on the page (each takes a while)
LIVE_SENSITIVITY_SAMPLES = 20_000  # the tornado's rank correlations: enough to rank, quick
PENDING = "…"  # a Monte Carlo cell before its first step
_MC_COLUMNS = frozenset({"mean", "± SE", "std", "P10", "P50", "P90", "nonfinite"})
_TABLES = frozenset({"key-figures", "figures"})  # a business case's table, else a plain graph's


def sample_steps(n: int, first: int = FIRST_STEP) -> tuple[int, ...]:
    """The Monte Carlo steps up to ``n`` samples: ``first``, ten times that, ..., then ``n``.

    >>> sample_steps(1_000_000), sample_steps(25_000), sample_steps(500)
    ((10000, 100000, 1000000), (10000, 25000), (500,))
    """
    steps: list[int] = []
    step = first
    while step < n:
        steps.append(step)
        step *= 10
    return (*steps, n)


@dataclass(frozen=True)
class Control:
    """A what-if control: an uncertain input, its range, and its values when it has a list."""

    id: str
    label: str
    low: float
    high: float
    mid: float
    values: tuple[float, ...] | None = None

    @property
    def step(self) -> float:
        """The slider's step: a hundredth of the range (any step where the range is empty)."""
        return (self.high - self.low) / 100 or 1.0


@dataclass(frozen=True)
class Update:
    """One message to the page: the sections that changed (by element id, as markup) and
    the status."""

    stage: str  # "broken", "deterministic", "monte-carlo", "charts"; the server's "sync", "failed"
    sections: Mapping[str, str]
    status: str
    stale: bool = False
    samples: int = 0


class _Cancelled(Exception):
    """A newer save or pin: the running update stops between chunks."""


@dataclass
class LiveModel:
    """One model file as the live page shows it: its last good figures, its pins.

    ``n`` and ``seed`` are the run's samples and seed (the last step equals
    ``run -n N --seed SEED``); ``method`` the sampling method.
    """

    path: Path
    n: int
    seed: int
    method: str = "mc"
    pins: dict[str, float] = field(default_factory=dict)
    elements: dict[str, str] = field(default_factory=dict)  # the page's sections, in order
    status: str = "reading the model file"
    stale: bool = False
    simulator: Simulator | None = None
    _files: frozenset[Path] = frozenset()
    _title: str = "Assumption graph"
    _began: float = 0.0  # when the running update read the file
    _rows: dict[object, dict[str, list[str]]] = field(default_factory=dict)  # this save's
    _previous: dict[object, dict[str, list[str]]] = field(default_factory=dict)  # the last's

    @property
    def files(self) -> frozenset[Path]:
        """The files the page reads: the model and the library file it names."""
        return self._files | {self.path.resolve()}

    # ------------------------------------------------------------------ pins

    def pin(self, node_id: str, text: str) -> float:
        """Pin an input to the number ``text`` for the page's runs, checked like ``--set``.

        A :class:`~assumption_graph.errors.RunError` (with its message for the page)
        when the number is not finite or the id names no node of the model.
        """
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise RunError(
                f"a what-if value must be a finite number, got {shown(text)}", node=node_id
            )
        if self.simulator is None:
            raise RunError("the model has not been read yet: pin once its figures show")
        self.pins.update(self.simulator.checked_overrides({node_id: value}))
        return value

    def unpin(self, node_id: str | None = None) -> None:
        """Release one pin, or every pin when ``node_id`` is ``None``."""
        if node_id is None:
            self.pins.clear()
        else:
            self.pins.pop(node_id, None)

    def controls(self) -> list[Control]:
        """A control for each uncertain input of the last good model, in evaluation order."""
        if self.simulator is None:
            return []
        from .compile.reference import input_distributions

        model = self.simulator.model
        found = input_distributions(self.simulator.compiled.checked).items()
        return [
            Control(
                node_id,
                model[node_id].display_label,
                dist.low,
                dist.high,
                dist.mid,
                getattr(dist, "values", None),
            )
            for node_id, dist in found
            if node_id in model
            and dist.draws
            and all(math.isfinite(x) for x in (dist.low, dist.high))
        ]

    # ------------------------------------------------------------------ the updates

    def new_save(self) -> None:
        """Start comparing with what the page shows now: call when the file changed."""
        self._previous.update(self._rows)
        self._rows = {}

    def updates(self, cancelled: Callable[[], bool] = lambda: False) -> Iterator[Update]:
        """Read, check and run the model, yielding the page's sections as they are ready.

        ``cancelled`` is asked between steps and after every chunk of a run; once it
        says so the updates stop (nothing half-done is kept).
        """
        self._began = time.perf_counter()
        model, found = read_model(self.path)
        unreadable = any(d.code in UNREADABLE_CODES for d in found)
        checked = None if unreadable else check(model, found)
        if checked is None or not checked.ok:
            yield self._broken(tuple(found) if checked is None else checked.diagnostics)
            return
        try:
            self._files = frozenset(
                Path(node.file).resolve() for node in checked.model if node.file
            )
            self.simulator = Simulator(checked)
            self.pins = {k: v for k, v in self.pins.items() if k in checked.model}
            self._title = checked.model.name or "Assumption graph"
            with ThreadPoolExecutor(1, "live-diagram") as pool:  # Graphviz while the figures run
                drawing = pool.submit(diagram_section, checked.model)
                yield from self._run(checked.warnings, drawing, cancelled)
        except _Cancelled:
            return

    def _broken(self, diagnostics: tuple[Diagnostic, ...]) -> Update:
        errors = sum(d.severity == "error" for d in diagnostics)
        self.stale = bool(self.elements)
        self.status = f"{self.path.name} has {errors} error(s): fix them and save again" + (
            "; the figures below are those of the last good save (stale)" if self.stale else ""
        )
        section = warnings_section(diagnostics, "Check findings", "finding")
        return self._publish("broken", [section], samples=0)

    def _run(
        self,
        warnings: tuple[Diagnostic, ...],
        drawing: Future[Section],
        cancelled: Callable[[], bool],
    ) -> Iterator[Update]:
        simulator = self.simulator
        assert simulator is not None  # set by updates()
        model = simulator.model
        pins = dict(self.pins)  # the pins at the start: a new pin starts a new update

        def check_in(done: int = 0) -> None:  # also a run's progress: after each chunk
            if cancelled():
                raise _Cancelled

        self.stale = False
        first = simulator.run(1, self.seed, method=self.method, overrides=pins)
        pinned = f", {len(pins)} input(s) pinned" if pins else ""
        self.status = f"deterministic figures{pinned}; sampling…"
        sections = [
            summary_section(model, first),
            drawing.result(),
            warnings_section(warnings, "Check findings", "finding"),
            self._figures(first, "deterministic"),
            self._whatif(),
        ]
        for gone in _TABLES - {s.id for s in sections}:  # the model became or left a case
            self.elements.pop(gone, None)
        yield self._publish("deterministic", sections, samples=0)
        result = first
        for samples in sample_steps(self.n):
            check_in()
            result = simulator.run(
                samples,
                self.seed,
                method=self.method,
                overrides=pins,
                progress=check_in,
            )
            seconds = time.perf_counter() - self._began
            self.status = (
                f"{samples:,} samples, seed {self.seed}{pinned}"
                f" ({seconds:.2f} s after reading the file)"
                + ("" if samples == self.n else "; refining…")
            )
            yield self._publish("monte-carlo", [self._figures(result, samples)], samples=samples)
        check_in()
        sensitivity = report_sensitivity(simulator, result, samples=LIVE_SENSITIVITY_SAMPLES)
        check_in()
        charts = [
            distribution_section(result, model, LIVE_CHARTS, check_in),
            sensitivity_section(
                sensitivity, "No main output varies: there is nothing to rank.", result, model
            ),
        ]
        yield self._publish("charts", charts, samples=result.samples)

    def _figures(self, result: RunResult, step: object) -> Section:
        """The key figures (a business case) or the main nodes' figures, with the mean's
        standard error; Monte Carlo cells pending at the deterministic step; cells that
        changed since the previous save at the same step marked."""
        case = result.business_case
        assert self.simulator is not None
        model = self.simulator.model
        if case is not None:
            rows = _with_se(key_figure_rows(case), case.key_figures.values())
            if step == "deterministic" and case.risk_adjustment == "monte_carlo":
                rows = _pending(rows, {"risk-adjusted"})
        else:
            rows = _with_se(node_rows(result, model), result.summaries.values())
        if step == "deterministic":
            rows = _pending(rows, _MC_COLUMNS)
        self._rows[step] = {row[0]: row for row in rows[1:]}
        previous = self._previous.get(step)
        if case is not None:
            return key_figure_section(case, model.money_unit, rows, previous)
        return figures_section(result, model, rows, previous)

    def _whatif(self) -> Section:
        context = {"controls": self.controls(), "pins": dict(self.pins)}
        return Section("whatif", "What if", "whatif", context)

    def _publish(self, stage: str, sections: list[Section], samples: int) -> Update:
        """Render ``sections`` into the page's state and make the message that sends those
        that changed (an unchanged diagram or set of controls is not sent again)."""
        sent = {}
        for section in sections:
            tag, heading = ("header", "h1") if section.id == "summary" else ("section", "h2")
            markup = render_element(section, tag, heading)
            if self.elements.get(section.id) != markup:
                sent[section.id] = self.elements[section.id] = markup
        return Update(stage, sent, self.status, self.stale, samples)

    def page(self, extra: Mapping[str, object]) -> str:
        """The whole page as it stands now (what a fresh visit shows, without script)."""
        return render_page(
            "live.html.j2",
            self._title,
            elements={k: Markup(v) for k, v in self.elements.items()},
            status=self.status,
            stale=self.stale,
            **extra,
        )


def _with_se(rows: list[list[str]], figures: Iterable[KeyFigure | NodeSummary]) -> list[list[str]]:
    """``rows`` with the Monte Carlo mean's standard error beside the mean (the mean added
    at the end where ``rows`` lack it)."""
    header = rows[0]
    at = header.index("mean") + 1 if "mean" in header else len(header)
    out = [[*header[:at], *([] if "mean" in header else ["mean"]), "± SE", *header[at:]]]
    for row, figure in zip(rows[1:], figures, strict=True):
        cell = (
            format_rate if isinstance(figure, KeyFigure) and figure.name in RATES else format_cell
        )
        mean = [] if "mean" in header else [cell(figure.mean)]
        out.append([*row[:at], *mean, cell(figure.mean_se), *row[at:]])
    return out


def _pending(rows: list[list[str]], columns: frozenset[str] | set[str]) -> list[list[str]]:
    """``rows`` with the cells of ``columns`` shown as pending."""
    header = rows[0]
    return [header] + [
        [PENDING if header[k] in columns else cell for k, cell in enumerate(row)]
        for row in rows[1:]
    ]
