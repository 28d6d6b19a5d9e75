"""Measurements that need a fresh process: compile times, readiness and peak memory.

The suite runs this module as a subprocess (``python -m benchmarks.probe WHAT
...``); it prints one JSON object on stdout. A fresh process is what these
figures are about: the kernel's on-disk cache is only exercised by a new process,
and ``ru_maxrss`` is a high-water mark that never goes down, so each memory
measurement gets a process of its own.

Memory is the peak resident set size. The figure reported for a run is the
*growth* of that peak over the resident size just before the run, once the
process is ready (interpreter, numpy, the loaded kernel, the model and its
program): the memory the run itself needs, the kernel's allocations included
(``tracemalloc`` would not see those). On Linux the high-water mark is reset
before each run (``/proc/self/clear_refs``) and read as ``VmHWM`` from
``/proc/self/status``: that is the figure behind ``getrusage().ru_maxrss``,
which cannot be used after a reset because it also keeps the mark recorded
when any thread exited. Elsewhere ``ru_maxrss`` is used, without a reset.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from collections.abc import Sequence

_BEGAN = time.perf_counter()  # before the heavy imports below, to time them

import numpy as np  # noqa: E402

__all__ = ["main", "peak_rss_bytes", "mark_rss"]


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` figure in KiB (None where there is no /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_bytes() -> int:
    """This process's peak resident set size (since the last reset), in bytes."""
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def mark_rss() -> tuple[int, bool]:
    """Reset the peak RSS to the current RSS where Linux allows; (RSS now, reset done).

    Without a reset the mark is the peak so far, so a run's growth is only seen
    above that earlier peak.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return peak_rss_bytes(), False
    rss = _status_kib("VmRSS")
    return (peak_rss_bytes(), False) if rss is None else (rss * 1024, True)


class _GcClock:
    """The time Python's cyclic garbage collector takes while it is switched on.

    Readiness builds tens of thousands of objects, and the collector's passes
    over them are part of what a user waits for; this tells them apart.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began = 0.0
        self.on = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif self.on:
            self.seconds += time.perf_counter() - self._began


def kernel_ready() -> dict[str, object]:
    """Import the engine and make the kernel ready (compile, or load it from the cache)."""
    from assumption_graph.compile import kernel

    imported = time.perf_counter() - _BEGAN
    seconds = kernel.warm_up()
    return {
        "import_seconds": imported,
        "kernel_seconds": seconds,
        "cache_dir": str(kernel.cache_dir()),
    }


def run_memory(graph_name: str, counts: Sequence[int], seed: int) -> dict[str, object]:
    """Get ``graph_name`` ready as a user would, then ``Simulator.run`` it at each count.

    Reports how long each step to readiness took in this fresh process (the
    kernel comes from its on-disk cache when an earlier process compiled it),
    how much of building, checking and lowering the model was Python's cyclic
    garbage collector (``gc_seconds``) and, per count, the growth of the peak
    RSS over the ready process. Generating a layered graph's random nodes
    (``generate_seconds``) is the benchmark's own work, reported apart and not
    counted in readiness: a user's model has its nodes already.
    """
    import assumption_graph as ag
    from assumption_graph.run import Simulator

    from .graphs import recipe

    imported = time.perf_counter() - _BEGAN
    began = time.perf_counter()
    make_model = recipe(graph_name)
    generate_seconds = time.perf_counter() - began
    collector = _GcClock()
    gc.callbacks.append(collector)
    collector.on = True
    began = time.perf_counter()
    model = make_model()
    model_seconds = time.perf_counter() - began
    began = time.perf_counter()
    checked = ag.check(model)
    check_seconds = time.perf_counter() - began
    collector.on = False  # the kernel's loading builds no Python objects to speak of
    sim = Simulator(checked)
    collector.on = True
    began = time.perf_counter()
    sim.compiled.program(tuple(model.main_nodes))  # memoised: run() reuses it
    lower_seconds = time.perf_counter() - began
    gc.callbacks.remove(collector)
    ready_rss = peak_rss_bytes()
    runs = []
    for count in sorted(counts):
        before, reset = mark_rss()
        began = time.perf_counter()
        sim.run(count, seed)
        runs.append(
            {
                "samples": count,
                "run_seconds": time.perf_counter() - began,
                "rss_before_bytes": before,
                "peak_rss_bytes": peak_rss_bytes(),
                "peak_growth_bytes": peak_rss_bytes() - before,
                "peak_was_reset": reset,
                "kept_bytes": 8 * count * len(model.main_nodes),
            }
        )
    return {
        "import_seconds": imported,
        "generate_seconds": generate_seconds,
        "model_seconds": model_seconds,
        "check_seconds": check_seconds,
        "kernel_seconds": sim.compiled.kernel_seconds,
        "lower_seconds": lower_seconds,
        "gc_seconds": collector.seconds,
        "ready_seconds": model_seconds
        + check_seconds
        + sim.compiled.kernel_seconds
        + lower_seconds,
        "ready_rss_bytes": ready_rss,
        "runs": runs,
    }


def numpy_memory(graph_name: str, count: int, seed: int) -> dict[str, object]:
    """Peak RSS growth of the numpy baseline (draw every input, evaluate every node)."""
    import assumption_graph as ag

    from .baseline import numpy_baseline
    from .graphs import graph

    checked = ag.check(graph(graph_name)).raise_for_errors()
    numpy_baseline(checked, 16, seed)  # imports and first calls before the mark
    before, reset = mark_rss()
    began = time.perf_counter()
    values = numpy_baseline(checked, count, seed)
    seconds = time.perf_counter() - began
    held = sum(int(np.asarray(v).nbytes) for v in values.values())
    return {
        "samples": count,
        "seconds": seconds,
        "peak_growth_bytes": peak_rss_bytes() - before,
        "peak_was_reset": reset,
        "held_bytes": held,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the probe; prints one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probe")
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("kernel", help="import the engine and make the kernel ready")
    run = sub.add_parser("run", help="ready a graph, then run it at each sample count")
    run.add_argument("graph")
    run.add_argument("counts", help="comma-separated sample counts")
    run.add_argument("--seed", type=int, default=1)
    base = sub.add_parser("numpy", help="peak memory of the numpy baseline")
    base.add_argument("graph")
    base.add_argument("count", type=int)
    base.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.what == "kernel":
        result = kernel_ready()
    elif args.what == "run":
        result = run_memory(args.graph, [int(c) for c in args.counts.split(",")], args.seed)
    else:
        result = numpy_memory(args.graph, args.count, args.seed)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
