"""Discounting, NPV, IRR and MIRR against closed forms and an independent root finder.

The IRR oracle here is :func:`scipy.optimize.brentq` on the NPV as a function of
the rate (or the roots of the NPV polynomial), not the engine's own grid search;
MIRR is checked against the textbook formula written out by hand.
"""

from __future__ import annotations

import json
import math

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from assumption_graph import finance
from assumption_graph.business.labels import IRR_MULTIPLE
from assumption_graph.compile.reference import simulate
from assumption_graph.finance import (
    discount_factors,
    irr,
    irr_array,
    irr_count,
    irr_count_array,
    irr_note,
    irr_roots,
)
from assumption_graph.streams import jit_linked

from .business_models import simulator
from .commands import run_cli

RATE = 0.05  # the discount rate of tests where the flows have one IRR at most
NEVER_POSITIVE = "not defined: the net flows are never positive, so the project never pays back"
FIRST_YEAR_GAIN = (
    "not defined: gains exceed costs from the first year,"
    " so there is no investment to earn a return on"
)


def npv_at(flows, rate: float) -> float:
    """The NPV written out term by term: sum of f_t / (1 + r)**t."""
    return math.fsum(f / (1.0 + rate) ** t for t, f in enumerate(flows))


def flows_model(flows: list[float], rate: float, start: int = 2025, **case: float) -> str:
    """A business case whose yearly net flows are exactly ``flows``.

    A negative flow is a project cost in that year, a positive one a gain;
    ``case`` adds keys to the ``business_case:`` section.
    """
    end = start + len(flows) - 1
    lines = [
        "name: Flows",
        "business_case:",
        f"  start_year: {start}",
        f"  end_year: {end}",
        f"  discount_rate: {rate!r}",
        *(f"  {key}: {value!r}" for key, value in case.items()),
        "nodes:",
    ]
    for t, flow in enumerate(flows):
        side = "cost" if flow < 0 else "gain"
        lines += [
            f"  y{t}:",
            "    kind: main",
            f"    side: {side}",
            f"    year: {start + t}",
            f"    value: {abs(flow)!r}",
            "    source: test",
        ]
    return "\n".join(lines) + "\n"


def key_figures(flows: list[float], rate: float, **case: float) -> dict:
    result = simulator(flows_model(flows, rate, **case)).run(n=4, seed=0)
    return result.to_dict()["business_case"]["key_figures"]


# ---------------------------------------------------------------------------- discounting


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.25, -0.5])
def test_discount_factors_are_the_closed_form(rate):
    factors = discount_factors(rate, 6)
    assert factors.shape == (6,)
    for t in range(6):
        assert factors[t] == pytest.approx((1.0 + rate) ** -t, rel=1e-15)
    assert factors[0] == 1.0


def test_npv_of_an_annuity_equals_the_closed_form():
    # 1000 spent in year 0, 300 gained in each of years 1..5, at 6 %.
    rate = 0.06
    figures = key_figures([-1000.0, 300, 300, 300, 300, 300], rate)
    annuity = 300.0 * (1.0 - (1.0 + rate) ** -5) / rate
    assert figures["npv"]["expected"] == pytest.approx(annuity - 1000.0, rel=1e-12)
    assert figures["net_gain"]["expected"] == pytest.approx(500.0, rel=1e-12)


def test_npv_at_zero_rate_is_the_plain_sum():
    figures = key_figures([-700.0, 200, 250, 400], 0.0)
    assert figures["npv"]["expected"] == pytest.approx(150.0, rel=1e-12)


# ---------------------------------------------------------------------------- IRR


def test_irr_of_one_period():
    assert irr(np.array([-100.0, 110.0]), RATE) == pytest.approx(0.10, abs=1e-12)


def test_irr_of_two_equal_gains_is_the_root_of_the_quadratic():
    # -100 + 60 x + 60 x**2 = 0 with x = 1 / (1 + r)
    x = (-60.0 + math.sqrt(60.0**2 + 4 * 60.0 * 100.0)) / (2 * 60.0)
    assert irr(np.array([-100.0, 60.0, 60.0]), RATE) == pytest.approx(1.0 / x - 1.0, abs=1e-12)


