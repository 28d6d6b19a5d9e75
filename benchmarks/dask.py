"""``python -m benchmarks.dask``: the cost of running on Dask, against this machine's threads.

Two jobs, each timed on this machine with 2 threads and on a ``LocalCluster`` of
2 worker processes (one thread each) on the same machine, the workers warmed up
first (kernel loaded) as the local process is:

- one run of ``layered-100`` (default 10^8 samples, the main nodes kept): the
  whole ``Simulator.run`` (summaries included, the same work in both) and its
  sampling alone (until the last chunk's samples are in this process's array);
- a portfolio of 100 example-sized cases at 10^5 samples each
  (:func:`benchmarks.portfolio.write_cases`), read and checked before the clock.

Prints each throughput and the ratio Dask ÷ local (the target: at least 0.8);
with ``--repeat K`` the best of K rounds, local and Dask taken in turn.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from assumption_graph import load
from assumption_graph.cluster import Cluster, connect
from assumption_graph.portfolio import run_portfolio
from assumption_graph.run import Simulator
from assumption_graph.validate import check

from .graphs import layered
from .portfolio import write_cases

WORKERS = 2


def _timed_run(simulator: Simulator, n: int, **options: object) -> tuple[float, float]:
    """Seconds of the whole run and of its sampling (to the last chunk's progress)."""
    last = [0.0]

    def progress(count: int) -> None:
        last[0] = time.perf_counter()

    start = time.perf_counter()
    simulator.run(n, progress=progress, **options)  # type: ignore[arg-type]
    return time.perf_counter() - start, last[0] - start


def _seconds(job: Callable[[], object]) -> float:
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


def _line(what: str, count: float, local: float, dask: float) -> str:
    return (
        f"{what:<34} local {count / local:>14,.0f}/s   dask {count / dask:>14,.0f}/s"
        f"   ratio {local / dask:.2f}"
    )


def _best(rounds: list[tuple[float, ...]]) -> tuple[float, ...]:
    """The shortest of each timing over the rounds."""
    return tuple(min(column) for column in zip(*rounds, strict=True))


def run_benchmark(cluster: Cluster, samples: int, repeat: int) -> list[str]:
    """The big run, here on 2 threads and on the cluster."""
    simulator = Simulator(layered(100))
    simulator.run(100_000, threads=WORKERS)
    simulator.run(100_000, cluster=cluster)  # the workers load the kernel
    rounds = [
        (
            *_timed_run(simulator, samples, threads=WORKERS),
            *_timed_run(simulator, samples, cluster=cluster),
        )
        for _ in range(repeat)
    ]
    best = _best(rounds)
    local, dask = best[:2], best[2:]
    return [
        _line(f"layered-100 run of {samples:,}", samples, local[0], dask[0]),
        _line("  its sampling alone", samples, local[1], dask[1]),
    ]


def portfolio_benchmark(cluster: Cluster, cases: int, samples: int, repeat: int) -> list[str]:
    """The portfolio, here on 2 threads and on the cluster."""
    with tempfile.TemporaryDirectory() as folder:
        models = [check(load(path)) for path in write_cases(Path(folder), cases)]
    run_portfolio(models[:WORKERS], 1000, cluster=cluster)  # the workers load the kernel
    local, dask = _best(
        [
            (
                _seconds(lambda: run_portfolio(models, samples, threads=WORKERS)),
                _seconds(lambda: run_portfolio(models, samples, cluster=cluster)),
            )
            for _ in range(repeat)
        ]
    )
    return [_line(f"portfolio of {cases} x {samples:,}", cases * samples, local, dask)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dask", description=__doc__)
    parser.add_argument("--samples", type=int, default=100_000_000, help="samples of the run")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--case-samples", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many rounds")
    args = parser.parse_args(argv)
    with connect(f"local:{WORKERS}") as cluster:
        lines = run_benchmark(cluster, args.samples, args.repeat)
        lines += portfolio_benchmark(cluster, args.cases, args.case_samples, args.repeat)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
