"""The ``assumption-graph`` (``agraph``) command line.

Commands: check, run, draw, sensitivity, export (an Excel workbook), report
(a self-contained HTML page), portfolio (many business cases side by side) and
serve (a live page that follows the model file).

The only module that prints. Every user mistake ends in a one-line message on
standard error and a non-zero exit, never a traceback; output files are written
whole or not at all.
"""

from __future__ import annotations

if __name__ == "__main__":  # python -m assumption_graph.cli: quiet signals before the imports
    from .quiet import quiet_start

    quiet_start()

import argparse
import dataclasses
import json
import math
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._lazy import lazy_import
from ._version import __version__
from .errors import AssumptionGraphError, Diagnostic, ModelFileError, shown
from .io import UNREADABLE_CODES, check_outputs, read_json, read_model, write_files
from .model import Model
from .settings import (
    AUTO,
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    DIAGRAM_EDGES,
    DIAGRAM_NODES,
    FORMATS,
    GROUPS,
    LEVELS,
    METHODS,
)
from .text import printable
from .validate import CheckedModel, check

# The stages after the check (numpy, the kernel, the summaries, the plots) are
# imported by the commands that run them, so that ``check`` and ``draw`` start fast.
if TYPE_CHECKING:
    import shlex

    from .cluster import Cluster
    from .results import RunResult
    from .run import Simulator
    from .sipmath.library import SipLibrary
else:  # for a rerun's command line, which few commands print
    shlex = lazy_import("shlex")

__all__ = ["main"]

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
PROGRESS_THRESHOLD = 2_000_000  # samples from which a run shows a progress bar on a terminal


class _Exit(Exception):
    """Stop with a message already printed and this exit code."""

    def __init__(self, code: int) -> None:
        self.code = code


class _Terminated(BaseException):
    """SIGTERM as an exception: it unwinds like Ctrl-C, so temporary files and children go."""


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _unwind(signum: int, frame: object) -> None:
    """The first Ctrl-C or SIGTERM stops the command; later ones are ignored while it unwinds."""
    for other in _SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise KeyboardInterrupt if signum == signal.SIGINT else _Terminated


@contextmanager
def _signals_unwind() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise for the duration (in the main thread; an ignored one stays so)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    for signum, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, _unwind)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _err(text: str) -> None:
    print(printable(text), file=sys.stderr)


# argument types: argparse turns their ArgumentTypeError into a one-line usage error


def _whole(text: str, what: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{what} must be a whole number, got {shown(text)}"
        ) from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{what} must be at least {least}, got {shown(value)}")
    return value


def _sample_count(text: str) -> int:
    return _whole(text, "the number of samples", 1)


def _thread_count(text: str) -> int:
    return _whole(text, "the number of threads", 1)


def _port(text: str) -> int:
    port = _whole(text, "the port", 0)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"the port must be at most 65535, got {shown(port)}")
    return port


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the seed must be a whole number, got {shown(text)}"
        ) from None


def _precision(text: str) -> float:
    """``0.5%`` or ``0.005``: a relative standard error between 0 and 1."""
    number = text.strip().removesuffix("%")
    try:
        value = float(number) / (100.0 if text.strip().endswith("%") else 1.0)
    except ValueError:
        value = math.nan
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"--precision takes a relative error like 0.5% or 0.005, got {shown(text)}"
        )
    return value


def _file_name(text: str) -> str:
    """A path given for a file: an empty one would silently mean "no file"."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"a file name is needed, got {shown(text)}")
    return text


def _override(text: str) -> tuple[str, float]:
    node_id, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not node_id.strip() or number is None or not math.isfinite(number):
        raise argparse.ArgumentTypeError(
            f"--set takes id=number (a finite number), got {shown(text)}"
        )
    return node_id.strip(), number


# loading and checking shared by the commands


def _read(path: str) -> tuple[Model, list[Diagnostic]]:
    """Read a model leniently; stop with exit 2 when the file can't be read at all."""
    model, diagnostics = read_model(path)
    if any(d.code in UNREADABLE_CODES for d in diagnostics):
        for diagnostic in diagnostics:
            _err(str(diagnostic))
        raise _Exit(EXIT_UNREADABLE)
    return model, diagnostics


def _checked(path: str) -> CheckedModel:
    """Read and check; stop with exit 1 (errors listed) unless the model is clean."""
    model, diagnostics = _read(path)
    checked = check(model, diagnostics)
    if not checked.ok:
        for diagnostic in checked.diagnostics:
            _err(str(diagnostic))
        _err(f"{path}: {len(checked.errors)} error(s); fix them, then run again")
        raise _Exit(EXIT_ERRORS)
    return checked