def test_irr_can_be_zero_or_negative():
    assert irr(np.array([-100.0, 50.0, 50.0]), RATE) == pytest.approx(0.0, abs=1e-12)
    # -100 + 40 x + 40 x**2 = 0
    x = (-40.0 + math.sqrt(40.0**2 + 4 * 40.0 * 100.0)) / 80.0
    assert irr(np.array([-100.0, 40.0, 40.0]), RATE) == pytest.approx(1.0 / x - 1.0, abs=1e-12)
    assert irr(np.array([-100.0, 40.0, 40.0]), RATE) < -0.1


def test_leading_years_without_flows_do_not_shift_the_irr():
    assert irr(np.array([0.0, 0.0, -100.0, 110.0]), RATE) == pytest.approx(0.10, abs=1e-12)


@pytest.mark.parametrize(
    "flows",
    [
        [-1000.0, 200, 300, 400, 500],
        [-5000.0, -2000, 1500, 2500, 3000, 3000, 1000],
        [-1.0, 0.2, 0.2, 0.2, 0.2, 0.9],
        [-300.0, 100, -50, 200, 200],
    ],
)
def test_npv_at_the_irr_is_zero(flows):
    rate = irr(np.array(flows), RATE)
    assert math.isfinite(rate)
    scale = max(abs(f) for f in flows)
    assert abs(npv_at(flows, rate)) <= 1e-9 * scale
    # and it is the root an independent root finder finds in the same bracket
    assert rate == pytest.approx(brentq(lambda r: npv_at(flows, r), -0.95, 10.0), abs=1e-10)


def test_irr_key_figure_of_a_business_case():
    flows = [-1000.0, 200, 300, 400, 500]
    figures = key_figures(flows, 0.05)
    root = brentq(lambda r: npv_at(flows, r), -0.5, 5.0)
    for column in ("expected", "weighted", "best", "worst", "mean", "risk_adjusted"):
        assert figures["irr"][column] == pytest.approx(root, abs=1e-10), column
    assert "note" not in figures["irr"]


@pytest.mark.parametrize("flows", [[-1.0, 2000.0], [-1.0, 1e6], [-1.0, 0.0, 1e7]])
def test_irr_above_the_searched_range_is_not_reported_as_the_range_limit(flows):
    flows = np.array(flows)
    rate = irr(flows, RATE)
    truth = brentq(lambda r: npv_at(flows, r), 1.0, 1e7)
    # Either the true rate or "not defined" with a note is acceptable; the grid's
    # edge (999.0, 99,900 %) is neither.
    assert math.isnan(rate) or rate == pytest.approx(truth, rel=1e-9)
    assert math.isnan(rate) == (irr_note(flows) is not None)


TWO_RATES = [-100.0, 230.0, -132.0]  # NPV zero at 10 % and at 20 %


def excel_irr(flows, guess: float = 0.1) -> float:
    """Excel's IRR as it finds a rate: Newton's method on the NPV from ``guess``."""
    rate = guess
    for _ in range(100):
        npv = npv_at(flows, rate)
        slope = math.fsum(-t * f / (1.0 + rate) ** (t + 1) for t, f in enumerate(flows))
        step = npv / slope
        rate -= step
        if abs(step) < 1e-14:
            return rate
    raise AssertionError("Newton's method did not converge")


@pytest.mark.parametrize(
    ("discount_rate", "nearest"),
    [(0.05, 0.10), (0.10, 0.10), (0.14, 0.10), (0.16, 0.20), (0.30, 0.20), (-0.5, 0.10)],
)
def test_irr_with_two_rates_reports_the_one_nearest_the_discount_rate(discount_rate, nearest):
    flows = np.array(TWO_RATES)
    assert abs(npv_at(flows, 0.10)) < 1e-9 and abs(npv_at(flows, 0.20)) < 1e-9
    assert irr(flows, discount_rate) == pytest.approx(nearest, abs=1e-12)
    assert irr_array(flows[:, None], discount_rate)[0] == irr(flows, discount_rate)
    assert irr_count(flows) == 2.0 and irr_count_array(flows[:, None])[0] == 2.0
    assert irr_roots(flows) == [pytest.approx(0.20, abs=1e-12), pytest.approx(0.10, abs=1e-12)]
    assert irr_note(flows) is None


