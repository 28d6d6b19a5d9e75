"""The input models of issue 5: metalog from percentiles, risk events, k-valued
discrete and uniform, and normal / lognormal read at other percentiles.

Readings by hand; samplers against closed forms and scipy with fixed streams and
standard-error tolerances; numpy twins against the numba-compiled scalars; the
kernel against the reference interpreter; Latin hypercube through the quantile
functions; the file format (keys, errors, round trip) and the diagram labels.
"""

from __future__ import annotations

import math
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph import cli
from assumption_graph import distributions as dist
from assumption_graph.compile.reference import simulate
from assumption_graph.distributions import (
    METALOG_SHAPE_BOUND,
    DiscreteValues,
    LogNormal,
    Metalog,
    Normal,
    RiskEvent,
    Trigen,
    UniformValues,
    from_estimate,
    trigen_bounds,
)
from assumption_graph.distributions.registry import jit_scalars
from assumption_graph.distributions.risk_mixture import _TRIANGLE_SHAPE, _share_below_zero
from assumption_graph.errors import ModelError
from assumption_graph.io import dump, load, read_model_text, save
from assumption_graph.model import Model
from assumption_graph.render import diagram
from assumption_graph.run import Simulator
from assumption_graph.sampling import lhs_uniforms
from assumption_graph.streams import stream_key, uniform_array
from assumption_graph.validate import check

N = 100_000
SAMPLES = np.arange(N, dtype=np.uint64)


def draw(model: dist.Distribution, node_id: str = "x", seed: int = 2024) -> np.ndarray:
    return model.sample_array(stream_key(seed, node_id), SAMPLES)


def within(estimate: float, truth: float, se: float, k: float = 5.0) -> bool:
    """``estimate`` is within ``k`` standard errors of ``truth``."""
    return abs(estimate - truth) < k * se


def ks_ok(x: np.ndarray, cdf) -> bool:  # noqa: ANN001 - any vectorised CDF
    return scipy.stats.kstest(x, cdf).pvalue > 1e-3


def metalog_q(model: Metalog, y: np.ndarray) -> np.ndarray:
    """The metalog's quantile function written out from its coefficients (the oracle)."""
    a1, a2, a3 = model.coefficients
    logit = np.log(y / (1.0 - y))
    return a1 + a2 * logit + a3 * (y - 0.5) * logit


def metalog_density_scale(model: Metalog, y: float) -> float:
    """dQ/dy at y: the sample quantile's standard error is sqrt(y(1-y)/n)·Q'(y)."""
    _, a2, a3 = model.coefficients
    return a2 / (y * (1 - y)) + a3 * ((y - 0.5) / (y * (1 - y)) + math.log(y / (1 - y)))


# ------------------------------------------------------------------ readings


def test_metalog_readings_and_coefficients() -> None:
    m = Metalog(80, 100, 150)
    assert (m.low, m.mid, m.high) == (80.0, 100.0, 150.0)
    assert m.percentiles == (10.0, 50.0, 90.0)
    a1, a2, a3 = m.coefficients
    c = math.log(9)
    assert a1 == 100 and a2 == pytest.approx(70 / (2 * c)) and a3 == pytest.approx(30 / (0.8 * c))
    assert m.weighted == m.mean == pytest.approx(a1 + a3 / 2)
    assert m.problems() == []
    assert Metalog(5, 5, 5).problems() == []  # three equal percentiles: a constant


def test_risk_event_readings() -> None:
    r = RiskEvent(0.3, (100, 200, 600))
    assert (r.low, r.mid, r.high) == (0.0, 0.0, 600.0)  # does not happen / happens at its worst
    assert r.weighted == pytest.approx(0.3 * (0.2 * 100 + 0.6 * 200 + 0.2 * 600))
    assert r.mean == pytest.approx(0.3 * 900 / 3)
    likely = RiskEvent(0.5, (100, 200, 600), "pert")
    assert likely.mid == 200.0  # p >= 0.5: the consequence's mid
    assert likely.weighted == likely.mean == pytest.approx(0.5 * (100 + 800 + 600) / 6)
    uniform = RiskEvent(0.2, (10, 12, 30), "uniform")
    assert uniform.weighted == uniform.mean == pytest.approx(0.2 * 20)
    saving = RiskEvent(0.4, (-50, -20, -10))  # an opportunity: the ends are -50 and 0
    assert (saving.low, saving.mid, saving.high) == (-50.0, 0.0, 0.0)
    assert r.problems() == [] and saving.problems() == []


