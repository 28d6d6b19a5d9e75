"""Sampling methods (mc, lhs, sobol), correlated inputs, runs to a precision, given values."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import qmc

from assumption_graph import cli, sampling
from assumption_graph.compile.reference import evaluate, simulate
from assumption_graph.copula_matrix import groups, not_positive_semidefinite
from assumption_graph.errors import RunError
from assumption_graph.io import dump, loads
from assumption_graph.model import Model
from assumption_graph.run import FIRST_CHECK, Simulator
from assumption_graph.sampling import (
    InputSampler,
    keyed_permutation,
    lhs_uniforms,
    normal_correlations,
    sobol_directions,
)
from assumption_graph.streams import stream_key
from assumption_graph.validate import check

from .strategies import models

ROOT = Path(__file__).resolve().parent.parent
CONSULTANCY = ROOT / "examples" / "consultancy.yaml"


def three_inputs() -> Model:
    """A smooth model of three inputs with different probability models."""
    m = Model("three")
    m.add("a", estimate=[1, 2, 6], model="pert")
    m.add("b", estimate=[1, 2, 4])
    m.add("c", estimate=[0, 1, 3], model="uniform")
    m.add("y", kind="main", formula="a + b * c")
    return m


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(three_inputs())


# ------------------------------------------------------------------ Latin hypercube


@given(st.integers(1, 5000), st.integers(0, 2**64 - 1))
@settings(max_examples=60, deadline=None)
def test_keyed_permutation_is_a_permutation(n, key):
    assert np.array_equal(np.sort(keyed_permutation(key, n, np.arange(n))), np.arange(n))


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 4097])
def test_lhs_puts_one_sample_in_each_stratum_of_each_input(sim, n):
    result = sim.run(n, seed=5, method="lhs", outputs=["a", "b", "c"], keep_samples=True)
    cdfs = {
        "a": scipy.stats.beta(1.8, 4.2, loc=1, scale=5).cdf,
        "b": scipy.stats.triang(c=1 / 3, loc=1, scale=3).cdf,
        "c": scipy.stats.uniform(loc=0, scale=3).cdf,
    }
    for node_id, cdf in cdfs.items():
        u = cdf(result.values(node_id))
        strata = np.floor(u * n + 1e-9 * n).astype(int)  # inverse CDFs are exact to ~1e-12
        assert np.array_equal(np.sort(np.minimum(strata, n - 1)), np.arange(n)), node_id


@pytest.mark.parametrize(("method", "made"), [("lhs", "strata"), ("sobol", "sobol")])
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3000),
    seed=st.integers(0, 2**64 - 1),
    chunk=st.integers(1, 3000),
    threads=st.integers(1, 2),
)
def test_the_kernel_makes_the_twins_uniforms(sim, method, made, n, seed, chunk, threads):
    """The kernel makes each input's Latin hypercube uniform or Sobol point (no given
    matrix, no Python work per chunk) and draws from it exactly what the twin makes of
    ``lhs_uniforms`` or of scipy's own Sobol points."""
    twin = sim._sampler(method, seed, n, {})
    assert getattr(twin.plan, made) == ("a", "b", "c") and not twin.loaded
    result = sim.run(n, seed, method=method, outputs=["a", "b", "c"], keep_samples=True,
                     chunk=chunk, threads=threads)  # fmt: skip
    for x, values in zip("abc", twin.values(0, n, ids=["a", "b", "c"]), strict=True):
        np.testing.assert_array_equal(result.values(x), values)


def test_lhs_uniforms_are_stratified_and_chunk_independent():
    n = 10_000
    samples = np.arange(n, dtype=np.uint64)
    u = lhs_uniforms(11, "x", n, samples)
    assert np.array_equal(np.sort(np.floor(u * n).astype(int)), np.arange(n))
    parts = [lhs_uniforms(11, "x", n, samples[k : k + 999]) for k in range(0, n, 999)]
    assert np.array_equal(np.concatenate(parts), u)
    assert not np.array_equal(u, lhs_uniforms(11, "z", n, samples))  # each input its own


