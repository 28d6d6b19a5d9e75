"""Sensitivity: tornado, rank correlation, contribution to variance and Sobol indices.

Known answers: a linear model ``y = sum(a_i * x_i)`` (tornado ends in closed form,
Sobol S1_i = ST_i = a_i² var(x_i) / var(y)) and the Ishigami function (Sobol
indices known analytically). Statistical tolerances come from standard errors
or from SALib's own bootstrap confidence half-widths; every seed is fixed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

import assumption_graph as ag
from assumption_graph.cli import main
from assumption_graph.distributions import Z95
from assumption_graph.errors import RunError
from assumption_graph.report import sensitivity_report
from assumption_graph.results import average_ranks
from assumption_graph.sensitivity import (
    SensitivityResult,
    contributions,
    sensitivity,
    spearman,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# y = 3a - 5b + c + 2d over independent uniforms: coefficient, low, high.
LINEAR = {
    "a": (3.0, 0.0, 10.0),
    "b": (-5.0, 2.0, 4.0),
    "c": (1.0, -20.0, 20.0),
    "d": (2.0, 1.0, 2.0),
}
# Ishigami (a=7, b=0.1) on uniform(-pi, pi): Sobol indices from the closed form
# (Ishigami & Homma 1990; Saltelli et al. 2008, Global Sensitivity Analysis, p. 179).
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def linear_model() -> ag.Model:
    m = ag.Model("linear")
    for name, (_, low, high) in LINEAR.items():
        m.add(name, estimate=[low, (low + high) / 2, high], model="uniform", source="test")
    formula = " + ".join(f"{coef} * {name}" for name, (coef, _, _) in LINEAR.items())
    m.add("y", kind="main", formula=formula, source="test")
    return m


def swing_of(name: str) -> float:
    coef, low, high = LINEAR[name]
    return abs(coef) * (high - low)


@pytest.fixture(scope="module")
def linear() -> SensitivityResult:
    return sensitivity(linear_model().compile(), "y", n=20_000, seed=3, sobol_samples=4096)


@pytest.fixture(scope="module")
def ishigami() -> SensitivityResult:
    m = ag.Model("Ishigami")
    for name in ("x1", "x2", "x3"):
        m.add(name, estimate=[-math.pi, 0.0, math.pi], model="uniform", source="test")
    m.add("y", kind="main", formula="sin(x1) + 7 * sin(x2) ** 2 + 0.1 * x3 ** 4 * sin(x1)")
    return sensitivity(m.compile(), "y", n=20_000, seed=5, sobol_samples=4096)


@pytest.fixture(scope="module")
def business_case() -> ag.Simulator:
    return ag.load(EXAMPLES / "business_case.yaml").compile()


# ---------------------------------------------------------------------------- tornado


def test_tornado_ranks_a_linear_model_by_coefficient_times_range(linear):
    ranked = sorted(LINEAR, key=swing_of, reverse=True)
    assert [bar.input for bar in linear.tornado] == ranked == ["c", "a", "b", "d"]
    base = sum(coef * (low + high) / 2 for coef, low, high in LINEAR.values())
    assert linear.base == pytest.approx(base)
    for bar in linear.tornado:
        coef, low, high = LINEAR[bar.input]
        mid = (low + high) / 2
        assert bar.low == pytest.approx(base + coef * (low - mid))
        assert bar.high == pytest.approx(base + coef * (high - mid))
        assert bar.swing == pytest.approx(swing_of(bar.input))
        assert bar.label == bar.input  # no label given: the id


def test_tornado_uses_each_models_low_and_high():
    """Normal and lognormal inputs move to their P5 and P95; a triangle to its ends."""
    m = ag.Model("ends")
    m.add("t", estimate=[1, 2, 6], model="triangle", label="Triangle input")
    m.add("n", model="normal", mean=10, sd=2)
    m.add("g", model="lognormal", mu=0.0, sigma=0.5)
    m.add("y", kind="main", formula="2 * t - n + 4 * g")
    result = sensitivity(m.compile(), "y", n=1000, sobol=False)
    bars = {bar.input: bar for bar in result.tornado}
    base = 2 * 2 - 10 + 4 * 1.0
    assert result.base == pytest.approx(base)
    assert (bars["t"].low, bars["t"].high) == pytest.approx((base - 2, base + 8))
    assert (bars["n"].low, bars["n"].high) == pytest.approx((base + 2 * Z95, base - 2 * Z95))
    g_low, g_high = math.exp(-0.5 * Z95), math.exp(0.5 * Z95)
    assert (bars["g"].low, bars["g"].high) == pytest.approx(
        (base + 4 * (g_low - 1), base + 4 * (g_high - 1))
    )
    assert bars["t"].label == "Triangle input"
    assert [bar.input for bar in result.tornado] == sorted(bars, key=lambda k: -bars[k].swing)


# ---------------------------------------------------------------------------- rank correlation


def test_rank_correlations_of_a_linear_model(linear):
    """Spearman's rho of each input with y against an independent large-sample oracle.

    For a sum of independent inputs the Pearson correlation is a_i·sd_i/sd_y;
    Spearman's is close (within 0.02 here) but not equal, so the reference is
    Spearman's rho of 400,000 numpy draws. Tolerance: 4 standard errors of both
    estimates, se(rho) = (1 - rho²)·sqrt(1.06 / (n - 3)) (Fieller, Hartley and
    Pearson 1957).
    """
    rng = np.random.default_rng(11)
    size = 400_000
    draws = {k: rng.uniform(low, high, size) for k, (_, low, high) in LINEAR.items()}
    y = sum(coef * draws[k] for k, (coef, _, _) in LINEAR.items())
    sd_y = math.sqrt(sum(swing_of(k) ** 2 for k in LINEAR))
    for name, (coef, _, _) in LINEAR.items():
        oracle = spearmanr(draws[name], y).statistic
        pearson = swing_of(name) / sd_y * math.copysign(1, coef)
        assert abs(oracle - pearson) < 0.02  # the oracle is the right kind of number
        rho = linear.rank_correlation[name]
        se = (1 - oracle**2) * math.sqrt(1.06 / (linear.samples - 3) + 1.06 / (size - 3))
        assert abs(rho - oracle) < 4 * se, name
        assert math.copysign(1, rho) == math.copysign(1, coef)
    by_size = sorted(LINEAR, key=lambda k: -abs(linear.rank_correlation[k]))
    assert by_size == sorted(LINEAR, key=swing_of, reverse=True)


def test_contributions_are_normalised_squared_rank_correlations(linear):
    share = linear.contribution_to_variance
    assert sum(share.values()) == pytest.approx(1.0)
    total = sum(r * r for r in linear.rank_correlation.values())
    for name, rho in linear.rank_correlation.items():
        assert share[name] == pytest.approx(rho * rho / total)
    assert contributions({"a": 0.0, "b": 0.0}) == {"a": 0.0, "b": 0.0}


def test_spearman_uses_average_ranks_for_ties():
    rng = np.random.default_rng(2)
    x = rng.choice([1.0, 2.0, 3.0], size=500, p=[0.2, 0.6, 0.2])  # a discrete input
    y = x + rng.normal(0, 1, 500)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert spearman(np.full(5, 2.0), np.arange(5.0)) == 0.0  # a constant input


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(3).normal(size=1000),
        np.random.default_rng(4).integers(0, 4, size=1000).astype(float),  # many ties
        np.array([0.0, -0.0, np.inf, -np.inf, 1e308, -1e308, 0.0]),  # -0.0 ties with 0.0
        np.array([7.0]),
    ],
    ids=["distinct", "ties", "extremes", "one"],
)
def test_average_ranks_are_scipys_rankdata_to_the_bit(values):
    assert average_ranks(values).tobytes() == rankdata(values).tobytes()


def test_nonfinite_outputs_are_dropped_pairwise_and_null_in_json():
    m = ag.Model("division")
    m.add("a", estimate=[0, 1, 2], model="discrete", probabilities=[0.2, 0.6, 0.2])
    m.add("b", estimate=[1, 2, 3], model="uniform")
    m.add("y", kind="main", formula="b / a")
    sim = m.compile()
    result = sensitivity(sim, "y", n=5000, seed=1, sobol_samples=256)
    run = sim.run(5000, seed=1, outputs=["a", "b", "y"], keep_samples=True)
    y = run.values("y")
    finite = np.isfinite(y)
    assert 0 < (~finite).sum() < 5000
    for name in ("a", "b"):
        expected = spearmanr(run.values(name)[finite], y[finite]).statistic
        assert result.rank_correlation[name] == pytest.approx(expected, abs=1e-12)
    bars = {bar.input: bar for bar in result.tornado}
    assert bars["a"].low is None and bars["a"].high == pytest.approx(1.0)
    assert result.tornado[-1].input == "a"  # an undefined swing ranks last
    assert result.sobol is not None and 0 < result.sobol.samples < 256  # blocks with a = 0 left out
    data = json.loads(json.dumps(result.as_dict(), allow_nan=False))
    assert data["tornado"][-1] == {"input": "a", "low": None, "high": 1.0, "swing": None}


# ---------------------------------------------------------------------------- Sobol


def test_sobol_indices_of_a_linear_model(linear):
    """S1_i = ST_i = a_i² var(x_i) / var(y), within two of SALib's 95 % confidence half-widths."""
    sobol = linear.sobol
    assert sobol is not None and sobol.samples == 4096
    total = sum(swing_of(k) ** 2 for k in LINEAR)
    for name in LINEAR:
        share = swing_of(name) ** 2 / total
        assert abs(sobol.S1[name] - share) <= 2 * sobol.S1_conf[name], name
        assert abs(sobol.ST[name] - share) <= 2 * sobol.ST_conf[name], name
    ranked = sorted(LINEAR, key=swing_of, reverse=True)
    assert sorted(LINEAR, key=lambda k: -sobol.ST[k]) == ranked


