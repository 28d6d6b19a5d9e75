"""The kernel's object code on disk: a new process links it without numba."""

from __future__ import annotations

import json
import subprocess
import sys
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


def test_an_unreadable_cache_counts_as_none(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel, "cache_dir", lambda: tmp_path)
    assert kernel._read_cache() is None  # nothing there
    (tmp_path / "kernel.json").write_text("{not json")
    (tmp_path / "kernel.o").write_bytes(b"\x7fELF")
    assert kernel._read_cache() is None
    written = KernelObject(b"\x7fELF...", "_ZN5entry", ("log1p",))
    kernel._write_cache(written)
    assert kernel._read_cache() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kernel.json", "kernel.o"]


def test_out_must_be_a_contiguous_float_array_the_kernel_can_write():
    sim = Simulator(ag.load(EXAMPLE))
    program = sim.compiled.program(tuple(sim.compiled.model.main_nodes))
    wide = np.empty((len(program.outputs), 20))
    with pytest.raises(ValueError, match="C-contiguous float64"):
        kernel.execute(program, 1, 0, 10, wide[:, ::2])
    with pytest.raises(ValueError, match="at least 10"):
        kernel.execute(program, 1, 0, 10, wide[:, :5].copy())