def test_lhs_uniforms_stay_below_one_at_the_top_of_the_top_stratum(monkeypatch):
    """(n - 1 + u) / n rounds to 1.0 for the largest offset u, where inverse CDFs are infinite."""
    import assumption_graph.sampling as sampling

    largest = 1.0 - 2.0**-53  # the largest offset the streams give
    monkeypatch.setattr(
        sampling, "uniform_array", lambda _s, samples, _sub: np.full(len(samples), largest)
    )
    for n in (2, 3, 1000, 2**20 + 1):
        u = sampling.lhs_uniforms(11, "x", n, np.arange(n, dtype=np.uint64))
        assert u.max() == largest and u.min() > 0.0, n


def test_lhs_mean_error_shrinks_faster_than_plain_monte_carlo(sim):
    """Over 60 seeds, the LHS mean of a smooth model varies far less than the MC mean.

    For an additive model LHS removes the main effects, so the variance ratio is
    of order 1/n; the bound 0.25 leaves room for the variance estimates' own
    error (relative SE about sqrt(2/59) = 18 % each with 60 seeds).
    """
    means = {
        method: [sim.run(500, seed=s, method=method)["y"].mean for s in range(60)]
        for method in ("mc", "lhs")
    }
    assert np.var(means["lhs"], ddof=1) < 0.25 * np.var(means["mc"], ddof=1)


# ------------------------------------------------------------------ Sobol points


def test_sobol_points_are_scipys_scrambled_sequence_and_reproducible():
    dists = {x: three_inputs()[x].body for x in ("a", "b", "c")}
    sampler = InputSampler("sobol", dists, [], seed=9, n=1024)
    ours = np.concatenate([sampler._sobol_points(k, 256) for k in range(0, 1024, 256)], axis=1)
    engine = qmc.Sobol(3, scramble=True, rng=np.random.default_rng(stream_key(9, "")))
    np.testing.assert_array_equal(ours, engine.random(1024).T)
    jumped = InputSampler("sobol", dists, [], seed=9, n=1024)._sobol_points(512, 512)
    np.testing.assert_array_equal(jumped, ours[:, 512:])


def test_the_kernels_sobol_points_reach_the_high_direction_numbers(sim):
    n = 2**20 + 3  # the last points' Gray codes set bit 20
    result = sim.run(n, 5, method="sobol", outputs=["a", "b", "c"], keep_samples=True)
    twin = sim._sampler("sobol", 5, n, {})
    tail = slice(n - 2**16, n)
    values = twin.values(n - 2**16, 2**16, ids=["a", "b", "c"])
    for x, expected in zip("abc", values, strict=True):
        np.testing.assert_array_equal(result.values(x)[tail], expected)


def test_sobol_directions_are_read_only_from_an_engine_like_the_runs():
    engine = qmc.Sobol(3, scramble=True, rng=np.random.default_rng(4))
    numbers = sobol_directions(engine)
    assert numbers is not None and numbers.shape == (3, 31)
    np.testing.assert_array_equal(engine.random(4), qmc.Sobol(3, scramble=True,
                                  rng=np.random.default_rng(4)).random(4))  # fmt: skip
    assert sobol_directions(qmc.Sobol(3, bits=32, rng=np.random.default_rng(4))) is None
    del engine._sv  # scipy's attribute gone (another version): the points come from scipy
    assert sobol_directions(engine) is None