def test_sobol_indices_of_ishigami(ishigami):
    sobol = ishigami.sobol
    assert sobol is not None
    for name in ISHIGAMI_S1:
        assert abs(sobol.S1[name] - ISHIGAMI_S1[name]) <= 2 * sobol.S1_conf[name], name
        assert abs(sobol.ST[name] - ISHIGAMI_ST[name]) <= 2 * sobol.ST_conf[name], name
    assert sorted(sobol.S1, key=lambda k: -sobol.S1[k]) == ["x2", "x1", "x3"]
    assert sorted(sobol.ST, key=lambda k: -sobol.ST[k]) == ["x1", "x2", "x3"]
    assert sobol.ST["x3"] - sobol.S1["x3"] > 2 * sobol.ST_conf["x3"]  # x3 acts only with x1


def test_sobol_samples_must_be_a_power_of_two():
    with pytest.raises(RunError, match="power of two"):
        sensitivity(linear_model().compile(), "y", n=100, sobol_samples=1000)


def test_a_sobol_design_too_big_to_hold_is_refused_before_the_run():
    m = ag.Model("wide")
    for k in range(300):
        m.add(f"x{k}", estimate=[0, 1, 2], model="uniform")
    for part in range(10):  # partial sums keep each formula shallow
        m.add(f"s{part}", formula=" + ".join(f"x{k}" for k in range(30 * part, 30 * part + 30)))
    m.add("y", kind="main", formula=" + ".join(f"s{part}" for part in range(10)))
    sim = m.compile()
    with pytest.raises(RunError, match="--no-sobol"):
        sensitivity(sim, "y", n=10**9)  # n is never used: refused before the run
    small = sensitivity(sim, "y", n=500, sobol_samples=2)  # 2 * 302 * 300 values are fine
    assert small.sobol is not None and len(small.sobol.ST) == 300


