"""Ctrl-C (SIGINT) and SIGTERM at any moment: a clean exit, nothing left behind.

Real subprocesses get real signals at moments they announce themselves: during
the imports at start-up (held at the start of one import), while the kernel's
threads run (they show in ``/proc``), while a file is being written and while
Graphviz ``dot`` runs. Each must end with 130 (SIGINT)
or 143 (SIGTERM), one line on standard error and no traceback, no output or
temporary file, no child process. In the Python API an interrupted run leaves
no thread writing, and the next run gives the same numbers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import assumption_graph as ag
from assumption_graph import render
from assumption_graph.compile import kernel
from assumption_graph.run import CHUNK, Simulator

ROOT = Path(__file__).resolve().parent.parent
CONSULTANCY = ROOT / "examples" / "consultancy.yaml"
CASE = ROOT / "examples" / "business_case.yaml"
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
WAIT = 60.0  # seconds at most for a moment to come or a process to end

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc as on Linux")


@pytest.fixture(scope="module", autouse=True)
def cached_kernel() -> None:
    """Subprocesses load the kernel from the cache: make sure it is there."""
    kernel.warm_up()


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # no threads but the kernel's: their number shows when the kernel runs
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.update(extra)
    return env


def _start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(process: subprocess.Popen[str], ready: Callable[[], bool], what: str) -> None:
    """Poll until ``ready()``; fail (and end the process) if it exits or time runs out first."""
    deadline = time.monotonic() + WAIT
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"never saw {what}; exit {process.returncode}, stderr:\n{err[-2000:]}")
        time.sleep(0.002)


def _stderr_line(process: subprocess.Popen[str], needle: str) -> str:
    """Read standard error up to the first line containing ``needle``; the lines read."""
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if needle in line:
            return "".join(lines)
    process.wait()
    pytest.fail(f"never saw {needle!r} on stderr; exit {process.returncode}:\n{''.join(lines)}")


def _ended(process: subprocess.Popen[str], signum: int, before: str = "") -> str:
    """Signal ``process``, wait for it; check the exit code and a quiet stderr; return stderr."""
    process.send_signal(signum)
    try:
        _, err = process.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the process did not end after the signal")
    err = before + err
    assert process.returncode == EXIT[signum], err[-2000:]
    assert "Traceback" not in err and "Fatal Python error" not in err, err[-2000:]
    return err


def _kernel_threads_running(pid: int) -> Callable[[], bool]:
    """True once the process has the main thread and two more: the kernel's workers."""
    return lambda: len(os.listdir(f"/proc/{pid}/task")) >= 3


def _leftovers(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# ---------------------------------------------------------------- start-up


def test_the_package_names_load_on_first_use():
    # ``import assumption_graph`` loads no module of its own (the command line sets up
    # its signals first); each public name brings in its module when first used
    assert sorted(ag.__all__) == sorted([*ag._HOMES, "__version__"])
    for name in ag.__all__:
        assert getattr(ag, name) is not None
    assert ag.Simulator is Simulator
    with pytest.raises(AttributeError, match="no attribute 'simulator'"):
        ag.simulator  # noqa: B018


# The command line held at the start of one import (its module name is the second
# argument), said on stderr: a signal then lands inside that import, whatever the
# machine's load, and the run after it cannot finish first.
HELD_IMPORT = """
import runpy, sys, time

entry, held = sys.argv[1], sys.argv[2]

class Hold:
    def find_spec(self, name, path=None, target=None):
        if name == held:
            sys.meta_path.remove(self)
            print(f"importing {name}", file=sys.stderr, flush=True)
            time.sleep(60)
        return None

sys.meta_path.insert(0, Hold())
sys.argv = [entry, *sys.argv[3:]]
runpy.run_module(entry, run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize(
    ("entry", "imported", "signum"),
    [
        ("assumption_graph", "numpy", signal.SIGINT),  # the console scripts' entry
        ("assumption_graph.cli", "assumption_graph.compile", signal.SIGINT),  # in the command
        ("assumption_graph.cli", "assumption_graph.validate", signal.SIGINT),
        ("assumption_graph", "yaml", signal.SIGTERM),
    ],
)
def test_a_signal_during_the_start_up_imports_exits_quietly(entry, imported, signum, tmp_path):
    args = ["-c", HELD_IMPORT, entry, imported, "run", str(CONSULTANCY), "-n", "1000"]
    process = _start([*args, "--json", str(tmp_path / "out.json")], tmp_path)
    before = _stderr_line(process, f"importing {imported}")
    _ended(process, signum, before)
    assert _leftovers(tmp_path) == []


# ---------------------------------------------------------------- a long multi-threaded run


@pytest.mark.skipif(kernel.max_threads() < 2, reason="needs two threads")
@pytest.mark.parametrize(
    ("command", "signum"),
    [
        (["run", "--json", "out.json"], signal.SIGINT),
        (["export", "-o", "out.xlsx"], signal.SIGTERM),
        (["report", "-o", "out.html"], signal.SIGINT),
    ],
    ids=lambda x: x[0] if isinstance(x, list) else x.name,
)
def test_a_signal_while_the_kernel_threads_run_exits_cleanly(command, signum, tmp_path):
    args = ["-m", "assumption_graph", command[0], str(CASE), *command[1:]]
    args += ["-n", "5000000", "--threads", "2"]
    process = _start(args, tmp_path, ASSUMPTION_GRAPH_THREADS="2")
    _wait_for(process, _kernel_threads_running(process.pid), "the kernel's threads")
    err = _ended(process, signum)
    assert err.strip().endswith("nothing was written"), err
    assert _leftovers(tmp_path) == []


# ---------------------------------------------------------------- during a write

# The command line with the write held open (fsync waits), and said on stderr.
HELD_WRITE = """
import os, sys, time
from assumption_graph.cli import main

def held(descriptor):
    print("writing", file=sys.stderr, flush=True)
    time.sleep(60)

os.fsync = held
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("command", "output", "signum"),
    [
        (["run", str(CONSULTANCY), "-n", "1000", "--json"], "out.json", signal.SIGTERM),
        (["export", str(CONSULTANCY), "-n", "1000", "-o"], "out.xlsx", signal.SIGTERM),
        (["draw", str(CONSULTANCY), "-o"], "out.dot", signal.SIGINT),
    ],
    ids=["run-json-term", "export-term", "draw-int"],
)
def test_a_signal_during_a_write_leaves_no_file(command, output, signum, tmp_path):
    process = _start(["-c", HELD_WRITE, *command, output], tmp_path)
    before = _stderr_line(process, "writing")
    assert _leftovers(tmp_path) != []  # caught mid-write: the temporary file is there
    _ended(process, signum, before)
    assert _leftovers(tmp_path) == []


