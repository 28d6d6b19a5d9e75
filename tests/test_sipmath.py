"""SIPmath 3.0 libraries: the HDR generator, metalog fits, writing, reading, copulas."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from scipy.stats import spearmanr

import assumption_graph as ag
from assumption_graph.distributions import Discrete, Distribution, RiskEvent
from assumption_graph.io import dump
from assumption_graph.sipmath.hdr import hdr_uniforms
from assumption_graph.sipmath.library import library_from_data, read_library
from assumption_graph.sipmath.metalog import FIT_PROBABILITIES, FIT_TOLERANCE, Metalog, fit_metalog
from assumption_graph.sipmath.write import variable_ids, write_sip_library

from .commands import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DATA = Path(__file__).parent / "data"
SCHEMA = json.loads((DATA / "sipmath-3.0.schema.json").read_text())
# ProbabilityManagement.org's own schema and example library, from PySIPmath (see
# tests/data/PySIPmath.LICENSE): what its tools write and read.
PM_SCHEMA = json.loads((DATA / "multi-lib-schema-2021-08-19.json").read_text())
PM_LIBRARY = DATA / "Demand_Forecast_Library.SIPmath"
TRIALS = 2000


@pytest.fixture(scope="module")
def case_simulator() -> ag.Simulator:
    return ag.Simulator(ag.load(EXAMPLES / "business_case.yaml"))


@pytest.fixture(scope="module")
def case_library(case_simulator):
    return write_sip_library(case_simulator, TRIALS)


# --- HDR ------------------------------------------------------------------------

# Published HDR 2.0 trials. ProbabilityManagement.org's SIPmath tools for R ship a test
# library, probability-management/R-SIPmath-Tools, inst/extdata/TestLibrary.csv (commit
# 28943906849edcf86801a5c08279884c022973dd): six SIPs Test1 .. Test6 of 1,000 trials each
# with their averages and standard deviations, to 9 decimals, made by that package's
# HDRUniformGen (R/HDRRNG.R) with its default entity 1000. The file does not name the
# variable ids; a search of the first trial over ids 0 .. 10^8 finds 4649884 .. 4649889, in
# column order, and then every one of the 6,000 trials agrees with the file to its 9 decimals.
# varId -> ({PM_Index: trial}, average, standard deviation), as printed in the file.
PUBLISHED_ENTITY = 1000
PUBLISHED = {
    4649884: (
        {1: 0.991978071, 2: 0.442633913, 3: 0.261722511, 500: 0.509045756, 1000: 0.533755266},
        0.512851358,
        0.285248624,
    ),
    4649885: (
        {1: 0.558975693, 2: 0.579684712, 3: 0.701770217, 500: 0.551031635, 1000: 0.354559368},
        0.509490236,
        0.280970246,
    ),
    4649886: (
        {1: 0.712851699, 2: 0.208491421, 3: 0.976515563, 500: 0.314273626, 1000: 0.819115922},
        0.493982781,
        0.293405835,
    ),
    4649887: (
        {1: 0.582210877, 2: 0.361582247, 3: 0.942099491, 500: 0.699677815, 1000: 0.463064436},
        0.496365741,
        0.294632829,
    ),
    4649888: (
        {1: 0.656841209, 2: 0.317217307, 3: 0.073999229, 500: 0.551627868, 1000: 0.383118279},
        0.499124737,
        0.296226347,
    ),
    4649889: (
        {1: 0.248100952, 2: 0.764890287, 3: 0.672374428, 500: 0.35887866, 1000: 0.560400025},
        0.508131776,
        0.287861857,
    ),
}


@pytest.mark.parametrize("var_id", PUBLISHED)
def test_hdr_gives_the_published_trials_of_probability_managements_test_library(var_id):
    trials, average, stdev = PUBLISHED[var_id]
    u = hdr_uniforms(1000, var_id, PUBLISHED_ENTITY)
    for index, value in trials.items():  # PM_Index counts from 1
        assert round(float(u[index - 1]), 9) == value, index
    assert round(float(np.mean(u)), 9) == average
    assert round(float(np.std(u, ddof=1)), 9) == stdev


# (PM_Index, varId, entity, seed3, seed4) -> uniform: the HDR 2.0 formula evaluated in
# exact integers (the order of PySIPmath's chanceCalc.hdr) and in doubles (rmetalog's
# rHDR); the two agree to the last bit on each of these.
GOLDEN = {
    (1, 0, 0, 0, 0): 0.3000069559784606,
    (2, 0, 0, 0, 0): 0.6749957237625495,
    (3, 0, 0, 0, 0): 0.5988403885858133,
    (1, 1, 0, 0, 0): 0.19655135844368488,
    (1, 1, 1, 0, 0): 0.9097355402773246,
    (10, 1, 1, 0, 0): 0.20358066505286843,
    (1, 1, 9039920, 0, 0): 0.871714549488388,
    (1000, 1, 9039920, 0, 0): 0.3528768179239705,
    (1, 2, 1, 3, 4): 0.7263179625151679,
    (5, 2, 1, 3, 4): 0.5422476603416726,
    (100000, 12345678, 87654321, 7, 9): 0.656925498158671,
}


@pytest.mark.parametrize("seeds", GOLDEN, ids=str)
def test_hdr_gives_the_golden_values_with_pm_index_from_1(seeds):
    index, var_id, entity, seed3, seed4 = seeds
    u = hdr_uniforms(1, var_id, entity, seed3, seed4, start=index - 1)
    assert u.tolist() == [GOLDEN[seeds]]


def _rhdr(trial: int, var_id: int, entity: int, seed3: int, seed4: int) -> float:
    """rmetalog's rHDR, transcribed in double-precision arithmetic as R computes it."""
    x = np.array([trial, var_id, entity, seed3, seed4], dtype=np.int64)
    s1 = float(x @ np.array([2499997, 1800451, 2000371, 1796777, 2299603]))
    s2 = float(x @ np.array([2246527, 2399993, 2100869, 1918303, 1624729]))
    big = 1e15 - 11
    first = math.fmod(math.fmod(big, math.fmod(s1, 7450589) * 4658 + 7450581) * 383, 99991)
    second = math.fmod(math.fmod(big, math.fmod(s2, 7450987) * 7580 + 7560584) * 17669, 7440893)
    return (math.fmod((first * 7440893 + second) * 1343, 2.0**32) + 0.5) / 2.0**32