def test_value_tables_readings() -> None:
    d = DiscreteValues((10, 0, 50, 20), (0.3, 0.4, 0.1, 0.2))
    assert (d.low, d.mid, d.high) == (0.0, 10.0, 50.0)  # median: 0 has 0.4, 10 brings it to 0.7
    assert d.weighted == d.mean == pytest.approx(3 + 0 + 5 + 4)
    assert d.sampler_table == pytest.approx((0.4, 0.7, 0.9, 1.0, 0, 10, 20, 50))
    u = UniformValues((4, 1, 3, 2))
    assert (u.low, u.mid, u.high, u.weighted) == (1.0, 2.0, 4.0, 2.5)
    assert u.probabilities == (0.25,) * 4
    assert u.sampler_table == (0.25, 0.5, 0.75, 1.0, 1.0, 2.0, 3.0, 4.0)
    assert DiscreteValues((7,), (1,)).mid == 7.0
    assert d.problems() == [] and u.problems() == []


def test_normal_and_lognormal_read_at_other_percentiles() -> None:
    z90 = scipy.stats.norm.ppf(0.9)
    n = Normal.from_estimate(80, 100, 120, percentiles=(10, 50, 90))
    assert n.sd == pytest.approx(20 / z90) and (n.low, n.high) == pytest.approx((80, 120))
    assert scipy.stats.norm(n.mean, n.sd).ppf([0.1, 0.9]) == pytest.approx([80, 120])
    x = LogNormal.from_estimate(50, 100, 200, percentiles=(10, 50, 90))
    assert (x.low, x.mid, x.high) == pytest.approx((50, 100, 200))
    assert x.sigma == pytest.approx(math.log(4) / (2 * z90))
    default = Normal.from_estimate(80, 100, 120)
    assert default == Normal(100, 20 / dist.Z95) and default.low == pytest.approx(80)
    assert from_estimate("metalog", 1, 2, 3, percentiles=[5, 50, 95]).percentiles == (5, 50, 95)
    for bad in ([10, 50, 95], [10, 40, 90], [0, 50, 100], [50, 50, 50], [10, 90]):
        with pytest.raises(ModelError, match="percentiles"):
            Normal.from_estimate(1, 2, 3, percentiles=bad)


def test_estimates_of_normal_and_lognormal_must_be_ordered() -> None:
    codes = [c for c, _ in Normal.from_estimate(120, 100, 80).problems()]
    assert codes == ["estimate-order"]
    codes = [c for c, _ in LogNormal.from_estimate(50, 300, 200).problems()]
    assert codes == ["estimate-order"]
    assert Normal(0, -1).problems()[0][0] == "scale"  # given by its parameters: no estimate


# ------------------------------------------------------------------ problems and factories


def test_metalog_shape_bound_is_keelins() -> None:
    y = np.linspace(0.5, 1 - 1e-9, 2_000_001)
    g = (y - 0.5) + y * (1 - y) * np.log(y / (1 - y))
    assert METALOG_SHAPE_BOUND == pytest.approx(1 / g.max(), rel=1e-9)


@pytest.mark.parametrize("levels", [(10, 50, 90), (5, 50, 95), (25, 50, 75)])
def test_metalog_feasibility_flips_at_the_bound(levels: tuple[float, float, float]) -> None:
    low, high = 100.0, 300.0
    w = 0.5 - levels[0] / 100
    edge = low + (high - low) * (1 - METALOG_SHAPE_BOUND * w) / 2  # P50 where |a3|/a2 = bound
    inside, outside = (
        Metalog(low, edge + 0.05, high, levels),
        Metalog(low, edge - 0.05, high, levels),
    )
    assert inside.problems() == []
    y = np.linspace(1e-7, 1 - 1e-7, 400_001)
    assert np.all(np.diff(metalog_q(inside, y)) > 0)  # feasible: Q increases
    assert np.any(np.diff(metalog_q(outside, y)) < 0)  # infeasible: Q turns back
    [(code, message)] = outside.problems()
    assert code == "metalog-infeasible"
    assert f"too close to P{levels[0]:g}" in message and "lognormal" in message
    mirrored = Metalog(low, high + low - edge + 0.05, high, levels)  # near the high end
    [(code, message)] = mirrored.problems()
    assert code == "metalog-infeasible" and f"too close to P{levels[2]:g}" in message