def test_irr_at_excels_default_guess_matches_excel():
    # Excel's IRR(values) starts at 10 %; numpy-financial's irr takes the root nearest 0.
    # At the usual discount rates, the nearest root is the one both report.
    flows = [-100.0, 250.0, -154.0]  # roots 10 % and 40 %
    assert brentq(lambda r: npv_at(flows, r), 0.05, 0.2) == pytest.approx(0.1, abs=1e-12)
    excel = excel_irr(flows)
    assert excel == pytest.approx(0.10, abs=1e-12)
    assert irr(np.array(flows), 0.05) == pytest.approx(excel, abs=1e-12)


def test_irr_ties_go_to_the_lower_rate():
    # Roots 1/3 and 1 (x = 3/4 and x = 1/2): equally far from the discount rate 2/3.
    flows = np.array([-3.0, 10.0, -8.0])
    high, low = irr_roots(flows)
    assert (high, low) == (pytest.approx(1.0, abs=1e-12), pytest.approx(1 / 3, abs=1e-12))
    middle = 0.5 * (high + low)
    assert abs(high - middle) == abs(low - middle)  # an exact tie in floating point
    assert irr(flows, middle) == low
    assert irr_array(flows[:, None], middle)[0] == low


def test_several_irrs_through_the_command_line(tmp_path, capsys):
    model = tmp_path / "two.yaml"
    model.write_text(flows_model(TWO_RATES, 0.05), encoding="utf-8")
    out = tmp_path / "two.json"
    code, text, err = run_cli(capsys, "run", model, "-n", 1000, "--json", out)
    assert code == 0, err
    figure = json.loads(out.read_text(encoding="utf-8"))["business_case"]["key_figures"]["irr"]
    assert figure["expected"] == pytest.approx(0.10, abs=1e-12)  # nearest 5 %, as Excel's
    assert figure["roots"]["expected"] == [
        pytest.approx(0.20, abs=1e-12),
        pytest.approx(0.10, abs=1e-12),
    ]
    assert figure["multiple_share"] == 1.0
    assert "2 IRRs, 20.0 % and 10.0 %" in figure["note"]
    assert "more than one IRR in 100 % of the samples" in figure["note"]
    assert "nearest the discount rate of 5.0 %" in figure["note"]
    code, text, err = run_cli(capsys, "run", model, "-n", 1000)
    assert code == 0, err
    assert "more than one IRR in 100 % of the samples" in text  # the key-figure table's note


def test_one_irr_has_no_share_note():
    figure = key_figures([-1000.0, 200, 300, 400, 500], 0.05)["irr"]
    assert figure["multiple_share"] == 0.0
    assert len(figure["roots"]["expected"]) == 1
    assert "note" not in figure


@pytest.mark.parametrize(
    "flows",
    [
        [-1.0, 1000.0],
        [-0.7, 700.0],  # the NPV at x = 1/1000 rounds to +1.1e-16, not 0
        [-3.0, 3000.0],
        [-1.0, 0.0, 1e6],
        [0.0, -2.0, 2000.0],
        [-7.0, 6993.0, 7000.0],
    ],
)
def test_irr_of_exactly_99900_percent_is_inside_the_range(flows):
    # The top of the documented range, 99,900 % (x = 1/1000): the NPV is zero there.
    assert npv_at(flows, 999.0) == pytest.approx(0.0, abs=1e-12 * max(map(abs, flows)))
    flows = np.array(flows)
    assert irr(flows, RATE) == 999.0
    assert irr_array(flows[:, None], RATE)[0] == 999.0
    assert irr_note(flows) is None
    assert irr_count(flows) == 1.0


def test_irr_at_the_bottom_of_the_range_is_inside_it():
    flows = np.array([-100.0, 1.0])  # -99 % exactly
    assert irr(flows, RATE) == pytest.approx(-0.99, abs=1e-15)
    assert irr_note(flows) is None


def test_irr_of_99900_percent_through_the_command_line(tmp_path, capsys):
    model = tmp_path / "top.yaml"
    model.write_text(flows_model([-1.0, 1000.0], 0.05), encoding="utf-8")
    out = tmp_path / "top.json"
    code, _, err = run_cli(capsys, "run", model, "-n", 100, "--json", out)
    assert code == 0, err
    figure = json.loads(out.read_text(encoding="utf-8"))["business_case"]["key_figures"]["irr"]
    assert figure["expected"] == figure["mean"] == 999.0
    assert "note" not in figure  # not "above 99,900 %"


# ---------------------------------------------------------------------------- IRR not defined