# ---------------------------------------------------------------------------- data and reuse


def test_as_dict_is_the_issues_json(linear):
    data = json.loads(json.dumps(linear.as_dict(), allow_nan=False))
    assert set(data) == {
        "output",
        "samples",
        "seed",
        "method",
        "base",
        "tornado",
        "rank_correlation",
        "contribution_to_variance",
        "sobol",
    }
    assert (data["output"], data["samples"], data["seed"], data["method"]) == ("y", 20_000, 3, "mc")
    assert [set(bar) for bar in data["tornado"]] == [{"input", "low", "high", "swing"}] * 4
    swings = [bar["swing"] for bar in data["tornado"]]
    assert swings == sorted(swings, reverse=True)
    assert set(data["rank_correlation"]) == set(data["contribution_to_variance"]) == set(LINEAR)
    assert set(data["sobol"]) == {"S1", "ST", "S1_conf", "ST_conf"}
    assert all(set(v) == set(LINEAR) for v in data["sobol"].values())


def test_same_seed_same_numbers_other_seed_other_numbers():
    sim = linear_model().compile()
    first = sensitivity(sim, "y", n=3000, seed=9, sobol_samples=256)
    again = sensitivity(sim, "y", n=3000, seed=9, sobol_samples=256)
    other = sensitivity(sim, "y", n=3000, seed=10, sobol_samples=256)
    assert first.as_dict() == again.as_dict()
    assert first.rank_correlation != other.rank_correlation
    assert first.sobol != other.sobol
    assert first.tornado == other.tornado  # deterministic