def _check_outputs(args: argparse.Namespace, *paths: str | Path | None) -> None:
    """Every output a command writes, checked before any work (``None`` and ``-`` skipped).

    Folder there and writable, not a folder, not the model or the previous result
    (by identity), no file twice: a bad name costs nothing and loses nothing.
    """
    inputs = {args.model: "the model file"}
    if getattr(args, "previous", None):
        inputs[args.previous] = "the previous result"
    check_outputs([p for p in paths if p is not None and p != "-"], inputs)


def _write(files: dict[str, str | bytes]) -> None:
    """Write a command's output files, all built first: all of them or none."""
    sys.stdout.flush()  # before anything written through /dev/stdout
    write_files(files)
    for path in files:
        _err(f"wrote {path}")


# commands


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a model and list every problem."""
    model, diagnostics = read_model(args.model)
    unreadable = any(d.code in UNREADABLE_CODES for d in diagnostics)
    found = tuple(diagnostics) if unreadable else check(model, diagnostics).diagnostics
    errors = sum(d.severity == "error" for d in found)
    warnings = len(found) - errors
    if args.format == "json":
        print(
            json.dumps(
                {
                    "file": args.model,
                    "ok": errors == 0,
                    "errors": errors,
                    "warnings": warnings,
                    "diagnostics": [d.as_dict() for d in found],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        for diagnostic in found:
            print(printable(str(diagnostic)))
        verdict = "ok" if errors == 0 else "failed"
        print(
            f"{args.model}: {verdict}: {errors} error(s), {warnings} warning(s),"
            f" {len(model)} node(s)"
        )
    if unreadable:
        return EXIT_UNREADABLE
    return EXIT_ERRORS if errors else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Compile and simulate; print the key-figure table, optionally write JSON."""
    from .report import business_case_report, figures_csv, key_figure_table
    from .run import Simulator

    if args.plot:  # the charts' module only when charts are asked for
        from .plots import ChartRequest, PlotAccessor, check_chart_name, figure_data
    charts = [ChartRequest.parse(text) for text in args.plot or []]
    _check_outputs(args, args.csv, args.json, *(chart.path for chart in charts))
    checked = _checked(args.model)
    for diagnostic in checked.warnings:
        _err(str(diagnostic))
    previous = _previous(args.previous) if args.previous else None
    simulator = Simulator(checked)
    outputs = simulator.case.visible if args.all else simulator.case.reported
    for chart in charts:  # before the run samples
        check_chart_name(chart.name, outputs, simulator.case.key_figures)
    with _cluster(args) as cluster:
        result = _simulate(simulator, args, any(c.kind == "convergence" for c in charts), cluster)
    if previous is not None:
        result = _compared(result, previous)
    files: dict[str, str | bytes] = {}  # every output built before any is written
    if args.csv:
        files[args.csv] = figures_csv(result)
    if charts:
        plot = PlotAccessor(result, checked.model)
        for chart in charts:
            files[str(chart.path)] = figure_data(plot.chart(chart.kind, chart.name), chart.path)
    table = key_figure_table(result, checked.model)
    if result.business_case is not None:
        table += "\n\n" + business_case_report(result.business_case, checked.model.money_unit)
    table += _sampling_notes(result, args)
    _emit(table, files, args.json, result.to_dict())
    return EXIT_OK


def _emit(
    report: str, files: dict[str, str | bytes], json_target: str | None, data: object
) -> None:
    """Print a command's ``report``, then write its ``files`` and its JSON ``data`` (if
    ``json_target``: a file, or ``-`` for standard output, which then carries it alone)."""
    to_stdout = json_target == "-"
    json_text = _json_text(data) if json_target else ""
    if json_target and not to_stdout:
        files[json_target] = json_text
    print(report, file=sys.stderr if to_stdout or _on_stdout(files) else sys.stdout)
    _write(files)
    if to_stdout:
        print(json_text, end="")


def _on_stdout(paths: Iterable[str]) -> bool:
    """Whether one of ``paths`` is this process's standard output (``/dev/stdout``, its
    ``/proc`` name, the file it is redirected to): the table then goes to standard error,
    as with ``-``, so standard output carries that output alone."""
    try:
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout
        return False
    for path in paths:
        try:
            found = os.stat(path)
        except OSError:
            continue
        if (found.st_dev, found.st_ino) == (out.st_dev, out.st_ino):
            return True
    return False