@pytest.mark.parametrize(
    ("flows", "note"),
    [
        ([-100.0, -50.0, -10.0], NEVER_POSITIVE),
        ([-100.0, 0.0, 0.0], NEVER_POSITIVE),
        ([0.0, 0.0, 0.0], NEVER_POSITIVE),
        ([50.0, 60.0, 70.0], FIRST_YEAR_GAIN),
        ([50.0, -100.0, 70.0], FIRST_YEAR_GAIN),
        ([0.0, 20.0, -100.0, 200.0], FIRST_YEAR_GAIN),
    ],
)
def test_irr_not_defined(flows, note):
    flows = np.array(flows)
    assert math.isnan(irr(flows, RATE))
    assert math.isnan(irr_array(flows[:, None], RATE)[0])
    assert irr_count(flows) == 0.0
    assert irr_note(flows) == note


def test_irr_note_when_no_rate_in_range_gives_zero():
    # The rate would be below -99 %: almost nothing comes back.
    flows = np.array([-100.0, 1e-9])
    assert math.isnan(irr(flows, RATE))
    note = irr_note(flows)
    assert note == "not defined within the range searched: the rate is below -99 %"


def test_irr_note_is_none_when_defined():
    assert irr_note(np.array([-100.0, 60.0, 60.0])) is None
    assert irr_note(np.array([0.0, -100.0, 110.0])) is None


def test_undefined_irr_in_a_business_case_is_null_with_the_note():
    gains_first = key_figures([50.0, 60.0, 70.0], 0.05)["irr"]
    assert gains_first["expected"] is None and gains_first["risk_adjusted"] is None
    assert FIRST_YEAR_GAIN in gains_first["note"]
    never = key_figures([-100.0, -20.0, -10.0], 0.05)["irr"]
    assert never["expected"] is None and never["mean"] is None
    assert NEVER_POSITIVE in never["note"]
    assert never["nonfinite"] == 4


# ---------------------------------------------------------------------------- MIRR


def mirr_by_hand(flows: list[float], rate: float) -> float:
    """Textbook MIRR: (FV of the positive flows / -PV of the negative flows)**(1/n) - 1."""
    n = len(flows) - 1
    future = sum(f * (1.0 + rate) ** (n - t) for t, f in enumerate(flows) if f > 0)
    present = -sum(f / (1.0 + rate) ** t for t, f in enumerate(flows) if f < 0)
    return (future / present) ** (1.0 / n) - 1.0


def test_mirr_on_a_textbook_example():
    # FV of gains at 10 %: 600*1.21 + 700*1.1 + 800 = 2296; PV of costs: 1000 + 500/1.1
    expected = (2296.0 / (1000.0 + 500.0 / 1.1)) ** 0.25 - 1.0
    figures = key_figures([-1000.0, -500.0, 600.0, 700.0, 800.0], 0.10)
    assert figures["mirr"]["expected"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("flows", "rate"),
    [
        ([-1000.0, 300.0, -200.0, 1500.0], 0.10),
        ([-100.0, 60.0, 60.0], 0.05),
        ([-2000.0, 0.0, 0.0, 500.0, 900.0, 1400.0], 0.035),
        ([-100.0, 110.0], 0.0),
    ],
)
def test_mirr_equals_the_textbook_formula(flows, rate):
    figures = key_figures(flows, rate)
    assert figures["mirr"]["expected"] == pytest.approx(mirr_by_hand(flows, rate), rel=1e-12)


def excel_npv(rate: float, values: list[float]) -> float:
    """Excel's NPV(rate, value1, ...): the first value discounted one whole period."""
    return sum(v / (1.0 + rate) ** (i + 1) for i, v in enumerate(values))


def excel_mirr(values: list[float], finance_rate: float, reinvest_rate: float) -> float:
    """Excel's MIRR(values, finance_rate, reinvest_rate), as its documentation writes it."""
    n = len(values)
    gains = [v if v > 0 else 0.0 for v in values]
    costs = [v if v < 0 else 0.0 for v in values]
    ratio = (-excel_npv(reinvest_rate, gains) * (1.0 + reinvest_rate) ** n) / (
        excel_npv(finance_rate, costs) * (1.0 + finance_rate)
    )
    return ratio ** (1.0 / (n - 1)) - 1.0


EXCEL_MIRR_EXAMPLE = [-120000.0, 39000.0, 30000.0, 21000.0, 37000.0, 46000.0]