# ---------------------------------------------------------------- draw with dot running

# Like Graphviz dot: reads the graph to the end (none: nothing to do), then lays it
# out at length; its process id says when it has got that far.
FAKE_DOT = """#!/bin/sh
graph=$(cat)
[ -n "$graph" ] || exit 0
echo $$ > "$DOT_PID"
exec sleep 60
"""


def _running(pid: int) -> bool:
    try:
        return b"sleep" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_while_dot_runs_ends_dot(signum, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text(FAKE_DOT)
    (bin_dir / "dot").chmod(0o755)
    pid_file = tmp_path / "dot.pid"
    work = tmp_path / "work"
    work.mkdir()
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    args = ["-m", "assumption_graph", "draw", str(CONSULTANCY), "-o", "out.svg"]
    process = _start(args, work, PATH=path, DOT_PID=str(pid_file))
    _wait_for(process, lambda: pid_file.exists() and pid_file.read_text().strip() != "", "dot")
    dot = int(pid_file.read_text())
    try:
        _ended(process, signum)
        assert not _running(dot), "dot is still running"
    finally:
        if _running(dot):
            os.kill(dot, signal.SIGKILL)
    assert _leftovers(work) == []


def test_an_interrupted_render_kills_and_reaps_dot(tmp_path, monkeypatch):
    """Ctrl-C in the Python API while dot lays out: dot is ended and waited for (no zombie)."""
    (tmp_path / "dot").write_text(FAKE_DOT)
    (tmp_path / "dot").chmod(0o755)
    pid_file = tmp_path / "dot.pid"
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DOT_PID", str(pid_file))

    def interrupt_once_dot_runs() -> None:
        deadline = time.monotonic() + WAIT
        while not (pid_file.exists() and pid_file.read_text().strip()):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=interrupt_once_dot_runs)
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            render.render(ag.load(CONSULTANCY), tmp_path / "out.svg")
    finally:
        sender.join()
    assert not Path(f"/proc/{int(pid_file.read_text())}").exists()  # not even a zombie
    assert not (tmp_path / "out.svg").exists()


# ---------------------------------------------------------------- the Python API


@pytest.fixture(scope="module")
def simulator() -> Simulator:
    return Simulator(ag.load(ROOT / "examples" / "case_handling.yaml"))


class _Stop(BaseException):
    """What the test's SIGINT handler raises: like KeyboardInterrupt, but never pytest's."""


def _on_sigint(signum: int, frame: object) -> None:
    raise _Stop


@pytest.mark.skipif(kernel.max_threads() < 2, reason="needs two threads")
def test_an_interrupted_execute_stops_its_threads_before_it_raises(simulator):
    program = simulator.compiled.program(simulator.case.reported[:1])
    count = 1 << 24  # long enough (about a second) for the signal to land mid-run under load
    out = np.full((1, count), np.nan)

    def interrupt_once_written() -> None:
        while not np.isfinite(out[0, :: kernel.BLOCK * 64]).any():
            time.sleep(0.001)
        os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        sender = threading.Thread(target=interrupt_once_written)
        sender.start()
        with pytest.raises(_Stop):
            simulator.compiled.execute(program, 1, 0, count, out, threads=2)
            sender.join()  # the signal comes after the run: not interrupted, the test fails
        sender.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    left = out.copy()
    time.sleep(0.05)
    np.testing.assert_array_equal(out, left)  # no thread writes any more
    assert np.isnan(out).any()  # it stopped before the end


@pytest.mark.skipif(kernel.max_threads() < 2, reason="needs two threads")
def test_a_run_interrupted_by_ctrl_c_then_run_again_gives_the_same_numbers(simulator):
    before = simulator.run(20_000, 7, keep_samples=True, threads=2, outputs="all")
    first_chunk = threading.Event()

    def interrupt() -> None:
        first_chunk.wait(WAIT)
        os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=interrupt)
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            simulator.run(CHUNK * 32, 7, threads=2, progress=lambda done: first_chunk.set())
    finally:
        first_chunk.set()
        sender.join()
    after = simulator.run(20_000, 7, keep_samples=True, threads=2, outputs="all")
    for node in before.arrays:
        np.testing.assert_array_equal(after.arrays[node], before.arrays[node], err_msg=node)
