"""Runs on a Dask cluster give the numbers of the same runs on this machine, bit for bit.

One ``LocalCluster`` of two worker processes serves the whole module; the test
that kills a worker comes last, so the others run on a whole cluster.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest

from assumption_graph import cluster as dask_cluster
from assumption_graph import load
from assumption_graph.cluster import Cluster, connect
from assumption_graph.compile import kernel
from assumption_graph.portfolio import TOTALS, run_portfolio
from assumption_graph.run import Simulator
from assumption_graph.sensitivity import sensitivity

from .commands import run_cli

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "business_case.yaml"  # correlated inputs, PERT: every path
SCENARIOS = ROOT / "examples" / "scenarios" / "business_case.yaml"
CASES = sorted((ROOT / "examples" / "portfolio" / "cases").glob("*.yaml"))
N, SEED, CHUNK = 12_000, 11, 2_500  # five chunks: each worker gets several


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with connect("local:2") as local:
        yield local


@pytest.fixture(scope="module")
def simulator() -> Simulator:
    return Simulator(load(MODEL))


def _same_runs(here, there) -> None:  # type: ignore[no-untyped-def]
    assert there.to_dict() == here.to_dict()
    assert there.arrays.keys() == here.arrays.keys()
    for node_id, values in here.arrays.items():
        np.testing.assert_array_equal(there.arrays[node_id], values, err_msg=node_id)


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_a_run_on_the_cluster_is_bit_identical(cluster, simulator, method) -> None:  # type: ignore[no-untyped-def]
    options = {"method": method, "keep_samples": True, "chunk": CHUNK}
    done: list[int] = []
    there = simulator.run(N, SEED, cluster=cluster, progress=done.append, **options)
    _same_runs(simulator.run(N, SEED, **options), there)
    assert sorted(done) == sorted([CHUNK] * (N // CHUNK) + [N % CHUNK])  # every chunk, once


def test_sobol_indices_on_the_cluster_are_bit_identical(cluster, simulator) -> None:  # type: ignore[no-untyped-def]
    options = {"n": 4_000, "seed": SEED, "sobol_samples": 64}
    there = sensitivity(simulator, "npv", cluster=cluster, **options)
    assert there.sobol is not None
    assert there.as_dict() == sensitivity(simulator, "npv", **options).as_dict()


def test_a_portfolio_on_the_cluster_is_bit_identical(cluster) -> None:  # type: ignore[no-untyped-def]
    models = [load(path) for path in CASES]
    done: list[int] = []
    there = run_portfolio(models, N, SEED, cluster=cluster, progress=done.append)
    here = run_portfolio(models, N, SEED)
    assert there.as_dict() == here.as_dict()
    for name in TOTALS:
        np.testing.assert_array_equal(there.totals[name], here.totals[name])
    assert done == [N] * len(CASES)


def test_scenarios_from_the_command_line_on_the_cluster_are_bit_identical(  # type: ignore[no-untyped-def]
    capsys, cluster
) -> None:
    command = ("scenarios", MODEL, SCENARIOS, "-n", N, "--seed", SEED, "--json", "-")
    code, here, err = run_cli(capsys, *command)
    assert code == 0, err
    code, there, err = run_cli(capsys, *command, "--dask", cluster.client.scheduler.address)
    assert code == 0, err
    assert json.loads(there) == json.loads(here)
    assert there == here


def test_the_environment_names_the_cluster(capsys, cluster, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(dask_cluster.ENV, cluster.client.scheduler.address)
    command = ("run", MODEL, "-n", N, "--seed", SEED, "--method", "lhs", "--json", "-")
    code, there, err = run_cli(capsys, *command)
    assert code == 0, err
    monkeypatch.delenv(dask_cluster.ENV)
    assert run_cli(capsys, *command)[1] == there


def test_each_worker_loads_the_kernel_once(cluster) -> None:  # type: ignore[no-untyped-def]
    def kernels_loaded() -> int:  # loads of the kernel's entry, not of its pieces'
        return kernel._loads[kernel._ENTRY]

    loaded = cluster.client.run(kernels_loaded)
    assert sorted(loaded.values()) == [1, 1]  # after every run above


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_scheduler_is_one_line_before_anything_runs(  # type: ignore[no-untyped-def]
    capsys, monkeypatch, tmp_path
) -> None:
    monkeypatch.setattr(dask_cluster, "CONNECT_SECONDS", 1.0)
    target = tmp_path / "out.json"
    address = f"tcp://127.0.0.1:{_free_port()}"
    for command in (("run", MODEL), ("portfolio", *CASES)):
        code, out, err = run_cli(capsys, *command, "--json", target, "--dask", address)
        assert code == 1
        assert err.count("\n") == 1 and "cannot reach the Dask scheduler" in err, err
        assert address in err and "dask scheduler" in err
        assert not target.exists() and out == ""


def test_a_bad_local_cluster_is_refused(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(capsys, "run", MODEL, "--dask", "local:many")
    assert code == 1 and err.count("\n") == 1 and "local:2" in err, err


def test_without_dask_the_message_says_how_to_install_it(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    code, _, err = run_cli(capsys, "run", MODEL, "--dask", "local:2")
    assert code == 1 and err.count("\n") == 1, err
    assert "pip install 'assumption-graph[dask]'" in err


def test_a_killed_worker_changes_no_number(cluster, simulator) -> None:  # type: ignore[no-untyped-def]
    """Last: one worker process is killed after the first chunk comes back; Dask runs the
    chunks it held on the other worker, and the result is the local run's."""
    pids = list(cluster.client.run(os.getpid).values())
    killed: list[int] = []

    def kill_one(count: int) -> None:
        if not killed:
            killed.append(pids[0])
            os.kill(pids[0], signal.SIGKILL)

    options = {"method": "mc", "keep_samples": True, "chunk": CHUNK}
    there = simulator.run(5 * N, SEED, cluster=cluster, progress=kill_one, **options)
    assert killed and not (psutil.pid_exists(pids[0]) and psutil.Process(pids[0]).is_running())
    _same_runs(simulator.run(5 * N, SEED, **options), there)