def test_problems_of_the_new_models() -> None:
    def codes(model: dist.Distribution) -> list[str]:
        return [c for c, _ in model.problems()]

    assert codes(Metalog(3, 2, 1)) == ["estimate-order"]
    assert codes(Metalog(1, 1, 3)) == ["metalog-infeasible"]  # P50 at P10
    assert codes(RiskEvent(1.2, (1, 2, 3))) == ["probability-range"]
    assert codes(RiskEvent(-0.1, (3, 2, 1))) == ["estimate-order", "probability-range"]
    assert codes(RiskEvent(math.nan, (1, 2, 3))) == ["nonfinite"]
    assert codes(DiscreteValues((1, 2, 3, 4), (0.5, 0.5))) == ["probabilities-count"]
    assert (
        "expected 4 probabilities (one per value), got 2"
        in (DiscreteValues((1, 2, 3, 4), (0.5, 0.5)).problems()[0][1])
    )
    assert codes(DiscreteValues((1, 2), (0.7, 0.7))) == ["probability-sum"]
    assert codes(DiscreteValues((1, 2), (1.5, -0.5))) == ["probability-range"] * 2
    assert "value 2" in DiscreteValues((1, 2), (1.5, -0.5)).problems()[1][1]
    assert codes(UniformValues((1, math.inf))) == ["nonfinite"]
    with pytest.raises(ModelError, match="at least one"):
        UniformValues(())
    with pytest.raises(ModelError, match="consequence model"):
        RiskEvent(0.5, (1, 2, 3), "beta")


def test_factories_are_strict() -> None:
    assert dist.metalog(1, 2, 3) == Metalog(1, 2, 3)
    assert dist.risk_event(0.1, 1, 2, 3, "pert") == RiskEvent(0.1, (1, 2, 3), "pert")
    assert dist.discrete_values([1, 2], [0.5, 0.5]) == DiscreteValues((1, 2), (0.5, 0.5))
    assert dist.uniform_values([1, 2]) == UniformValues((1, 2))
    for bad in (
        lambda: dist.metalog(80, 81, 150),
        lambda: dist.risk_event(1.5, 1, 2, 3),
        lambda: dist.discrete_values([1, 2, 3], [0.5, 0.5]),
    ):
        with pytest.raises(ModelError):
            bad()


# ------------------------------------------------------------------ numpy twins == compiled

J = jit_scalars(numba.njit)
_metalog, _table, _risk = J["metalog_from_u"], J["table_from_u"], J["risk_event_sample"]
_uniform = J["uniform"]


@numba.njit
def _metalog_loop(stream, samples, a1, a2, a3):  # noqa: ANN001, ANN202
    out = np.empty(samples.size)
    for i in range(samples.size):
        out[i] = _metalog(_uniform(stream, samples[i], np.uint64(0)), a1, a2, a3)
    return out


@numba.njit
def _table_loop(stream, samples, table, count):  # noqa: ANN001, ANN202
    out = np.empty(samples.size)
    for i in range(samples.size):
        out[i] = _table(_uniform(stream, samples[i], np.uint64(0)), table, 0, count)
    return out


@numba.njit
def _risk_loop(stream, samples, p, shape, low, mid, high):  # noqa: ANN001, ANN202
    out = np.empty(samples.size)
    for i in range(samples.size):
        out[i] = _risk(stream, samples[i], p, shape, low, mid, high)
    return out