def test_hdr_streams_agree_with_the_double_precision_formula():
    for var_id, entity in [(1, 0), (77, 1), (99_999_999, 99_999_999), (4_242_424, 123)]:
        u = hdr_uniforms(300, var_id, entity, start=1000)
        assert u.tolist() == [_rhdr(1001 + k, var_id, entity, 0, 0) for k in range(300)]
        assert 0.0 < u.min() and u.max() < 1.0


# --- the metalog ------------------------------------------------------------------


def _continuous_inputs():
    for name in ("consultancy.yaml", "case_handling.yaml", "business_case.yaml"):
        checked = ag.check(ag.load(EXAMPLES / name))
        for node in checked.model:
            body = node.body  # the models with steps or atoms fit no metalog
            if isinstance(body, Distribution) and not isinstance(body, Discrete | RiskEvent):
                yield pytest.param(node.body, id=f"{name}:{node.id}")


EXTRA = [
    ag.triangle(1, 2, 10),
    ag.triangle(1, 1, 3),
    ag.pert(1, 2, 10),
    ag.normal(10, 12),
    ag.lognormal(1, 0.5),
    ag.uniform(-3, 0, 4),
]


@pytest.mark.parametrize(
    "distribution", [*_continuous_inputs(), *EXTRA], ids=lambda d: getattr(d, "name", None)
)
def test_metalog_fit_is_within_tolerance_at_99_probabilities(distribution):
    fitted, error = fit_metalog(distribution.quantile)
    expected = distribution.quantile(FIT_PROBABILITIES)
    span = expected[-1] - expected[0]
    assert np.max(np.abs(fitted.quantile(FIT_PROBABILITIES) - expected)) <= FIT_TOLERANCE * span
    assert error <= FIT_TOLERANCE == 0.001
    assert fitted.increasing()


