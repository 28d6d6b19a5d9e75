"""Whole runs against their kernel, and against a hand-written fused kernel, in one run.

``python -m benchmarks.whole`` times, best of ``--repeat``:

- ``Simulator.run`` of ``examples/business_case.yaml`` at 10^6 samples, whole,
  and the kernel calls inside it (the same run, its ``execute`` timed): the
  ratio whole / kernel is what the summaries, the business-case figures and
  Python's part of a run cost on top of the kernel;
- ``Simulator.run`` of layered-100 at 2·10^7 samples, whole, against the fused
  kernel of the same graph (:mod:`benchmarks.fused`) computing the same output
  samples, alternated so that load from other work hits both alike: the ratio
  fused / whole is 1 or more when the whole run is as fast as the hand-written
  kernel alone.

- the business case's summaries alone (every output it summarises, and the
  rankings of its correlated inputs) by the compiled passes of
  ``compile/tally.py`` against the plain numpy way (a full sort of each
  output, numpy's std, rankings by sorted keys), on one thread, alternated:
  the same figures either way, so the ratio plain / compiled is the passes' gain.

- the IRR's share of the business case's kernel: the kernel calls of its run's
  program with and without the IRR's two outputs (the rate and the indicator
  of several rates), into an output array written before, alternated; on one
  thread and on the run's threads (two threads that share a core's units hide
  a part's cost where it leaves them idle, so the two shares can differ).

``--quick`` uses a tenth of the samples.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import assumption_graph as ag
from assumption_graph import results, streams
from assumption_graph.business.labels import IRR_MULTIPLE
from assumption_graph.compile import kernel
from assumption_graph.run import Simulator

from .fused import fused_kernel
from .graphs import layered

__all__ = ["main", "run_and_kernel"]

BUSINESS_CASE = Path(__file__).resolve().parent.parent / "examples" / "business_case.yaml"
SEED = 1


def run_and_kernel(sim: Simulator, n: int, **options: Any) -> tuple[float, float]:
    """Seconds of one ``sim.run(n)``, whole, and of its kernel calls within it."""
    compiled = sim.compiled
    execute = compiled.execute
    inside = [0.0]

    def timed(*args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        execute(*args, **kwargs)
        inside[0] += time.perf_counter() - start

    compiled.execute = timed  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        sim.run(n, SEED, **options)
        return time.perf_counter() - start, inside[0]
    finally:
        del compiled.execute  # the class's method again


def _best(rounds: int, measure: Callable[[], tuple[float, ...]]) -> tuple[float, ...]:
    """Each figure's minimum over ``rounds`` calls of ``measure``."""
    best = measure()
    for _ in range(rounds - 1):
        best = tuple(min(b, f) for b, f in zip(best, measure(), strict=True))
    return best


def business_case(n: int, repeat: int) -> dict[str, float]:
    """The business case's whole run and its kernel calls (each the best of ``repeat``)."""
    sim = Simulator(ag.load(BUSINESS_CASE))
    sim.run(1000, SEED)  # first call: kernel load and dispatch
    whole, inside = _best(repeat, lambda: run_and_kernel(sim, n))
    return {"samples": n, "whole_seconds": whole, "kernel_seconds": inside}


def layered_against_fused(nodes: int, n: int, repeat: int) -> dict[str, float]:
    """Layered-``nodes``' whole run, its kernel calls and the fused kernel, alternated."""
    model = layered(nodes)
    sim = Simulator(model)
    sim.run(1000, SEED)
    fused = fused_kernel(ag.check(model))
    threads = kernel.max_threads()

    def one_round() -> tuple[float, float, float]:
        start = time.perf_counter()
        fused(SEED, 0, n, np.empty((len(fused.outputs), n)))  # its samples, as a run keeps them
        fused_s = time.perf_counter() - start
        return (fused_s, *run_and_kernel(sim, n, threads=threads))

    fused_s, whole, inside = _best(repeat, one_round)
    return {
        "samples": n,
        "fused_seconds": fused_s,
        "whole_seconds": whole,
        "kernel_seconds": inside,
        "fused_compile_seconds": fused.compile_seconds,
    }


def summaries(n: int, repeat: int) -> dict[str, float]:
    """The business case's summaries and rankings at ``n`` samples, compiled and plain."""
    sim = Simulator(ag.load(BUSINESS_CASE))
    summarised = tuple(dict.fromkeys((*sim.case.case_ids, *sim._output_ids(None))))
    pairs = sim.run(1000, SEED).correlations
    correlated = list(dict.fromkeys(x for pair in pairs for x in (pair["a"], pair["b"])))
    kept = sim.run(n, SEED, outputs=[*summarised, *correlated], keep_samples=True).arrays

    def both_ways() -> tuple[float, float, float, float]:
        times = []
        for threshold in (sys.maxsize, results._TALLY_FROM):  # plain numpy, then compiled
            saved, results._TALLY_FROM = results._TALLY_FROM, threshold
            try:
                start = time.perf_counter()  # on one thread with its scratch, as a run has it
                results.in_threads([partial(results.summarise, kept[x], {}) for x in summarised])
                middle = time.perf_counter()
                results.in_threads([partial(results.finite_ranks, kept[x]) for x in correlated])
                times += [middle - start, time.perf_counter() - middle]
            finally:
                results._TALLY_FROM = saved
        return tuple(times)  # type: ignore[return-value]

    plain, plain_ranks, compiled, compiled_ranks = _best(repeat, both_ways)
    return {
        "samples": n,
        "outputs": len(summarised),
        "ranked": len(correlated),
        "plain_seconds": plain,
        "compiled_seconds": compiled,
        "plain_rank_seconds": plain_ranks,
        "compiled_rank_seconds": compiled_ranks,
    }