def test_inputs_are_those_upstream_of_the_output_and_not_pinned():
    m = linear_model()
    m.add("z", estimate=[0, 1, 2], model="triangle")
    m.add("other", kind="main", formula="z * 2")
    m.add("k", value=4)
    m.add("scaled", kind="main", formula="a * k + b")
    sim = m.compile()
    result = sensitivity(sim, "y", n=1000, sobol_samples=64, overrides={"b": 3.0})
    assert {bar.input for bar in result.tornado} == {"a", "c", "d"}
    assert set(result.rank_correlation) == set(result.sobol.S1) == {"a", "c", "d"}
    pinned = sensitivity(sim, "scaled", n=1000, sobol=False, overrides={"k": 0.5})
    assert pinned.base == pytest.approx(5 * 0.5 + 3)
    with pytest.raises(RunError, match="did you mean 'k'"):
        sensitivity(sim, "y", n=1000, sobol=False, overrides={"kk": 1.0})


def test_an_unknown_output_says_what_was_meant():
    with pytest.raises(RunError, match="did you mean 'y'") as caught:
        sensitivity(linear_model().compile(), "yy", sobol=False)
    assert "\n" not in str(caught.value)


def test_a_business_case_key_figure_and_its_situation_inputs(business_case):
    result = sensitivity(business_case, "npv", n=4000, seed=2, sobol_samples=128)
    run = business_case.run(4000, seed=2)
    assert result.output == "npv"
    assert result.base == pytest.approx(run.business_case.key_figures["npv"].expected)
    inputs = {bar.input for bar in result.tornado}
    assert {"minutes_per_case@without", "minutes_per_case", "cases_per_year"} <= inputs
    labels = {bar.input: bar.label for bar in result.tornado}
    assert labels["minutes_per_case@without"].endswith("(without the project)")
    assert labels["minutes_per_case"].endswith("(with the project)")
    # fewer minutes per case with the project raise the NPV; more without it too
    assert (
        result.rank_correlation["minutes_per_case"]
        < 0
        < result.rank_correlation["minutes_per_case@without"]
    )
    assert set(result.sobol.ST) == inputs


def test_a_node_with_years_is_explained_as_its_total(business_case):
    result = sensitivity(business_case, "case_work", n=2000, sobol=False)
    run = business_case.run(2000, outputs=["case_work"])
    assert result.base == pytest.approx(run["case_work"].expected)


def test_report_text_lists_every_input(linear):
    text = sensitivity_report(linear, {"y": "The output"})
    assert text.startswith("Sensitivity of The output (y)")
    for heading in ("Tornado", "Rank correlation", "Sobol indices"):
        assert heading in text
    tornado = text.split("\n\n")[1].splitlines()
    assert [line.split()[0] for line in tornado[2:]] == ["c", "a", "b", "d"]


# ---------------------------------------------------------------------------- command line