def test_a_bounded_input_gets_its_bounds_and_an_unbounded_none():
    triangle, _ = fit_metalog(ag.triangle(1, 2, 10).quantile)
    normal, _ = fit_metalog(ag.normal(10, 12).quantile)
    lognormal, _ = fit_metalog(ag.lognormal(1, 0.5).quantile)
    assert (triangle.lower, triangle.upper) == (1.0, 10.0)
    assert (normal.lower, normal.upper) == (None, None)
    assert (lognormal.lower, lognormal.upper) == (0.0, None)


def test_bounded_metalog_is_keelins_form_with_a_lower_bound_not_0():
    """(bl + bu·e^M)/(1 + e^M): the median of a symmetric fit is the bounds' midpoint
    (chanceCalc's bl + bu·e^M/(1 + e^M) would give 10 + 20/2 = 20 here)."""
    both = Metalog((0.0, 1.0), 10.0, 20.0)
    y = np.array([0.1, 0.5, 0.9])
    m = np.log(y / (1 - y))
    assert both.quantile(y) == pytest.approx((10 + 20 * np.exp(m)) / (1 + np.exp(m)), rel=1e-15)
    assert both.quantile(np.array([0.5])).tolist() == [15.0]
    assert Metalog((0.0, 1.0), 10.0).quantile(y) == pytest.approx(10 + np.exp(m))
    assert Metalog((0.0, 1.0), None, 20.0).quantile(y) == pytest.approx(20 - np.exp(-m))


def test_a_discrete_input_fits_no_metalog():
    assert fit_metalog(ag.discrete(1, 2, 3, [0.2, 0.5, 0.3]).quantile) is None


# --- writing and reading ------------------------------------------------------------


def test_the_written_library_is_valid_sipmath_3(case_library):
    for schema in (SCHEMA, PM_SCHEMA):
        validator = jsonschema.validators.validator_for(schema)(schema)
        assert [e.message for e in validator.iter_errors(case_library.data)] == []
    text = json.dumps(case_library.data, allow_nan=False)  # plain JSON: raises on NaN or inf
    assert json.loads(text)["sips"] and json.loads(text)["name"] == case_library.data["name"]


def test_the_library_holds_inputs_outputs_and_key_figures(case_library, case_simulator):
    sips = {s["name"]: s for s in case_library.data["sips"]}
    assert len(sips) == len(case_library.data["sips"])  # each name once
    for node_id in case_simulator.random_inputs():
        expected = "SIP_Array" if node_id in case_library.stored_inputs else "Metalog_1_0"
        assert sips[node_id]["function"] == expected
    assert set(case_library.stored_inputs) == {"supplier_delay", "supplier_rate"}
    for name in ("npv", "irr", "net_gain", "case_work", "licences@without"):
        assert sips[name]["function"] == "SIP_Array"
        assert len(sips[name]["arguments"]["value"]) == TRIALS


def test_variable_ids_do_not_change_when_other_inputs_are_added():
    few = variable_ids(["hours", "rate"])
    more = variable_ids(["hours", "rate", "travel", "licences", "a", "zz"])
    assert few == {k: more[k] for k in few}
    assert len(set(more.values())) == len(more)


