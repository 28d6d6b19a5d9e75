"""Monte Carlo standard errors and the quantile sketch of a node summary (issue 5).

The statistical tests repeat a small Monte Carlo experiment many times with
fixed seeds: the spread of an estimator over the repetitions is its true
standard error, which the reported standard error must match. The empirical
standard deviation of R roughly normal estimates has a relative standard error
of 1/sqrt(2(R-1)); the tolerance is four of those.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from assumption_graph.io import load, loads
from assumption_graph.results import PERCENTILES, SKETCH_LEVELS, level_key, summarise
from assumption_graph.run import Simulator

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "business_case.yaml"

REPETITIONS = 1000
DRAWS = 2000
TOLERANCE = 4 / math.sqrt(2 * (REPETITIONS - 1))  # four relative SEs of an empirical std

DISTRIBUTIONS = {
    "normal": lambda rng: rng.normal(10.0, 3.0, size=DRAWS),
    "exponential": lambda rng: rng.exponential(2.0, size=DRAWS),  # skewed
}


@pytest.fixture(scope="module", params=sorted(DISTRIBUTIONS))
def repeated(request):
    """Summaries of REPETITIONS independent samples of one distribution (seeds 0..R-1)."""
    draw = DISTRIBUTIONS[request.param]
    return [summarise(draw(np.random.default_rng(seed)), {}) for seed in range(REPETITIONS)]


# ---------------------------------------------------------------------------- standard errors


def test_mean_se_matches_the_spread_of_means(repeated):
    means = np.array([s.mean for s in repeated])
    reported = np.mean([s.mean_se for s in repeated])
    assert np.std(means, ddof=1) / reported == pytest.approx(1.0, abs=TOLERANCE)


@pytest.mark.parametrize("level", PERCENTILES)
def test_percentile_se_matches_the_spread_of_percentiles(repeated, level):
    estimates = np.array([s.percentiles[level] for s in repeated])
    reported = np.mean([s.percentiles_se[level] for s in repeated])
    assert np.std(estimates, ddof=1) / reported == pytest.approx(1.0, abs=TOLERANCE)


@pytest.mark.parametrize("level", PERCENTILES)
def test_percentile_se_matches_the_normal_theory(level):
    """For N(0, 1): SE of the p-quantile = sqrt(p(1-p)/n) / density at the quantile."""
    p = level / 100
    normal = NormalDist()
    theory = math.sqrt(p * (1 - p) / DRAWS) / normal.pdf(normal.inv_cdf(p))
    reported = np.mean(
        [
            summarise(np.random.default_rng(seed).normal(size=DRAWS), {}).percentiles_se[level]
            for seed in range(200)
        ]
    )
    # the average of 200 reported SEs: each within about 25 % (>= 20 ranks apart)
    assert reported / theory == pytest.approx(1.0, abs=4 * 0.25 / math.sqrt(200) + 0.02)


def test_mean_se_is_std_over_root_n():
    values = np.random.default_rng(5).normal(size=1000)
    summary = summarise(values, {})
    assert summary.mean_se == pytest.approx(np.std(values, ddof=1) / math.sqrt(1000), rel=1e-12)


def test_se_shrinks_with_more_samples():
    rng = np.random.default_rng(11)
    small, large = summarise(rng.normal(size=1000), {}), summarise(rng.normal(size=100_000), {})
    assert large.mean_se < small.mean_se / 5
    for level in PERCENTILES:
        assert large.percentiles_se[level] < small.percentiles_se[level] / 5


def test_constant_samples_have_zero_se():
    summary = summarise(np.full(50, 7.0), {})
    assert summary.mean_se == 0.0
    assert set(summary.percentiles_se.values()) == {0.0}


@pytest.mark.parametrize(
    "samples", [np.array([]), np.array([3.0]), np.array([np.inf, 4.0, np.nan])], ids=str
)
def test_se_is_none_below_two_finite_samples(samples):
    summary = summarise(samples, {})
    assert summary.mean_se is None
    assert list(summary.percentiles_se) == list(PERCENTILES)
    assert all(v is None for v in summary.percentiles_se.values())


def test_non_finite_samples_are_left_out_of_the_se():
    values = np.random.default_rng(2).normal(size=500)
    with_bad = np.concatenate([values, [np.inf, -np.inf, np.nan]])
    assert summarise(with_bad, {}).percentiles_se == summarise(values, {}).percentiles_se
    assert summarise(with_bad, {}).mean_se == summarise(values, {}).mean_se


# ---------------------------------------------------------------------------- one sort for all


finite_arrays = hnp.arrays(
    np.float64,
    st.integers(1, 300),
    elements=st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False, width=64),
        st.sampled_from([0.0, 1.0, 2.5]),  # ties
    ),
)


@given(finite_arrays)
def test_percentiles_are_numpys_bit_for_bit(values):
    summary = summarise(values, {})
    expected = np.percentile(values, PERCENTILES)
    assert [summary.percentiles[p] for p in PERCENTILES] == expected.tolist()


@given(finite_arrays)
def test_quantile_sketch_is_numpys_percentiles_on_the_grid(values):
    summary = summarise(values, {})
    assert len(summary.quantiles) == len(SKETCH_LEVELS) == 201
    assert list(summary.quantiles) == np.percentile(values, SKETCH_LEVELS).tolist()
    assert summary.quantiles[0] == summary.min and summary.quantiles[-1] == summary.max
    assert list(summary.quantiles) == sorted(summary.quantiles)


@given(finite_arrays)
def test_percentile_se_is_finite_and_not_negative(values):
    summary = summarise(values, {})
    for level, se in summary.percentiles_se.items():
        if values.size < 2:
            assert se is None
        else:
            assert se is not None and se >= 0, level


def test_sketch_is_empty_without_finite_samples():
    assert summarise(np.array([np.nan, np.inf]), {}).quantiles == ()


def test_sketch_is_not_part_of_equality_or_repr():
    summary = summarise(np.arange(10.0), {})
    assert "quantiles" not in repr(summary)
    assert "quantiles" not in summary.as_dict()


# ---------------------------------------------------------------------------- JSON


def test_json_carries_the_se_beside_mean_and_percentiles():
    data = summarise(np.random.default_rng(0).normal(size=100), {}).as_dict()
    keys = list(data)
    assert keys.index("mean_se") == keys.index("mean") + 1
    assert keys.index("percentiles_se") == keys.index("percentiles") + 1
    assert set(data["percentiles_se"]) == {level_key(p) for p in PERCENTILES}


def _floats(value: object) -> list[float]:
    """Every float in a JSON-like value, however deeply nested."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in _floats(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _floats(v)]
    return [value] if isinstance(value, float) else []


