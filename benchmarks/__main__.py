"""``python -m benchmarks``: run the suite, print the tables, write the JSON.

Options: ``--quick`` (small sample counts, no cold compile: a smoke run),
``--sizes 100,1000,10000`` (layered graphs), ``--samples N`` (every graph),
``--repeat K`` (best of K), ``--json PATH`` (default
``benchmarks/results/<timestamp>.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .suite import MB, Options, default_json_path, run_suite

__all__ = ["main", "render"]


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes are whole numbers like 100,1000: {text!r}"
        ) from None
    if any(size < 2 for size in sizes):
        raise argparse.ArgumentTypeError("a layered graph has at least 2 nodes")
    return sizes


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def parse(argv: Sequence[str] | None) -> tuple[Options, Path]:
    """The command line as suite options and the JSON path."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time the compiled kernel against a numpy baseline measured in the same run.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sample counts and no cold compile: a smoke run (< 60 s)",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=(100, 1000, 10000),
        help="node counts of the layered graphs (default 100,1000,10000)",
    )
    parser.add_argument(
        "--samples",
        type=_positive,
        default=None,
        help="samples for every graph (default 10^6, 10^5 above 1,000 nodes)",
    )
    parser.add_argument("--repeat", type=_positive, default=3, help="best of K (default 3)")
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write the results (default benchmarks/results/<time>.json)",
    )
    parser.add_argument(
        "--numpy-mb",
        type=_positive,
        default=2000,
        help="memory budget of the numpy baseline's node arrays (default 2000)",
    )
    cold = parser.add_mutually_exclusive_group()
    cold.add_argument(
        "--cold",
        dest="cold",
        action="store_true",
        default=None,
        help="measure the kernel's cold compile (default unless --quick)",
    )
    cold.add_argument("--no-cold", dest="cold", action="store_false")
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip the per-graph subprocesses (peak memory, fresh-process ready)",
    )
    parser.add_argument(
        "--no-commands",
        dest="commands",
        action="store_false",
        help="skip timing whole commands as processes",
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="CHECKOUT",
        help="also time the whole commands with the package of another checkout (its root "
        "folder, e.g. an older commit added with 'git worktree add'), interleaved with these",
    )
    args = parser.parse_args(argv)
    options = Options(
        sizes=args.sizes,
        samples=args.samples,
        quick=args.quick,
        repeat=args.repeat,
        numpy_mb=args.numpy_mb,
        cold=(not args.quick) if args.cold is None else args.cold,
        memory=args.memory,
        commands=args.commands,
        against=args.against,
    )
    return options, args.json or default_json_path()


# ---------------------------------------------------------------------------- printing


def _rate(x: float) -> str:
    return f"{x:.2e}"


def _mb(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / MB:,.1f}" if abs(x) < 10 * MB else f"{x / MB:,.0f}"