def test_round_trip_reads_back_the_same_trials(case_library, case_simulator, tmp_path):
    path = tmp_path / "lib.json"
    path.write_text(json.dumps(case_library.data))
    library = read_library(path)
    sips = {s["name"]: s for s in case_library.data["sips"]}
    stored = [s["name"] for s in case_library.data["sips"] if s["function"] == "SIP_Array"]
    read = library.trials(stored, 0, TRIALS)
    for row, name in zip(read, stored, strict=True):
        written = np.array([np.nan if v is None else v for v in sips[name]["arguments"]["value"]])
        np.testing.assert_array_equal(row, written)
    node = case_simulator.case.key_figures["npv"]
    np.testing.assert_array_equal(
        library.trials(["npv"], 0, TRIALS)[0], case_library.result.arrays[node]
    )
    # a virtual SIP: its generator's HDR uniforms through the bounded metalog, by hand
    sip = sips["advisory"]
    seeds = sip and next(r for r in case_library.data["U01"]["rng"] if r["name"] == "advisory")
    args = seeds["arguments"]
    u = np.array([_rhdr(i, args["varId"], args["entity"], 0, 0) for i in range(1, 11)])
    a, low, high = (
        sip["arguments"]["aCoefficients"],
        sip["arguments"]["lowerBound"],
        sip["arguments"]["upperBound"],
    )
    m = a[0] + a[1] * np.log(u / (1 - u))
    np.testing.assert_allclose(
        library.trials(["advisory"], 0, 10)[0],
        (low + high * np.exp(m)) / (1 + np.exp(m)),
        rtol=1e-13,
    )


def test_a_run_from_the_library_gives_its_stored_outputs(case_library, case_simulator):
    library = library_from_data(case_library.data)
    result = case_simulator.run(TRIALS, 99, sip_library=library, keep_samples=True)
    assert (
        result.summaries["case_work"].expected
        == case_library.result.summaries["case_work"].expected
    )
    np.testing.assert_array_equal(
        result.arrays["case_work"], library.trials(["case_work"], 0, TRIALS)[0]
    )


def test_the_copula_achieves_its_rank_correlations_within_mc_error(case_library, case_simulator):
    library = library_from_data(case_library.data)
    n = 20_000
    pairs = [c.pair for c in case_simulator.model.correlations]
    ids = sorted({x for a, b, _ in pairs for x in (a, b)})
    trials = dict(zip(ids, library.trials(ids, 0, n), strict=True))
    for a, b, rho in pairs:
        achieved = spearmanr(trials[a], trials[b]).statistic
        assert abs(achieved - rho) < 4 * (1 - rho**2) / math.sqrt(n), (a, b, achieved)


def test_a_library_copula_from_another_tool_is_read():
    """A hand-made library as other tools write it: the copula's matrix by name, rows in order."""
    data = {
        "name": "two",
        "U01": {
            "rng": [
                {
                    "name": "h1",
                    "function": "HDR_2_0",
                    "arguments": {
                        "counter": "PM_Index",
                        "entity": 1,
                        "varId": 1,
                        "seed3": 0,
                        "seed4": 0,
                    },
                },
                {
                    "name": "h2",
                    "function": "HDR_2_0",
                    "arguments": {
                        "counter": "PM_Index",
                        "entity": 1,
                        "varId": 2,
                        "seed3": 0,
                        "seed4": 0,
                    },
                },
            ],
            "copula": [
                {
                    "name": "g",
                    "function": "GaussianCopula",
                    "copulaLayer": ["c1", "c2"],
                    "arguments": {
                        "correlationMatrix": {"type": "globalVariables", "value": "m"},
                        "rng": ["h1", "h2"],
                    },
                }
            ],
        },
        "globalVariables": [
            {
                "name": "m",
                "value": {
                    "columns": ["x", "y"],
                    "rows": ["x", "y"],
                    "matrix": [
                        {"row": "x", "col": "x", "value": 1.0},
                        {"row": "x", "col": "y", "value": -0.8},
                        {"row": "y", "col": "y", "value": 1.0},
                    ],
                },
            }
        ],
        "sips": [
            {
                "name": "x",
                "ref": {"source": "copula", "name": "g", "copulaLayer": "c1"},
                "function": "Metalog_1_0",
                "arguments": {"aCoefficients": [0, 1]},
            },
            {
                "name": "y",
                "ref": {"source": "copula", "name": "g", "copulaLayer": "c2"},
                "function": "Metalog_1_0",
                "arguments": {"aCoefficients": [5, 2], "lowerBound": 0},
            },
        ],
    }
    x, y = library_from_data(data).trials(["x", "y"], 0, 20_000)
    rho = 6 / math.pi * math.asin(-0.8 / 2)
    assert abs(spearmanr(x, y).statistic - rho) < 4 * (1 - rho**2) / math.sqrt(20_000)
    u = hdr_uniforms(20_000, 1, 1)  # the first layer is the first generator's, unmixed
    np.testing.assert_allclose(x, np.log(u / (1 - u)), rtol=1e-12)