def _json_text(data: object) -> str:
    """``data`` as the JSON a command writes (``-`` prints it: standard output then carries
    nothing else)."""
    return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def _sampling_notes(result: RunResult, args: argparse.Namespace) -> str:
    """Lines on how the run sampled: the precision reached, the correlations achieved."""
    lines = []
    if args.precision is not None:
        done = "reached" if result.samples < args.samples else "not known to be reached at the cap"
        lines.append(
            f"Precision {args.precision:.3%} of the means: {done} after {result.samples:,} "
            f"samples (cap {args.samples:,})"
        )
    for c in result.correlations:
        achieved = "-" if c["achieved"] is None else f"{c['achieved']:.3f}"
        lines.append(
            f"Rank correlation {c['a']} ~ {c['b']}: requested {c['requested']:g}, "
            f"achieved {achieved}"
        )
    return "".join(f"\n{line}" for line in lines)


def _previous(path: str) -> dict[str, Any]:
    """The ``business_case`` object of a previous run's JSON (a whole run file or just it)."""
    try:
        data = read_json(path)
    except ModelFileError as error:  # missing, unreadable, over a limit
        raise ModelFileError(
            f"cannot read the previous result: {error.message}",
            file=path,
            line=error.line,
            hint=error.hint,
        ) from None
    except json.JSONDecodeError as error:
        raise ModelFileError(
            f"the previous result is not JSON: {error.msg}", file=path, line=error.lineno
        ) from None
    case = data.get("business_case", data) if isinstance(data, dict) else None
    if not isinstance(case, dict) or not isinstance(case.get("key_figures"), dict):
        raise ModelFileError(
            "the previous result has no business case figures",
            file=path,
            hint="pass the JSON written by 'run --json' for the previous phase's model",
        )
    return case


def _simulate(
    simulator: Simulator,
    args: argparse.Namespace,
    keep_samples: bool = False,
    cluster: Cluster | None = None,
) -> RunResult:
    options: dict[str, Any] = {
        "cluster": cluster,
        "overrides": dict(args.set or []),
        "outputs": "all" if args.all else None,
        "threads": args.threads,
        "keep_samples": keep_samples,
        "method": args.method,
        "precision": getattr(args, "precision", None),
        "sip_library": _sip_library(simulator, args),
    }
    with _progress_bar(args.samples, args) as progress:
        return simulator.run(args.samples, args.seed, progress=progress, **options)


def _sip_library(simulator: Simulator, args: argparse.Namespace) -> SipLibrary | None:
    """The SIP library a run takes inputs from (``--sip-library``, else the model's
    ``sip_library:``, relative to the model file); says which inputs it gives."""
    path = getattr(args, "sip_library", None)
    if path is None and simulator.model.sip_library is not None:
        path = os.path.join(os.path.dirname(args.model), simulator.model.sip_library)
    if path is None:
        return None
    from .sipmath.library import read_library  # a run without a library never imports it

    library = read_library(path)
    taken = simulator.library_inputs(library, dict(args.set or []))
    listed = ", ".join(taken) or "none (no SIP is named like a random input the run does not pin)"
    _err(f"inputs from the SIP library {path}: {listed}")
    return library