def irr_shares(n: int, repeat: int, thread_counts: Sequence[int | None]) -> list[dict[str, Any]]:
    """The business case's kernel calls at ``n`` samples with and without its IRR outputs,
    on each of ``thread_counts`` (``None``: the run's default); the model loaded, its
    programs lowered and their output arrays touched once for all of them."""
    sim = Simulator(ag.load(BUSINESS_CASE))
    everything = tuple(dict.fromkeys((*sim._output_ids(None), *sim.case.case_ids)))
    irr_outputs = (sim.case.key_figures["irr"], IRR_MULTIPLE)
    programs = [
        sim.compiled.program(ids, {})
        for ids in (everything, tuple(x for x in everything if x not in irr_outputs))
    ]
    outs = [np.ones((len(program.outputs), n)) for program in programs]  # pages touched
    key = streams.seed_key(SEED)

    def both(threads: int | None) -> tuple[float, float]:
        seconds = []
        for program, out in zip(programs, outs, strict=True):
            start = time.perf_counter()
            kernel.execute(program, key, 0, n, out, threads=threads)
            seconds.append(time.perf_counter() - start)
        return seconds[0], seconds[1]

    both(None)  # the pieces linked
    shares = []
    for threads in thread_counts:
        with_irr, without = _best(repeat, partial(both, threads))
        shares.append(
            {"samples": n, "threads": threads, "with_seconds": with_irr, "without_seconds": without}
        )
    return shares


def render(business: dict[str, float], versus: dict[str, float], nodes: int) -> str:
    """The two tables."""
    business_ratio = business["whole_seconds"] / business["kernel_seconds"]
    lines = [
        f"Whole runs (best of rounds; {kernel.max_threads()} threads)",
        "",
        "graph            samples   whole s  kernel s  whole/kernel",
        f"business case  {business['samples']:9.0e}  {business['whole_seconds']:8.3f}"
        f"  {business['kernel_seconds']:8.3f}  {business_ratio:11.2f}x",
        "",
        f"layered-{nodes:<6}  samples   fused s   whole s  kernel s  fused/whole  fused/kernel",
        f"               {versus['samples']:9.0e}  {versus['fused_seconds']:8.3f}"
        f"  {versus['whole_seconds']:8.3f}  {versus['kernel_seconds']:8.3f}"
        f"  {versus['fused_seconds'] / versus['whole_seconds']:10.2f}x"
        f"  {versus['fused_seconds'] / versus['kernel_seconds']:11.2f}x",
        "  fused: the graph written out as one numba function (benchmarks/fused.py), the same",
        "  streams and output samples (into a new array each time, as a run keeps them);",
        "  fused/whole >= 1 means the whole run is as fast as it.",
    ]
    return "\n".join(lines)


def render_irr(shares: Sequence[dict[str, Any]]) -> str:
    """The IRR's share of the kernel's time, a line per thread count."""
    lines = [""]
    for share in shares:
        part = 1.0 - share["without_seconds"] / share["with_seconds"]
        threads = "the run's threads" if share["threads"] is None else f"{share['threads']} thread"
        lines.append(
            f"Business case's kernel at {share['samples']:.0e} samples on {threads}: with"
            f" the IRR {share['with_seconds']:.3f} s, without {share['without_seconds']:.3f} s;"
            f" the IRR {part:.0%} of it"
        )
    return "\n".join(lines)


def render_summaries(summary: dict[str, float]) -> str:
    """The summaries' table: seconds on one thread, plain numpy / compiled."""
    rows = [
        ("summaries", summary["outputs"], "plain_seconds", "compiled_seconds"),
        ("rankings", summary["ranked"], "plain_rank_seconds", "compiled_rank_seconds"),
    ]
    lines = [
        "",
        f"Business case's summaries at {summary['samples']:.0e} samples"
        " (one thread, best of rounds)",
        "what        count   numpy s  compiled s  numpy/compiled",
    ]
    for what, count, plain, compiled in rows:
        lines.append(
            f"{what:<10}  {count:5d}  {summary[plain]:8.3f}  {summary[compiled]:10.3f}"
            f"  {summary[plain] / summary[compiled]:13.2f}x"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print both tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.whole", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the samples")
    parser.add_argument("--repeat", type=int, default=3, help="best of K (default 3)")
    parser.add_argument("--nodes", type=int, default=100, help="layered graph size (100)")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    business = business_case(1_000_000 // scale, args.repeat)
    versus = layered_against_fused(args.nodes, 20_000_000 // scale, args.repeat)
    summary = summaries(1_000_000 // scale, args.repeat)
    shares = irr_shares(1_000_000 // scale, args.repeat, (1, None))
    print(render(business, versus, args.nodes) + render_summaries(summary) + render_irr(shares))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
