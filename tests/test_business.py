"""The business-case layer: key figures, risk adjustment, buffer, risks, JSON, comparison.

Every expected number is worked out by hand in the test from the model text in
:mod:`tests.business_models` (years, profiles and phase months counted by hand),
or from an independent computation (scipy's root finder, numpy percentiles,
analytic means and variances). Statistical tolerances are a few standard errors
at fixed seeds.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from assumption_graph.compile.reference import simulate

from .business_models import (
    BEST_WORST,
    CRN,
    FIGURE_FIELDS,
    FIGURES,
    LINEAR,
    RISKS,
    SPREAD,
    WEIGHTED,
    simulator,
    with_high_risk,
)

NODE_FIELDS = {"expected", "weighted", "best", "worst", "mean", "mean_se", "std", "min", "max",
               "percentiles", "percentiles_se", "nonfinite"}
COLUMNS = ("expected", "weighted", "best", "worst")


def npv(flows, rate: float) -> float:
    return math.fsum(f / (1.0 + rate) ** t for t, f in enumerate(flows))


def irr_by_root_finder(flows, low: float = -0.9, high: float = 10.0) -> float:
    return brentq(lambda r: npv(flows, r), low, high, xtol=1e-15)


def mirr_by_hand(flows, rate: float) -> float:
    n = len(flows) - 1
    future = sum(f * (1.0 + rate) ** (n - t) for t, f in enumerate(flows) if f > 0)
    present = -sum(f / (1.0 + rate) ** t for t, f in enumerate(flows) if f < 0)
    return (future / present) ** (1.0 / n) - 1.0


def figures_of(result) -> dict:
    return result.to_dict()["business_case"]["key_figures"]


@pytest.fixture(scope="module")
def spread():
    return simulator(SPREAD).run(500, 1)


# ---------------------------------------------------------------------------- expected figures


# SPREAD by hand, years 2025..2028:
#   study 400, analysis 2025-04..09           -> 2025: 400
#   build 1200, implementation 2025-10..2026-09 (3 + 9 months) -> 2025: 300, 2026: 900
#   hardware 100 in 2026
#   licence without 0 / with 200, profile 0.5, 1, 1 over 2026..2028
#   staff_work without 2000 / with 600, profile 0.25, 1, 1 over 2026..2028
#   rent 50 in each of 2025..2028, the same without and with
#   postage gain 80 in 2027 and 2028
SPREAD_COST = [700.0, 1000.0, 0.0, 0.0]
SPREAD_WITHOUT = [50.0, 50.0 + 0.25 * 2000, 50.0 + 2000, 50.0 + 2000]
SPREAD_WITH = [50.0, 50.0 + 0.5 * 200 + 0.25 * 600, 50.0 + 200 + 600, 50.0 + 200 + 600]
SPREAD_GAIN = [0.0, 0.0, 80.0, 80.0]


def test_expected_figures_equal_a_hand_computation(spread):
    figures = figures_of(spread)
    flows = [w - n + g - c for w, n, g, c in
             zip(SPREAD_WITHOUT, SPREAD_WITH, SPREAD_GAIN, SPREAD_COST, strict=True)]
    assert flows == [-700.0, -750.0, 1280.0, 1280.0]
    by_hand = {
        "project_cost": 1700.0,
        "operating_without": 4700.0,
        "operating_with": 2050.0,
        "gross_gain": 2810.0,
        "total_with_project": 3750.0,
        "net_gain": 1110.0,
        "npv": -700.0 - 750.0 / 1.05 + 1280.0 / 1.05**2 + 1280.0 / 1.05**3,
        "irr": irr_by_root_finder(flows),
        "mirr": ((1280.0 * 1.05 + 1280.0) / (700.0 + 750.0 / 1.05)) ** (1 / 3) - 1.0,
    }
    assert by_hand["mirr"] == pytest.approx(mirr_by_hand(flows, 0.05), rel=1e-14)
    assert sum(SPREAD_WITHOUT) == by_hand["operating_without"]
    assert sum(SPREAD_WITH) == by_hand["operating_with"]
    for name, value in by_hand.items():
        # every input is fixed: every column, and every sample, is the same number
        for column in (*COLUMNS, "risk_adjusted", "mean"):
            assert figures[name][column] == pytest.approx(value, rel=1e-12, abs=1e-12), (
                name, column)


def test_yearly_flows_follow_year_years_profile_and_phase():
    sim = simulator(SPREAD)
    flow_ids = [f"@flow_{year}" for year in range(2025, 2029)]
    result = sim.run(10, 0, outputs=flow_ids)
    flows = [result[f].expected for f in flow_ids]
    assert flows == pytest.approx([-700.0, -750.0, 1280.0, 1280.0], rel=1e-14)
    table = {row["name"]: row["values"]
             for row in result.to_dict()["business_case"]["tables"]["cost_by_phase"]["rows"]}
    assert table["analysis"]["2025"] == pytest.approx(400.0)
    assert table["implementation"]["2025"] == pytest.approx(300.0)
    assert table["implementation"]["2026"] == pytest.approx(900.0)


def test_operating_nodes_report_both_situations(spread):
    nodes = spread.to_dict()["nodes"]
    assert {"licence", "licence@without", "staff_work", "staff_work@without"} <= set(nodes)
    assert "rent" in nodes and "rent@without" not in nodes  # the same in both situations
    assert not any(node_id.startswith("@") for node_id in nodes)
    # a node with `years` reports its total over them: 2000 a year x (0.25 + 1 + 1)
    assert nodes["staff_work@without"]["expected"] == 4500.0
    assert nodes["staff_work"]["expected"] == 1350.0
    assert nodes["licence@without"]["mean"] == 0.0
    assert nodes["licence"]["mean"] == 500.0  # 200 a year x (0.5 + 1 + 1)
    for entry in nodes.values():
        assert set(entry) == NODE_FIELDS


# ---------------------------------------------------------------------------- weighted figure


def test_weighted_figures_equal_a_hand_computation():
    result = simulator(WEIGHTED).run(500, 2)
    figures = figures_of(result)
    # a:  triangle default 0.2/0.6/0.2 of 100, 200, 400 -> 20 + 120 + 80 = 220
    # a2: triangle 0.1/0.5/0.4 of 10, 20, 40             -> 1 + 10 + 16 = 27
    # b:  uniform 0.5/0/0.5 of 10, (20), 60              -> 35
    # c:  discrete 0.5/0.3/0.2 of 1, 2, 3                -> 1.7
    a, a2, b, c = 220.0, 27.0, 35.0, 1.7
    setup, scaled, saving = a + 10 * b + a2, a * c / 2, c * 300
    weighted_flows = [-setup, saving - scaled, saving]
    assert figures["project_cost"]["weighted"] == pytest.approx(597.0 + 187.0, rel=1e-12)
    assert figures["gross_gain"]["weighted"] == pytest.approx(2 * 510.0, rel=1e-12)
    assert figures["net_gain"]["weighted"] == pytest.approx(sum(weighted_flows), rel=1e-12)
    assert figures["npv"]["weighted"] == pytest.approx(npv(weighted_flows, 0.04), rel=1e-12)
    assert figures["irr"]["weighted"] == pytest.approx(
        irr_by_root_finder(weighted_flows), abs=1e-10)
    assert figures["mirr"]["weighted"] == pytest.approx(
        mirr_by_hand(weighted_flows, 0.04), rel=1e-12)
    # an ordinary project: risk-adjusted is the probability-weighted figure
    assert result.business_case.risk_adjustment == "weighted"
    for name in FIGURES:
        assert figures[name]["risk_adjusted"] == figures[name]["weighted"], name
    # and the expected figure has every input at mid
    expected_flows = [-(200 + 10 * 20 + 20), 2 * 300 - 200 * 2 / 2, 2 * 300]
    assert figures["npv"]["expected"] == pytest.approx(npv(expected_flows, 0.04), rel=1e-12)
    assert result["scaled"].weighted == pytest.approx(187.0, rel=1e-12)


# ---------------------------------------------------------------------------- best and worst

ANNUITY_3 = 1 / 1.05 + 1 / 1.05**2 + 1 / 1.05**3


def test_best_and_worst_are_one_scenario_for_every_figure():
    result = simulator(BEST_WORST).run(500, 3, outputs="all")
    figures = figures_of(result)
    # NPV = -(hours + 10 scale) + (saving + 30 scale + running@without - running) * A
    # best: hours low, saving high, scale high (30 A > 10), running without high, with low
    best = {"hours": 80, "saving": 120, "scale": 4, "without": 60, "with": 10}
    worst = {"hours": 150, "saving": 50, "scale": 1, "without": 30, "with": 25}
    for name, ends in (("best", best), ("worst", worst)):
        cost = ends["hours"] + 10 * ends["scale"]
        gross = 3 * (ends["saving"] + 30 * ends["scale"] + ends["without"] - ends["with"])
        yearly = gross / 3
        assert figures["project_cost"][name] == pytest.approx(cost), name
        assert figures["gross_gain"][name] == pytest.approx(gross), name
        assert figures["operating_without"][name] == pytest.approx(3 * ends["without"]), name
        assert figures["operating_with"][name] == pytest.approx(3 * ends["with"]), name
        assert figures["npv"][name] == pytest.approx(-cost + yearly * ANNUITY_3, rel=1e-12)
        assert figures["irr"][name] == pytest.approx(
            irr_by_root_finder([-cost, yearly, yearly, yearly]), abs=1e-10)
        # the main nodes and inputs are read in the same scenario
        assert getattr(result["build"], name) == pytest.approx(cost), name
        assert getattr(result["scale"], name) == ends["scale"], name
        assert getattr(result["running@without"], name) == ends["without"], name
        assert getattr(result["running"], name) == ends["with"], name
    # one scenario: the project cost's best case is not its own lowest value (90)
    assert figures["project_cost"]["best"] == 120.0
    assert figures["npv"]["best"] > figures["npv"]["expected"] > figures["npv"]["worst"]


def test_favourable_overrides_the_inferred_direction():
    text = BEST_WORST.replace(
        "hours: {estimate: [80, 100, 150], source: s}",
        "hours: {estimate: [80, 100, 150], favourable: high, source: s}",
    ).replace(
        "saving: {estimate: [50, 70, 120], source: s}",
        "saving: {estimate: [50, 70, 120], favourable: low, source: s}",
    )
    assert text.count("favourable") == 2
    figures = figures_of(simulator(text).run(200, 3))
    # best: hours at its favourable high end, saving at its low end, the rest as before
    assert figures["project_cost"]["best"] == pytest.approx(150 + 40)
    assert figures["gross_gain"]["best"] == pytest.approx(3 * (50 + 120 + 60 - 10))
    assert figures["project_cost"]["worst"] == pytest.approx(80 + 10)
    assert figures["gross_gain"]["worst"] == pytest.approx(3 * (120 + 30 + 30 - 25))


# ---------------------------------------------------------------------------- common random numbers


def triangle_moments(low: float, mode: float, high: float) -> tuple[float, float]:
    mean = (low + mode + high) / 3
    var = (low**2 + mode**2 + high**2 - low * mode - low * high - mode * high) / 18
    return mean, var


def test_gross_gain_uses_common_random_numbers():
    n = 100_000
    sim = simulator(CRN)
    ids = ["cases", "minutes@without", "minutes", "work@without", "work", "@gross_gain",
           "@operating_without", "@operating_with"]
    first = sim.run(n, 1, outputs=ids, keep_samples=True)
    second = sim.run(n, 2, outputs=ids, keep_samples=True)
    # within a sample, both situations see the same draw of the shared input
    cases = first.values("cases")
    np.testing.assert_allclose(first.values("work@without"),
                               cases * first.values("minutes@without"), rtol=1e-15)
    np.testing.assert_allclose(first.values("work"), cases * first.values("minutes"), rtol=1e-15)
    # the two situations of the situation node are separate inputs with their own streams
    assert abs(np.corrcoef(first.values("minutes@without"), first.values("minutes"))[0, 1]) < 0.02

    ec, vc = triangle_moments(500, 1000, 2000)
    ea, va = triangle_moments(20, 30, 40)
    eb, vb = triangle_moments(10, 15, 20)
    ec2 = vc + ec**2
    var_crn = ec2 * (va + vb + (ea - eb) ** 2) - (ec * (ea - eb)) ** 2
    var_independent = ec2 * (va + ea**2) - (ec * ea) ** 2 + ec2 * (vb + eb**2) - (ec * eb) ** 2
    assert var_independent - var_crn == pytest.approx(2 * vc * ea * eb)
    assert var_independent > 2.5 * var_crn  # a clear gap for the test to see

    gross = first.values("@gross_gain")
    independent = first.values("@operating_without") - second.values("@operating_with")
    assert np.var(gross, ddof=1) == pytest.approx(var_crn, rel=0.03)
    assert np.var(independent, ddof=1) == pytest.approx(var_independent, rel=0.03)
    middle = (var_crn + var_independent) / 2
    assert np.var(gross, ddof=1) < middle < np.var(independent, ddof=1)
    # and the mean is the product of the means either way
    assert gross.mean() == pytest.approx(ec * (ea - eb), abs=4 * gross.std() / math.sqrt(n))


def test_situation_override_pins_both_situations_unless_named():
    sim = simulator(CRN)
    both = figures_of(sim.run(200, 1, overrides={"minutes": 25.0}))
    assert both["gross_gain"]["mean"] == 0.0
    assert both["gross_gain"]["expected"] == 0.0
    only_without = figures_of(sim.run(200, 1, overrides={"minutes@without": 25.0}))
    assert only_without["gross_gain"]["expected"] == pytest.approx(1000 * (25 - 15))


# ---------------------------------------------------------------------------- buffer


def test_buffer_of_an_ordinary_project_is_weighted_minus_expected_cost():
    case = simulator(LINEAR).run(2000, 4).business_case
    # expected: build 500 + 2 * 150, extra 100 * 2
    # weighted: build (60 + 300 + 200) + 2 * 250, extra 100 * 2.7
    assert case["project_cost"].expected == pytest.approx(1000.0)
    assert case["project_cost"].weighted == pytest.approx(1330.0)
    assert case.buffer == pytest.approx(330.0, rel=1e-12)
    assert case.as_dict()["buffer"] == pytest.approx(330.0, rel=1e-12)


def test_buffer_of_a_high_risk_project_is_p70_minus_p50_of_cost():
    n = 50_000
    result = simulator(with_high_risk(LINEAR)).run(n, 5, keep_samples=True)
    case = result.business_case
    cost = result.values("@project_cost")
    p70, p50 = np.percentile(cost, [70, 50])
    assert case.risk_adjustment == "monte_carlo"
    assert case.buffer == pytest.approx(p70 - p50, rel=1e-12)
    assert case.buffer > 0 and case.buffer != pytest.approx(330.0, rel=0.05)
    figures = case.as_dict()["key_figures"]
    for name in FIGURES:
        assert figures[name]["risk_adjusted"] == figures[name]["mean"], name
    assert figures["project_cost"]["mean"] == pytest.approx(float(np.mean(cost)), rel=1e-12)


# ---------------------------------------------------------------------------- risks


def test_risk_amounts_split_seventy_thirty():
    case = simulator(RISKS).run(200, 6).business_case
    amounts = {r.id: r.amount for r in case.risks}
    # net-cost shifts of each input moved alone from expected to weighted:
    #   x1 cost +40 (risks 1, 2)   x2 cost +100 (risk 3)   x3 cost +6 in two years (no risk)
    #   x4 gain +55 -> -55 (risks 2, 1)
    #   minutes@without +2 -> operating without +20 -> -20; minutes +4 -> +40 (risk 4)
    by_hand = {
        0: 12.0,
        1: 0.7 * 40 + 0.3 * -55,
        2: 0.3 * 40 + 0.7 * -55,
        3: 100.0,
        4: -20.0 + 40.0,
        5: 0.0,
    }
    assert amounts == pytest.approx(by_hand, abs=1e-9)
    assert [r.id for r in case.risks] == [0, 1, 2, 3, 4, 5]
    assert case.risks[0].type == "general"
    assert case.risk_types == pytest.approx(
        {"general": 12.0, "organisation": 11.5 + 100.0, "suppliers": -26.5,
         "technical": 20.0, "stakeholders": 0.0}, abs=1e-9)
    # the model is linear: the amounts add up to the change in undiscounted net cost
    net_cost_shift = -(case["net_gain"].weighted - case["net_gain"].expected)
    assert sum(amounts.values()) == pytest.approx(net_cost_shift, abs=1e-9)
    assert net_cost_shift == pytest.approx(117.0, abs=1e-9)
    risks_json = case.as_dict()["risks"]
    assert {"id", "name", "type", "amount"} <= set(risks_json[1])
    assert risks_json[1]["name"] == "Capacity" and risks_json[1]["type"] == "organisation"


# ---------------------------------------------------------------------------- kernel and reference


@pytest.mark.parametrize("text", [SPREAD, WEIGHTED, BEST_WORST, CRN, RISKS, LINEAR],
                         ids=["spread", "weighted", "best_worst", "crn", "risks", "linear"])
def test_kernel_equals_reference_on_the_expanded_graph(text):
    n, seed = 5_000, 7
    sim = simulator(text)
    checked = sim.compiled.checked
    ids = list(checked.order)
    assert {f"@{name}" for name in FIGURES} <= set(ids)
    out = np.empty((len(ids), n))  # the kernel itself, before any reporting
    sim.compiled.execute(sim.compiled.program(ids), seed, 0, n, out)
    kernel = dict(zip(ids, out, strict=True))
    twin = simulate(checked, n, seed, ids)
    for node_id in ids:
        np.testing.assert_allclose(kernel[node_id], twin[node_id], rtol=1e-12,
                                   atol=0.0, equal_nan=True, err_msg=node_id)
    np.testing.assert_array_equal(kernel["@irr"], twin["@irr"])


def test_same_seed_same_numbers_whatever_the_threads_and_chunks():
    sim = simulator(LINEAR)
    n = 30_000
    ids = [f"@{name}" for name in FIGURES]
    runs = [
        sim.run(n, 9, outputs=ids, keep_samples=True),
        sim.run(n, 9, outputs=ids, keep_samples=True),
        sim.run(n, 9, outputs=ids, keep_samples=True, threads=1),
        sim.run(n, 9, outputs=ids, keep_samples=True, chunk=997),
    ]
    first = runs[0]
    for other in runs[1:]:
        for node_id in ids:
            np.testing.assert_array_equal(first.values(node_id), other.values(node_id))
        assert json.dumps(first.to_dict()) == json.dumps(other.to_dict())
    different = sim.run(n, 10, outputs=ids, keep_samples=True)
    assert not np.array_equal(first.values("@npv"), different.values("@npv"))


# ---------------------------------------------------------------------------- Monte Carlo mean


def test_monte_carlo_mean_of_npv_converges_to_the_analytic_mean():
    n = 200_000
    result = simulator(LINEAR).run(n, 12, keep_samples=True)
    samples = result.values("@npv")
    tri = (300 + 500 + 1000) / 3
    uni = (100 + 400) / 2
    pert = (20 + 4 * 40 + 100) / 6
    disc = 0.2 * 1 + 0.5 * 2 + 0.3 * 5
    running = (300 + 400 + 600) / 3 - (100 + 300) / 2
    build = tri + 2 * uni  # implementation 2025-07..2026-06: half in each year
    flows = [
        -0.5 * build,
        -0.5 * build - 100 * disc + 0.5 * running,
        running + 3 * pert,
        running + 3 * pert,
    ]
    mean = npv(flows, 0.07)
    error = samples.std(ddof=1) / math.sqrt(n)
    assert abs(samples.mean() - mean) < 4 * error
    assert result.business_case["npv"].mean == pytest.approx(samples.mean(), rel=1e-12)
    # the Monte Carlo mean is not the probability-weighted figure (the triangle's weights
    # 0.2/0.6/0.2 give 560, not its mean 600), so the test tells them apart
    assert abs(result.business_case["npv"].weighted - mean) > 10 * error


# ---------------------------------------------------------------------------- JSON contract


def test_json_has_the_business_case_contract():
    result = simulator(RISKS).run(2000, 13)
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    case = json.loads(text)["business_case"]
    assert {"risk_adjustment", "key_figures", "buffer", "risks", "risk_types"} <= set(case)
    assert case["risk_adjustment"] == "weighted"
    assert set(case["key_figures"]) == set(FIGURES)
    for name, figure in case["key_figures"].items():
        assert FIGURE_FIELDS <= set(figure), name
        assert {"5", "50", "70", "95"} <= set(figure["percentiles"]), name
    for risk in case["risks"]:
        assert {"id", "name", "type", "amount"} <= set(risk)
    assert isinstance(case["buffer"], float)
    assert set(case["risk_types"]) == {"general", "organisation", "suppliers", "technical",
                                       "stakeholders"}
    # the worst case has no positive net flow: its IRR is null and says why
    irr = case["key_figures"]["irr"]
    assert irr["worst"] is None
    assert "never positive" in irr["note"]
    assert {"work", "work@without", "c1", "c3", "g4"} == set(data["nodes"])


def test_undefined_irr_in_samples_is_counted_and_json_stays_valid():
    result = simulator(CRN).run(5000, 14)
    irr = result.to_dict()["business_case"]["key_figures"]["irr"]
    json.dumps(result.to_dict(), allow_nan=False)
    # flows: -setup in 2025, cases * (without - with) in 2026: the IRR is always defined
    assert irr["nonfinite"] == 0
    gains_first = SPREAD.replace("value: 400\n", "value: -4000\n", 1)  # study becomes a gain
    data = simulator(gains_first).run(100, 0).to_dict()
    text = json.dumps(data, allow_nan=False)
    irr = json.loads(text)["business_case"]["key_figures"]["irr"]
    assert irr["risk_adjusted"] is None and irr["expected"] is None and irr["mean"] is None
    assert all(v is None for v in irr["percentiles"].values())
    assert "gains exceed costs from the first year" in irr["note"]


# ---------------------------------------------------------------------------- previous phase


def compare_model(cost: float) -> str:
    return f"""
