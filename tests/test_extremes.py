"""Extreme numbers: refused by ``check`` when a model's arithmetic would overflow, and
never hidden at run time.

Every probability model declares how large the numbers its sampler, numpy twin,
quantile, figures and variance compute become (``Distribution.magnitude``); ``check``
refuses a model whose numbers pass float64's largest (code ``scale``), so no run
crashes or silently clamps its draws. The business case's horizon and discount
rate have bounds. What can still overflow at run time (a constant or a formula,
``1e200 * 1e200``) is counted in ``nonfinite``, and the mean and standard deviation
of finite samples are reported even when their plain sums overflow.

The models are written as JSON (whose numbers are read as numbers in any form) and
run through the command line in-process, the kernel loaded once per session.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph.business import MAX_HORIZON, RATE_RANGE, YEAR_RANGE
from assumption_graph.cli import main
from assumption_graph.compile.reference import simulate
from assumption_graph.distributions import (
    MODELS,
    RISK_CONSEQUENCES,
    TAIL_U,
    Discrete,
    DiscreteValues,
    Distribution,
    Fixed,
    LogNormal,
    Metalog,
    Normal,
    Pert,
    RiskEvent,
    Triangle,
    Uniform,
    UniformValues,
)
from assumption_graph.io import read_model
from assumption_graph.results import summarise
from assumption_graph.validate import check

ROOT = Path(__file__).resolve().parent.parent
N = 1000
HUGE = sys.float_info.max  # 1.797e308


def call(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """The command line in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, nodes: dict[str, Any], **top: Any) -> Path:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"name": "extreme", **top, "nodes": nodes}), encoding="utf-8")
    return path


def one_input(body: dict[str, Any]) -> dict[str, Any]:
    """An input ``x`` with ``body`` and a main node showing it."""
    return {"x": {**body, "source": "test"}, "total": {"kind": "main", "formula": "x"}}


def run_json(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, Any]:
    code, out, err = call(capsys, "run", "-n", N, "--json", "-", path)
    assert code == 0, err
    return json.loads(out)


def assert_refused(capsys: pytest.CaptureFixture[str], path: Path, code: str, text: str) -> str:
    """``check`` and ``run`` both stop with one clean ``code`` error holding ``text``."""
    for command in (("check",), ("run", "-n", N, "--json", "-")):
        status, out, err = call(capsys, *command, path)
        said = out + err
        assert status == 1, said
        assert "Traceback" not in said and "internal error" not in said, said
        assert f"error {code}:" in said, said
        assert text in said, said
    return said


# ---------------------------------------------------------------------------- models

# Each registered model (and the two ``values:`` forms) with parameters that make
# its draws, mean or variance pass float64's largest number.
HUGE_MODELS: dict[str, dict[str, Any]] = {
    "uniform": {"model": "uniform", "estimate": [-1e308, 0, 1e308]},
    "random": {"model": "random", "estimate": [-1e308, 0, 1e308]},
    "triangle": {"model": "triangle", "estimate": [-1.7e308, 0, 1.7e308]},
    "discrete": {
        "model": "discrete",
        "estimate": [-1e308, 0, 1e308],
        "probabilities": [0.2, 0.6, 0.2],
    },
    "pert": {"model": "pert", "estimate": [0, 1e308, 1e308]},
    "normal": {"model": "normal", "mean": 0, "sd": 1e200},
    "lognormal": {"model": "lognormal", "mu": 700, "sigma": 10},
    "metalog": {"model": "metalog", "estimate": [-1e308, 0, 1e308]},
    "risk_event": {"model": "risk_event", "probability": 0.5, "estimate": [1e200, 2e200, 3e200]},
    "trigen": {"model": "trigen", "estimate": [-1e308, 0, 1e308]},
    "discrete values": {
        "model": "discrete",
        "values": [-1e200, 1e200],
        "probabilities": [0.5, 0.5],
    },
    "uniform values": {"model": "uniform", "values": [-1e200, 0, 1e200]},
}