def cmd_draw(args: argparse.Namespace) -> int:
    """Render the assumption diagram with Graphviz."""
    from . import render

    show = (
        frozenset(s.strip() for s in args.show.split(",") if s.strip())
        if args.show
        else frozenset()
    )
    unknown = show - {"estimates", "results"}
    if unknown:
        _err(f"--show takes estimates and/or results, got {shown(', '.join(sorted(unknown)))}")
        return EXIT_ERRORS
    render.output_format(args.output, args.format)  # before the run: a bad name costs nothing
    _check_outputs(args, args.output)
    checked: CheckedModel | None = None
    if args.check:  # draw even a broken model, with its problems marked
        model, diagnostics = _read(args.model)
        found: tuple[Diagnostic, ...] | None = check(model, diagnostics).diagnostics
    else:
        checked = _checked(args.model)
        model, found = checked.model, None
    level, note = render.resolve_level(model, args.level)  # before any run
    results = None
    if checked is not None and "results" in show:
        from .run import Simulator

        results = Simulator(checked).run(args.samples, args.seed, outputs="all", method=args.method)
    if note:
        _err(f"note: {note}")
    path = render.render(
        model,
        args.output,
        format=args.format,
        level=level,
        group=args.group,
        show=show,
        results=results,
        diagnostics=found,
        check=args.check,
    )
    _err(f"wrote {path}")
    return EXIT_OK


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Which inputs drive an output: tornado, rank correlation and Sobol tables and charts."""
    from . import plots
    from .report import sensitivity_report
    from .run import Simulator
    from .sensitivity import output_label, output_unit, sensitivity

    for path in (args.chart, args.variance_chart):  # before the run: a bad name costs nothing
        if path:
            plots.figure_format(path)
    _check_outputs(args, args.chart, args.variance_chart, args.json)
    checked = _checked(args.model)
    for diagnostic in checked.warnings:
        _err(str(diagnostic))
    if not args.output:
        model = checked.model
        example = "npv" if model.business_case is not None else next(iter(model.main_nodes), None)
        raise AssumptionGraphError(
            "sensitivity needs --output NODE: the node or key figure to explain",
            hint=f"e.g. --output {example}" if example else None,
        )
    simulator = Simulator(checked)
    with _cluster(args) as cluster:
        result = sensitivity(
            simulator,
            args.output,
            n=args.samples,
            seed=args.seed,
            sobol=not args.no_sobol,
            sobol_samples=args.sobol_samples,
            overrides=dict(args.set or []),
            method=args.method,
            cluster=cluster,
        )
    label = output_label(simulator.case, args.output)
    unit = output_unit(simulator.case, args.output)
    charts = (
        (args.chart, lambda: plots.tornado_figure(result, title=f"Tornado: {label}", unit=unit)),
        (
            args.variance_chart,
            lambda: plots.contribution_figure(result, title=f"Contribution to variance: {label}"),
        ),
    )
    files: dict[str, str | bytes] = {
        path: plots.figure_data(figure(), path) for path, figure in charts if path
    }
    _emit(sensitivity_report(result, {args.output: label}), files, args.json, result.as_dict())
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Simulate and write the figures, tables and assumptions as an Excel workbook,
    and/or the model as a SIPmath 3.0 library."""
    from . import export
    from .run import Simulator

    if args.output is None and args.sipmath is None:
        _err("error: give -o WORKBOOK.xlsx, --sipmath LIB.json, or both")
        return EXIT_UNREADABLE
    if args.output is not None:
        export.check_xlsx_path(args.output)  # before the run: a bad name costs nothing
    _check_outputs(args, args.output, args.sipmath)
    checked = _checked(args.model)
    for diagnostic in checked.warnings:
        _err(str(diagnostic))
    simulator = Simulator(checked)
    files: dict[str, str | bytes] = {}
    if args.sipmath is not None:
        files[args.sipmath] = _sip_library_text(simulator, args)
    if args.output is None:
        _write(files)
        return EXIT_OK
    previous = _previous(args.previous) if args.previous else None
    result = _simulate(simulator, args, keep_samples=args.include_samples)
    if previous is not None:
        result = _compared(result, previous)
    if args.include_samples and result.samples > export.MAX_SAMPLE_ROWS:
        _err(
            f"warning: the Samples sheet holds the first {export.MAX_SAMPLE_ROWS:,} of"
            f" {result.samples:,} samples (Excel's row limit)"
        )
    files[args.output] = export.export_workbook(
        checked.model,
        result,
        model_path=args.model,
        include_samples=args.include_samples,
        formulas=args.formulas,
        warn=lambda text: _err(f"warning: {text}"),
    )
    _write(files)
    return EXIT_OK


def _sip_library_text(simulator: Simulator, args: argparse.Namespace) -> str:
    """The SIPmath library ``export --sipmath`` writes, as JSON text; notes its stored inputs."""
    from .sipmath.write import write_sip_library

    with _progress_bar(args.samples, args) as progress:
        writing = write_sip_library(
            simulator,
            args.samples,
            entity=args.sip_entity,
            threads=args.threads,
            progress=progress,
        )
    if writing.stored_inputs:
        _err(
            "stored as trials (no metalog fits their distribution): "
            + ", ".join(writing.stored_inputs)
        )
    return json.dumps(writing.data, indent=1, allow_nan=False) + "\n"


def cmd_estimates(args: argparse.Namespace) -> int:
    """Write the sheet for collecting estimates, or write a filled-in one back."""
    from .estimates_sheet import SHEET_SUFFIXES, read_sheet, sheet_bytes
    from .estimates_update import update_estimates

    if (args.output is None) == (args.update is None):
        _err("error: give -o SHEET (.xlsx or .csv) to write the sheet, or --update SHEET")
        return EXIT_UNREADABLE
    if args.output is not None:
        suffix = Path(args.output).suffix.lower()
        if suffix not in SHEET_SUFFIXES:
            _err(f"error: {args.output}: the sheet's name must end in .xlsx or .csv")
            return EXIT_UNREADABLE
        _check_outputs(args, args.output)
        model, _ = _read(args.model)
        _write({args.output: sheet_bytes(model, suffix)})
        return EXIT_OK
    update = update_estimates(args.model, read_sheet(args.update))
    for change in update.changes:
        print(change)
    if not update.changes:
        print("no estimate changed")
    elif args.dry_run:
        _err("dry run: nothing written")
    else:
        _write({args.model: update.text})
    return EXIT_OK