def compiled_samples(model: dist.Distribution, stream: int, samples: np.ndarray) -> np.ndarray:
    """Draw ``model`` with its numba-compiled scalar sampler, called as the kernel calls it."""
    s = np.uint64(stream)
    if isinstance(model, Metalog):
        return _metalog_loop(s, samples, *model.sampler_args)
    if isinstance(model, RiskEvent):
        return _risk_loop(s, samples, *model.sampler_args)
    table = np.array(model.sampler_table)
    return _table_loop(s, samples, table, len(table) // 2)


TWIN_CASES = [
    Metalog(80, 100, 150),
    Metalog(-5, 0, 4, (5, 50, 95)),
    Metalog(7, 7, 7),
    RiskEvent(0.3, (10, 20, 50)),
    RiskEvent(0.3, (10, 20, 50), "uniform"),
    RiskEvent(0.3, (10, 20, 50), "pert"),
    RiskEvent(0.6, (-40, -10, 30)),
    RiskEvent(0.6, (-40, 10, 30), "uniform"),
    RiskEvent(0.6, (-40, -10, 30), "pert"),
    RiskEvent(1.0, (1, 2, 3)),
    RiskEvent(0.0, (1, 2, 3)),
    DiscreteValues((5, 1, 3, 10), (0.1, 0.2, 0.3, 0.4)),
    DiscreteValues((2,), (1,)),
    DiscreteValues((1, 2, 3), (0, 1, 0)),
    UniformValues(tuple(range(37))),
]


@pytest.mark.parametrize("model", TWIN_CASES, ids=repr)
def test_numpy_twin_equals_compiled_scalar(model: dist.Distribution) -> None:
    samples = np.arange(20_000, dtype=np.uint64) * np.uint64(7919) + np.uint64(2**62)
    stream = stream_key(11, "twin")
    twin = model.sample_array(stream, samples)
    compiled = compiled_samples(model, stream, samples)
    assert twin.dtype == np.float64 and np.isfinite(twin).all()
    np.testing.assert_allclose(twin, compiled, rtol=1e-14, atol=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=12),
    st.lists(st.floats(-1e6, 1e6), min_size=12, max_size=12),
    st.floats(0, 1, exclude_max=True),
)
def test_table_binary_search_is_the_inverse_cdf(
    weights: list[float], values: list[float], u: float
) -> None:
    k = len(weights)
    total = sum(weights)
    probabilities = [w / total for w in weights] if total > 0 else [1 / k] * k
    model = DiscreteValues(tuple(values[:k]), tuple(probabilities))
    table = np.array(model.sampler_table)
    got = dist.table_from_u(u, table, 0, k)  # the plain-Python scalar
    # the oracle: a linear scan for the first cumulative probability above u
    cumulative, ordered = table[: k - 1], table[k:]
    index = next((j for j, c in enumerate(cumulative) if u < c), k - 1)
    assert got == ordered[index] == dist.table_from_u_array(np.array([u]), table, 0, k)[0]


def test_inverse_cdfs_never_decrease() -> None:
    u = np.linspace(1e-9, 1 - 1e-9, 100_001)
    for model in TWIN_CASES:
        assert np.all(np.diff(model.quantile(u)) >= 0), model


def test_draws_are_the_quantile_of_the_stream_except_pert_consequences() -> None:
    stream = stream_key(3, "q")
    u = uniform_array(stream, SAMPLES[:5000], 0)
    for model in TWIN_CASES:
        if isinstance(model, RiskEvent) and model.consequence_model == "pert":
            continue
        assert np.array_equal(model.sample_array(stream, SAMPLES[:5000]), model.quantile(u))


# ------------------------------------------------------------------ statistics


@pytest.mark.parametrize("model", [Metalog(80, 100, 150), Metalog(-3, 1, 2, (5, 50, 95))])
def test_metalog_goes_through_its_percentiles_and_its_mean_is_closed_form(model: Metalog) -> None:
    q_low, _, q_high = (p / 100 for p in model.percentiles)
    np.testing.assert_allclose(
        model.quantile(np.array([q_low, 0.5, q_high])),
        [model.low, model.mid, model.high],
        rtol=1e-12,
    )
    mean, _ = scipy.integrate.quad(lambda y: metalog_q(model, np.array(y)), 0, 1, limit=200)
    second, _ = scipy.integrate.quad(lambda y: metalog_q(model, np.array(y)) ** 2, 0, 1, limit=200)
    assert model.mean == pytest.approx(mean, rel=1e-7, abs=1e-9)
    x = draw(model)
    sd = math.sqrt(second - mean**2)
    assert within(x.mean(), model.mean, sd / math.sqrt(N))
    for q, value in zip((q_low, 0.5, q_high), (model.low, model.mid, model.high), strict=True):
        se = math.sqrt(q * (1 - q) / N) * metalog_density_scale(model, q)
        assert within(np.quantile(x, q), value, se)
    grid = np.linspace(1e-10, 1 - 1e-10, 200_001)  # its CDF, by inverting Q on a fine grid
    assert ks_ok(x, lambda v: np.interp(v, metalog_q(model, grid), grid))