@pytest.mark.parametrize(
    ("flows", "finance_rate", "reinvestment_rate", "excel"),
    [  # the answers Excel's documentation of MIRR shows: 12.61 %, -4.80 %, 13.48 %
        (EXCEL_MIRR_EXAMPLE, 0.10, 0.12, 0.1261),
        (EXCEL_MIRR_EXAMPLE[:4], 0.10, 0.12, -0.0480),
        (EXCEL_MIRR_EXAMPLE, 0.10, 0.14, 0.1348),
    ],
)
def test_mirr_with_separate_rates_gives_excels_answers(
    flows, finance_rate, reinvestment_rate, excel
):
    rates = {"finance_rate": finance_rate, "reinvestment_rate": reinvestment_rate}
    mirr = key_figures(flows, 0.05, **rates)["mirr"]["expected"]
    assert mirr == pytest.approx(excel_mirr(flows, finance_rate, reinvestment_rate), rel=1e-12)
    assert mirr == pytest.approx(excel, abs=5e-5)  # to the two decimals shown


@pytest.mark.parametrize(
    ("flows", "case"),
    [
        ([-1000.0, 300.0, -200.0, 1500.0], {"finance_rate": 0.03}),
        ([-1000.0, 300.0, -200.0, 1500.0], {"reinvestment_rate": 0.08}),
        ([-2000.0, 0.0, 500.0, 900.0, 1400.0], {"finance_rate": 0.02, "reinvestment_rate": 0.0}),
    ],
)
def test_mirr_rates_default_to_the_discount_rate(flows, case):
    rates = {"finance_rate": 0.06, "reinvestment_rate": 0.06, **case}
    figures = key_figures(flows, 0.06, **case)
    assert figures["mirr"]["expected"] == pytest.approx(
        excel_mirr(flows, rates["finance_rate"], rates["reinvestment_rate"]), rel=1e-12
    )
    assert figures["npv"] == key_figures(flows, 0.06)["npv"]  # the NPV keeps the discount rate


def test_mirr_is_below_irr_when_the_irr_is_above_the_rate():
    flows = [-1000.0, 200, 300, 400, 500]
    figures = key_figures(flows, 0.05)
    assert 0.05 < figures["mirr"]["expected"] < figures["irr"]["expected"]


@pytest.mark.parametrize("flows", [[-100.0, -20.0, -5.0], [500.0]])
def test_mirr_not_defined_is_null(flows):
    figures = key_figures(flows, 0.05)
    assert figures["mirr"]["expected"] is None
    assert figures["mirr"]["note"]


# ------------------------------------------------------------------ scalar == array == kernel

_flow = st.one_of(
    st.just(0.0),
    st.floats(-1e4, 1e4, allow_nan=False),
    st.floats(-1.0, 1.0, allow_nan=False),
)
_flows = st.lists(_flow, min_size=1, max_size=10)
_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _costs_then_gains(draw_flows: list[float]) -> np.ndarray:
    """Flows made to have a defined IRR often: the first non-zero one is a cost."""
    flows = np.array(draw_flows, dtype=float)
    nonzero = np.flatnonzero(flows)
    if nonzero.size:
        flows[nonzero[0]] = -abs(flows[nonzero[0]])
    return flows


_rates = st.floats(-0.9, 2.0, allow_nan=False)


@_SETTINGS
@given(_flows, st.booleans(), _rates)
def test_scalar_irr_equals_array_irr_bit_for_bit(raw, make_defined, rate):
    flows = _costs_then_gains(raw) if make_defined else np.array(raw, dtype=float)
    scalar = irr(flows, rate)
    array = irr_array(flows[:, None], rate)
    assert array.shape == (1,)
    np.testing.assert_array_equal(np.array([scalar]), array)
    assert math.isnan(scalar) == (irr_note(flows) is not None)
    roots = irr_roots(flows)
    assert irr_count(flows) == irr_count_array(flows[:, None])[0] == len(roots)
    wide = np.repeat(flows[:, None], finance._FEW + 1, axis=1)  # numpy's search, not the scalar
    np.testing.assert_array_equal(irr_array(wide, rate), np.full(wide.shape[1], scalar))
    np.testing.assert_array_equal(irr_count_array(wide), np.full(wide.shape[1], len(roots)))
    assert roots == sorted(roots, reverse=True)
    if roots:  # the nearest of every root found, ties to the lower
        assert scalar == min(reversed(roots), key=lambda r: abs(r - rate))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.randoms(use_true_random=False), _rates)
