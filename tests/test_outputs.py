"""Output files through the command line: checked before any work, never lost, never replaced.

Every command's every output option is tried with the model itself (by name, by a
hard link and by a symbolic link), a missing folder, a path under a regular file,
a folder and a read-only folder: each is a one-line error, exit 1, naming the
user's path, before the model is even read, and nothing is written. A symbolic
link given as an output is followed (its target written), a FIFO or a character
device is written through, never replaced. A run that fails at its last step (a
chart that cannot be drawn) writes none of its outputs. A run too big for the
machine's memory is refused before it starts, saying how much it needs.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assumption_graph import run as run_module
from assumption_graph.cli import main
from assumption_graph.errors import OutputError, RunError
from assumption_graph.io import load, write_files
from assumption_graph.run import Simulator

N = 2000

MODEL = """\
name: Outputs
nodes:
  hours: {estimate: [10, 20, 40], source: test, unit: h}
  cost: {kind: main, formula: hours * 2, unit: tkr}
"""
JSON_MODEL = json.dumps(
    {
        "name": "Outputs",
        "nodes": {
            "hours": {"estimate": [10, 20, 40], "source": "test", "unit": "h"},
            "cost": {"kind": "main", "formula": "hours * 2", "unit": "tkr"},
        },
    }
)
NEVER_FINITE = """\
name: Never finite
nodes:
  hours: {estimate: [10, 20, 40], source: test}
  cost: {kind: main, formula: hours * 2}
  never: {kind: main, formula: hours / (hours - hours)}
"""

# (command, its options before the output path, the option taking the output, extension)
OUTPUTS = [
    ("run", [], "--json", "json"),
    ("run", [], "--csv", "csv"),
    ("run", [], "--plot=histogram:cost=", "png"),
    ("sensitivity", ["--output", "cost", "--no-sobol"], "--json", "json"),
    ("sensitivity", ["--output", "cost", "--no-sobol"], "-o", "svg"),
    ("sensitivity", ["--output", "cost", "--no-sobol"], "--variance-chart", "svg"),
    ("draw", [], "-o", "dot"),
    ("export", [], "-o", "xlsx"),
    ("report", ["--no-sensitivity"], "-o", "html"),
]
OUTPUT_IDS = [f"{c} {o.split('=')[0]}" for c, _, o, _ in OUTPUTS]

# A second, valid output for the commands that have one: it must not be written either.
OTHER = {"run": ("--csv", "other.csv"), "sensitivity": ("--variance-chart", "other.svg")}


class Outcome:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def call(capsys: pytest.CaptureFixture[str], *argv: object) -> Outcome:
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def argv(command: str, model: Path, before: list[str], option: str, path: object) -> list[object]:
    """The command line with ``path`` given to ``option`` (``--opt=`` options glue it on)."""
    given = [f"{option}{path}"] if option.endswith("=") else [option, path]
    return [command, model, "-n", N, *before, *given]


def assert_refused(result: Outcome, path: object) -> None:
    """Exit 1 with one line naming the user's path (never a temporary file), no traceback."""
    assert result.code == 1, result.err
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    assert str(path) in result.err
    assert ".tmp" not in result.err and "Traceback" not in result.err


