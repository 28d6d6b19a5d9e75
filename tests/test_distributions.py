"""Probability models: figures by hand, parameter problems, samplers against
scipy.stats with fixed streams and standard-error tolerances, and the numpy
twins against the numba-compiled scalar samplers."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph import distributions as dist
from assumption_graph.distributions import (
    MODELS,
    Z95,
    Discrete,
    Fixed,
    LogNormal,
    Normal,
    Pert,
    Triangle,
    Uniform,
    from_estimate,
    ndtri,
    ndtri_array,
    pert_stream,
    triangle_from_u_array,
)
from assumption_graph.distributions.pert import pert_from_u_array, pert_grid
from assumption_graph.distributions.pert_stream import pert_sample_array
from assumption_graph.distributions.registry import jit_scalars
from assumption_graph.distributions.special import (
    CDF_HIGH,
    CDF_LOW,
    beta_cdf,
    beta_inverse,
    beta_inverse_array,
    log_beta,
    normal_cdf,
    normal_cdf_array,
)
from assumption_graph.errors import ModelError
from assumption_graph.streams import stream_key, uniform_array

# Compiled once per test session (numba compiles lazily, on first call per signature).
J = jit_scalars(numba.njit)
_uniform = J["uniform"]
_pert = J["pert_sample"]  # Cheng's BB: a risk event's PERT consequence
_pert_table = J["pert_from_table"]  # a PERT node's draws


def _loop(f, n_params):  # noqa: ANN001, ANN202 - builds a kernel-like jitted loop over f
    """``out[i] = f(uniform(stream, samples[i], 0), *params)``, compiled like the kernel."""
    zero = np.uint64(0)
    if n_params == 1:

        def run(stream, samples, p):  # noqa: ANN001, ANN202
            out = np.empty(samples.size)
            for i in range(samples.size):
                out[i] = f(_uniform(stream, samples[i], zero), p[0])
            return out
    elif n_params == 2:

        def run(stream, samples, p):  # noqa: ANN001, ANN202
            out = np.empty(samples.size)
            for i in range(samples.size):
                out[i] = f(_uniform(stream, samples[i], zero), p[0], p[1])
            return out
    elif n_params == 3:

        def run(stream, samples, p):  # noqa: ANN001, ANN202
            out = np.empty(samples.size)
            for i in range(samples.size):
                out[i] = f(_uniform(stream, samples[i], zero), p[0], p[1], p[2])
            return out
    else:

        def run(stream, samples, p):  # noqa: ANN001, ANN202
            out = np.empty(samples.size)
            for i in range(samples.size):
                out[i] = f(_uniform(stream, samples[i], zero), p[0], p[1], p[2], p[3], p[4])
            return out

    return numba.njit(run)


@numba.njit
def _pert_loop(stream, samples, table, low, high, a, b):  # noqa: ANN001, ANN202
    out = np.empty(samples.size)
    for i in range(samples.size):
        out[i] = _pert_table(stream, samples[i], table, 0, table.size, low, high, a, b)
    return out


LOOPS = {
    name: _loop(J[name], n)
    for name, n in (
        ("fixed_from_u", 1),
        ("uniform_from_u", 2),
        ("triangle_from_u", 3),
        ("discrete_from_u", 5),
        ("normal_from_u", 2),
        ("lognormal_from_u", 2),
    )
}


def jitted_samples(model: dist.Distribution, stream: int, samples: np.ndarray) -> np.ndarray:
    """Draw ``model`` with the compiled scalar sampler, called as the kernel calls it."""
    samples = np.asarray(samples, dtype=np.uint64)
    if model.draws_from_stream:
        table = np.array(model.sampler_table, dtype=np.float64)
        return _pert_loop(np.uint64(stream), samples, table, *model.sampler_args)
    params = np.array(model.sampler_args, dtype=np.float64)
    return LOOPS[model.sampler](np.uint64(stream), samples, params)


N = 100_000
SAMPLES = np.arange(N, dtype=np.uint64)


def draw(model: dist.Distribution, node_id: str = "x", seed: int = 2024) -> np.ndarray:
    return model.sample_array(stream_key(seed, node_id), SAMPLES)


def assert_mean(x: np.ndarray, mean: float, sd: float) -> None:
    """The sample mean is within 5 standard errors of the true mean."""
    assert abs(x.mean() - mean) < 5 * sd / math.sqrt(x.size), (x.mean(), mean)


# ---------------------------------------------------------------- ndtri


def test_ndtri_matches_scipy_over_a_grid_including_tails() -> None:
    p = np.concatenate(
        [
            [
                1e-300,
                1e-200,
                1e-100,
                1e-20,
                1e-10,
                1e-5,
                0.02425,
                0.075,
                0.5,
                0.925,
                0.975,
                1 - 1e-5,
                1 - 1e-10,
                1 - 2.0**-53,
            ],
            np.linspace(1e-6, 1 - 1e-6, 20_001),
            np.logspace(-300, -1, 2_000),
            1 - np.logspace(-15, -1, 500),
        ]
    )
    expected = scipy.special.ndtri(p)
    got = ndtri_array(p)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    assert ndtri_array(np.array([0.5]))[0] == 0.0
    scalar = np.array([J["ndtri"](x) for x in p])
    np.testing.assert_allclose(scalar, got, rtol=1e-14, atol=0)


def test_normal_cdf_compiled_equals_its_twin_and_scipy() -> None:
    """The copula's normal CDF: the kernel's scalar and its numpy twin agree to the bit,
    scipy's ``ndtr`` to a few ulps, and the ends are kept off 0 and 1."""
    z = np.concatenate(
        [
            np.linspace(-9.0, 9.0, 20_001),
            -np.logspace(-300, 1.58, 2_000),
            np.logspace(-300, 1.58, 500),
            [0.0, -0.0, -40.0, 40.0, -38.4, 8.3],
        ]
    )
    twin = normal_cdf_array(z)
    compiled = numba.njit(normal_cdf)
    np.testing.assert_array_equal(np.array([compiled(x) for x in z]), twin)
    expected = np.clip(scipy.special.ndtr(z), CDF_LOW, CDF_HIGH)
    np.testing.assert_allclose(twin, expected, rtol=1e-13, atol=0)
    assert twin.min() == CDF_LOW and twin.max() == CDF_HIGH