def test_array_irr_columns_equal_scalar_irr(years, rnd, rate):
    matrix = np.array(
        [[rnd.choice([0.0, rnd.uniform(-1000, 1000)]) for _ in range(years)] for _ in range(25)]
    )
    matrix[:, 0] = -np.abs(matrix[:, 0]) * (np.arange(25) % 3 != 0)  # most start with a cost
    columns = irr_array(matrix.T, rate)
    np.testing.assert_array_equal(columns, [irr(row, rate) for row in matrix])
    np.testing.assert_array_equal(irr_count_array(matrix.T), [irr_count(row) for row in matrix])


_numba = jit_linked(finance.SCALARS, numba.njit)  # the kernel's IRR, callable here


@_SETTINGS
@given(_flows, st.booleans(), _rates)
def test_numba_irr_equals_python_irr_bit_for_bit(raw, make_defined, rate):
    flows = _costs_then_gains(raw) if make_defined else np.array(raw, dtype=float)
    np.testing.assert_array_equal(
        np.array([_numba["irr"](flows, rate), _numba["irr_count"](flows)]),
        np.array([irr(flows, rate), irr_count(flows)]),
    )


def _one_change(draw_flows: list[float], costs: int) -> np.ndarray:
    """``draw_flows`` made costs then gains: the first ``costs`` negative, the rest positive
    (zeros stay zero), so the flows change sign once at most."""
    flows = np.abs(np.array(draw_flows, dtype=float))
    flows[:costs] *= -1.0
    return flows