# The cases and the ones that lied without a word, beyond HUGE_MODELS.
HUGE_CASES: dict[str, dict[str, Any]] = {
    "three 1e308 (the mean's sum)": {"estimate": [1e308, 1e308, 1e308]},
    "triangle whose sampler squares its span": {"estimate": [1e100, 1e150, 1e160]},
    "pert spanning the whole range": {"model": "pert", "estimate": [-1e308, 0, 1e308]},
    "normal from an estimate too wide": {"model": "normal", "estimate": [-1.7e308, 0, 1.7e308]},
    "lognormal whose tail draws overflow": {"model": "lognormal", "mu": 650, "sigma": 6},
    "lognormal from an estimate too wide": {
        "model": "lognormal",
        "estimate": [1e-300, 1, 1e300],
    },
    "risk event with a pert consequence": {
        "model": "risk_event",
        "probability": 0.1,
        "estimate": [0, 1e308, 1e308],
        "consequence_model": "pert",
    },
}

# The same models at sizes a business case meets (1e12 thousand kroner), and near the
# limit: these must pass and run with every sample finite.
FINE_MODELS: dict[str, dict[str, Any]] = {
    "fixed": {"model": "fixed", "estimate": [1.7e308, 1.7e308, 1.7e308]},
    "uniform": {"model": "uniform", "estimate": [1e12, 2e12, 3e12]},
    "random": {"model": "random", "estimate": [1e12, 2e12, 3e12]},
    "triangle": {"model": "triangle", "estimate": [1e150, 2e150, 3e150]},
    "discrete": {
        "model": "discrete",
        "estimate": [1e12, 2e12, 3e12],
        "probabilities": [0.2, 0.6, 0.2],
    },
    "pert": {"model": "pert", "estimate": [1e12, 2e12, 3e12]},
    "normal": {"model": "normal", "mean": 2e12, "sd": 1e11},
    "lognormal": {"model": "lognormal", "mu": math.log(2e12), "sigma": 0.5},
    "metalog": {"model": "metalog", "estimate": [1e12, 2e12, 3e12]},
    "risk_event": {"model": "risk_event", "probability": 0.3, "estimate": [1e12, 2e12, 3e12]},
    "trigen": {"model": "trigen", "estimate": [1e12, 2e12, 3e12]},
    "discrete values": {"model": "discrete", "values": [1e12, 3e12], "probabilities": [0.5, 0.5]},
    "uniform values": {"model": "uniform", "values": [1.7e308, 1.7e308]},
}


def model_class(body: dict[str, Any]) -> type:
    if "values" in body:
        return DiscreteValues if body["model"] == "discrete" else UniformValues
    return MODELS[body["model"]]


def test_every_registered_model_has_a_huge_and_a_fine_case() -> None:
    every = {*MODELS.values(), DiscreteValues, UniformValues}
    assert {model_class(b) for b in FINE_MODELS.values()} == every
    # A fixed value cannot overflow: its draws, mean and variance are the value itself.
    assert {model_class(b) for b in HUGE_MODELS.values()} == every - {MODELS["fixed"]}
    assert set(MODELS) <= set(HUGE_MODELS) | {"fixed"}


@pytest.mark.parametrize(
    "body", [*HUGE_MODELS.values(), *HUGE_CASES.values()], ids=[*HUGE_MODELS, *HUGE_CASES]
)
def test_check_refuses_a_model_whose_numbers_overflow(capsys, tmp_path, body) -> None:
    said = assert_refused(capsys, write(tmp_path, one_input(body)), "scale", "'x'")
    assert "larger unit" in said and "1.8e+308" in said


@pytest.mark.parametrize("body", FINE_MODELS.values(), ids=list(FINE_MODELS))
def test_large_but_representable_models_run_with_every_sample_finite(
    capsys, tmp_path, body
) -> None:
    code, out, err = call(capsys, "check", write(tmp_path, one_input(body)))
    assert code == 0, out + err
    figures = run_json(capsys, write(tmp_path, one_input(body)))["nodes"]["total"]
    assert figures["nonfinite"] == 0
    for key in ("mean", "std", "min", "max", "mean_se"):
        assert figures[key] is not None and math.isfinite(figures[key]), key
    assert figures["min"] <= figures["mean"] <= figures["max"]


