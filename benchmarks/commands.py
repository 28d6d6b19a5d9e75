"""Whole commands timed as processes, the way a user waits for them.

Each command runs as a new ``python -m assumption_graph.cli`` process: once to
warm the kernel cache and the operating system's file cache, then ``repeat``
times; the minimum and the median are reported, as hyperfine does. With
``against`` (the root of another checkout of the package, e.g. an older commit
made with ``git worktree add``) every command is also timed with that checkout
first on ``PYTHONPATH``, interleaved run by run with this one so that load from
other work on the machine hits both alike, and the ratio of the medians is
reported.

Python's bytecode cache is on for the processes, in a temporary folder: an
installed package has its modules compiled, and a ``PYTHONDONTWRITEBYTECODE``
in the caller's environment would otherwise have every run compile the
package's sources again (a tenth of a second and more), which a user never waits
for. The first run of each command writes the cache. A *cold* command is a user's
first command on a new machine: each of its runs has an empty kernel cache of its
own, so the kernel's compile is timed with it. The processes run in this
checkout (its example files) with ``python -P``, so that the package imported is
the one on ``PYTHONPATH``, not the one in the working folder.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assumption_graph.io import save

from .graphs import layered

__all__ = ["Command", "COMMANDS", "QUICK_COMMANDS", "time_commands"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "examples/case_handling.yaml"
CASE = "examples/business_case.yaml"
LAYERED = 1000  # nodes of the layered graph a first command is timed on


@dataclass(frozen=True)
class Command:
    """A command line after ``assumption-graph``; ``{out}`` is replaced by a temporary folder."""

    name: str
    argv: tuple[str, ...]
    cold: bool = False  # every run with an empty kernel cache: the compile included

    def line(self, out: str) -> list[str]:
        return [word.replace("{out}", out) for word in self.argv]


COMMANDS = (
    Command("check example", ("check", EXAMPLE)),
    Command("check case", ("check", CASE)),
    Command("run case -n 1000", ("run", CASE, "-n", "1000", "--json", "{out}/r.json")),
    Command("run case -n 1000000", ("run", CASE, "-n", "1000000", "--json", "{out}/r.json")),
    Command(
        "run case -n 1000000 lhs",
        ("run", CASE, "-n", "1000000", "--method", "lhs", "--json", "{out}/r.json"),
    ),
    Command(
        "run case -n 1000000 sobol",
        ("run", CASE, "-n", "1000000", "--method", "sobol", "--json", "{out}/r.json"),
    ),
    Command("draw case", ("draw", CASE, "-o", "{out}/case.svg")),
    Command(
        f"first run layered-{LAYERED} -n 1000 (empty cache)",
        ("run", f"{{out}}/layered-{LAYERED}.yaml", "-n", "1000", "--json", "{out}/r.json"),
        cold=True,
    ),
)
QUICK_COMMANDS = COMMANDS[:3]


def _once(root: Path, argv: Sequence[str], pycache: str, cold: bool) -> float:
    """Seconds for one process of the command line ``argv`` with ``root``'s package
    (``cold``: with an empty kernel cache)."""
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONPYCACHEPREFIX=pycache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="ag-bench-kernel-") as empty:
        if cold:
            env["ASSUMPTION_GRAPH_CACHE"] = empty
        return _timed(root, argv, env)


def _timed(root: Path, argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds for one process of ``argv`` in environment ``env``."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-P", "-m", "assumption_graph.cli", *argv],  # -P: root's, not cwd's
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({root}):\n{done.stderr.strip()}")
    return seconds


def _summary(times: Sequence[float]) -> dict[str, float]:
    return {"min": min(times), "median": statistics.median(times)}


def time_commands(
    commands: Sequence[Command],
    repeat: int,
    log: Callable[[str], None],
    against: Path | None = None,
) -> list[dict[str, Any]]:
    """Each command's timings (and the other checkout's, with ``against``)."""
    roots = {"this": ROOT} | ({"against": against} if against else {})
    rows = []
    with tempfile.TemporaryDirectory(prefix="ag-bench-cmd-") as out:
        save(layered(LAYERED), Path(out) / f"layered-{LAYERED}.yaml")
        for command in commands:
            argv = command.line(out)
            pycache = str(Path(out) / "pycache")
            log(f"  {command.name} ...")
            for root in roots.values():  # warm caches: the kernel's and the file system's
                _once(root, argv, pycache, cold=False)
            times: dict[str, list[float]] = {key: [] for key in roots}
            for _ in range(repeat):
                for key, root in roots.items():
                    times[key].append(_once(root, argv, pycache, command.cold))
            row: dict[str, Any] = {"command": command.name, "argv": list(command.argv)}
            row |= {key: _summary(values) for key, values in times.items()}
            if against:
                row["ratio"] = row["against"]["median"] / row["this"]["median"]
            rows.append(row)
    return rows