# Columns the block solver must leave to the scalar search: a rate at either end of
# the range, above it, below it, NaN and infinite flows, gains first, several rates.
_EDGE_COLUMNS = (
    [-1.0, 1000.0],
    [-100.0, 1.0],
    [-1.0, 2000.0],
    [-100.0, 1e-9],
    [-100.0, np.nan, 120.0],
    [-np.inf, 10.0],
    [-1.0, np.inf],
    [50.0, -100.0, 70.0],
    TWO_RATES,
    [0.0, 0.0],
)
_column = st.one_of(
    st.builds(_one_change, _flows, st.integers(0, 10)),
    _flows.map(_costs_then_gains),
    _flows.map(lambda raw: np.array(raw, dtype=float)),
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(_column, min_size=1, max_size=40), _rates, st.booleans(), st.booleans())
def test_irr_columns_equal_the_scalar_search_bit_for_bit(columns, rate, nearest, edges):
    """The kernel's IRR of a block (compiled once for the session) is the scalar search's
    column by column: bit for bit where the flows change sign once (the bisection of the
    whole range, done for all columns at once), and the same rule (the rate nearest the
    discount rate, how many) where the scalar search runs for a column."""
    columns = [*columns, *map(np.array, _EDGE_COLUMNS)] if edges else columns
    years = max(len(c) for c in columns)
    block = len(columns) + 3  # columns past m are left alone
    flows = np.full((years, block), 7.0)
    for i, column in enumerate(columns):
        flows[:, i] = np.concatenate([column, np.zeros(years - len(column))])  # trailing zeros
    out = np.full(block, -5.0)
    scratch = np.full(finance.irr_scratch(years, block), np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        _numba["irr_columns"](flows, len(columns), rate, nearest, out, scratch)
        expected = [irr(f, rate) if nearest else irr_count(f) for f in flows[:, : len(columns)].T]
    np.testing.assert_array_equal(out[: len(columns)], expected)
    assert (out[len(columns) :] == -5.0).all()


@pytest.mark.parametrize("years", [11, 37, 64])
def test_irr_columns_of_long_flows_equal_the_scalar_search_bit_for_bit(years):
    """A full block of flows over many years (the NPV taken four years a pass, with one to
    three years first) is the scalar search's, bit for bit, column by column."""
    rng = np.random.default_rng(years)
    block = 256
    flows = rng.lognormal(0.0, 2.0, (years, block)) * rng.choice([1e-3, 1.0, 1e3], (years, block))
    costs = rng.integers(1, years, block)
    flows[np.arange(years)[:, None] < costs] *= -1.0  # costs first, then gains
    for nearest in (True, False):
        out = np.full(block, -5.0)
        scratch = np.full(finance.irr_scratch(years, block), np.nan)
        _numba["irr_columns"](flows, block, 0.05, nearest, out, scratch)
        search = irr if nearest else lambda f, _rate: irr_count(f)
        np.testing.assert_array_equal(out, [search(f, 0.05) for f in flows.T])


def test_irr_of_flows_with_one_sign_change_is_the_search_of_before_bit_for_bit():
    """Where the flows change sign once, the rate is the whole range bisected as before
    (whatever the discount rate): the same operations, so the same bits."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        years = int(rng.integers(2, 12))
        costs = int(rng.integers(1, years))
        flows = np.concatenate([-rng.uniform(0, 1000, costs), rng.uniform(0, 1000, years - costs)])
        lo, hi = finance.X_GRID[0], finance.X_GRID[-1]
        assert finance._poly(flows, lo) < 0.0 <= finance._poly(flows, hi)  # rate in range
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            if finance._poly(flows, mid) < 0.0:
                lo = mid
            else:
                hi = mid
        before = 1.0 / (0.5 * (lo + hi)) - 1.0
        assert irr(flows, rng.uniform(-0.5, 1.0)) == before


RANDOM_FLOWS = """
name: Random flows
business_case:
  start_year: 2025
  end_year: 2029
  discount_rate: 0.05
nodes:
  start_cost: {estimate: [-50, 100, 200], model: uniform, source: s}
  g1: {estimate: [-100, 0, 200], model: uniform, source: s}
  g2: {estimate: [-100, 50, 200], source: s}
  g3: {estimate: [-50, 40, 150], model: pert, source: s}
  g4: {estimate: [-200, 100, 300], model: uniform, source: s}
  build:
    kind: main
    side: cost
    year: 2025
    formula: start_cost
  gain1:
    kind: main
    side: gain
    year: 2026
    formula: g1
  gain2:
    kind: main
    side: gain
    year: 2027
    formula: g2
  gain3:
    kind: main
    side: gain
    year: 2028
    formula: g3
  gain4:
    kind: main
    side: gain
    year: 2029
    formula: g4
"""


@pytest.mark.parametrize("seed", [0, 11])
def test_kernel_irr_equals_reference_irr_bit_for_bit(seed):
    sim = simulator(RANDOM_FLOWS)
    n = 20_000
    result = sim.run(n, seed, keep_samples=True)
    kernel = result.values("@irr")
    twin = simulate(sim.compiled.checked, n, seed, ["@irr"])["@irr"]
    np.testing.assert_array_equal(kernel, twin)
    # the comparison covers both defined and undefined rates
    undefined = np.isnan(kernel).mean()
    assert 0.05 < undefined < 0.8
    summary = result.business_case["irr"]
    assert summary.nonfinite == int(np.isnan(kernel).sum())
    assert summary.note  # one reason is given (here the best case's, which is undefined too)
    assert summary.mean == pytest.approx(np.nanmean(kernel), rel=1e-12)
    flow_ids = [f"@flow_{year}" for year in range(2025, 2030)]
    flows = simulate(sim.compiled.checked, n, seed, flow_ids)
    matrix = np.stack([flows[f] for f in flow_ids])
    np.testing.assert_array_equal(kernel, irr_array(matrix, 0.05))
    # the samples with several IRRs: kernel and reference agree, and the share is theirs
    several = result.values("@irr_multiple")
    np.testing.assert_array_equal(several, irr_count_array(matrix) > 1)
    twin = simulate(sim.compiled.checked, n, seed, [IRR_MULTIPLE])[IRR_MULTIPLE]
    np.testing.assert_array_equal(several, twin)
    assert 0.0 < several.mean() < 0.2
    assert summary.multiple_share == several.mean()


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("gain", [1.0, 1e300])
def test_irr_over_the_longest_horizon_overflows_quietly(gain):
    """Horner's sums at the grid's far end overflow to infinity, which the search expects:
    the numpy twins and the note say nothing (the scalars run compiled, where numpy's
    warnings do not exist)."""
    flows = np.full(200, gain)  # 200 years: the longest horizon a business case may have
    flows[0] = -1e300
    flows[1::7] = -gain  # several sign changes: the whole grid is searched
    for rate in (-0.9, 0.1):
        with np.errstate(over="ignore"):
            scalar, count = irr(flows, rate), irr_count(flows)
        np.testing.assert_array_equal(irr_array(flows[:, None], rate), [scalar])
        assert irr_count_array(flows[:, None])[0] == count
    assert (irr_note(flows) is None) == (count > 0)
