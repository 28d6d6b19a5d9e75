"""The compiled kernel against the reference interpreter, and its reproducibility."""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assumption_graph.compile import compile_model, kernel, numba_backend
from assumption_graph.compile.entry import Piece
from assumption_graph.compile.ir import Op
from assumption_graph.compile.reference import evaluate, simulate
from assumption_graph.distributions.registry import jit_scalars
from assumption_graph.functions import FormulaOp
from assumption_graph.model import Model
from assumption_graph.run import Simulator
from assumption_graph.validate import check

from .strategies import models

SCALARS = jit_scalars(numba.njit)  # the kernel's samplers, callable here (each compiled once)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_agrees(result, arrays, node_ids) -> None:
    """The kernel's samples equal the reference's, node by node (NaN where NaN)."""
    for node_id in node_ids:
        np.testing.assert_allclose(result.values(node_id), arrays[node_id], rtol=1e-9,
                                   atol=1e-12, equal_nan=True, err_msg=node_id)


def run_all(model: Model, n: int = 300, seed: int = 3, **options):
    sim = Simulator(model)
    return sim, sim.run(n, seed, outputs="all", keep_samples=True, **options)


@SETTINGS
@given(models(), st.integers(0, 2**70))
def test_kernel_equals_reference_on_random_graphs(model, seed):
    sim, result = run_all(model, seed=seed)
    checked = sim.compiled.checked
    twin = simulate(checked, result.samples, seed, checked.order)
    assert_agrees(result, twin, checked.order)


@SETTINGS
@given(models())
def test_kernel_evaluates_like_reference_given_its_own_draws(model):
    sim, result = run_all(model)
    checked = sim.compiled.checked
    drawn = {n: result.values(n) for n in checked.order if model[n].is_uncertain}
    again = evaluate(checked, drawn, result.samples)
    assert_agrees(result, again, checked.order)


@settings(max_examples=25, deadline=None)
@given(models(), st.randoms(use_true_random=False))
def test_order_of_nodes_in_the_file_does_not_change_results(model, rnd):
    shuffled = Model("shuffled")
    nodes = list(model)
    rnd.shuffle(nodes)
    for node in nodes:
        shuffled.add_node(node)
    _, a = run_all(model)
    _, b = run_all(shuffled)
    for node_id in a:
        np.testing.assert_array_equal(a.values(node_id), b.values(node_id))


def test_renaming_an_intermediate_node_does_not_change_results():
    def build(name: str) -> Model:
        m = Model("rename")
        m.add("a", estimate=[1, 2, 4])
        m.add("b", estimate=[0, 5, 6], model="pert")
        m.add(name, formula="a * b")
        m.add("out", kind="main", formula=f"{name} + a")
        return m

    _, first = run_all(build("middle"))
    _, second = run_all(build("zz_renamed"))
    np.testing.assert_array_equal(first.values("out"), second.values("out"))


@settings(max_examples=15, deadline=None)
@given(models(), st.integers(0, 1000))
def test_thread_count_and_chunks_never_change_results(model, seed):
    sim = Simulator(model)
    one = sim.run(2000, seed, outputs="all", keep_samples=True, threads=1)
    two = sim.run(2000, seed, outputs="all", keep_samples=True, threads=2, chunk=333)
    for node_id in one:
        np.testing.assert_array_equal(one.values(node_id), two.values(node_id))


@given(n_blocks=st.integers(1, 200_000), workers=st.integers(1, 16))
def test_a_calls_ranges_cover_every_block_once_shrinking_toward_the_end(n_blocks, workers):
    ranges = kernel._Ranges(n_blocks, workers)
    taken = list(iter(ranges.take, None))
    assert taken[0][0] == 0 and taken[-1][1] == n_blocks
    assert all(end == first for (_, end), (first, _) in zip(taken, taken[1:], strict=False))
    sizes = [end - first for first, end in taken]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] <= kernel._MIN_STEP  # small last
    assert all(kernel._MIN_STEP <= size <= kernel._MAX_STEP for size in sizes[:-1])


def test_same_seed_same_numbers_other_seed_other_numbers():
    m = Model("seeds")
    m.add("a", estimate=[1, 2, 4])
    m.add("out", kind="main", formula="a * 2")
    sim = Simulator(m)
    first = sim.run(1000, 5, keep_samples=True).values("out")
    np.testing.assert_array_equal(first, sim.run(1000, 5, keep_samples=True).values("out"))
    assert not np.array_equal(first, sim.run(1000, 6, keep_samples=True).values("out"))