def test_a_situation_names_its_estimate_too(capsys, tmp_path) -> None:
    nodes = {
        "x": {
            "situation": {"without": {"value": 1}, "with": {"estimate": [-1.7e308, 0, 1.7e308]}},
            "source": "test",
        },
        "total": {"kind": "main", "formula": "x"},
    }
    assert_refused(capsys, write(tmp_path, nodes), "scale", "'x'")


def test_the_factories_refuse_it_too() -> None:
    from assumption_graph import distributions as d
    from assumption_graph.errors import ModelError

    with pytest.raises(ModelError, match="larger unit"):
        d.lognormal(700, 10)
    with pytest.raises(ModelError, match="larger unit"):
        d.triangle(-1.7e308, 0, 1.7e308)
    assert d.triangle(1e150, 2e150, 3e150).magnitude() < HUGE


def _huge(draw: st.DrawFn) -> float:
    """A number of any magnitude up to float64's largest, either sign."""
    scaled = draw(st.floats(1.0, 10.0)) * 10.0 ** draw(st.integers(-5, 308))  # inf past HUGE
    return draw(st.sampled_from([-1.0, 1.0])) * min(scaled, HUGE)


@st.composite
def any_model(draw: st.DrawFn) -> Distribution:
    """Every model, with numbers of any magnitude (most are refused)."""
    low, mid, high = sorted(_huge(draw) for _ in range(3))
    values = tuple(_huge(draw) for _ in range(3))
    return draw(
        st.sampled_from(
            [
                Fixed(mid),
                Uniform(low, mid, high),
                Triangle(low, mid, high),
                Discrete(low, mid, high, (0.2, 0.5, 0.3)),
                Pert(low, mid, high),
                Normal(mid, abs(high)),
                LogNormal(draw(st.floats(-800, 800)), draw(st.floats(0, 40))),
                Metalog(low, mid, high),
                RiskEvent(0.3, (low, mid, high), draw(st.sampled_from(RISK_CONSEQUENCES))),
                DiscreteValues(values, (0.2, 0.3, 0.5)),
                UniformValues(values),
            ]
        )
    )


TAILS = np.array([TAIL_U, 2.0**-53, 0.5, 1.0 - 2.0**-53])


@settings(max_examples=150, deadline=None)
@given(any_model())
def test_a_model_check_accepts_computes_only_finite_numbers(model: Distribution) -> None:
    """Draws (the numpy twin, bit for bit the kernel's), quantiles out to the farthest
    uniform, figures and the summary's mean and std are all finite when check says ok."""
    if model.problems():
        return
    with np.errstate(over="raise"):  # an overflow anywhere is a failure, not an inf
        draws = model.sample_array(7, np.arange(500, dtype=np.uint64))
        ends = model.quantile(TAILS)
    figures = [model.low, model.mid, model.high, model.mean, model.weighted]
    assert np.all(np.isfinite(draws)) and np.all(np.isfinite(ends)), model
    assert all(math.isfinite(x) for x in figures), model
    summary = summarise(draws, {})
    assert summary.nonfinite == 0 and summary.mean is not None and summary.std is not None


# ---------------------------------------------------------------------------- business case


def case_model(**settings: Any) -> dict[str, Any]:
    case = {"start_year": 2025, "end_year": 2027, "discount_rate": 0.05, **settings}
    nodes = {
        "build": {
            "kind": "main",
            "side": "cost",
            "category": "tangible",
            "year": case["start_year"],
            "value": 100,
            "source": "s",
        },
        "save": {
            "kind": "main",
            "side": "gain",
            "year": case["end_year"],
            "value": 300,
            "source": "s",
        },
    }
    return {"business_case": case, "nodes": nodes}