def cmd_scenarios(args: argparse.Namespace) -> int:
    """Run the base and every scenario of a file with common random numbers; compare them."""
    from .run import Simulator
    from .scenario_file import read_scenarios
    from .scenario_report import OUTPUT_FORMATS, scenario_report, scenarios_csv, scenarios_output
    from .scenarios import run_scenarios

    _check_formats(args.output, OUTPUT_FORMATS, "the scenarios")
    outputs = (args.json, args.csv, *(args.output or ()))
    check_outputs(
        [p for p in outputs if p is not None and p != "-"],
        {args.model: "the model file", args.scenarios: "the scenario file"},
    )
    checked = _checked(args.model)
    for diagnostic in checked.warnings:
        _err(str(diagnostic))
    scenarios, warnings = read_scenarios(args.scenarios, checked.model)
    for warning in warnings:
        _err(warning)
    simulator = Simulator(checked)
    total = args.samples * (1 + len(scenarios))
    with _cluster(args) as cluster, _progress_bar(total, args) as progress:
        result = run_scenarios(
            simulator,
            scenarios,
            args.samples,
            args.seed,
            method=args.method,
            threads=args.threads,
            progress=progress,
            cluster=cluster,
        )
    files: dict[str, str | bytes] = {}
    if args.csv:
        files[args.csv] = scenarios_csv(result)
    for path in args.output or ():
        files[path] = scenarios_output(result, path, scenarios)
    _emit(scenario_report(result), files, args.json, result.to_dict())
    return EXIT_OK


def _check_formats(paths: Sequence[str] | None, formats: Iterable[str], what: str) -> None:
    """Each ``-o`` name ends in one of ``formats``: checked before a run, so it costs nothing."""
    from .report import output_suffix

    for path in paths or ():
        output_suffix(path, formats, what)


@contextmanager
def _progress_bar(total: int, args: argparse.Namespace) -> Iterator[Callable[[int], None] | None]:
    """A progress bar's update function on a terminal for big runs; ``None`` otherwise."""
    if not (sys.stderr.isatty() and total >= PROGRESS_THRESHOLD and not args.quiet):
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="samples", unit_scale=True, file=sys.stderr, leave=False) as bar:
        yield bar.update


@contextmanager
def _cluster(args: argparse.Namespace) -> Iterator[Cluster | None]:
    """The Dask cluster of ``--dask`` (or ``ASSUMPTION_GRAPH_DASK``), connected now and
    closed after; ``None`` to run on this machine."""
    from .cluster import address_from, connect

    address = address_from(args.dask)
    if address is None:
        yield None
        return
    with connect(address) as cluster:
        yield cluster


def _compared(result: RunResult, previous: dict[str, Any]) -> RunResult:
    """The result with the previous phase's key figures and changes (a warning without a case)."""
    if result.business_case is None:
        _err("warning: --previous is ignored: the model has no 'business_case:' section")
        return result
    return dataclasses.replace(result, business_case=result.business_case.compared_with(previous))


def cmd_report(args: argparse.Namespace) -> int:
    """Simulate and write the self-contained HTML report."""
    from . import html_report
    from .run import Simulator

    _check_report_path(args.output)  # before the run: a bad name costs nothing
    _check_outputs(args, args.output)
    checked = _checked(args.model)
    for diagnostic in checked.warnings:
        _err(str(diagnostic))
    previous = _previous(args.previous) if args.previous else None
    reproduction = html_report.Reproduction.for_file(args.model, _report_command(args))
    simulator = Simulator(checked)
    result = _simulate(simulator, args)
    if previous is not None:
        result = _compared(result, previous)
    sensitivity = None
    if args.no_sensitivity:
        note = "Sensitivity was not computed: the report was made with --no-sensitivity."
    else:
        sensitivity = html_report.report_sensitivity(simulator, result, sobol=args.sobol)
        note = "Sensitivity was not computed: no main output varies."
    text = html_report.html_report(
        checked.model,
        result,
        reproduction,
        diagnostics=checked.warnings,
        sensitivity=sensitivity,
        sensitivity_note=note,
    )
    _write({args.output: text})
    return EXIT_OK