def _seconds(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 1 else f"{x:.1f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(headers)]
    line = "  ".join(
        h.rjust(w) if k else h.ljust(w)
        for k, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    lines = [line, "-" * len(line)]
    for row in rows:
        lines.append(
            "  ".join(
                c.rjust(w) if k else c.ljust(w)
                for k, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def render(results: dict[str, Any]) -> str:
    """The results as readable tables."""
    m, c, graphs = results["machine"], results["compile"], results["graphs"]
    out = [
        f"assumption_graph benchmarks  {results['started']}  commit "
        f"{(m['git_commit'] or 'unknown')[:12]}",
        f"{m['cpu_count']} CPUs, numba {m['numba']} ({m['kernel_threads']} threads), "
        f"numpy {m['numpy']}, Python {m['python']}; load average at start "
        f"{', '.join(f'{x:.1f}' for x in m['load_average'] or ())}",
        "",
        f"kernel compile (new process): cold {_seconds(c['cold_seconds'])} s, "
        f"cached load {_seconds(c['cached_seconds'])} s (+ import {_seconds(c['import_seconds'])} s"
        f"); this process {_seconds(c['this_process_seconds'])} s",
        "",
        "Throughput (best of {r}; ratios to the numpy baseline of the same run)".format(
            r=results["options"]["repeat"]
        ),
    ]
    rows = []
    for g in graphs:
        k, npy = g["kernel"], g["numpy"]
        rows.append(
            [
                g["graph"],
                f"{g['nodes']:,}",
                f"{g['ops']:,}",
                f"{g['slots']}",
                f"{g['samples']:.0e}",
                _rate(k["samples_per_s"]),
                _rate(k["node_evals_per_s"]),
                _rate(k["samples_per_s_1_thread"]),
                _rate(npy["samples_per_s"]) + ("*" if npy["note"] else " "),
                f"{g['ratio']:.1f}x",
                f"{g['ratio_1_thread']:.1f}x",
            ]
        )
    out.append(
        _table(
            [
                "graph",
                "nodes",
                "ops",
                "slots",
                "samples",
                "kernel/s",
                "node-ev/s",
                "1-thread/s",
                "numpy/s",
                "ratio",
                "ratio 1T",
            ],
            rows,
        )
    )
    for g in graphs:
        if g["numpy"]["note"]:
            out.append(f"  * {g['graph']}: numpy {g['numpy']['note']}")

    out += ["", "Readiness and memory (seconds; MB)"]
    rows = []
    for g in graphs:
        r, fresh = g["ready"], g.get("fresh_process")
        cold = c["cold_seconds"]
        cold_ready = None if cold is None else cold + r["seconds"] - r["kernel_seconds"]
        runs = fresh["runs"] if fresh else []
        mem = g["numpy"].get("memory")
        rows.append(
            [
                g["graph"],
                _seconds(r["model_seconds"]),
                _seconds(r["check_seconds"]),
                _seconds(r["lower_seconds"]),
                _seconds(r["seconds"]),
                _seconds(cold_ready),
                _seconds(fresh["ready_seconds"]) if fresh else "-",
                f"{_seconds(g['run_seconds'])} ({_seconds(g['figures_seconds'])})",
                f"{g['run_seconds'] / g['kernel']['seconds']:.2f}x",
                " / ".join(f"{_mb(x['peak_growth_bytes'])} ({_mb(x['kept_bytes'])})" for x in runs)
                or "-",
                "-" if mem is None else f"{_mb(mem['peak_growth_bytes'])} @{mem['samples']:.0e}",
            ]
        )
    out.append(
        _table(
            [
                "graph",
                "model",
                "check",
                "lower",
                "ready",
                "ready cold",
                "ready new",
                "run() (figures)",
                "run/kernel",
                "run peak (kept) n/10 / n",
                "numpy peak",
            ],
            rows,
        )
    )
    out += [
        "  model: add the generated nodes (layered) or load the file (example); ready = model +",
        "  check + kernel + lower in this process (kernel already in memory); ready cold = the",
        "  same with the cold compile; ready new = a new process, kernel from its cache (import",
        "  not counted). run() = Simulator.run at the timed sample count, summaries included;",
        "  figures = its expected/weighted/best/worst figures (numpy, independent of samples);",
        "  run/kernel = run() over the kernel's time for the same samples (summaries' cost).",
        "  Peaks: growth of peak RSS (VmHWM, reset per run) in a fresh process over its RSS",
        "  before the run; kept = 8 x samples x outputs; numpy peak at its sample count.",
    ]
    out += _commands_table(results)
    checks = results["targets"]
    if checks:
        out += ["", "Targets (issue 2)"]
        for t in checks:
            mark = {True: "pass", False: "FAIL", None: "n/a "}[t["ok"]]
            value = "-" if t["value"] is None else f"{t['value']:.3g}"
            out.append(f"  {mark}  {t['target']}: {value}")
    out += ["", f"total {results['duration_seconds']:.0f} s"]
    return "\n".join(out)


def _commands_table(results: dict[str, Any]) -> list[str]:
    """Whole commands as processes: minimum and median seconds, and against another checkout."""
    rows = results.get("commands") or []
    if not rows:
        return []
    against = results.get("against")
    headers = ["command", "min", "median"]
    headers += ["against min", "against median", "speed-up"] if against else []
    table = []
    for row in rows:
        cells = [row["command"], _seconds(row["this"]["min"]), _seconds(row["this"]["median"])]
        if against:
            cells += [
                _seconds(row["against"]["min"]),
                _seconds(row["against"]["median"]),
                f"{row['ratio']:.2f}x",
            ]
        table.append(cells)
    lines = ["", "Whole commands (new processes, kernel cached; seconds)", _table(headers, table)]
    if against:
        lines.append(f"  against: {against}; speed-up = its median / this median")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; print progress to stderr, the tables to stdout; write the JSON."""
    options, path = parse(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run_suite(options, log)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