@pytest.mark.parametrize(
    ("settings", "code", "text"),
    [
        ({"end_year": 2025 + 1_000_000}, "case-years", "not a calendar year"),
        ({"start_year": 1, "end_year": 9999}, "case-years", f"at most {MAX_HORIZON} years"),
        ({"end_year": 2025 + MAX_HORIZON}, "case-years", f"at most {MAX_HORIZON} years"),
        ({"start_year": 0, "end_year": 2}, "case-years", "between 1 and 9999"),
        ({"start_year": 99_999, "end_year": 99_999}, "case-years", "between 1 and 9999"),
        ({"discount_rate": 1e300}, "discount-rate", "above 10"),
        ({"discount_rate": 11}, "discount-rate", "above 10"),
        ({"discount_rate": -0.95}, "discount-rate", "below -0.9"),
    ],
    ids=[
        "a million years",
        "ten thousand years",
        "one year too many",
        "year 0",
        "a five-digit year",
        "a rate of 1e300",
        "a rate of 1100 %",
        "a rate of -95 %",
    ],
)
def test_check_bounds_the_business_case(capsys, tmp_path, settings, code, text) -> None:
    data = case_model(**settings)
    assert_refused(
        capsys, write(tmp_path, data["nodes"], business_case=data["business_case"]), code, text
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"end_year": 2025 + MAX_HORIZON - 1, "discount_rate": RATE_RANGE[0]},
        {"end_year": 2025 + MAX_HORIZON - 1, "discount_rate": RATE_RANGE[1]},
        {"start_year": YEAR_RANGE[1], "end_year": YEAR_RANGE[1]},
        {"start_year": YEAR_RANGE[0], "end_year": YEAR_RANGE[0] + 1},
    ],
    ids=[
        "the longest horizon at the lowest rate",
        "the longest horizon at the highest rate",
        "the last year",
        "the first year",
    ],
)
def test_the_bounds_themselves_run_with_finite_key_figures(capsys, tmp_path, settings) -> None:
    data = case_model(**settings)
    path = write(tmp_path, data["nodes"], business_case=data["business_case"])
    code, out, err = call(capsys, "check", path)
    assert code == 0 and " 0 error(s)" in out, out + err
    figures = run_json(capsys, path)["business_case"]["key_figures"]
    assert figures["npv"]["nonfinite"] == 0
    assert math.isfinite(figures["npv"]["mean"])


# ---------------------------------------------------------------------------- run time


OVERFLOW_NODES: dict[str, Any] = {
    "big": {"value": 1e200, "source": "test"},
    "x": {"model": "uniform", "estimate": [0, 1, 2], "source": "test"},
    "squared": {"kind": "main", "formula": "big * big"},
    "partly": {"kind": "main", "formula": "(x * 1e154) * (x * 1e154)"},
}


def test_formula_overflow_is_counted_as_nonfinite_by_kernel_and_reference(capsys, tmp_path):
    path = write(tmp_path, OVERFLOW_NODES)
    nodes = run_json(capsys, path)["nodes"]
    assert nodes["squared"]["nonfinite"] == N
    assert nodes["squared"]["mean"] is None
    model, problems = read_model(path)
    assert problems == []
    reference = simulate(check(model), N, 0, ["partly"])["partly"]
    overflowed = int(np.count_nonzero(~np.isfinite(reference)))
    assert 0 < overflowed < N  # x * x > 1.8 overflows: about a third of the draws
    assert nodes["partly"]["nonfinite"] == overflowed
    assert nodes["partly"]["max"] is not None and nodes["partly"]["max"] <= HUGE