@pytest.mark.parametrize(
    "model, consequence",
    [
        (RiskEvent(0.3, (10, 20, 50)), scipy.stats.triang(c=0.25, loc=10, scale=40)),
        (RiskEvent(0.05, (10, 20, 50), "uniform"), scipy.stats.uniform(10, 40)),
        (RiskEvent(0.7, (10, 20, 50), "pert"), scipy.stats.beta(1 + 4 / 4, 1 + 12 / 4, 10, 40)),
    ],
    ids=["triangle", "uniform", "pert"],
)
def test_risk_event_happens_with_p_then_draws_the_consequence(
    model: RiskEvent, consequence: scipy.stats.rv_continuous
) -> None:
    for x in (draw(model), model.quantile(uniform_array(stream_key(5, "r"), SAMPLES, 0))):
        p = model.probability
        zeros = np.mean(x == 0.0)
        assert within(zeros, 1 - p, math.sqrt(p * (1 - p) / N), k=4)
        assert ks_ok(x[x != 0.0], consequence.cdf)
        second = consequence.var() + consequence.mean() ** 2
        sd = math.sqrt(p * second - (p * consequence.mean()) ** 2)
        assert within(x.mean(), model.mean, sd / math.sqrt(N))
        assert model.mean == pytest.approx(p * consequence.mean())


def test_risk_event_with_a_consequence_either_side_of_zero() -> None:
    model = RiskEvent(0.6, (-40, -10, 30))  # F(0) of the consequence: 1 - 30²/(70·40)
    consequence = scipy.stats.triang(c=30 / 70, loc=-40, scale=70)
    below = consequence.cdf(0.0)
    u = uniform_array(stream_key(8, "r"), SAMPLES, 0)
    x = model.quantile(u)
    assert np.all(x[u < 0.6 * below] < 0) and np.all(x[u > 0.6 * below + 0.4] > 0)
    assert within(np.mean(x == 0.0), 0.4, math.sqrt(0.24 / N), k=4)
    assert ks_ok(x[x != 0.0], consequence.cdf)
    pert = RiskEvent(0.6, (-40, -10, 30), "pert")
    y = pert.quantile(u)
    assert within(np.mean(y == 0.0), 0.4, math.sqrt(0.24 / N), k=4)
    assert ks_ok(y[y != 0.0], scipy.stats.beta(1 + 120 / 70, 1 + 160 / 70, -40, 70).cdf)


@pytest.mark.parametrize(
    "model",
    [
        DiscreteValues((5, 1, 3, 10, 7), (0.1, 0.2, 0.3, 0.35, 0.05)),
        UniformValues((6, 5, 4, 3, 2, 1)),
    ],
    ids=["discrete", "uniform"],
)
def test_value_frequencies(model: DiscreteValues | UniformValues) -> None:
    x = draw(model)
    assert set(np.unique(x)) <= set(model.values)
    for value, p in zip(model.values, model.probabilities, strict=True):
        assert within(np.mean(x == value), p, math.sqrt(p * (1 - p) / N), k=4), value
    sd = math.sqrt(
        sum(
            p * (v - model.mean) ** 2
            for v, p in zip(model.values, model.probabilities, strict=True)
        )
    )
    assert within(x.mean(), model.mean, sd / math.sqrt(N))


# ------------------------------------------------------------------ model files