name: Compare
business_case:
  start_year: 2025
  end_year: 2027
  phases:
    analysis: [2025-01, 2025-06]
    implementation: [2025-10, 2026-09]
nodes:
  build:
    kind: main
    side: cost
    phase: implementation
    value: {cost!r}
    source: s
  saving:
    kind: main
    side: gain
    years: [2026, 2027]
    value: 100
    source: s
"""


def test_default_discount_rate_is_five_percent():
    # implementation 2025-10..2026-09: 3/12 of the cost in 2025, 9/12 in 2026
    figures = figures_of(simulator(compare_model(1_000.0)).run(10, 0))
    flows = [-250.0, -750.0 + 100.0, 100.0]
    assert figures["npv"]["expected"] == pytest.approx(npv(flows, 0.05), rel=1e-12)
    assert figures["npv"]["expected"] != pytest.approx(npv(flows, 0.04), rel=1e-6)


@pytest.fixture(scope="module")
def big_case():
    return simulator(compare_model(66_000.0)).run(50, 0).business_case


@pytest.fixture(scope="module")
def small_case():
    return simulator(compare_model(1_000.0)).run(50, 0).business_case


def previous_with(case, cost: float, phases: dict | None = None) -> dict:
    data = copy.deepcopy(case.as_dict())
    data["key_figures"]["project_cost"]["risk_adjusted"] = cost
    if phases is not None:
        data["phases"] = phases
    return json.loads(json.dumps(data))


@pytest.mark.parametrize(
    ("old", "significant"),
    [
        (60_000.0, True),  # +6,000 and +10 %: both thresholds met exactly
        (30_000.0, True),  # +36,000, +120 %
        (80_000.0, True),  # -14,000, -17.5 %: a fall is a change too
        (60_001.0, False),  # +5,999: below 6,000 (and 10 %)
        (62_000.0, False),  # +4,000, +6.5 %
    ],
)
def test_change_in_project_cost_is_flagged_from_ten_percent_and_6000(big_case, old, significant):
    now = big_case.compared_with(previous_with(big_case, old))
    changes = {c.figure: c for c in now.changes}
    assert changes["project_cost"].significant is significant
    assert now["project_cost"].previous == old
    data = now.as_dict()
    assert data["key_figures"]["project_cost"]["previous"] == old
    assert any(c["figure"] == "project_cost" for c in data["changes"])


def test_a_large_share_of_a_small_amount_is_not_significant(small_case):
    now = small_case.compared_with(previous_with(small_case, 500.0))  # +100 %, +500
    changes = {c.figure: c for c in now.changes}
    assert changes["project_cost"].significant is False


def test_previous_figures_are_attached_to_every_key_figure(big_case):
    previous = copy.deepcopy(big_case.as_dict())
    for k, name in enumerate(FIGURES):
        previous["key_figures"][name]["risk_adjusted"] = 1000.0 + k
    now = big_case.compared_with(previous)
    for k, name in enumerate(FIGURES):
        assert now[name].previous == 1000.0 + k
        assert now.as_dict()["key_figures"][name]["previous"] == 1000.0 + k
    # the current figures are untouched
    assert now["project_cost"].risk_adjusted == big_case["project_cost"].risk_adjusted


@pytest.mark.parametrize(
    ("old_end", "significant"),
    [
        ("2026-06", True),  # now ends 2026-09: three months later
        ("2026-01", True),  # eight months later
        ("2026-07", False),  # two months later
        ("2026-12", False),  # three months earlier: not a delay
    ],
)
def test_phase_delay_of_three_months_is_flagged(big_case, old_end, significant):
    phases = {"analysis": ["2025-01", "2025-06"], "implementation": ["2025-10", old_end]}
    now = big_case.compared_with(previous_with(big_case, 66_000.0, phases))
    changes = {c.figure: c for c in now.changes}
    assert changes["phase:implementation"].significant is significant
    assert "phase:analysis" not in changes  # unchanged
    assert changes["project_cost"].significant is False  # unchanged cost


def test_comparison_with_an_incomplete_previous_result(big_case):
    now = big_case.compared_with({})
    assert now.changes == ()
    assert all(now[name].previous is None for name in FIGURES)