def cmd_portfolio(args: argparse.Namespace) -> int:
    """Run many business cases with one seed; print them side by side with their totals."""
    from .portfolio import run_portfolio
    from .portfolio_report import OUTPUT_FORMATS, portfolio_output, portfolio_text

    _check_formats(args.output, OUTPUT_FORMATS, "the portfolio")
    outputs = [p for p in (*(args.output or ()), args.json) if p is not None and p != "-"]
    check_outputs(outputs, dict.fromkeys(args.cases, "a case's model file"))
    checked = _checked_cases(args.cases)
    for case in checked:
        for diagnostic in case.warnings:
            _err(str(diagnostic))
    with _cluster(args) as cluster, _progress_bar(args.samples * len(checked), args) as progress:
        result = run_portfolio(
            checked,
            args.samples,
            args.seed,
            method=args.method,
            threads=args.threads,
            progress=progress,
            cluster=cluster,
        )
    files = {path: portfolio_output(result, path) for path in args.output or ()}
    _emit(portfolio_text(result), files, args.json, result.as_dict())
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the live page of a model: it follows every save of the file."""
    from .compile import kernel
    from .live import LiveModel
    from .serve import LiveServer, is_loopback, missing_packages

    missing = missing_packages()
    if missing:
        raise AssumptionGraphError(
            f"serve needs {', '.join(missing)}, which are not installed",
            hint="pip install 'assumption_graph[serve]'",
        )
    path = Path(args.model)
    if not path.is_file():
        raise ModelFileError("the model file does not exist", file=args.model)
    if not is_loopback(args.host):
        _err(
            f"warning: serving on {args.host}, not only this machine: anyone who can reach it"
            " and has the address with its token can read the model"
        )
    kernel.warm_up()  # once, before the first save's figures
    live = LiveModel(path, args.samples, args.seed, args.method)
    server = LiveServer(live, args.host, args.port)
    print(f"serving {args.model} at {server.url}", flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.run()
    except (KeyboardInterrupt, _Terminated):  # Uvicorn stops first, then passes the signal on
        pass
    _err("stopped serving")
    return EXIT_OK


def _checked_cases(paths: Sequence[str]) -> list[CheckedModel]:
    """Read and check every case; list every problem of all of them, then stop if any."""
    checked, failed, unreadable = [], 0, False
    found: Sequence[object]
    for path in paths:
        model, diagnostics = read_model(path)
        if any(d.code in UNREADABLE_CODES for d in diagnostics):
            unreadable, found = True, diagnostics
        elif model.business_case is None and not model.unread_case:
            found = [f"{path}: not a business case (a portfolio compares 'business_case:' models)"]
        else:
            case = check(model, diagnostics)
            checked.append(case)
            found = list(case.errors)
        if found:
            failed += 1
            for diagnostic in found:
                _err(str(diagnostic))
    if failed:
        _err(f"{failed} of {len(paths)} case(s) have errors; fix them, then run again")
        raise _Exit(EXIT_UNREADABLE if unreadable else EXIT_ERRORS)
    return checked


def _check_report_path(path: str) -> None:
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise AssumptionGraphError(
            f"cannot write {path}: the report is HTML", hint="give -o a name ending in .html"
        )


def _report_command(args: argparse.Namespace) -> str:
    """The command line that makes the same report again (samples and seed spelled out)."""
    words = ["assumption-graph", "report", args.model, "-o", args.output]
    words += ["-n", str(args.samples), "--seed", str(args.seed), "--method", args.method]
    for node_id, value in args.set or []:
        words += ["--set", f"{node_id}={value!r}"]
    if args.previous:
        words += ["--previous", args.previous]
    words += ["--sobol"] if args.sobol else []
    words += ["--no-sensitivity"] if args.no_sensitivity else []
    return shlex.join(words)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, its own messages (an invalid choice, unrecognized arguments)
    cut like every other message that quotes what the user gave."""

    def error(self, message: str) -> Any:  # argparse's: exits with 2
        super().error(message if len(message) <= _LONGEST_USAGE_ERROR else shown(message))

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every argument added (to check its metavar),
        # and each asked the terminal for its size: the width (the terminal's less 2,
        # as argparse takes it) is taken once for the parser (the parsers here keep
        # argparse's formatter)
        if "_width" not in vars(self):
            self._width = shutil.get_terminal_size().columns - 2
        return argparse.HelpFormatter(prog=self.prog, width=self._width)