MODEL = """\
name: New inputs
nodes:
  growth:
    model: metalog
    estimate: [80, 100, 150]
    source: Workshop 2025-01
  delay:
    model: risk_event
    probability: 0.3
    estimate: [100, 200, 500]
    source: Risk workshop
  strike:
    model: risk_event
    probability: 0.1
    estimate: [50, 80, 200]
    consequence_model: pert
    source: Risk workshop
  offers:
    model: discrete
    values: [400, 250, 300, 350]
    probabilities: [0.1, 0.2, 0.3, 0.4]
    source: Market survey
  die:
    values: [1, 2, 3, 4, 5, 6]
    source: A die
  demand:
    model: normal
    estimate: [900, 1000, 1100]
    percentiles: [10, 50, 90]
    source: Forecast
  price:
    model: lognormal
    estimate: [0.5, 1, 2]
    percentiles: [10, 50, 90]
    source: Forecast
  staff:
    situation:
      without: {values: [3, 4, 5]}
      with: {model: risk_event, probability: 0.5, estimate: [1, 2, 3]}
    source: HR
  cost:
    kind: main
    formula: growth + delay + strike + offers + die + demand * price + staff
"""


@pytest.fixture(scope="module")
def new_model() -> Model:
    model, problems = read_model_text(MODEL, file="new.yaml")
    assert problems == []
    return model


@pytest.fixture(scope="module")
def sim(new_model: Model) -> Simulator:
    return Simulator(new_model)


def test_the_file_reads_into_the_new_models(new_model: Model) -> None:
    bodies = {node.id: node.body for node in new_model}
    assert bodies["growth"] == Metalog(80, 100, 150)
    assert bodies["delay"] == RiskEvent(0.3, (100, 200, 500))
    assert bodies["strike"] == RiskEvent(0.1, (50, 80, 200), "pert")
    assert bodies["offers"] == DiscreteValues((400, 250, 300, 350), (0.1, 0.2, 0.3, 0.4))
    assert bodies["die"] == UniformValues((1, 2, 3, 4, 5, 6))
    assert bodies["demand"] == Normal.from_estimate(900, 1000, 1100, (10, 50, 90))
    assert bodies["price"] == LogNormal.from_estimate(0.5, 1, 2, (10, 50, 90))
    assert all(new_model[n].kind == "uncertain" for n in bodies if n != "cost")
    assert check(new_model).ok


def test_kernel_equals_reference(sim: Simulator) -> None:
    result = sim.run(20_000, 7, outputs="all", keep_samples=True)
    checked = sim.compiled.checked
    twin = simulate(checked, 20_000, 7, checked.order)
    for node_id in checked.order:
        np.testing.assert_allclose(
            result.values(node_id), twin[node_id], rtol=1e-13, atol=0, err_msg=node_id
        )
    assert "table(1, 2, 3, 4, 5, 6 | cumulative" in sim.source
    assert "metalog(100, " in sim.source and "risk_event(0.1, 2, 50, 80, 200)" in sim.source


def test_deterministic_figures_use_the_readings(sim: Simulator) -> None:
    figures = sim.run(1000, 1, outputs=["delay", "offers", "growth"])
    delay, offers, growth = figures["delay"], figures["offers"], figures["growth"]
    assert (delay.expected, delay.best, delay.worst) == (0.0, 0.0, 500.0)
    assert delay.weighted == pytest.approx(0.3 * (20 + 120 + 100))
    assert (offers.expected, offers.best, offers.worst) == (300.0, 250.0, 400.0)
    assert offers.weighted == pytest.approx(40 + 50 + 90 + 140)
    assert (growth.expected, growth.best, growth.worst) == (100.0, 80.0, 150.0)
    assert growth.weighted == pytest.approx(Metalog(80, 100, 150).mean)


@pytest.mark.parametrize("node_id", ["growth", "delay", "strike", "offers", "die", "demand"])
def test_latin_hypercube_draws_through_the_quantile(sim: Simulator, node_id: str) -> None:
    n, seed = 4099, 13
    result = sim.run(n, seed, method="lhs", outputs=[node_id], keep_samples=True)
    u = lhs_uniforms(seed, node_id, n, np.arange(n, dtype=np.uint64))
    model = sim.compiled.checked.model[node_id].body
    np.testing.assert_array_equal(result.values(node_id), model.quantile(u))