def test_a_run_without_the_direction_numbers_gives_the_same_points(sim, monkeypatch, tmp_path):
    """Where scipy's direction numbers cannot be read, its points come in the given matrix."""
    made = sim.run(5000, 3, method="sobol", outputs=["a", "b", "c"], keep_samples=True)
    # no Sobol numbers kept there (the kernel's folder, found by the run above, stays)
    monkeypatch.setenv("ASSUMPTION_GRAPH_CACHE", str(tmp_path))
    monkeypatch.setattr(sampling, "sobol_directions", lambda engine: None)
    assert sim._sampler("sobol", 3, 5000, {}).loaded == ("a", "b", "c")
    given_ = sim.run(5000, 3, method="sobol", outputs=["a", "b", "c"], keep_samples=True)
    for x in "abc":
        np.testing.assert_array_equal(made.values(x), given_.values(x))


def _flipped_last_bit(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def test_sobol_numbers_are_kept_and_read_back(tmp_path, monkeypatch):
    """A run's Sobol numbers are kept in the cache folder; the next run with its seed and
    dimensions reads them without scipy's engine, and a damaged file is made again."""
    monkeypatch.setenv("ASSUMPTION_GRAPH_CACHE", str(tmp_path))
    dists = {x: three_inputs()[x].body for x in ("a", "b", "c")}
    first = InputSampler("sobol", dists, [], seed=21, n=1000)
    assert first._sobol is not None  # read off scipy's engine
    (kept,) = (tmp_path / "sobol").iterdir()
    again = InputSampler("sobol", dists, [], seed=21, n=1000)
    assert again._sobol is None and again.plan == first.plan
    for damage in (b"not numbers", _flipped_last_bit(kept.read_bytes())):
        kept.write_bytes(damage)
        mended = InputSampler("sobol", dists, [], seed=21, n=1000)
        assert mended._sobol is not None and mended.plan == first.plan
        assert InputSampler("sobol", dists, [], seed=21, n=1000)._sobol is None
    other = InputSampler("sobol", dists, [], seed=22, n=1000)
    assert other.plan.directions != first.plan.directions


def test_a_sobol_run_with_kept_numbers_does_not_load_scipy_stats(tmp_path):
    script = (
        "import sys\n"
        "from assumption_graph.cli import main\n"
        f"main(['run', {str(CONSULTANCY)!r}, '-n', '1000', '--method', 'sobol', '--seed', '31'])\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       env=env, cwd=tmp_path, check=True)  # fmt: skip
        for _ in range(2)
    ]
    assert runs[1].stdout.strip().endswith("False"), runs[1].stdout
    assert runs[0].stdout.splitlines()[:-1] == runs[1].stdout.splitlines()[:-1]  # the same figures


def test_a_sobol_run_longer_than_its_sequence_is_refused(sim):
    with pytest.raises(RunError, match="Sobol sequence has 1,073,741,824 points"):
        sim.run(2**30 + 1, method="sobol")


def test_sobol_mean_of_a_smooth_model_is_close_to_exact(sim):
    exact = 2.5 + (7 / 3) * 1.5  # E[a] + E[b]·E[c], independent inputs
    mc = sim.run(4096, seed=1, method="mc")["y"]
    sobol = sim.run(4096, seed=1, method="sobol")["y"]
    se = mc.std / math.sqrt(4096)
    assert abs(mc.mean - exact) < 4 * se
    assert abs(sobol.mean - exact) < se / 4  # quasi-random: far inside the MC error


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_methods_are_independent_of_chunks_and_threads(sim, method):
    runs = [
        sim.run(3000, seed=4, method=method, outputs=["y"], keep_samples=True, **options)
        for options in ({}, {"chunk": 1000}, {"chunk": 777, "threads": 1})
    ]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].values("y"), other.values("y"))


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_loaded_inputs_evaluate_like_the_reference(sim, method):
    result = sim.run(2000, seed=2, method=method, outputs=["a", "b", "c", "y"], keep_samples=True)
    checked = sim.compiled.checked
    again = evaluate(checked, {x: result.values(x) for x in "abc"}, 2000, ["y"])
    np.testing.assert_allclose(result.values("y"), again["y"], rtol=1e-12)