def test_json_never_carries_nan():
    """Undefined figures are None: no finite sample, a single sample, a std past float64."""
    huge = np.array([1e308, -1e308, 1e308, np.inf])
    ends = np.array([-sys.float_info.max, sys.float_info.max])
    for samples in (huge, ends, np.array([np.nan]), np.array([1.0])):
        data = summarise(samples, {}).as_dict()
        assert all(math.isfinite(x) for x in _floats(data)), data
        json.dumps(data, allow_nan=False)  # raises on NaN or infinity
    for samples in (np.array([np.nan]), np.array([1.0])):
        data = summarise(samples, {}).as_dict()
        assert data["std"] is None and data["mean_se"] is None
    # finite samples whose sums overflow still have a mean and std: sqrt(4/3)·1e308 here
    assert summarise(huge, {}).std == pytest.approx(math.sqrt(4 / 3) * 1e308, rel=1e-12)
    # the std of the two ends is sqrt(2)·1.8e308, past float64: None; its mean_se is not
    assert summarise(ends, {}).std is None
    assert summarise(ends, {}).mean_se == pytest.approx(sys.float_info.max, rel=1e-12)
    for samples in (np.array([np.nan]), np.array([1.0])):  # fewer than 2 finite samples
        assert all(v is None for v in summarise(samples, {}).as_dict()["percentiles_se"].values())
    assert summarise(huge, {}).as_dict()["nonfinite"] == 1
    assert summarise(np.array([np.nan]), {}).as_dict()["mean"] is None


