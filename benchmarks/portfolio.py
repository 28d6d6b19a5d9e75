"""``python -m benchmarks.portfolio``: a portfolio of many example-sized cases, timed.

Writes ``--cases`` copies of ``examples/portfolio/cases/case_handling.yaml`` (each its
own name and discount rate, all sharing ``examples/portfolio/shared.yaml``) into a
temporary folder, then times ``assumption-graph portfolio`` on them in this process
(the kernel already loaded; reading, checking, every run and the tables counted),
and prints the time and the peak memory growth. The target: 100 cases at 10^5
samples each in under a minute on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from assumption_graph.cli import main as cli
from assumption_graph.compile import kernel

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "portfolio"
CASE = EXAMPLES / "cases" / "case_handling.yaml"


def write_cases(folder: Path, count: int) -> list[str]:
    """``count`` copies of the example case in ``folder``, each named and discounted apart."""
    text = CASE.read_text(encoding="utf-8")
    text = text.replace("library: ../shared.yaml", f"library: {EXAMPLES / 'shared.yaml'}")
    paths = []
    for k in range(count):
        case = re.sub(r"(?m)^name: .*$", f"name: Case {k + 1:03d}", text, count=1)
        rate = 0.03 + 0.0004 * k
        case = re.sub(r"(?m)^  discount_rate: .*$", f"  discount_rate: {rate:.4f}", case)
        path = folder / f"case_{k + 1:03d}.yaml"
        path.write_text(case, encoding="utf-8")
        paths.append(str(path))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.portfolio", description=__doc__)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many rounds")
    args = parser.parse_args(argv)
    kernel.warm_up()
    with tempfile.TemporaryDirectory() as folder:
        paths = write_cases(Path(folder), args.cases)
        command = ["portfolio", *paths, "-n", str(args.samples), "--quiet"]
        command += ["--json", str(Path(folder) / "portfolio.json")]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times, cpu = [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                code = cli(command)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            if code:
                print(f"the portfolio command failed with exit code {code}", file=sys.stderr)
                return code
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    best = min(times)
    print(
        f"portfolio of {args.cases} cases x {args.samples:,} samples: {best:.1f} s "
        f"(best of {args.repeat}; {best / args.cases:.2f} s a case; {min(cpu):.1f} CPU-seconds, "
        "what it needs of a quiet machine's cores); "
        f"peak memory growth {peak / 1024:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