def write_model(folder: Path, extension: str) -> Path:
    model = folder / f"model.{extension}"
    model.write_text(JSON_MODEL if extension == "json" else MODEL, encoding="utf-8")
    return model


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command reads its model: outputs are checked before any work."""

    def read(*args: object) -> None:
        raise AssertionError("the model was read before the outputs were checked")

    monkeypatch.setattr("assumption_graph.cli._read", read)
    monkeypatch.setattr("assumption_graph.cli._checked", read)


# ---------------------------------------------------------------------------- the input as output


@pytest.mark.parametrize("command, before, option, extension", OUTPUTS, ids=OUTPUT_IDS)
def test_the_model_as_an_output_is_refused(capsys, tmp_path, command, before, option, extension):
    model = write_model(tmp_path, extension)
    original = model.read_bytes()
    result = call(capsys, *argv(command, model, before, option, model))
    assert_refused(result, model)
    assert "model" in result.err
    assert model.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == [model.name]


@pytest.mark.parametrize("link", ["symbolic", "hard"])
def test_the_model_through_a_link_is_refused(capsys, tmp_path, no_work, link):
    model = write_model(tmp_path, "yaml")
    original = model.read_bytes()
    alias = tmp_path / "alias.json"
    if link == "symbolic":
        alias.symlink_to(model.name)
    else:
        os.link(model, alias)
    result = call(capsys, "run", model, "--json", alias)
    assert_refused(result, alias)
    assert model.read_bytes() == original
    assert alias.is_symlink() == (link == "symbolic")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.json", "model.yaml"]


def test_the_previous_result_as_an_output_is_refused(capsys, tmp_path, no_work):
    model = write_model(tmp_path, "yaml")
    previous = tmp_path / "previous.json"
    previous.write_text('{"key_figures": {}}\n', encoding="utf-8")
    result = call(capsys, "run", model, "--previous", previous, "--json", previous)
    assert_refused(result, previous)
    assert previous.read_text(encoding="utf-8") == '{"key_figures": {}}\n'


def test_one_file_for_two_outputs_is_refused(capsys, tmp_path, no_work):
    model = write_model(tmp_path, "yaml")
    out = tmp_path / "out.txt"
    result = call(capsys, "run", model, "--csv", out, "--json", out)
    assert_refused(result, out)
    assert not out.exists()


# ---------------------------------------------------------------------------- links and devices


def test_a_symbolic_link_is_followed_not_replaced(capsys, tmp_path):
    model = write_model(tmp_path, "yaml")
    target = tmp_path / "results" / "run.json"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    os.chmod(target, 0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    dangling = tmp_path / "figures.csv"
    dangling.symlink_to(tmp_path / "results" / "figures.csv")
    result = call(capsys, "run", model, "-n", N, "--json", link, "--csv", dangling)
    assert result.code == 0, result.err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text(encoding="utf-8"))["samples"] == N
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert dangling.is_symlink() and (tmp_path / "results" / "figures.csv").is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["figures.csv", "run.json"]


def test_a_fifo_is_written_through(capsys, tmp_path):
    model = write_model(tmp_path, "yaml")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as stream:
            received.append(stream.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    result = call(capsys, "run", model, "-n", N, "--json", fifo)
    thread.join(timeout=10)
    assert result.code == 0, result.err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["samples"] == N
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.yaml", "pipe.json"]


def test_dev_null_is_written_through(capsys, tmp_path):
    """Also as root, where replacing /dev/null would break the whole machine."""
    model = write_model(tmp_path, "yaml")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    result = call(capsys, "run", model, "-n", N, "--json", "/dev/null", "--csv", "/dev/null")
    assert result.code == 0, result.err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [p for p in Path("/dev").iterdir() if p.name.startswith(".null")]


@pytest.mark.parametrize(
    "options",
    [
        ["run", "--json", "/dev/stdout"],
        ["run", "--csv", "/dev/stdout"],
        ["sensitivity", "--output", "cost", "--no-sobol", "--json", "/dev/stdout"],
    ],
    ids=["run-json", "run-csv", "sensitivity-json"],
)
def test_dev_stdout_carries_only_its_output(tmp_path, options):
    """As with '-': the table goes to standard error, so the output can be piped on."""
    model = write_model(tmp_path, "yaml")
    command, *rest = options
    done = subprocess.run(
        [sys.executable, "-m", "assumption_graph.cli", command, str(model), "-n", str(N), *rest],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    if "--csv" in rest:
        assert done.stdout.startswith("node,") and len(done.stdout.splitlines()) >= 2
    else:
        assert json.loads(done.stdout)


def test_a_write_that_fails_names_the_users_path(capsys, tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    model = write_model(tmp_path, "yaml")
    result = call(capsys, "run", model, "-n", N, "--json", "/dev/full")
    assert_refused(result, "/dev/full")


# ---------------------------------------------------------------------------- bad places


def _bad_places(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "file.txt").write_text("a file\n", encoding="utf-8")
    (tmp_path / "folder.out").mkdir()
    return {
        "missing folder": tmp_path / "missing" / "out",
        "under a file": tmp_path / "file.txt" / "out",
        "a folder": tmp_path / "folder.out",
    }


@pytest.mark.parametrize("place", ["missing folder", "under a file", "a folder"])
@pytest.mark.parametrize("command, before, option, extension", OUTPUTS, ids=OUTPUT_IDS)
def test_a_bad_output_place_is_refused_before_any_work(
    capsys, tmp_path, no_work, command, before, option, extension, place
):
    model = write_model(tmp_path, "yaml")
    bad = _bad_places(tmp_path)[place]
    path = bad if place == "a folder" else bad.with_suffix(f".{extension}")
    if place == "a folder":
        path = bad.rename(bad.with_suffix(f".{extension}"))
    other = OTHER.get(command)
    extra = [other[0], tmp_path / other[1]] if other and other[0] != option else []
    before_files = sorted(p.name for p in tmp_path.iterdir())
    result = call(capsys, *argv(command, model, before, option, path), *extra)
    assert_refused(result, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before_files


@pytest.mark.parametrize(
    "command, option, name",
    [
        ("draw", "-o", "diagram.gif"),
        ("export", "-o", "book.xls"),
        ("report", "-o", "report.txt"),
        ("sensitivity", "-o", "tornado.gif"),
        ("run", "--plot=histogram:cost=", "chart.gif"),
    ],
)
def test_an_unknown_output_format_is_refused_before_any_work(
    capsys, tmp_path, no_work, command, option, name
):
    model = write_model(tmp_path, "yaml")
    before = ["--output", "cost"] if command == "sensitivity" else []
    if command == "draw":
        before = ["--show", "results"]
    result = call(capsys, *argv(command, model, before, option, tmp_path / name))
    assert_refused(result, tmp_path / name)
    assert [p.name for p in tmp_path.iterdir()] == [model.name]


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not bind root")
def test_a_read_only_folder_is_refused_before_any_work(capsys, tmp_path, no_work):
    model = write_model(tmp_path, "yaml")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = call(capsys, "run", model, "--csv", tmp_path / "ok.csv", "--json", locked / "x")
    finally:
        locked.chmod(0o755)
    assert_refused(result, locked / "x")
    assert "writ" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked", "model.yaml"]


def test_a_chart_that_cannot_be_drawn_writes_no_output(capsys, tmp_path):
    model = tmp_path / "never.yaml"
    model.write_text(NEVER_FINITE, encoding="utf-8")
    result = call(
        capsys, "run", model, "-n", N, "--csv", tmp_path / "ok.csv", "--json", tmp_path / "ok.json",
        "--plot", f"histogram:cost={tmp_path / 'ok.png'}",
        "--plot", f"convergence:never={tmp_path / 'never.png'}",
    )  # fmt: skip
    assert result.code == 1, result.err
    assert "finite samples" in result.err and "Traceback" not in result.err
    assert [p.name for p in tmp_path.iterdir()] == ["never.yaml"]


# ---------------------------------------------------------------------------- memory


def test_a_run_too_big_for_memory_is_refused_before_it_starts(capsys, tmp_path):
    model = write_model(tmp_path, "yaml")
    out = tmp_path / "out.json"
    result = call(capsys, "run", model, "-n", 10**12, "--json", out)
    assert result.code == 1, result.err
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert "memory" in result.err and "TiB" in result.err and "available" in result.err
    assert "-n" in result.err and "--precision" in result.err
    assert not out.exists()


@pytest.mark.parametrize(
    "command", [["run", "--all"], ["sensitivity", "--output", "cost", "--no-sobol"]]
)
def test_the_memory_limit_is_the_machines_available_memory(capsys, tmp_path, monkeypatch, command):
    model = write_model(tmp_path, "yaml")
    monkeypatch.setattr(run_module, "available_memory", lambda: 100 << 10)  # 100 KiB
    result = call(capsys, command[0], model, "-n", 20_000, *command[1:])
    assert result.code == 1, result.err
    assert "of memory" in result.err and "100.0 KiB is available" in result.err
    monkeypatch.setattr(run_module, "available_memory", lambda: 1 << 30)
    assert call(capsys, command[0], model, "-n", 20_000, *command[1:]).code == 0


def test_a_sobol_design_too_big_for_memory_is_refused_before_the_run(capsys, tmp_path, monkeypatch):
    model = write_model(tmp_path, "yaml")
    monkeypatch.setattr(run_module, "available_memory", lambda: 50 << 20)  # 50 MiB
    ran = []
    monkeypatch.setattr(Simulator, "run", lambda *args, **kwargs: ran.append(1))
    result = call(
        capsys, "sensitivity", model, "--output", "cost", "-n", N, "--sobol-samples", 1 << 20
    )
    assert result.code == 1, result.err
    assert "Sobol indices" in result.err and "50.0 MiB is available" in result.err
    assert "--sobol-samples" in result.err and not ran


def test_a_run_to_a_precision_needs_memory_only_for_the_samples_it_takes(capsys, tmp_path):
    model = write_model(tmp_path, "yaml")
    out = tmp_path / "out.json"
    result = call(capsys, "run", model, "-n", 10**12, "--precision", "1%", "--json", out)
    assert result.code == 0, result.err
    assert json.loads(out.read_text(encoding="utf-8"))["samples"] < 10**6


def test_the_python_api_refuses_a_run_too_big_for_memory(tmp_path, monkeypatch):
    simulator = Simulator(load(write_model(tmp_path, "yaml")))
    monkeypatch.setattr(run_module, "available_memory", lambda: 1 << 20)
    with pytest.raises(RunError, match="memory"):
        simulator.run(1_000_000)
    with pytest.raises(RunError, match="memory"):
        simulator.evaluate({"hours": [1.0] * 100_000})
    assert simulator.run(1000).samples == 1000


def test_available_memory_is_known_on_linux():
    if not Path("/proc/meminfo").exists():
        pytest.skip("not Linux")
    available = run_module.available_memory()
    assert (
        available is not None
        and 0 < available < os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") + 1
    )


def test_write_files_writes_all_or_none(tmp_path, monkeypatch):
    """A write that fails while staging (a full disk) leaves every target as it was."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text("old\n", encoding="utf-8")
    syncs = []

    def fsync(handle: int) -> None:
        syncs.append(handle)
        if len(syncs) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OutputError, match=f"cannot write {new}: No space left"):
        write_files({str(old): "replaced\n", str(new): "new\n"})
    assert old.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["old.json"]