def test_mc_loading_its_own_uniforms_equals_drawing_them():
    """An input loaded under mc gets the uniform the kernel would draw (inverse-CDF models)."""
    m = Model("m")
    m.add("x", estimate=[1, 2, 4])
    m.add("y", kind="main", formula="x * 3")
    s = Simulator(m)
    drawn = s.run(5000, seed=8, outputs=["x"], keep_samples=True).values("x")
    loaded = InputSampler("mc", {"x": m["x"].body}, [], 8, 5000)
    np.testing.assert_array_equal(loaded.values(0, 5000, ids=["x"])[0], drawn)


def pert_inputs() -> Model:
    """PERT inputs and a risk event with a PERT consequence, two of them correlated."""
    m = Model("pert inverse")
    m.add("a", estimate=[1, 2, 6], model="pert")
    m.add("d", estimate=[-3, 0, 10], model="pert")
    m.add("r", estimate=[-2, 3, 9], model="risk_event", probability=0.4, consequence_model="pert")
    m.add("y", kind="main", formula="a + d * r")
    m.correlate("a", "r", 0.6)
    return m


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_kernel_pert_inverse_cdf_is_the_numpy_twins_bit_for_bit(method):
    """PERT's and a PERT consequence's inverse CDF in the kernel (lhs, sobol, correlated
    inputs) give exactly what the sampler's numpy twin makes of the same uniforms."""
    sim = Simulator(pert_inputs())
    n = 3000
    result = sim.run(n, seed=6, method=method, outputs=["a", "d", "r"], keep_samples=True)
    twin = sim._sampler(method, 6, n, {})
    inverted = ["a", "d", "r"] if method != "mc" else ["a", "r"]
    assert not twin.plan.values  # nothing is made in Python any more
    for x, values in zip(inverted, twin.values(0, n, ids=inverted), strict=True):
        np.testing.assert_array_equal(result.values(x), values)


# ------------------------------------------------------------------ correlations


def correlated(rho_ab: float, rho_bc: float | None = None) -> Model:
    m = three_inputs()
    m.correlate("a", "b", rho_ab)
    if rho_bc is not None:
        m.correlate("b", "c", rho_bc)
    return m


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
@pytest.mark.parametrize("rho", [-0.8, 0.3, 0.9])
def test_achieved_rank_correlation_matches_the_request(method, rho):
    """Spearman's rho from n samples has SE about 1.06·(1 - rho²)/sqrt(n - 3); 4 SE allowed."""
    n = 20_000
    result = Simulator(correlated(rho, 0.4)).run(n, seed=3, method=method)
    se = lambda r: 1.06 * (1 - r * r) / math.sqrt(n - 3)  # noqa: E731
    for c in result.correlations:
        assert abs(c["achieved"] - c["requested"]) < 4 * se(c["requested"]), c
    assert {(c["a"], c["b"]) for c in result.correlations} == {("a", "b"), ("b", "c")}


def test_correlations_keep_the_marginals():
    n = 50_000
    result = Simulator(correlated(0.8)).run(n, seed=1, outputs=["a", "b"], keep_samples=True)
    a, b = result.values("a"), result.values("b")
    assert scipy.stats.kstest(a, scipy.stats.beta(1.8, 4.2, loc=1, scale=5).cdf).pvalue > 1e-3
    assert scipy.stats.kstest(b, scipy.stats.triang(c=1 / 3, loc=1, scale=3).cdf).pvalue > 1e-3
    assert result.to_dict()["correlations"][0]["requested"] == 0.8


def test_a_pinned_input_drops_its_correlation():
    result = Simulator(correlated(0.8)).run(1000, overrides={"a": 2.0})
    assert result.correlations == ()


def test_correlations_round_trip_through_the_file():
    text = "correlations:\n  - [a, b, 0.5]\nnodes:\n  a: {estimate: [1, 2, 3]}\n" \
        "  b: {estimate: [1, 2, 3]}\n  y: {kind: main, formula: a + b}\n"
    model = loads(text)
    assert [c.pair for c in model.correlations] == [("a", "b", 0.5)]
    assert model.correlations[0].line == 2  # the entry's own line
    assert dump(model)["correlations"] == [["a", "b", 0.5]]
    assert [c.pair for c in loads(json.dumps(dump(model))).correlations] == [("a", "b", 0.5)]