def test_cli_business_case_json_to_stdout(capsys):
    path = EXAMPLES / "business_case.yaml"
    args = ["sensitivity", str(path), "--output", "npv", "-n", "2000", "--sobol-samples", "64"]
    assert main([*args, "--json", "-"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)  # stdout carries the JSON and nothing else
    assert data["output"] == "npv" and data["samples"] == 2000
    assert data["tornado"][0]["swing"] >= data["tornado"][-1]["swing"]
    assert "Tornado" in err and "Sobol indices" in err


def test_cli_case_handling_tables_and_json_file(tmp_path, capsys):
    out_file = tmp_path / "sensitivity.json"
    path = EXAMPLES / "case_handling.yaml"
    args = ["sensitivity", str(path), "--output", "case_work_gain", "-n", "3000", "--seed", "4"]
    assert (
        main([*args, "--no-sobol", "--set", "cases_per_year=40000", "--json", str(out_file)]) == 0
    )
    out, err = capsys.readouterr()
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert data["sobol"] is None and data["seed"] == 4
    assert "cases_per_year" not in data["rank_correlation"]  # pinned
    assert data["tornado"][0]["input"] == "minutes_per_case_today"
    assert "Tornado" in out and "Rank correlation" in out and "Sobol" not in out
    assert f"wrote {out_file}" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--output", "case_work_gian"], "did you mean 'case_work_gain'?"),
        ([], "needs --output NODE"),
        (["--output", "case_work_gain", "--sobol-samples", "100"], "power of two"),
        (["--output", "case_work_gain", "-o", "tornado.jpg"], "unknown extension '.jpg'"),
        (["--output", "case_work_gain", "--variance-chart", "no/such/dir/v.svg"], "does not exist"),
    ],
)
def test_cli_mistakes_are_one_line_errors(capsys, extra, message):
    assert main(["sensitivity", str(EXAMPLES / "case_handling.yaml"), "-n", "100", *extra]) == 1
    out, err = capsys.readouterr()
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_cli_writes_the_tornado_and_contribution_charts(tmp_path, capsys):
    tornado, variance = tmp_path / "tornado.png", tmp_path / "variance.svg"
    path = EXAMPLES / "business_case.yaml"
    args = ["sensitivity", str(path), "--output", "npv", "-n", "2000", "--no-sobol"]
    assert main([*args, "-o", str(tornado), "--variance-chart", str(variance)]) == 0
    err = capsys.readouterr().err
    assert tornado.read_bytes().startswith(b"\x89PNG")
    text = variance.read_text(encoding="utf-8")
    assert "<svg" in text and "Contribution to variance" in text
    assert f"wrote {tornado}" in err and f"wrote {variance}" in err


def test_cli_rank_correlations_from_another_sampling_method(capsys):
    path = EXAMPLES / "case_handling.yaml"
    args = ["sensitivity", str(path), "--output", "case_work_gain", "-n", "4096", "--no-sobol"]
    assert main([*args, "--method", "lhs", "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "lhs" and data["samples"] == 4096


def test_the_simulator_method_is_the_function():
    sim = ag.load(EXAMPLES / "consultancy.yaml").compile()
    output = sim.case.reported[0]
    by_method = sim.sensitivity(output, n=5000, seed=2, sobol=False)
    assert by_method.as_dict() == sensitivity(sim, output, n=5000, seed=2, sobol=False).as_dict()


def test_an_output_no_input_reaches_says_so(tmp_path, capsys):
    path = tmp_path / "constant.yaml"
    path.write_text("nodes:\n  a: {value: 3, source: s}\n  y: {kind: main, formula: a * 2}\n")
    assert main(["sensitivity", str(path), "--output", "y", "-n", "1000"]) == 0
    assert "No uncertain input reaches it" in capsys.readouterr().out


def test_sobol_indices_of_an_output_that_does_not_vary_are_null(tmp_path, capsys):
    """Shares of a variance of 0 are undefined, like the rank correlations (the README: null)."""
    path = tmp_path / "flat.yaml"
    path.write_text(
        "nodes:\n  a: {estimate: [1, 2, 3], source: s}\n"
        "  y: {kind: main, formula: a * 0 + 5}\n"
    )
    assert main(["sensitivity", str(path), "--output", "y", "-n", "1000", "--json", "-"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["rank_correlation"] == {"a": None}
    assert found["sobol"] == {key: {"a": None} for key in ("S1", "ST", "S1_conf", "ST_conf")}