def test_probability_managements_example_library_is_read_as_chancecalc_reads_it():
    """PySIPmath's example library (a 10-term metalog bounded below at 1239, HDR seeds
    varId 2, entity 1, seed3 3, seed4 4): its trials are ``bl + e^M`` of Keelin's basis
    at the HDR uniforms, the lower-bounded form chanceCalc gets right."""
    data = json.loads(PM_LIBRARY.read_text())
    jsonschema.validate(data, PM_SCHEMA)
    trials = read_library(PM_LIBRARY).trials(["Demand_Forecast"], 0, 1000)[0]
    y = hdr_uniforms(1000, var_id=2, entity=1, seed3=3, seed4=4)
    logit, centred = np.log(y / (1 - y)), y - 0.5
    basis = [np.ones_like(y), logit, centred * logit, centred]
    basis += [centred ** ((t - 1) // 2) * (logit if t % 2 == 0 else 1) for t in range(5, 11)]
    m = np.asarray(data["sips"][0]["arguments"]["aCoefficients"]) @ np.array(basis)
    np.testing.assert_allclose(trials, 1239 + np.exp(m), rtol=1e-12)


def test_seeds_written_as_whole_floats_are_read():
    """ProbabilityManagement.org's PySIPmath app writes its seeds as floats ("varId": 1.0)."""

    def library(var_id: object, entity: object) -> dict:
        seeds = {"counter": "PM_Index", "entity": entity, "varId": var_id, "seed3": 0.0}
        return {
            "name": "floats",
            "U01": {"rng": [{"name": "h", "function": "HDR_2_0", "arguments": seeds}]},
            "sips": [
                {
                    "name": "x",
                    "ref": {"source": "rng", "name": "h"},
                    "function": "Metalog_1_0",
                    "arguments": {"aCoefficients": [10.0, 2.0]},
                }
            ],
        }

    floats = library_from_data(library(1.0, 0.0)).trials(["x"], 0, 50)
    whole = library_from_data(library(1, 0)).trials(["x"], 0, 50)
    np.testing.assert_array_equal(floats, whole)
    u = hdr_uniforms(50, var_id=1, entity=0)
    np.testing.assert_allclose(floats[0], 10 + 2 * np.log(u / (1 - u)), rtol=1e-13)


# --- the command line ---------------------------------------------------------------


def test_export_sipmath_then_run_with_the_library(capsys, tmp_path):
    lib = tmp_path / "lib.json"
    code, _, err = run_cli(
        capsys,
        "export",
        EXAMPLES / "consultancy.yaml",
        "--sipmath",
        lib,
        "-n",
        500,
        "--sip-entity",
        42,
        "--quiet",
    )
    assert code == 0, err
    data = json.loads(lib.read_text())
    jsonschema.validate(data, SCHEMA)
    jsonschema.validate(data, PM_SCHEMA)
    assert {r["arguments"]["entity"] for r in data["U01"]["rng"] if r["function"] == "HDR_2_0"} == {
        42
    }
    code, out, err = run_cli(
        capsys,
        "run",
        EXAMPLES / "consultancy.yaml",
        "--sip-library",
        lib,
        "-n",
        500,
        "--json",
        "-",
        "--quiet",
    )
    assert code == 0, err
    assert "inputs from the SIP library" in err and ": hours" in err
    stored = next(s for s in data["sips"] if s["name"] == "consultancy")["arguments"]["value"]
    assert json.loads(out)["nodes"]["consultancy"]["mean"] == pytest.approx(
        np.mean(stored), rel=1e-12
    )


def test_an_input_pinned_by_set_is_not_said_to_come_from_the_library(capsys, tmp_path):
    lib = tmp_path / "lib.json"
    model = EXAMPLES / "consultancy.yaml"
    assert run_cli(capsys, "export", model, "--sipmath", lib, "-n", 200, "--quiet")[0] == 0
    code, out, err = run_cli(
        capsys, "run", model, "--sip-library", lib, "-n", 200, "--set", "hours=1000", "--json", "-"
    )
    assert code == 0, err
    assert "inputs from the SIP library" in err and ": none (" in err and "hours" not in err
    assert json.loads(out)["nodes"]["consultancy"]["std"] == 0.0  # the pin, not the SIP


def test_the_model_key_sip_library_is_read_beside_the_model(capsys, tmp_path):
    lib = tmp_path / "lib.json"
    assert (
        run_cli(
            capsys, "export", EXAMPLES / "consultancy.yaml", "--sipmath", lib, "-n", 300, "--quiet"
        )[0]
        == 0
    )
    model = tmp_path / "model.yaml"
    model.write_text("sip_library: lib.json\n" + (EXAMPLES / "consultancy.yaml").read_text())
    assert ag.load(model).sip_library == "lib.json"
    assert dump(ag.load(model))["sip_library"] == "lib.json"  # saved as read
    code, _, err = run_cli(capsys, "run", model, "-n", 300, "--quiet")
    assert code == 0, err
    assert "inputs from the SIP library" in err and "hours" in err


def test_a_run_longer_than_the_stored_trials_is_refused(capsys, tmp_path):
    lib = tmp_path / "lib.json"
    assert (
        run_cli(
            capsys,
            "export",
            EXAMPLES / "case_handling.yaml",
            "--sipmath",
            lib,
            "-n",
            300,
            "--quiet",
        )[0]
        == 0
    )
    code, _, err = run_cli(
        capsys, "run", EXAMPLES / "case_handling.yaml", "--sip-library", lib, "-n", 301, "--quiet"
    )
    assert code == 2 and "stores 300 trials" in err


NOT_LIBRARIES = [
    "{",
    "[]",
    '{"sips": [{"function": "Metalog_1_0"}]}',
    '{"sips": [{"name": "hours", "function": "Metalog_1_0", "arguments": {}}]}',
    '{"sips": [{"name": "hours", "function": "SIP_Array", "arguments": {"value": ["x"]}}]}',
    '{"sips": [{"name": "hours", "function": "Metalog_1_0", "arguments": {"aCoefficients": [1]},'
    ' "ref": {"source": "rng", "name": "h"}}], "U01": {"rng": [{"name": "h",'
    ' "function": "HDR_2_0", "arguments": {"varId": -1}}]}}',
    '{"sips": [{"name": "hours", "function": "Metalog_1_0", "arguments": {"aCoefficients": [1]},'
    ' "ref": {"source": "rng", "name": "h"}}], "U01": {"rng": [{"name": "h",'
    ' "function": "HDR_2_0", "arguments": {"varId": 1.5}}]}}',
]


@pytest.mark.parametrize("text", NOT_LIBRARIES)
def test_a_file_that_is_no_library_is_refused(capsys, tmp_path, text):
    lib = tmp_path / "lib.json"
    lib.write_text(text)
    code, _, err = run_cli(
        capsys, "run", EXAMPLES / "consultancy.yaml", "--sip-library", lib, "-n", 10
    )
    assert code == 2 and "library" in err and "internal error" not in err, err


def test_export_needs_an_output(capsys):
    code, _, err = run_cli(capsys, "export", EXAMPLES / "consultancy.yaml")
    assert code == 2 and "--sipmath" in err