def test_latin_hypercube_stratifies_events_and_values(sim: Simulator) -> None:
    n = 10_000
    result = sim.run(n, 3, method="lhs", outputs=["delay", "offers"], keep_samples=True)
    assert abs(np.sum(result.values("delay") == 0.0) - 0.7 * n) <= 1  # one sample per stratum
    counts = {v: np.sum(result.values("offers") == v) for v in (250, 300, 350, 400)}
    assert all(abs(counts[v] - p * n) <= 1 for v, p in ((250, 0.2), (300, 0.3), (350, 0.4)))
    sobol = sim.run(4096, 3, method="sobol", outputs=["delay"], keep_samples=True)
    assert abs(np.sum(sobol.values("delay") == 0.0) - 0.7 * 4096) <= 2


def test_round_trip_through_a_file(new_model: Model, tmp_path: Path) -> None:
    for suffix in (".yaml", ".json"):
        path = tmp_path / f"model{suffix}"
        save(new_model, path)
        again = load(path)
        assert list(again) == list(new_model)
        assert dump(again) == dump(new_model)
    keys = dump(new_model)["nodes"]
    assert keys["strike"]["consequence_model"] == "pert"
    assert keys["die"] == {"source": "A die", "model": "uniform", "values": [1, 2, 3, 4, 5, 6]}
    assert keys["demand"]["percentiles"] == [10.0, 50.0, 90.0]
    assert "percentiles" not in keys["growth"]  # the metalog's default


def test_the_diagram_shows_the_new_estimates(new_model: Model) -> None:
    source = diagram(new_model, show="estimates").source
    assert "80 / 100 / 150" in source and ">metalog<" in source
    assert "100 / 200 / 500" in source and "risk event, p = 0.3<" in source
    assert "risk event, p = 0.1 (pert)" in source
    assert "400 / 250 / 300 / 350" in source and "discrete (0.1 / 0.2 / 0.3 / 0.4)" in source
    assert "1 / 2 / 3 / 4 / 5 / 6" in source and "normal (P10 / P50 / P90)" in source


# ------------------------------------------------------------------ errors in files


def diagnostics(body: str) -> list[tuple[int | None, str, str]]:
    """(line, code, printed line) of every error for a model with node ``x`` written as ``body``."""
    text = f"nodes:\n  x:\n{body}  y: {{kind: main, formula: x}}\n"
    model, found = read_model_text(text, file="m.yaml")
    found = found + [d for d in check(model).diagnostics if d.code != "missing-source"]
    return [(d.line, d.code, str(d)) for d in found if d.severity == "error"]


@pytest.mark.parametrize(
    "body, line, code, words",
    [
        (
            "    model: discrete\n    values: [1, 2, 3]\n    probabilities: [0.5, 0.5]\n",
            5,
            "probabilities-count",
            "expected 3 probabilities (one per value), got 2",
        ),
        (
            "    model: risk_event\n    probability: 1.5\n    estimate: [1, 2, 3]\n",
            4,  # the probability's own line
            "probability-range",
            "probability is 1.5, outside [0, 1]",
        ),
        (
            "    model: metalog\n    estimate: [10, 11, 30]\n",
            4,
            "metalog-infeasible",
            "P50=11 is too close to P10",
        ),
        ("    model: risk_event\n    estimate: [1, 2, 3]\n", 3, "node-definition", "probability"),
        (
            "    model: triangle\n    estimate: [1, 2, 3]\n    probability: 0.5\n",
            5,
            "node-definition",
            "model 'triangle' takes no probability",
        ),
        (
            "    model: risk_event\n    estimate: [1, 2, 3]\n    probabilty: 0.5\n",
            5,
            "node-definition",
            "did you mean 'probability'?",
        ),
        (
            "    model: normal\n    estimate: [1, 2, 3]\n    percentiles: [10, 50, 95]\n",
            5,
            "node-definition",
            "percentiles must be [q, 50, 100 - q]",
        ),
        (
            "    model: pert\n    estimate: [1, 2, 3]\n    percentiles: [10, 50, 90]\n",
            5,
            "node-definition",
            "model 'pert' takes no percentiles",
        ),
        (
            "    model: uniform\n    values: [1, 2]\n    probabilities: [0.5, 0.5]\n",
            5,
            "node-definition",
            "takes no probabilities",
        ),
        (
            "    model: discrete\n    values: [1, 2]\n",
            4,
            "node-definition",
            "needs 'probabilities'",
        ),
        ("    model: pert\n    values: [1, 2]\n", 4, "node-definition", "discrete or uniform"),
        (
            "    model: risk_event\n    probability: 0.5\n    estimate: [1, 2, 3]\n"
            "    consequence_model: beta\n",
            6,
            "node-definition",
            "must be one of triangle, uniform, pert",
        ),
        ("    value: [1, 2]\n", 3, "node-definition", "'values: [...]'"),
    ],
)
def test_bad_keys_are_located_one_line_errors(body: str, line: int, code: str, words: str) -> None:
    [(at, found, printed)] = diagnostics(body)
    assert (at, found) == (line, code) and words in printed and "\n" not in printed
    assert printed.startswith(f"m.yaml:{line}: error {code}: 'x': ")


