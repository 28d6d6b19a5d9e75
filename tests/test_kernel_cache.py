"""The kernel's object code on disk: a new process links it without numba; damage is repaired."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import assumption_graph as ag
from assumption_graph.compile import kernel
from assumption_graph.compile.kernel import KernelObject
from assumption_graph.run import Simulator

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "case_handling.yaml"

NEW_PROCESS = """
import json, sys
import assumption_graph as ag
from assumption_graph.run import Simulator
result = Simulator(ag.load(sys.argv[1])).run(5_000, 3, keep_samples=True)
print(json.dumps({
    "numba": "numba" in sys.modules,
    "values": {node: result.values(node).tolist() for node in result.summaries},
}))
"""


def test_a_new_process_runs_the_cached_kernel_without_importing_numba():
    kernel.warm_up()  # this process compiled the kernel, or loaded it: either way it is cached
    here = Simulator(ag.load(EXAMPLE)).run(5_000, 3, keep_samples=True)
    done = subprocess.run(
        [sys.executable, "-c", NEW_PROCESS, str(EXAMPLE)],
        capture_output=True, text=True, check=True, timeout=120,
    )
    there = json.loads(done.stdout)
    assert there["numba"] is False
    assert set(there["values"]) == set(here.summaries)
    for node, values in there["values"].items():
        np.testing.assert_array_equal(np.array(values), here.values(node), err_msg=node)


def test_the_cached_object_links_again_in_this_process_and_runs_the_same(monkeypatch):
    sim = Simulator(ag.load(EXAMPLE))
    before = sim.run(3_000, 5, keep_samples=True)
    cached = kernel._read_cache()
    assert cached is not None
    monkeypatch.setattr(kernel, "_entry", kernel._ENTRY_TYPE(kernel.load(cached)))
    after = sim.run(3_000, 5, keep_samples=True)
    for node in before.summaries:
        np.testing.assert_array_equal(after.values(node), before.values(node), err_msg=node)


def test_externals_are_read_from_the_library_ir():
    from assumption_graph.compile import numba_backend

    ir = (
        'declare double @"log1p"(double)\n'
        "declare void @NRT_MemInfo_call_dtor(i8*)\n"
        "declare double @llvm.exp.f64(double)\n"
        "@PyExc_SystemError = external global i8\n"
        "define void @inner() {\n  ret void\n}\n"
    )
    assert numba_backend._externals(ir) == ("NRT_MemInfo_call_dtor", "PyExc_SystemError", "log1p")


def test_a_kernel_needing_a_symbol_this_process_lacks_is_not_linked():
    needy = KernelObject(b"", "f", ("log1p", "NRT_MemInfo_call_dtor", "no_such_symbol_anywhere"))
    assert kernel._unresolved(needy) == ["no_such_symbol_anywhere"]


def test_a_written_entry_reads_back_whole_and_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel, "cache_dir", lambda: tmp_path / "kernel-x")
    assert kernel._read_cache() is None  # nothing there: a miss, not damage
    written = KernelObject(b"\x7fELF\n...", "_ZN5entry", ("log1p",))
    kernel._write_cache(written)
    kernel._write_cache(written)  # replaced, not added to
    assert kernel._read_cache() == written
    assert [p.name for p in (tmp_path / "kernel-x").iterdir()] == [kernel._ENTRY]


def test_the_helpers_object_code_reads_back_apart_from_the_kernels(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel, "cache_dir", lambda: tmp_path / "kernel-x")
    written = KernelObject(b"\x7fELF\n kernel", "_ZN5entry", ("log1p",), b"\x7fELF\n helpers")
    kernel._write_cache(written)
    assert kernel._read_cache() == written


def test_a_compiled_entry_keeps_the_helpers_as_object_code_and_links_it():
    kernel.warm_up()
    cached = kernel._read_cache()
    assert cached is not None and cached.helpers
    assert kernel.load(cached) is not None


def test_an_unreadable_entry_counts_as_none_with_a_notice(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(kernel, "cache_dir", lambda: tmp_path)
    (tmp_path / kernel._ENTRY).mkdir()  # reading it fails with an OSError other than "missing"
    assert kernel._read_cache() is None
    assert caplog.messages == [f"kernel cache damaged at {tmp_path / kernel._ENTRY}: recompiling"]


@pytest.mark.parametrize("kind", ["a link to /dev/zero", "a FIFO", "a huge file"])
def test_an_entry_that_is_no_regular_file_or_too_big_is_damage_read_in_bounded_time(
    tmp_path, monkeypatch, caplog, kind
):
    """/dev/zero was read until memory ran out; a FIFO blocked the run forever."""
    monkeypatch.setattr(kernel, "cache_dir", lambda: tmp_path)
    entry = tmp_path / kernel._ENTRY
    if kind == "a link to /dev/zero":
        entry.symlink_to("/dev/zero")
    elif kind == "a FIFO":
        os.mkfifo(entry)
    else:
        with entry.open("wb") as file:  # sparse: no disk used
            file.truncate(kernel._LARGEST_ENTRY * 2)
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(kernel._read_cache()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert found == [None]
    assert caplog.messages == [f"kernel cache damaged at {entry}: recompiling"]


def test_another_entry_format_is_another_folder(monkeypatch):
    now = kernel.cache_dir.__wrapped__()
    monkeypatch.setattr(kernel, "_FORMAT", kernel._FORMAT + 1)
    assert kernel.cache_dir.__wrapped__() != now


# A damaged cache, as a user meets it: every run of the command line with the
# cache in a temporary folder. A damaged entry must be compiled again, which
# costs 8-10 s, so all cases but one run with numba_backend.compile_kernel
# replaced by the known-good object of the pristine cache (the same code path,
# without the wait); the real compile is exercised once.

RUN = ["run", "-n", "1000", "--json", "-", str(EXAMPLE)]
NOTICE = "kernel cache damaged at "
GOOD_OBJECT_FOR_COMPILE = """
import sys, types
from pathlib import Path
from assumption_graph.compile import kernel
good = kernel._parse_entry(Path(sys.argv[1]).read_bytes())
sys.modules["assumption_graph.compile.numba_backend"] = types.SimpleNamespace(
    compile_kernel=lambda: (good, kernel.load(good))
)
from assumption_graph.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _run_cli(root: Path, good_entry: Path | None = None) -> subprocess.Popen:
    """``run -n 1000 --json -`` of the example with its cache at ``root``, started."""
    python = [sys.executable, "-m", "assumption_graph.cli"]
    if good_entry is not None:
        python = [sys.executable, "-c", GOOD_OBJECT_FOR_COMPILE, str(good_entry)]
    return subprocess.Popen(
        [*python, *RUN],
        env={**os.environ, "ASSUMPTION_GRAPH_CACHE": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=300)
    return process.returncode, stdout, stderr


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A cache root holding a whole entry, copied from this process's cache (no compile)."""
    kernel.warm_up()
    root = tmp_path_factory.mktemp("pristine-cache")
    shutil.copytree(kernel.cache_dir(), root / kernel.cache_dir().name)
    return root


@pytest.fixture(scope="module")
def clean_json(pristine) -> str:
    code, stdout, stderr = _finished(_run_cli(pristine))
    assert code == 0 and NOTICE not in stderr, stderr
    return stdout


def _flip(data: bytes, at: int, count: int = 16) -> bytes:
    return data[:at] + bytes(byte ^ 0xFF for byte in data[at : at + count]) + data[at + count :]


def _other_checksum(data: bytes) -> bytes:
    return data[:7] + hashlib.sha256(b"other").hexdigest().encode() + data[71:]  # after "sha256:"


DAMAGE = {
    "emptied": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "flipped in the middle": lambda data: _flip(data, len(data) // 2),
    "flipped in the checksum": lambda data: _flip(data, 10),
    "another checksum": _other_checksum,
    "without its checksum": lambda data: data.split(b"\n", 2)[2],  # the bare object code
    "garbage of the same size": lambda data: np.random.default_rng(14).bytes(len(data)),
}


def _names(folder: Path) -> list[str]:
    """The files in a cache folder: the kernel's entry and those of the pieces compiled so far."""
    return sorted(path.name for path in folder.iterdir())


def _damaged_copy(pristine: Path, tmp_path: Path, damage: str) -> tuple[Path, Path]:
    """A copy of the pristine cache with its entry damaged: the root, and the entry."""
    root = tmp_path / "cache"
    shutil.copytree(pristine, root)
    (entry,) = root.glob(f"kernel-*/{kernel._ENTRY}")
    entry.write_bytes(DAMAGE[damage](entry.read_bytes()))
    return root, entry


@pytest.mark.parametrize("damage", [d for d in DAMAGE if d != "flipped in the middle"])
def test_a_damaged_entry_is_noticed_replaced_and_gives_the_same_numbers(
    pristine, clean_json, tmp_path, damage
):
    root, entry = _damaged_copy(pristine, tmp_path, damage)
    good = next(pristine.glob(f"kernel-*/{kernel._ENTRY}"))
    code, stdout, stderr = _finished(_run_cli(root, good_entry=good))
    assert code == 0, stderr
    assert f"{NOTICE}{entry}: recompiling" in stderr.splitlines()
    assert stdout == clean_json
    assert entry.read_bytes() == good.read_bytes()  # repaired, whole
    assert _names(entry.parent) == _names(good.parent)  # no partial file left


@pytest.mark.slow  # a real compile: 8-10 s
def test_flipped_bytes_are_recompiled_for_real_once_then_the_entry_is_whole(
    pristine, clean_json, tmp_path
):
    root, entry = _damaged_copy(pristine, tmp_path, "flipped in the middle")
    code, stdout, stderr = _finished(_run_cli(root))
    assert code == 0, stderr
    assert f"{NOTICE}{entry}: recompiling" in stderr.splitlines()
    assert stdout == clean_json
    code, again, stderr = _finished(_run_cli(root))
    assert code == 0 and NOTICE not in stderr, stderr
    assert again == clean_json


def test_processes_repairing_an_entry_at_once_all_give_the_same_numbers(
    pristine, clean_json, tmp_path
):
    root, entry = _damaged_copy(pristine, tmp_path, "truncated")
    good = next(pristine.glob(f"kernel-*/{kernel._ENTRY}"))
    runs = [_run_cli(root, good_entry=good) for _ in range(2)]
    for code, stdout, stderr in map(_finished, runs):
        assert code == 0, stderr
        assert stdout == clean_json
    assert entry.read_bytes() == good.read_bytes()
    assert _names(entry.parent) == _names(good.parent)


def test_out_must_be_a_contiguous_float_array_the_kernel_can_write():
    sim = Simulator(ag.load(EXAMPLE))
    program = sim.compiled.program(tuple(sim.compiled.model.main_nodes))
    wide = np.empty((len(program.outputs), 20))
    with pytest.raises(ValueError, match="C-contiguous float64"):
        kernel.execute(program, 1, 0, 10, wide[:, ::2])
    with pytest.raises(ValueError, match="at least 10"):
        kernel.execute(program, 1, 0, 10, wide[:, :5].copy())


NO_BINDING = """
import json, sys
import assumption_graph as ag
from assumption_graph.run import Simulator
result = Simulator(ag.load(sys.argv[1])).run(5_000, 3, keep_samples=True)
print(json.dumps({
    "binding": "llvmlite.binding" in sys.modules,
    "values": {node: result.values(node).tolist() for node in result.summaries},
}))
"""


def _new_process(root: Path | None = None) -> dict:
    env = dict(os.environ)
    if root is not None:
        env["ASSUMPTION_GRAPH_CACHE"] = str(root)
    done = subprocess.run(
        [sys.executable, "-c", NO_BINDING, str(EXAMPLE)],
        capture_output=True, text=True, check=True, timeout=300, env=env,
    )  # fmt: skip
    return json.loads(done.stdout)


needs_cc = pytest.mark.skipif(
    not (os.environ.get("CC") or shutil.which("cc")), reason="no C compiler to link with"
)


@needs_cc
def test_a_new_process_opens_the_cached_shared_library_without_llvmlites_binding():
    kernel.warm_up()
    here = Simulator(ag.load(EXAMPLE)).run(5_000, 3, keep_samples=True)
    cached = kernel._read_cache()
    assert cached is not None and cached.shared  # the entry names its library
    there = _new_process()
    assert there["binding"] is False
    for node, values in there["values"].items():
        np.testing.assert_array_equal(np.array(values), here.values(node), err_msg=node)


@needs_cc
@pytest.mark.parametrize("damage", ["changed", "missing", "not a library"])
def test_a_shared_library_that_is_not_the_entrys_is_never_opened(tmp_path, damage):
    """Its sha256 is checked against the checksummed entry first: a library that is not
    the one written is passed over, and llvmlite links the entry's object code."""
    kernel.warm_up()
    root = tmp_path / "cache"
    shutil.copytree(kernel.cache_dir(), root / kernel.cache_dir().name)
    library = root / kernel.cache_dir().name / "kernel.so"
    if damage == "changed":
        library.write_bytes(_flip(library.read_bytes(), len(library.read_bytes()) // 2))
    elif damage == "missing":
        library.unlink()
    else:
        library.write_bytes(b"not a shared library")
    before = _new_process()
    after = _new_process(root)
    assert after["binding"] is True  # linked by llvmlite instead
    assert after["values"] == before["values"]


def test_the_cache_folder_follows_the_cpu(monkeypatch):
    now = kernel.cache_dir.__wrapped__()
    monkeypatch.setattr(kernel, "_cpuinfo", lambda: "model name : another CPU\nflags : fpu")
    assert kernel.cache_dir.__wrapped__() != now