def test_mean_and_std_of_huge_finite_samples_are_reported(capsys, tmp_path) -> None:
    nodes = {
        "huge": {"value": 1.7e308, "source": "test"},
        "x": {"model": "uniform", "estimate": [1, 1.5, 2], "source": "test"},
        "constant": {"kind": "main", "formula": "huge"},
        "spread": {"kind": "main", "formula": "x * 1e307"},
    }
    figures = run_json(capsys, write(tmp_path, nodes))["nodes"]
    constant, spread = figures["constant"], figures["spread"]
    assert constant["nonfinite"] == 0
    assert constant["mean"] == 1.7e308 and constant["std"] <= 1e-15 * 1.7e308
    assert spread["nonfinite"] == 0
    # uniform on [1e307, 2e307]: mean 1.5e307, sd 1e307 / sqrt(12)
    sd = 1e307 / math.sqrt(12)
    assert spread["mean_se"] == pytest.approx(sd / math.sqrt(N), rel=0.1)
    assert abs(spread["mean"] - 1.5e307) < 5 * sd / math.sqrt(N)
    assert spread["std"] == pytest.approx(sd, rel=5 * 0.014)  # SE of a uniform's sd ≈ 1.4 %


def test_summary_is_unchanged_where_nothing_overflows() -> None:
    rng = np.random.default_rng(1)
    samples = rng.normal(1e6, 1e5, 5000)
    summary = summarise(samples, {})
    assert summary.mean == float(np.mean(samples))
    assert summary.std == float(np.std(samples, ddof=1))


def test_summary_spans_the_whole_float_range() -> None:
    samples = np.array([-HUGE, -1e308, 0.0, 1e308, HUGE, np.inf, np.nan])
    summary = summarise(samples, {})
    assert summary.nonfinite == 2
    assert abs(summary.mean) <= 1e-15 * HUGE  # 0 but for the scaled sum's rounding
    assert summary.min == -HUGE and summary.max == HUGE
    assert summary.percentiles[50.0] == 0.0
    assert all(v is not None for v in summary.percentiles.values())
    # the true sd is about 1.5e308: representable, so reported
    assert summary.std is not None and 1e308 < summary.std < HUGE


def test_summary_of_the_two_ends_of_the_float_range() -> None:
    summary = summarise(np.array([-HUGE, HUGE]), {})
    assert summary.nonfinite == 0 and abs(summary.mean) <= 1e-15 * HUGE
    assert summary.percentiles[50.0] == 0.0
    assert summary.percentiles[5.0] == pytest.approx(-0.9 * HUGE)
    assert all(v is not None for v in summary.percentiles_se.values())
    assert summary.std is None  # HUGE·sqrt(2) is past float64: the one case it is null


@pytest.mark.parametrize("exponent", [-1000, -700, -520])
def test_std_of_tiny_samples_is_not_lost_in_underflow(exponent) -> None:
    """Squares of numbers below 2**-511 underflow: a std of 0 for samples that differ is a lie.
    Scaled by a power of two (exact) the same samples give the std scaled by it."""
    rng = np.random.default_rng(2)
    base = rng.uniform(1, 3, 1000)
    summary = summarise(np.ldexp(base, exponent), {})
    expected = math.ldexp(float(np.std(base, ddof=1)), exponent)
    assert summary.std == pytest.approx(expected, rel=1e-12)
    assert summary.mean == pytest.approx(math.ldexp(float(np.mean(base)), exponent), rel=1e-12)
    assert summary.mean_se == pytest.approx(expected / math.sqrt(1000), rel=1e-12)


def test_sobol_indices_of_an_output_whose_variance_overflows(capsys, tmp_path) -> None:
    """Indices are ratios of variances: the same at 2**1000 (1e301) as at 1, not 0 from an
    overflow (bit for bit, as a power of two scales exactly)."""
    found = []
    for scale in (1.0, 2.0**1000):
        nodes = {
            "scale": {"value": scale, "source": "test"},
            "x": {"model": "uniform", "estimate": [0, 1, 2], "source": "test"},
            "y": {"model": "uniform", "estimate": [0, 1, 2], "source": "test"},
            "total": {"kind": "main", "formula": "scale * (x + 3 * y)"},
        }
        path = write(tmp_path, nodes)
        argv = ("sensitivity", "-n", 200, "--sobol-samples", 64, "--output", "total")
        code, out, err = call(capsys, *argv, "--json", "-", path)
        assert code == 0, err
        found.append(json.loads(out)["sobol"])
    assert found[1] == found[0]
    assert found[0]["S1"]["y"] > 0.5