@pytest.fixture(scope="module")
def case_run():
    return Simulator(load(EXAMPLE)).run(4000, 2, keep_samples=True)


def test_key_figures_carry_their_se(case_run):
    npv = case_run.business_case["npv"]
    samples = case_run.values("@npv")
    assert npv.mean_se == pytest.approx(np.std(samples, ddof=1) / math.sqrt(samples.size))
    assert set(npv.percentiles_se) == set(PERCENTILES)
    assert all(v is not None and v > 0 for v in npv.percentiles_se.values())
    assert list(npv.quantiles) == np.percentile(samples, SKETCH_LEVELS).tolist()


def test_run_json_has_the_se_for_every_node_and_key_figure(case_run):
    data = json.loads(json.dumps(case_run.to_dict(), allow_nan=False))
    for node_id, node in data["nodes"].items():
        assert set(node["percentiles_se"]) == set(node["percentiles"]), node_id
        assert node["mean_se"] is None or node["mean_se"] >= 0, node_id
    for name, figure in data["business_case"]["key_figures"].items():
        assert {"mean_se", "percentiles_se"} <= set(figure), name
        assert set(figure["percentiles_se"]) == set(figure["percentiles"]), name


# ---------------------------------------------------------------------------- at an atom's edge

RISK_MODEL = """
name: Risk at the edge
nodes:
  delay:
    model: risk_event
    probability: 0.25
    estimate: [100, 150, 300]
    source: test
  result:
    kind: main
    formula: 50 - delay
"""
SEEDS = 40
SPREAD_TOLERANCE = 3 / math.sqrt(2 * (SEEDS - 1))  # three relative SEs of an empirical std


@pytest.fixture(scope="module")
def edge_runs():
    """P25 of ``result`` sits on the edge of its atom at 50 (the risk misses, p = 0.75)."""
    simulator = Simulator(loads(RISK_MODEL))
    return [simulator.run(n=4000, seed=seed)["result"] for seed in range(SEEDS)]


def test_percentile_se_at_an_atoms_edge_covers_the_spread_between_seeds(edge_runs):
    estimates = np.array([s.percentiles[25.0] for s in edge_runs])
    reported = np.array([s.percentiles_se[25.0] for s in edge_runs])
    assert estimates.max() == 50.0 and estimates.min() < -40.0  # it jumps across the gap
    spread = np.std(estimates, ddof=1)
    # every seed's SE covers the spread (the binomial span alone said a few units)
    assert reported.min() >= spread * (1 - SPREAD_TOLERANCE)
    # and stays of the jump's size: half the gap plus the tail's own SE at most
    assert reported.max() <= (estimates.max() - estimates.min()) / 2 * (1 + SPREAD_TOLERANCE)


def test_percentile_se_away_from_the_atom_is_the_binomial_span(edge_runs):
    """P10 (inside the risk's consequence) and P50 (inside the atom) keep their SEs."""
    inside = [s.percentiles_se[50.0] for s in edge_runs]
    assert set(inside) == {0.0}  # P50 is 50 in every run, and says so
    estimates = np.array([s.percentiles[10.0] for s in edge_runs])
    reported = np.mean([s.percentiles_se[10.0] for s in edge_runs])
    assert np.std(estimates, ddof=1) / reported == pytest.approx(1.0, abs=SPREAD_TOLERANCE)


def test_discrete_percentile_on_a_step_has_the_steps_se():
    # 10, 20, 30 with probabilities 0.2, 0.6, 0.2: P80 is on the step from 20 to 30.
    values = np.repeat([10.0, 20.0, 30.0], [2000, 6000, 2000])
    summary = summarise(values, {})
    assert summary.percentiles_se[80.0] == 5.0
    assert summary.percentiles_se[50.0] == 0.0