@pytest.mark.parametrize(
    ("pairs", "code"),
    [
        ([("a", "zz", 0.5)], "correlation-node"),
        ([("a", "y", 0.5)], "correlation-input"),
        ([("a", "k", 0.5)], "correlation-input"),
        ([("a", "b", 1.5)], "correlation-range"),
        ([("a", "a", 0.5)], "correlation-pair"),
        ([("a", "b", 0.5), ("b", "a", 0.2)], "correlation-pair"),
        ([("a", "b", 0.9), ("b", "c", 0.9), ("a", "c", -0.9)], "correlation-matrix"),
    ],
)
def test_bad_correlations_are_errors(pairs, code):
    m = three_inputs()
    m.add("k", value=3)
    m.add("z", kind="main", formula="k")
    for a, b, rho in pairs:
        m.correlate(a, b, rho)
    codes = [d.code for d in check(m).errors]
    assert code in codes
    clean = three_inputs()
    clean.correlate("a", "b", 0.9)
    clean.correlate("b", "c", 0.9)
    clean.correlate("a", "c", 0.7)
    assert check(clean).ok


def test_inconsistent_correlations_name_their_pairs():
    bad = not_positive_semidefinite([("a", "b", 0.9), ("b", "c", 0.9), ("a", "c", -0.9),
                                     ("x", "y", 0.5)])
    assert {(a, b) for a, b, _ in bad} == {("a", "b"), ("b", "c"), ("a", "c")}


@settings(max_examples=300, deadline=None)
@given(
    rhos=st.lists(
        st.sampled_from([-1.0, -0.9, -0.5, 0.0, 0.3, 0.7, 0.9, 1.0]) | st.floats(-1.0, 1.0),
        min_size=1,
        max_size=15,
    ),
    data=st.data(),
)
def test_a_groups_verdict_is_numpys_eigenvalues_whether_or_not_numpy_is_asked(rhos, data):
    ids = "abcdef"
    pairs = []
    for rho in rhos:
        a, b = data.draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True))
        if not any({a, b} == {x, y} for x, y, _ in pairs):
            pairs.append((a, b, rho))
    bad = not_positive_semidefinite(pairs)
    for group in groups(pairs):
        members = sorted({x for a, b, _ in group for x in (a, b)})
        least = np.linalg.eigvalsh(normal_correlations(members, group))[0]
        assert (least < -1e-10) == all(pair in bad for pair in group)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.sampled_from("abcdefgh")), max_size=12))
def test_correlated_inputs_group_as_the_graphs_connected_components(edges):
    import networkx as nx

    pairs = [(a, b, 0.1 * k) for k, (a, b) in enumerate(edges)]
    component = {
        x: k
        for k, ids in enumerate(nx.connected_components(nx.Graph(edges)))
        for x in ids
    }
    expected: dict[int, list[tuple[str, str, float]]] = {}
    for pair in pairs:
        expected.setdefault(component[pair[0]], []).append(pair)
    assert groups(pairs) == list(expected.values())