BETA_INVERSE_TOLERANCE = 2e-13  # of x or 1 - x, whichever is nearer, against scipy


def _uniforms_for_the_beta_inverse(draw: st.DrawFn) -> np.ndarray:
    """Uniforms as the kernel meets them: central ones, and both tails down to 2**-54."""
    central = draw(st.lists(st.floats(2.0**-54, 1.0 - 2.0**-53), min_size=1, max_size=20))
    exponents = draw(st.lists(st.floats(1.0, 54.0), max_size=10))
    tails = [2.0**-e for e in exponents]
    return np.array([*central, *tails, *(1.0 - t for t in tails)])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.floats(1.0, 5.0),
    st.one_of(st.none(), st.floats(1.0, 5.0)),
    st.composite(_uniforms_for_the_beta_inverse)(),
)
def test_beta_inverse_compiled_equals_its_twin_and_is_near_scipy(alpha, beta, u) -> None:
    """PERT's inverse CDF (shapes in [1, 5]; None: PERT's own, 6 - alpha): the kernel's
    scalar and the numpy twin agree to the bit, scipy's ``betaincinv`` within the tolerance."""
    beta = 6.0 - alpha if beta is None else beta
    twin = beta_inverse_array(u, alpha, beta)
    lb = log_beta(alpha, beta)
    compiled = np.array([J["beta_inverse"](x, alpha, beta, lb, -1.0) for x in u])
    np.testing.assert_array_equal(compiled, twin)
    expected = scipy.special.betaincinv(alpha, beta, u)
    nearer_end = np.minimum(expected, 1.0 - expected)
    assert np.all(np.abs(twin - expected) <= BETA_INVERSE_TOLERANCE * nearer_end + 2.0**-53)
    assert np.all((twin >= 0.0) & (twin <= 1.0))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.floats(1.0, 5.0),
    st.one_of(st.none(), st.floats(1.0, 5.0)),
    st.composite(_uniforms_for_the_beta_inverse)(),
)
def test_pert_inverse_from_its_grid_equals_its_twin_and_is_near_scipy(alpha, beta, u) -> None:
    """PERT's inverse CDF started from its grid (how the kernel takes a PERT node's): the
    compiled scalar and the numpy twin agree to the bit, scipy within the tolerance."""
    beta = 6.0 - alpha if beta is None else beta
    grid = np.array(pert_grid(alpha, beta))
    lb = log_beta(alpha, beta)
    a, b = alpha - 1.0, beta - 1.0
    start = J["pert_start"]
    compiled = np.array([J["pert_from_u"](x, 0.0, 1.0, a, b, lb, start(x, grid, 0)) for x in u])
    twin = pert_from_u_array(u, 0.0, 1.0, a, b, tuple(grid))
    np.testing.assert_array_equal(compiled, twin)
    expected = scipy.special.betaincinv(alpha, beta, u)
    nearer_end = np.minimum(expected, 1.0 - expected)
    assert np.all(np.abs(twin - expected) <= BETA_INVERSE_TOLERANCE * nearer_end + 2.0**-53)