def test_a_longer_run_extends_a_shorter_one():
    m = Model("prefix")
    m.add("a", estimate=[1, 2, 4])
    m.add("out", kind="main", formula="a * 2")
    sim = Simulator(m)
    short = sim.run(100, 1, keep_samples=True).values("out")
    long = sim.run(10_000, 1, keep_samples=True).values("out")
    np.testing.assert_array_equal(short, long[:100])


def test_only_requested_outputs_are_kept_and_dead_nodes_skipped():
    m = Model("outputs")
    m.add("a", estimate=[1, 2, 4])
    m.add("b", estimate=[1, 2, 4])
    m.add("c", formula="a + b")
    m.add("unrelated", formula="b * 3", unused=True)
    m.add("out", kind="main", formula="c * 2")
    compiled = compile_model(m)
    program = compiled.program(["out"])
    assert program.outputs == ("out",)
    assert "unrelated" not in program.source
    assert program.n_slots <= 3
    with_override = compiled.program(["out"], {"c": 5.0})
    assert "# a" not in with_override.source and "override" in with_override.source


def slots_read(row) -> set[int]:
    """The slots one program row reads (none for constants, loads and draws)."""
    op, _, a, b, c = (int(v) for v in row)
    if op in (FormulaOp.IRR, FormulaOp.IRR_COUNT):
        return set(range(a, a + b))
    if op in (Op.CONST, Op.LOAD) or op >= Op.UNIFORM:
        return set()
    return {s for s in (a, b, c) if s >= 0}


@SETTINGS
@given(models())
def test_no_op_writes_a_slot_it_reads(model):
    program = compile_model(model).program(check(model).order)
    for row, line in zip(program.code, program.lines, strict=True):
        assert int(row[1]) not in slots_read(row), line


def test_overrides_pin_a_node_for_one_run():
    m = Model("override")
    m.add("hours", estimate=[10, 20, 40])
    m.add("rate", value=2.0)
    m.add("cost", kind="main", formula="hours * rate")
    sim = Simulator(m)
    pinned = sim.run(500, 1, overrides={"hours": 30}, keep_samples=True)
    assert np.all(pinned.values("cost") == 60.0)
    assert pinned["cost"].expected == 60.0 and pinned["cost"].best == 60.0
    assert sim.run(500, 1)["cost"].expected == 40.0


def test_division_by_zero_in_some_samples_is_counted_not_fatal():
    m = Model("nonfinite")
    m.add("k", estimate=[0, 1, 2], model="discrete", probabilities=[0.25, 0.5, 0.25])
    m.add("out", kind="main", formula="10 / k")
    result = Simulator(m).run(4000, 2)
    summary = result["out"]
    # about a quarter of the samples divide by zero: binomial SE of the count is sqrt(n p q)
    assert abs(summary.nonfinite - 1000) < 5 * np.sqrt(4000 * 0.25 * 0.75)
    assert summary.mean is not None and np.isfinite(summary.mean)
    assert set(result.to_dict()["nodes"]["out"]["percentiles"]) == {
        "5",
        "10",
        "25",
        "50",
        "70",
        "75",
        "80",
        "90",
        "95",
    }


def test_kernel_mean_of_a_triangle_within_standard_error():
    m = Model("mean")
    m.add("t", estimate=[1, 3, 8])
    m.add("out", kind="main", formula="t")
    n = 200_000
    summary = Simulator(m).run(n, 11)["out"]
    true_mean, true_sd = 4.0, np.sqrt((1 + 9 + 64 - 3 - 8 - 24) / 18)
    assert abs(summary.mean - true_mean) < 5 * true_sd / np.sqrt(n)
    assert abs(summary.std - true_sd) < 0.02 * true_sd


def test_kernel_is_compiled_once_and_warm_up_is_cheap_afterwards():
    kernel.warm_up()
    assert kernel.warm_up() < 0.5


def test_warm_up_with_pieces_readies_every_piece():
    kernel.warm_up(pieces=True)  # as the set-up does: no later run compiles a piece
    assert set(kernel._pieces) == set(Piece) and all(kernel._pieces.values())
    assert kernel._tally is not None  # and the summaries' passes
    assert (kernel.cache_dir() / "tally.bin").is_file()