def test_check_reports_an_infeasible_metalog_naming_the_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "nodes:\n  growth:\n    model: metalog\n    estimate: [80, 82, 150]\n"
        "    source: x\n  cost: {kind: main, formula: growth}\n",
        encoding="utf-8",
    )
    assert cli.main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:4: error metalog-infeasible: 'growth': P50=82 is too close to P10" in out


@pytest.mark.parametrize(
    ("low", "mid", "high", "expected"),
    [
        (-5e-324, 0.0, 0.1, 5e-323),  # span × (mid - low) would underflow to 0
        (-0.1, -1e-310, 5e-324, 1.0),  # span × (high - mid) would underflow to 0
        (-1.0, 0.0, 1.0, 0.5),
        (-1.0, -1.0, 3.0, 1.0 - 9.0 / 16.0),
    ],
)
def test_share_below_zero_of_a_triangle_never_divides_by_zero(low, mid, high, expected):
    """Plain Python raises on a division by zero; a tiny end must not cause one."""
    share = _share_below_zero(_TRIANGLE_SHAPE, low, mid, high)
    assert share == pytest.approx(expected, rel=1e-12, abs=0.0)


# ------------------------------------------------------------------ trigen

TRIGEN = """\
nodes:
  effort:
    model: trigen
    estimate: [80, 100, 150]
    unit: tkr
    source: Workshop
  cost: {kind: main, unit: tkr, formula: effort}
"""


def test_trigen_solves_the_triangle_through_its_p10_and_p90() -> None:
    model = from_estimate("trigen", 80, 100, 150)
    assert model == Trigen(80, 100, 150)
    least, most = model.bounds
    assert least < 80 and most > 150
    tri = dist.Triangle(least, 100, most)
    np.testing.assert_allclose(tri.quantile([0.1, 0.9]), [80, 150], rtol=1e-12)
    assert model.mean == pytest.approx(tri.mean) and model.weighted == model.mean
    assert trigen_bounds(1, 1, 5)[0] < 1 and trigen_bounds(2, 2, 2) == (2, 2)


def test_trigen_reads_writes_draws_and_shows_as_a_triangle(tmp_path: Path) -> None:
    model, problems = read_model_text(TRIGEN, file="t.yaml")
    assert problems == [] and check(model).ok
    assert model["effort"].body == Trigen(80, 100, 150)
    assert dump(model)["nodes"]["effort"]["model"] == "trigen"
    draws = Simulator(model).run(20_000, 3, keep_samples=True).values("cost")
    assert np.mean(draws < 80) == pytest.approx(0.1, abs=0.01)
    assert np.mean(draws > 150) == pytest.approx(0.1, abs=0.01)
    source = diagram(model, show="estimates").source
    assert "80 / 100 / 150 tkr" in source and "trigen (P10 / mode / P90)" in source


def test_trigen_out_of_order_is_an_estimate_order_error() -> None:
    [(line, code, printed)] = diagnostics("    model: trigen\n    estimate: [5, 3, 9]\n")
    assert code == "estimate-order" and "mode must lie between its P10 and P90" in printed


def test_trigen_in_the_excel_export_is_its_readings_and_its_name() -> None:
    from assumption_graph.export import _estimate

    assert _estimate(Trigen(80, 100, 150)) == (80.0, 100.0, 150.0, "trigen", None)