def test_beta_inverse_edges_and_cdf() -> None:
    lb = log_beta(2.0, 4.0)
    for f in (beta_inverse, J["beta_inverse"]):
        assert f(0.0, 2.0, 4.0, lb, -1.0) == 0.0 and f(1.0, 2.0, 4.0, lb, 0.5) == 1.0
        assert math.isnan(f(-0.1, 2.0, 4.0, lb, -1.0))
        assert math.isnan(f(math.nan, 2.0, 4.0, lb, 0.5))
    assert np.isnan(beta_inverse_array(np.array([1.5, np.nan]), 2.0, 4.0)).all()
    x = np.linspace(0.0, 1.0, 101)
    for alpha in (1.0, 1.7, 3.0, 5.0):
        got = [beta_cdf(v, alpha, 6.0 - alpha) for v in x]
        np.testing.assert_allclose(
            got, scipy.special.betainc(alpha, 6.0 - alpha, x), rtol=1e-13, atol=1e-16
        )


def test_pert_quantile_is_near_scipys() -> None:
    model = Pert(1.0, 4.0, 13.0)
    u = np.linspace(0.0, 1.0, 1001)
    alpha, beta = model.shapes
    expected = 1.0 + 12.0 * scipy.special.betaincinv(alpha, beta, u)
    np.testing.assert_allclose(model.quantile(u), expected, rtol=1e-13, atol=1e-13)


def test_ndtri_edges() -> None:
    for f in (ndtri, J["ndtri"]):
        assert f(0.0) == -math.inf
        assert f(1.0) == math.inf
        assert math.isnan(f(-0.1)) and math.isnan(f(1.5)) and math.isnan(f(math.nan))
    np.testing.assert_array_equal(
        ndtri_array(np.array([0.0, 1.0, -1.0, 2.0, np.nan])),
        [-np.inf, np.inf, np.nan, np.nan, np.nan],
    )
    assert ndtri_array(np.array([[0.1, 0.9]])).shape == (1, 2)


def test_ndtri_is_antisymmetric() -> None:
    p = np.linspace(0.001, 0.499, 999)
    np.testing.assert_allclose(ndtri_array(p), -ndtri_array(1 - p), rtol=1e-12)


# ---------------------------------------------------------------- figures by hand


def test_fixed_figures() -> None:
    f = Fixed(5)
    assert (f.low, f.mid, f.high, f.weighted, f.mean) == (5.0, 5.0, 5.0, 5.0, 5.0)
    assert f.weights == (0.0, 1.0, 0.0)
    assert np.array_equal(draw(f), np.full(N, 5.0))


def test_uniform_figures() -> None:
    u = Uniform(10, 12, 20)
    assert (u.low, u.mid, u.high) == (10.0, 12.0, 20.0)
    assert u.weighted == 15.0 and u.mean == 15.0 and u.weights == (0.5, 0.0, 0.5)


