"""The ``assumption-graph`` (``agraph``) command line: check, run, draw.

The only module that prints. Every user mistake ends in a one-line message on
standard error and a non-zero exit, never a traceback; output files are written
whole or not at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import AssumptionGraphError, Diagnostic, ModelFileError
from .io import UNREADABLE_CODES, read_model, write_atomic
from .model import Model
from .report import business_case_report, figures_csv, key_figure_table
from .results import RunResult
from .run import DEFAULT_SAMPLES, DEFAULT_SEED, Simulator
from .validate import CheckedModel, check

__all__ = ["main"]

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
PROGRESS_THRESHOLD = 2_000_000  # samples from which a run shows a progress bar on a terminal


class _Exit(Exception):
    """Stop with a message already printed and this exit code."""

    def __init__(self, code: int) -> None:
        self.code = code


def _err(text: str) -> None:
    print(text, file=sys.stderr)


# argument types: argparse turns their ArgumentTypeError into a one-line usage error


def _sample_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the number of samples must be a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"the number of samples must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed must be a whole number, got {text!r}") from None


def _override(text: str) -> tuple[str, float]:
    node_id, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not node_id.strip() or number is None:
        raise argparse.ArgumentTypeError(f"--set takes id=number, got {text!r}")
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


def _write_output(path: str, text: str) -> None:
    """Write an output file whole or not at all, into a folder that must exist."""
    target = Path(path)
    if not target.parent.is_dir():
        raise AssumptionGraphError(f"cannot write {path}: folder {target.parent} does not exist")
    write_atomic(target, text)


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
            print(diagnostic)
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
    checked = _checked(args.model)
    for diagnostic in checked.warnings:
        _err(str(diagnostic))
    previous = _previous(args.previous) if args.previous else None
    simulator = Simulator(checked)
    result = _simulate(simulator, args)
    if result.business_case is not None and previous is not None:
        result = dataclasses.replace(
            result, business_case=result.business_case.compared_with(previous)
        )
    elif previous is not None:
        _err("warning: --previous is ignored: the model has no 'business_case:' section")
    to_stdout = args.json == "-"
    table = key_figure_table(result, checked.model)
    if result.business_case is not None:
        table += "\n\n" + business_case_report(result.business_case, checked.model.money_unit)
    print(table, file=sys.stderr if to_stdout else sys.stdout)
    if args.csv:
        text = figures_csv(result)
        _write_output(args.csv, text)
        _err(f"wrote {args.csv}")
    if args.json:
        text = json.dumps(result.to_dict(), indent=2, allow_nan=False, ensure_ascii=False)
        if to_stdout:
            print(text)
        else:
            _write_output(args.json, text + "\n")
            _err(f"wrote {args.json}")
    return EXIT_OK


def _previous(path: str) -> dict[str, Any]:
    """The ``business_case`` object of a previous run's JSON (a whole run file or just it)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ModelFileError(f"cannot read the previous result: {error}", file=path) from None
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


def _simulate(simulator: Simulator, args: argparse.Namespace) -> RunResult:
    options: dict[str, Any] = {
        "overrides": dict(args.set or []),
        "outputs": "all" if args.all else None,
        "threads": args.threads,
    }
    show_progress = sys.stderr.isatty() and args.samples >= PROGRESS_THRESHOLD and not args.quiet
    if not show_progress:
        return simulator.run(args.samples, args.seed, **options)
    from tqdm import tqdm

    with tqdm(
        total=args.samples, unit="samples", unit_scale=True, file=sys.stderr, leave=False
    ) as bar:
        return simulator.run(args.samples, args.seed, progress=bar.update, **options)


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
        _err(f"--show takes estimates and/or results, got {', '.join(sorted(unknown))}")
        return EXIT_ERRORS
    if args.check:  # draw even a broken model, with its problems marked
        model, diagnostics = _read(args.model)
        found: tuple[Diagnostic, ...] | None = check(model, diagnostics).diagnostics
        results = None
    else:
        checked = _checked(args.model)
        model, found = checked.model, None
        results = (
            Simulator(checked).run(args.samples, args.seed, outputs="all")
            if "results" in show
            else None
        )
    path = render.render(
        model,
        args.output,
        format=args.format,
        level=args.level,
        show=show,
        results=results,
        diagnostics=found,
        check=args.check,
    )
    _err(f"wrote {path}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="assumption-graph",
        description="Assumption diagrams for business cases: check, simulate, draw.",
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
    p.add_argument(
        "--json", metavar="FILE", help="write the figures as JSON to FILE ('-' for stdout)"
    )
    p.add_argument("--csv", metavar="FILE", help="write the node figures as CSV to FILE")
    p.add_argument("--all", action="store_true", help="report every node, not only the main ones")
    p.add_argument(
        "--set",
        metavar="ID=VALUE",
        type=_override,
        action="append",
        help="pin a node to a value for this run (repeatable)",
    )
    p.add_argument(
        "--threads", type=_sample_count, default=None, help="threads to use (default: all)"
    )
    p.add_argument(
        "--previous",
        metavar="RESULT.json",
        help="the previous phase's 'run --json' result: show its figures and flag changes",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_run)

    p = commands.add_parser("draw", help="render the assumption diagram with Graphviz")
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument("-o", "--output", required=True, help="output file: .svg, .png, .pdf or .dot")
    p.add_argument(
        "--format", choices=("svg", "png", "pdf", "dot"), help="format (default: from -o)"
    )
    p.add_argument("--level", choices=("detail", "overview"), default="detail")
    p.add_argument("--show", metavar="WHAT", help="estimates and/or results, comma separated")
    p.add_argument(
        "--check", action="store_true", help="mark check's errors and warnings on the diagram"
    )
    _add_sampling(p, samples=20_000)
    p.set_defaults(handler=cmd_draw)
    return parser


def _add_sampling(parser: argparse.ArgumentParser, samples: int = DEFAULT_SAMPLES) -> None:
    parser.add_argument(
        "-n",
        "--samples",
        type=_sample_count,
        default=samples,
        help=f"Monte Carlo samples (default {samples:,})",
    )
    parser.add_argument(
        "--seed", type=_seed, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn every failure into a message and exit code."""
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
    except KeyboardInterrupt:
        _err("interrupted: nothing was written")
        return EXIT_INTERRUPTED
    except Exception as error:  # a bug: say so plainly, traceback only on request
        if args.debug:
            raise
        _err(f"internal error: {type(error).__name__}: {error} (rerun with --debug and report it)")
        return EXIT_ERRORS


if __name__ == "__main__":
    sys.exit(main())