def test_only_the_rarely_used_ops_are_compiled_apart():
    rows = {  # (op, c): the piece that runs it, -1 for the kernel itself
        (Op.TRIANGLE, -1): -1,
        (Op.UNIFORM, -1): -1,
        (Op.PERT, -1): Piece.DRAW,  # PERT too: a model without it never compiles it
        (FormulaOp.ADD, -1): -1,
        (Op.UNIT, -1): -1,
        (Op.NORMAL, -1): Piece.DRAW,
        (Op.RISK_EVENT, -1): Piece.DRAW,
        (Op.TRIANGLE, 0): Piece.FROM_U,
        (Op.NORMAL, 0): Piece.FROM_U,
        (Op.SCORE, -1): Piece.COPULA,
        (Op.COPULA, 0): Piece.COPULA,
        (FormulaOp.IRR, -1): Piece.IRR,
        (FormulaOp.IRR_COUNT, -1): Piece.IRR,
    }
    code = np.array([[op, 1, 0, 0, c] for op, c in rows], dtype=np.int64)
    which = kernel._pieces_of(SimpleNamespace(code=code))
    assert which.tolist() == list(rows.values())


def test_check_errors_stop_compilation():
    from assumption_graph.errors import CheckFailed

    m = Model("bad")
    m.add("a", formula="b + 1")
    with pytest.raises(CheckFailed) as info:
        compile_model(m)
    assert "unknown-name" in str(info.value)
    assert not check(m).ok


def test_kernel_uniform_is_the_streams_uniform_bit_for_bit():
    from assumption_graph.streams import GAMMA, uniform_array

    stream = np.uint64(0xDEADBEEF12345678)
    samples = np.array([0, 1, 2, 10**6, 2**40, 2**63 - 1, 2**64 - 1], dtype=np.uint64)
    expected = uniform_array(int(stream), samples, 0)
    with np.errstate(over="ignore"):
        counters = [stream + (s + np.uint64(1)) * GAMMA for s in samples]
    uniform = numba.njit(lambda counter: numba_backend._counter_uniform(counter))
    got = np.array([uniform(c) for c in counters])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("estimate", [[400, 500, 700], [1, 1, 5], [0, 4.9, 5], [2, 2, 2]])
def test_kernel_pert_draws_are_the_numpy_twins_bit_for_bit(estimate):
    """The squeeze pass and the fallback to the whole rejection loop give the twin's draws."""
    from assumption_graph.distributions.pert_stream import pert_squeezed
    from assumption_graph.streams import stream_key, uniform_array

    m = Model("pert")
    m.add("x", kind="main", model="pert", estimate=estimate)
    n = 20_000
    got = Simulator(m).run(n, 9, keep_samples=True).values("x")
    key, samples = stream_key(9, "x"), np.arange(n)
    np.testing.assert_array_equal(got, m["x"].body.sample_array(key, samples))
    if estimate[0] < estimate[2]:  # some samples did take the fallback
        table = np.array(m["x"].body.sampler_table)
        first = zip(*(uniform_array(key, samples, sub) for sub in range(3)), strict=True)
        low, high = m["x"].body.sampler_args[:2]
        squeezed = [pert_squeezed(*u, table, 0, table.size, low, high) for u in first]
        assert 0 < np.isnan(squeezed).sum() < n / 10


@pytest.mark.parametrize("model", ["normal", "lognormal"])
def test_kernel_normal_draws_are_the_scalar_samplers_bit_for_bit(model):
    """The central pass and the fallback in the tails give exactly the scalar sampler."""
    from assumption_graph.streams import stream_key, uniform_array

    m = Model("normal")
    m.add("x", kind="main", model=model, estimate=[0.5, 1.0, 3.0])
    n = 5_000  # ~ 750 samples in the tails
    got = Simulator(m).run(n, 4, keep_samples=True).values("x")
    sampler = SCALARS["normal_from_u" if model == "normal" else "lognormal_from_u"]
    args = m["x"].body.sampler_args
    expected = [sampler(u, *args) for u in uniform_array(stream_key(4, "x"), np.arange(n), 0)]
    np.testing.assert_array_equal(got, expected)