def test_triangle_figures() -> None:
    t = Triangle(1200, 1500, 2100)
    assert t.probabilities == (0.2, 0.6, 0.2)
    assert t.weighted == pytest.approx(0.2 * 1200 + 0.6 * 1500 + 0.2 * 2100) == 1560
    assert t.mean == pytest.approx(1600)
    t2 = Triangle(1200, 1500, 2100, (0.1, 0.5, 0.4))
    assert t2.weighted == pytest.approx(120 + 750 + 840)
    assert t2.mean == pytest.approx(1600)


def test_discrete_figures() -> None:
    d = Discrete(0, 100, 400, [0.5, 0.3, 0.2])
    assert d.probabilities == (0.5, 0.3, 0.2)
    assert d.weighted == pytest.approx(110) and d.mean == pytest.approx(110)


def test_pert_figures() -> None:
    p = Pert(1, 4, 13)
    assert (p.low, p.mid, p.high) == (1.0, 4.0, 13.0)
    assert p.weighted == pytest.approx(5.0) and p.mean == pytest.approx(5.0)
    assert p.weights is None


def test_normal_figures() -> None:
    n = Normal(100, 10)
    assert n.mid == n.mean == n.weighted == 100.0
    assert n.low == pytest.approx(100 - 16.448536269514722)
    assert n.high == pytest.approx(100 + 16.448536269514722)
    assert scipy.stats.norm.ppf(0.95) == pytest.approx(Z95, rel=1e-15)


def test_lognormal_figures() -> None:
    x = LogNormal(0.0, 0.5)
    assert x.mid == 1.0
    assert x.low == pytest.approx(math.exp(-0.5 * Z95))
    assert x.high == pytest.approx(math.exp(0.5 * Z95))
    assert x.weighted == x.mean == pytest.approx(math.exp(0.125))


def test_normal_from_estimate() -> None:
    n = Normal.from_estimate(80, 100, 130)
    assert n.mean == 100.0
    assert n.sd == pytest.approx(50 / (2 * Z95))
    assert n.estimate == (80.0, 100.0, 130.0)
    assert n.high - n.low == pytest.approx(50)


def test_lognormal_from_estimate_round_trips_a_geometric_estimate() -> None:
    x = LogNormal.from_estimate(50, 100, 200)
    assert x.mu == pytest.approx(math.log(100))
    assert x.sigma == pytest.approx(math.log(4) / (2 * Z95))
    assert (x.low, x.mid, x.high) == pytest.approx((50, 100, 200), rel=1e-12)
    for bad in ((0, 1, 2), (-1, 1, 2), (1, 0, 2)):
        with pytest.raises(ModelError, match="positive"):
            LogNormal.from_estimate(*bad)


def test_from_estimate_builds_each_model() -> None:
    assert from_estimate("fixed", 1, 2, 3) == Fixed(2)
    assert from_estimate("uniform", 1, 2, 3) == Uniform(1, 2, 3)
    assert from_estimate("random", 1, 2, 3) == Uniform(1, 2, 3)
    assert from_estimate("triangle", 1, 2, 3) == Triangle(1, 2, 3)
    assert from_estimate("triangle", 1, 2, 3, [0.1, 0.8, 0.1]).probabilities == (0.1, 0.8, 0.1)
    assert from_estimate("discrete", 1, 2, 3, [0.1, 0.8, 0.1]) == Discrete(1, 2, 3, (0.1, 0.8, 0.1))
    assert from_estimate("pert", 1, 2, 3) == Pert(1, 2, 3)
    assert from_estimate("normal", 1, 2, 3) == Normal.from_estimate(1, 2, 3)
    assert from_estimate("lognormal", 1, 2, 4) == LogNormal.from_estimate(1, 2, 4)
    with pytest.raises(ModelError, match="unknown"):
        from_estimate("gauss", 1, 2, 3)
    with pytest.raises(ModelError, match="needs probabilities"):
        from_estimate("discrete", 1, 2, 3)
    with pytest.raises(ModelError, match="takes no probabilities"):
        from_estimate("pert", 1, 2, 3, [0.2, 0.6, 0.2])