def test_a_bad_correlations_entry_in_the_file_is_a_located_error(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text("nodes:\n  a: {estimate: [1, 2, 3]}\n  y: {kind: main, formula: a}\n"
                    "correlations:\n  - [a, 0.5]\n")
    assert cli.main(["check", str(path)]) == 1
    assert f"{path}:5: error bad-value: correlation 1 must be [node_a, node_b, rho]" in (
        capsys.readouterr().out
    )
    assert cli.main(["run", str(path)]) == 1


# ------------------------------------------------------------------ precision


def test_run_to_a_precision_stops_at_the_first_checkpoint_that_meets_it():
    """y ~ Normal(100, 10): relative SE 0.1/sqrt(n), so 0.05 % needs n ≈ 40,000."""
    m = Model("normal")
    m.add("y", kind="main", model="normal", mean=100, sd=10)
    s = Simulator(m)
    result = s.run(10**6, seed=6, precision=0.0005)
    full = s.run(result.samples * 2, seed=6, keep_samples=True).values("y")
    met = [
        k for k in (FIRST_CHECK * 2**j for j in range(10))
        if np.std(full[:k], ddof=1) / math.sqrt(k) <= 0.0005 * abs(np.mean(full[:k]))
    ]
    assert result.samples == met[0]
    assert 20_000 <= result.samples <= 80_000  # around the 40,000 it needs
    same = s.run(result.samples, seed=6)["y"]
    assert result["y"].mean == same.mean and result["y"].std == same.std


def test_precision_runs_to_the_cap_when_it_cannot_be_met():
    m = Model("m")
    m.add("x", estimate=[-1, 0, 1])
    m.add("y", kind="main", formula="x")
    assert Simulator(m).run(30_000, precision=0.001).samples == 30_000


def test_precision_with_latin_hypercube_is_refused(sim):
    with pytest.raises(RunError, match="Latin hypercube"):
        sim.run(1000, method="lhs", precision=0.01)
    with pytest.raises(RunError, match="precision"):
        sim.run(1000, precision=2.0)
    with pytest.raises(RunError, match="method"):
        sim.run(1000, method="halton")


# ------------------------------------------------------------------ given values


@settings(max_examples=25, deadline=None)
@given(models(), st.integers(0, 2**32))
def test_evaluate_with_given_inputs_equals_the_reference(model, seed):
    s = Simulator(model)
    checked = s.compiled.checked
    inputs = simulate(checked, 50, seed + 1, checked.order)
    drawing = [n for n in checked.order if model[n].is_uncertain]
    assume(drawing)
    given_values = {n: inputs[n] for n in drawing}
    outputs = list(checked.order)
    ours = s.evaluate(given_values, outputs, seed=seed)
    twin = evaluate(checked, given_values, 50, outputs)
    for node_id in outputs:
        np.testing.assert_allclose(ours[node_id], twin[node_id], rtol=1e-9, atol=1e-12,
                                   equal_nan=True, err_msg=node_id)


def test_evaluate_refuses_unknown_nodes_and_ragged_values(sim):
    with pytest.raises(RunError, match="names no node"):
        sim.evaluate({"nope": [1.0]})
    with pytest.raises(RunError, match="same length"):
        sim.evaluate({"a": [1.0, 2.0], "b": [1.0]})


# ------------------------------------------------------------------ command line


def test_run_command_takes_method_and_precision(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: corr\ncorrelations: [[a, b, 0.6]]\nnodes:\n"
        "  a: {estimate: [1, 2, 6], model: pert, source: s}\n"
        "  b: {estimate: [1, 2, 4], source: s}\n  y: {kind: main, formula: a + b}\n"
    )
    out = tmp_path / "r.json"
    code = cli.main(["run", str(path), "-n", "200000", "--method", "sobol",
                     "--precision", "0.5%", "--json", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["method"] == "sobol" and data["samples"] < 200_000
    pair = data["correlations"][0]
    assert (pair["a"], pair["b"], pair["requested"]) == ("a", "b", 0.6)
    assert abs(pair["achieved"] - 0.6) < 0.05  # SE about 1.06·0.64/sqrt(n) < 0.003
    text = capsys.readouterr().out
    assert "Precision 0.500%" in text and "Rank correlation a ~ b" in text
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", str(path), "--precision", "abc"])
    assert stop.value.code == 2
    assert "--precision takes a relative error like 0.5%" in capsys.readouterr().err
    assert cli.main(["run", str(path), "--method", "lhs", "--precision", "1%"]) == 1
    assert "Latin hypercube" in capsys.readouterr().err
