"""A command loads only the libraries it uses, so that it starts fast.

Each command runs through ``cli.main`` in a new process, which then reports the
libraries that were executed (a lazily imported one that nothing touched does
not count). What a command must not load is a behaviour; how long it takes is
measured in ``benchmarks/commands.py``, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assumption_graph.compile import kernel
from assumption_graph.io import save
from assumption_graph.model import Model
from assumption_graph.quiet import GC_EVERY

ROOT = Path(__file__).resolve().parent.parent
CASE_HANDLING = ROOT / "examples" / "case_handling.yaml"  # no correlations
BUSINESS_CASE = ROOT / "examples" / "business_case.yaml"  # correlated inputs
HEAVY = ("numpy", "networkx", "numba", "llvmlite", "scipy", "scipy.stats", "matplotlib", "SALib")

_REPORT = f"""
import json, sys
from assumption_graph import cli
from assumption_graph._lazy import loaded
code = cli.main(sys.argv[1:])
print(json.dumps({{"code": code, "loaded": [m for m in {HEAVY!r} if loaded(m)]}}), file=sys.stderr)
"""


def loaded_by(*argv: str | Path, cwd: Path, code: int = 0) -> set[str]:
    """The heavy libraries a command executed, in a new process (which exits with ``code``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", _REPORT, *map(str, argv)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == code, done.stderr
    return set(report["loaded"])


@pytest.mark.parametrize("model", [CASE_HANDLING, BUSINESS_CASE], ids=lambda p: p.stem)
def test_check_loads_none_of_them(model, tmp_path):
    # the business case's correlations are settled by a Cholesky factorisation in Python
    assert loaded_by("check", model, cwd=tmp_path) == set()


def test_check_loads_numpy_only_for_a_group_too_large_for_python(tmp_path):
    # 60 inputs in one chain of correlations: numpy's eigenvalues decide
    m = Model("chain")
    for k in range(60):
        m.add(f"x{k}", estimate=[1, 2, 4])
    m.add("total", kind="main", formula=" + ".join(f"x{k}" for k in range(60)))
    for k in range(59):
        m.correlate(f"x{k}", f"x{k + 1}", 0.3)
    path = tmp_path / "chain.yaml"
    save(m, path)
    assert loaded_by("check", path, cwd=tmp_path) == {"numpy"}


@pytest.mark.parametrize("model", [CASE_HANDLING, BUSINESS_CASE], ids=lambda p: p.stem)
def test_draw_loads_none_of_them(model, tmp_path):
    # the diagram walks the model's plain lists of users, not a networkx graph
    assert loaded_by("draw", model, "-o", tmp_path / "d.dot", cwd=tmp_path) == set()


def test_draw_loads_networkx_only_to_mark_a_cycle(tmp_path):
    m = Model("loop")
    m.add("a", kind="main", formula="b + 1")
    m.add("b", formula="a * 2")
    path = tmp_path / "loop.yaml"
    save(m, path)
    # drawn, its error marked, and the command's status says the model has one
    assert loaded_by("draw", path, "-o", tmp_path / "d.dot", cwd=tmp_path, code=1) == {"networkx"}


def test_run_loads_no_plotting_no_salib_no_scipy_stats_and_no_networkx(tmp_path):
    kernel.warm_up()  # the kernel from the cache, as a user's second run has it
    json_file = tmp_path / "r.json"
    found = loaded_by("run", BUSINESS_CASE, "-n", "1000", "--json", json_file, cwd=tmp_path)
    assert found.isdisjoint({"matplotlib", "SALib", "scipy.stats", "networkx"}), found


_QUIET_START = """
import gc, os
from assumption_graph.quiet import BLAS_SPIN, quiet_start
quiet_start()
print(os.environ[BLAS_SPIN[0]], gc.get_threshold()[0])
"""


@pytest.mark.parametrize(("given", "kept"), [(None, "4"), ("20", "20")])
def test_the_command_line_has_blas_threads_sleep_and_the_gc_wait(given, kept):
    # in the environment before numpy is imported: OpenBLAS reads it when it loads
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("OPENBLAS_THREAD_TIMEOUT", None)
    env |= {"OPENBLAS_THREAD_TIMEOUT": given} if given else {}
    done = subprocess.run(
        [sys.executable, "-c", _QUIET_START], env=env, capture_output=True, text=True
    )
    assert done.stdout.split() == [kept, str(GC_EVERY)], done.stderr