_LONGEST_USAGE_ERROR = 300


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per job."""
    parser = _Parser(
        prog="assumption-graph",
        description="Assumption diagrams for business cases: check, simulate, draw, "
        "explain and report.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("check", help="validate a model and list every problem")
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_check)

    p = commands.add_parser("run", help="compile and simulate a model; print its figures")
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    _add_sampling(p)
    _add_json(p, "the figures as JSON to FILE ('-' for stdout)")
    p.add_argument(
        "--csv", type=_file_name, metavar="FILE", help="write the node figures as CSV to FILE"
    )
    p.add_argument("--all", action="store_true", help="report every node, not only the main ones")
    _add_scenario(p)
    p.add_argument(
        "--precision",
        type=_precision,
        metavar="REL",
        help="sample until every output's mean has this relative standard error "
        "(e.g. 0.5%%); -n is then the cap",
    )
    p.add_argument(
        "--plot",
        metavar="KIND:NODE=FILE",
        action="append",
        help="after the run, chart NODE (an output or a key figure such as npv) as KIND "
        "(histogram, s-curve or convergence) to FILE (.png, .svg or .pdf); repeatable",
    )
    p.add_argument(
        "--sip-library",
        type=_file_name,
        metavar="LIB.json",
        help="take the inputs named by a SIPmath 3.0 library's SIPs from it "
        "(default: the model's 'sip_library:')",
    )
    _add_dask(p)
    p.set_defaults(handler=cmd_run)

    p = commands.add_parser("draw", help="render the assumption diagram with Graphviz")
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument(
        "-o",
        "--output",
        type=_file_name,
        required=True,
        help="output file: .svg, .png, .pdf or .dot",
    )
    p.add_argument("--format", choices=FORMATS, help="format (default: from -o)")
    p.add_argument(
        "--level",
        choices=(AUTO, *LEVELS),
        default=AUTO,
        help=f"detail, overview or auto (default): the detail up to {DIAGRAM_NODES}"
        f" nodes and {DIAGRAM_EDGES} edges, else the overview",
    )
    p.add_argument(
        "--group",
        choices=GROUPS,
        default="side",
        help="divide the business case's main nodes by side (default), phase or category",
    )
    p.add_argument("--show", metavar="WHAT", help="estimates and/or results, comma separated")
    p.add_argument(
        "--check", action="store_true", help="mark check's errors and warnings on the diagram"
    )
    _add_sampling(p, samples=20_000)
    p.set_defaults(handler=cmd_draw)

    p = commands.add_parser(
        "sensitivity", help="which inputs drive an output: tornado, rank correlation, Sobol"
    )
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument("--output", metavar="NODE", help="the node or key figure to explain (e.g. npv)")
    _add_sampling(p)
    _add_overrides(p)
    p.add_argument("--no-sobol", action="store_true", help="skip the Sobol indices")
    p.add_argument(
        "--sobol-samples",
        type=_sample_count,
        default=1024,
        help="Sobol base samples, a power of two (default 1,024; each costs inputs + 2 runs)",
    )
    p.add_argument(
        "-o",
        dest="chart",
        type=_file_name,
        metavar="FILE",
        help="write the tornado chart (.png, .svg, .pdf)",
    )
    p.add_argument(
        "--variance-chart",
        type=_file_name,
        metavar="FILE",
        help="write the contribution-to-variance chart",
    )
    _add_json(p, "the analysis as JSON to FILE ('-' for stdout)")
    _add_dask(p)
    p.set_defaults(handler=cmd_sensitivity)

    p = commands.add_parser(
        "export", help="simulate and write figures, tables and assumptions to an Excel workbook"
    )
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument("-o", "--output", type=_file_name, help="output workbook, ending in .xlsx")
    p.add_argument(
        "--sipmath",
        type=_file_name,
        metavar="LIB.json",
        help="write the model as a SIPmath 3.0 library: its inputs as virtual SIPs, "
        "its main outputs and key figures as stored trials",
    )
    p.add_argument(
        "--sip-entity",
        type=lambda text: _whole(text, "--sip-entity", 0),
        metavar="N",
        help="the library's HDR entity id (default: a number from the model's name)",
    )
    _add_sampling(p, count_flags=("-n",))  # --samples asks for the Samples sheet here
    p.add_argument(
        "--samples",
        dest="include_samples",
        action="store_true",
        help="add a Samples sheet: every sample of the outputs (up to Excel's 1,048,575 rows)",
    )
    p.add_argument("--all", action="store_true", help="every node, not only the main ones")
    p.add_argument(
        "--formulas",
        action="store_true",
        help="add a Calculation sheet: every node's expected, weighted, best and worst figure"
        " as live formulas over the estimates on the Assumptions sheet",
    )
    _add_scenario(p)
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser(
        "scenarios", help="run the base and named scenarios with common random numbers; compare"
    )
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument("scenarios", help="scenario file (.yaml or .json) with 'scenarios:'")
    _add_sampling(p)
    _add_json(p, "the base's and every scenario's figures and differences as JSON ('-': stdout)")
    p.add_argument(
        "--csv", type=_file_name, metavar="FILE", help="write the comparison table as CSV to FILE"
    )
    _add_pages(p, "the comparison", "a page in the report's style")
    _add_threads(p)
    _add_dask(p)
    p.set_defaults(handler=cmd_scenarios)

    p = commands.add_parser(
        "estimates",
        help="write a sheet for collecting the inputs' estimates, or write a filled-in one back",
    )
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument(
        "-o", "--output", type=_file_name, help="write the sheet to this .xlsx or .csv file"
    )
    p.add_argument(
        "--update",
        type=_file_name,
        metavar="SHEET",
        help="write the sheet's filled-in estimates back into the model file "
        "(only those numbers change; comments and layout stay)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="with --update: show the changes, write nothing"
    )
    p.set_defaults(handler=cmd_estimates)

    p = commands.add_parser("report", help="simulate and write a self-contained HTML report")
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument(
        "-o", "--output", type=_file_name, required=True, help="output file, ending in .html"
    )
    _add_sampling(p)
    _add_scenario(p)
    sensitivity = p.add_mutually_exclusive_group()
    sensitivity.add_argument(
        "--sobol", action="store_true", help="add Sobol indices to the sensitivity (slower)"
    )
    sensitivity.add_argument(
        "--no-sensitivity", action="store_true", help="leave out the sensitivity charts"
    )
    p.set_defaults(handler=cmd_report, all=False)

    p = commands.add_parser(
        "portfolio", help="run many business cases with one seed; compare them and their totals"
    )
    p.add_argument("cases", nargs="+", help="business-case model files (.yaml, .yml or .json)")
    _add_sampling(p)
    _add_json(p, "the portfolio as JSON to FILE ('-' for stdout)")
    _add_pages(p, "the portfolio", "with the NPV chart")
    _add_threads(p)
    _add_dask(p)
    p.set_defaults(handler=cmd_portfolio)

    p = commands.add_parser(
        "serve", help="a live page of the model that follows every save, with what-if controls"
    )
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    _add_sampling(p, samples=1_000_000)
    p.add_argument("--port", type=_port, default=8765, help="port to listen on (0: any free one)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)"
    )
    p.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    p.set_defaults(handler=cmd_serve)
    return parser


def _add_sampling(
    parser: argparse.ArgumentParser,
    samples: int = DEFAULT_SAMPLES,
    count_flags: tuple[str, ...] = ("-n", "--samples"),
) -> None:
    parser.add_argument(
        *count_flags,
        dest="samples",
        type=_sample_count,
        default=samples,
        help=f"Monte Carlo samples (default {samples:,})",
    )
    parser.add_argument(
        "--seed", type=_seed, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="mc",
        help="mc: Monte Carlo (default); lhs: Latin hypercube; sobol: scrambled Sobol points",
    )


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        metavar="ID=VALUE",
        type=_override,
        action="append",
        help="pin a node to a value for this run (repeatable)",
    )


def _add_scenario(parser: argparse.ArgumentParser) -> None:
    """The options of every command that simulates a scenario and reports it."""
    _add_overrides(parser)
    _add_threads(parser)
    parser.add_argument(
        "--previous",
        type=_file_name,
        metavar="RESULT.json",
        help="the previous phase's 'run --json' result: show its figures and flag changes",
    )


def _add_dask(parser: argparse.ArgumentParser) -> None:
    """``--dask ADDRESS``: run the samples on a Dask cluster (``local:N``: N local processes)."""
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on the Dask scheduler at ADDRESS (tcp://host:8786), or on N worker "
        "processes of this machine (local:N); default: $ASSUMPTION_GRAPH_DASK, else here",
    )


def _add_json(parser: argparse.ArgumentParser, what: str) -> None:
    """``--json FILE`` ('-' for standard output); its help says it writes ``what``."""
    parser.add_argument("--json", type=_file_name, metavar="FILE", help=f"write {what}")


def _add_pages(parser: argparse.ArgumentParser, what: str, page: str) -> None:
    """The ``-o`` of a many-run command: an HTML page or a workbook, repeatable."""
    parser.add_argument(
        "-o",
        "--output",
        type=_file_name,
        action="append",
        help=f"write {what} to a file ending in .html ({page}) or .xlsx (repeatable)",
    )


def _add_threads(parser: argparse.ArgumentParser) -> None:
    """The options of every command that samples long: its threads and its progress bar."""
    parser.add_argument(
        "--threads", type=_thread_count, default=None, help="threads to use (default: all)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn every failure into a message and exit code.

    Ctrl-C exits with 130 and SIGTERM with 143, after the command has unwound
    (temporary files removed, child processes ended).
    """
    with _signals_unwind():
        try:
            return _dispatch(argv)
        except KeyboardInterrupt:
            _err("interrupted: nothing was written")
            return EXIT_INTERRUPTED
        except _Terminated:
            _err("terminated: nothing was written")
            return EXIT_TERMINATED


def _dispatch(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except _Exit as stop:
        return stop.code
    except ModelFileError as error:
        _err(f"error: {error}")
        return EXIT_UNREADABLE
    except AssumptionGraphError as error:
        _err(f"error: {error}")
        return EXIT_ERRORS
    except OSError as error:
        _err(f"error: {error}")
        return EXIT_UNREADABLE
    except Exception as error:  # a bug: say so plainly, traceback only on request
        if args.debug:
            raise
        _err(f"internal error: {type(error).__name__}: {error} (rerun with --debug and report it)")
        return EXIT_ERRORS


if __name__ == "__main__":
    sys.exit(main())