def test_models_table() -> None:
    assert set(MODELS) == {
        "fixed",
        "uniform",
        "random",
        "triangle",
        "discrete",
        "pert",
        "normal",
        "lognormal",
        "metalog",
        "risk_event",
        "trigen",
    }
    assert MODELS["random"] is Uniform
    for name, cls in MODELS.items():
        assert cls.name == name or (name == "random" and cls.name == "uniform")


def test_parameters_are_coerced_to_floats_and_models_are_hashable() -> None:
    t = Triangle(np.int64(1), 2, 3, [0.2, 0.6, 0.2])
    assert all(type(v) is float for v in (t.low, t.mid, t.high, *t.probabilities))
    assert hash(t) == hash(Triangle(1.0, 2.0, 3.0))
    with pytest.raises(ModelError, match="low must be a number"):
        Triangle("a", 2, 3)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="probabilities"):
        Discrete(1, 2, 3, 0.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- problems()


def codes(model: dist.Distribution) -> list[str]:
    return [code for code, _ in model.problems()]


@pytest.mark.parametrize(
    "model",
    [
        Fixed(1),
        Uniform(1, 2, 3),
        Uniform(1, 1, 1),
        Triangle(1, 1, 3),
        Triangle(1, 3, 3),
        Discrete(1, 2, 3, (0.2, 0.6, 0.2)),
        Discrete(1, 2, 3, (0.2, 0.6, 0.2000005)),
        Pert(0, 0, 1),
        Normal(0, 0),
        Normal(-5, 2),
        LogNormal(-1, 0),
        LogNormal(1, 2),
    ],
)
def test_valid_parameters_have_no_problems(model: dist.Distribution) -> None:
    assert model.problems() == []


def test_estimate_order_problems_name_the_numbers() -> None:
    for model in (
        Triangle(5, 3, 9),
        Triangle(1, 5, 3),
        Uniform(5, 3, 9),
        Pert(3, 2, 1),
        Discrete(2, 1, 3, (0.2, 0.6, 0.2)),
    ):
        assert codes(model) == ["estimate-order"]
    [(_, message)] = Triangle(5, 3, 9).problems()
    assert "low=5" in message and "mid=3" in message and "high=9" in message
    assert "order" in message


def test_probability_problems() -> None:
    assert codes(Triangle(1, 2, 3, (-0.1, 0.6, 0.5))) == ["probability-range"]
    assert codes(Discrete(1, 2, 3, (0.2, 1.2, -0.4))) == ["probability-range"] * 2
    [(code, message)] = Discrete(1, 2, 3, (0.2, 0.6, 0.1)).problems()
    assert code == "probability-sum" and "0.9" in message and "add up to 1" in message
    assert codes(Discrete(1, 2, 3, (0.2, 0.6, 0.20001))) == ["probability-sum"]
    assert codes(Discrete(1, 2, 3, (0.5, 0.5))) == ["probabilities-count"]
    assert codes(Triangle(1, 2, 3, (0.2, 0.2, 0.2, 0.4))) == ["probabilities-count"]
    assert codes(Discrete(3, 2, 1, (1.2, 0.0, 0.0))) == [
        "estimate-order",
        "probability-range",
        "probability-sum",
    ]


def test_scale_and_nonfinite_problems() -> None:
    assert codes(Normal(0, -1)) == ["scale"]
    assert "sd" in Normal(0, -1).problems()[0][1]
    assert codes(LogNormal(0, -0.5)) == ["scale"]
    assert codes(Uniform(1, math.nan, 3)) == ["nonfinite"]
    assert codes(Triangle(1, 2, math.inf)) == ["nonfinite"]
    assert codes(Normal(math.nan, 1)) == ["nonfinite"]
    assert codes(Discrete(1, 2, 3, (0.5, math.nan, 0.5))) == ["nonfinite"]
    assert "mid=nan" in Uniform(1, math.nan, 3).problems()[0][1]


def test_factories_are_strict() -> None:
    assert dist.random is dist.uniform
    assert dist.triangle(1, 2, 3) == Triangle(1, 2, 3)
    assert dist.discrete(1, 2, 3, [0.1, 0.1, 0.8]).probabilities == (0.1, 0.1, 0.8)
    assert dist.pert(1, 2, 3) == Pert(1, 2, 3)
    assert dist.normal(1, 2) == Normal(1, 2)
    assert dist.lognormal(1, 2) == LogNormal(1, 2)
    assert dist.fixed(3) == Fixed(3)
    for bad in (
        lambda: dist.triangle(5, 3, 9),
        lambda: dist.discrete(1, 2, 3, [0.5, 0.4, 0.2]),
        lambda: dist.normal(0, -1),
        lambda: dist.uniform(1, 0, 3),
    ):
        with pytest.raises(ModelError):
            bad()


# ---------------------------------------------------------------- twins: numpy == compiled

TWIN_CASES = [
    Fixed(3.5),
    Uniform(10, 12, 20),
    Uniform(-1, 0, 1e-300),
    Uniform(4, 4, 4),
    Triangle(1200, 1500, 2100),
    Triangle(0, 0, 10),
    Triangle(0, 10, 10),
    Triangle(7, 7, 7),
    Discrete(0, 100, 400, (0.5, 0.3, 0.2)),
    Discrete(0, 100, 400, (0.0, 1.0, 0.0)),
    Normal(100, 10),
    Normal(-3, 0),
    LogNormal(0.5, 0.4),
    Pert(1, 4, 13),
    Pert(0, 0, 10),
    Pert(0, 10, 10),
    Pert(-3, -1, 2),
    Pert(5, 5, 5),
]


@pytest.mark.parametrize("model", TWIN_CASES, ids=repr)
def test_numpy_twin_equals_compiled_scalar(model: dist.Distribution) -> None:
    n = 10_000 if model.draws_from_stream else 20_000
    samples = np.arange(n, dtype=np.uint64) * np.uint64(7919) + np.uint64(2**62)
    stream = stream_key(11, "twin")
    twin = model.sample_array(stream, samples)
    compiled = jitted_samples(model, stream, samples)
    assert twin.dtype == np.float64 and twin.shape == (n,)
    np.testing.assert_allclose(twin, compiled, rtol=1e-14, atol=0)
    assert np.isfinite(twin).all()


def test_pert_uses_a_per_sample_counter_so_chunks_do_not_matter() -> None:
    model = Pert(1, 4, 13)
    stream = stream_key(5, "p")
    whole = model.sample_array(stream, np.arange(3000))
    parts = np.concatenate(
        [
            model.sample_array(stream, np.arange(0, 1000)),
            model.sample_array(stream, np.arange(1000, 3000)),
        ]
    )
    assert np.array_equal(whole, parts)
    single = model.sample_array(stream, np.array([2500]))[0]
    table = np.array(model.sampler_table)
    scalar = _pert_table(
        np.uint64(stream), np.uint64(2500), table, 0, table.size, *model.sampler_args
    )
    assert single == whole[2500] == scalar


@pytest.mark.parametrize("mid", [1.0, 1.01, 2.5, 4.0, 6.99, 7.0])
def test_pert_envelope_covers_the_density(mid: float) -> None:
    """Each bin's maximum and minimum bound the Beta density on a fine grid of the bin."""
    alpha, beta = Pert(1.0, mid, 7.0).shapes
    table = np.array(dist.pert_envelope(alpha, beta))
    bins = table.size // 4
    x = (np.arange(bins)[:, None] + np.linspace(1e-9, 1 - 1e-9, 201)[None, :]) / bins
    density = x ** (alpha - 1) * (1 - x) ** (beta - 1)
    assert (density <= table[2 * bins : 3 * bins, None] * (1 + 1e-9)).all()
    assert (density >= table[3 * bins :, None] * (1 - 1e-9)).all()
    chosen = np.zeros(bins)  # the alias table picks bin k with probability max_k / sum(max)
    for j in range(bins):
        chosen[j] += table[j] / bins
        chosen[int(table[bins + j])] += (1 - table[j]) / bins
    np.testing.assert_allclose(
        chosen, table[2 * bins : 3 * bins] / table[2 * bins : 3 * bins].sum()
    )


def test_cheng_beta_against_scipy() -> None:
    """Cheng's BB (a risk event's PERT consequence) has the Beta distribution too."""
    for low, mid, high in ((1, 4, 13), (0, 0, 10), (0, 9.5, 10)):
        x = pert_sample_array(stream_key(3, "cheng"), SAMPLES, low, mid, high)
        span = high - low
        a, b = 1 + 4 * (mid - low) / span, 1 + 4 * (high - mid) / span
        assert ks_ok(x, scipy.stats.beta(a, b, loc=low, scale=span))


def test_plain_python_scalars_agree_with_compiled() -> None:
    # The originals stay plain Python (jit_scalars compiles copies) and still work.
    stream = stream_key(1, "plain")
    u = uniform_array(stream, np.arange(50), 0)
    with np.errstate(over="ignore"):
        for i in range(50):
            assert dist.normal_from_u(u[i], 1.0, 2.0) == J["normal_from_u"](u[i], 1.0, 2.0)
            assert dist.triangle_from_u(u[i], 0.0, 1.0, 5.0) == J["triangle_from_u"](
                u[i], 0.0, 1.0, 5.0
            )
            counters = (np.uint64(stream), np.uint64(i))
            assert pert_stream.pert_sample(*counters, 0.0, 1.0, 5.0) == _pert(
                *counters, 0.0, 1.0, 5.0
            )


def test_invalid_parameters_sample_nan_not_garbage() -> None:
    for f, args in (
        (J["triangle_from_u"], (0.5, 3.0, 2.0, 1.0)),
        (J["uniform_from_u"], (0.5, 3.0, 1.0)),
        (dist.triangle_from_u, (0.5, 0.0, math.nan, 1.0)),
    ):
        assert math.isnan(f(*args))
    assert math.isnan(_pert(np.uint64(1), np.uint64(1), 3.0, 2.0, 1.0))
    assert np.isnan(pert_sample_array(1, np.arange(3), 3.0, 2.0, 1.0)).all()
    assert np.isnan(triangle_from_u_array(np.array([0.5]), 3.0, 2.0, 1.0)).all()


# ---------------------------------------------------------------- statistics vs scipy


def ks_ok(x: np.ndarray, frozen: scipy.stats.rv_continuous) -> bool:
    return scipy.stats.kstest(x, frozen.cdf).pvalue > 1e-3


def test_uniform_samples() -> None:
    x = draw(Uniform(10, 12, 20))
    ref = scipy.stats.uniform(10, 10)
    assert ks_ok(x, ref)
    assert_mean(x, Uniform(10, 12, 20).mean, ref.std())
    assert x.min() >= 10 and x.max() <= 20


@pytest.mark.parametrize("low, mid, high", [(1200, 1500, 2100), (0, 0, 1), (0, 1, 1), (-5, 4, 6)])
def test_triangle_samples_quantiles_and_mean(low: float, mid: float, high: float) -> None:
    model = Triangle(low, mid, high)
    x = draw(model, f"t{low}")
    ref = scipy.stats.triang((mid - low) / (high - low), loc=low, scale=high - low)
    assert ks_ok(x, ref)
    assert_mean(x, model.mean, ref.std())
    # quantiles against the closed form, with the quantile's standard error
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        if q * (high - low) < (mid - low):
            exact = low + math.sqrt(q * (high - low) * (mid - low))
        else:
            exact = high - math.sqrt((1 - q) * (high - low) * (high - mid))
        assert exact == pytest.approx(ref.ppf(q))
        se = math.sqrt(q * (1 - q) / N) / ref.pdf(exact)
        assert abs(np.quantile(x, q) - exact) < 5 * se


def test_discrete_frequencies() -> None:
    p = (0.5, 0.3, 0.2)
    model = Discrete(0, 100, 400, p)
    x = draw(model)
    assert set(np.unique(x)) <= {0.0, 100.0, 400.0}
    for value, prob in zip((0.0, 100.0, 400.0), p, strict=True):
        freq = np.mean(x == value)
        assert abs(freq - prob) < 5 * math.sqrt(prob * (1 - prob) / N)
    sd = math.sqrt(sum(pi * (v - model.mean) ** 2 for v, pi in zip((0, 100, 400), p, strict=True)))
    assert_mean(x, model.mean, sd)


@pytest.mark.parametrize("low, mid, high", [(1, 4, 13), (0, 0.5, 10), (0, 0, 10), (-2, 3, 3)])
def test_pert_samples_against_scipy_beta(low: float, mid: float, high: float) -> None:
    model = Pert(low, mid, high)
    x = draw(model, f"p{mid}")
    span = high - low
    a = 1 + 4 * (mid - low) / span
    b = 1 + 4 * (high - mid) / span
    ref = scipy.stats.beta(a, b, loc=low, scale=span)
    assert ks_ok(x, ref)
    assert ref.mean() == pytest.approx(model.mean)
    assert_mean(x, model.mean, ref.std())
    # the sample sd's standard error is sd·sqrt((excess kurtosis + 2) / 4n)
    excess_kurtosis = float(ref.stats(moments="k"))
    assert abs(x.std() - ref.std()) < 5 * ref.std() * math.sqrt((excess_kurtosis + 2) / (4 * N))
    assert x.min() >= low and x.max() <= high


def test_normal_samples() -> None:
    model = Normal(100, 10)
    x = draw(model)
    ref = scipy.stats.norm(100, 10)
    assert ks_ok(x, ref)
    assert_mean(x, model.mean, 10)
    assert abs(np.mean(x < model.low) - 0.05) < 5 * math.sqrt(0.05 * 0.95 / N)
    assert abs(np.mean(x > model.high) - 0.05) < 5 * math.sqrt(0.05 * 0.95 / N)


def test_lognormal_samples() -> None:
    mu, sigma = 0.5, 0.4
    model = LogNormal(mu, sigma)
    x = draw(model)
    ref = scipy.stats.lognorm(s=sigma, scale=math.exp(mu))
    assert ks_ok(x, ref)
    assert ref.mean() == pytest.approx(model.mean)
    assert_mean(x, model.mean, ref.std())
    assert abs(np.median(x) - model.mid) < 5 * 0.5 / math.sqrt(N) / ref.pdf(model.mid)


def test_each_input_gets_its_own_stream() -> None:
    a = draw(Normal(0, 1), "a")
    b = draw(Normal(0, 1), "b")
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(N)


# ---------------------------------------------------------------- properties

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
EDGE_U = np.array([2.0**-53, 1e-9, 0.5, 1 - 1e-9, 1 - 2.0**-53])


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=3, max_size=3).map(sorted), st.integers(0, 2**64 - 1))
def test_triangle_samples_stay_within_low_high(abc: list[float], stream: int) -> None:
    low, mid, high = abc
    u = np.concatenate([uniform_array(stream, np.arange(64), 0), EDGE_U])
    x = triangle_from_u_array(u, low, mid, high)
    assert ((x >= low) & (x <= high)).all()
    compiled = np.array([J["triangle_from_u"](v, low, mid, high) for v in u[:8]])
    np.testing.assert_array_equal(compiled, x[:8])


@settings(max_examples=50, deadline=None)
@given(st.lists(finite, min_size=3, max_size=3).map(sorted), st.integers(0, 2**64 - 1))
def test_pert_samples_stay_within_low_high(abc: list[float], stream: int) -> None:
    low, mid, high = abc
    x = pert_sample_array(stream, np.arange(32), low, mid, high)
    assert ((x >= low) & (x <= high)).all()
    y = Pert(low, mid, high).sample_array(stream, np.arange(32))
    assert ((y >= low) & (y <= high)).all()


def test_public_api_is_declared() -> None:
    for name in dist.__all__:
        assert hasattr(dist, name), name
