"""Charts (issues 5 and 6): histogram, S-curve, convergence, tornado, contribution, files, CLI."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle, StepPatch

from assumption_graph.cli import main
from assumption_graph.errors import OutputError, RunError
from assumption_graph.io import load
from assumption_graph.plots import (
    TOP_INPUTS,
    ChartRequest,
    PlotAccessor,
    contribution_figure,
    convergence_figure,
    figure_png,
    figure_svg,
    histogram_figure,
    s_curve_figure,
    save_figure,
    tornado_figure,
)
from assumption_graph.render import RenderError
from assumption_graph.results import summarise
from assumption_graph.run import Simulator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "business_case.yaml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def only_axes(fig):
    (ax,) = fig.axes
    return ax


def vertical_marks(ax) -> dict[str, float]:
    """The labelled vertical lines of an axes: label -> x."""
    marks = {}
    for line in ax.lines:
        xs = np.asarray(line.get_xdata(), dtype=float)
        if xs.size == 2 and xs[0] == xs[1]:
            marks[line.get_label()] = float(xs[0])
    return marks


@pytest.fixture(scope="module")
def normal_samples() -> np.ndarray:
    return np.random.default_rng(4).normal(100.0, 15.0, size=20_000)


@pytest.fixture(scope="module")
def normal_summary(normal_samples):
    return summarise(normal_samples, {"expected": 100.0, "weighted": 103.0})


# ---------------------------------------------------------------------------- histogram


def test_histogram_marks_p10_p50_p90(normal_summary):
    fig = histogram_figure(normal_summary, "Cost", "tkr")
    ax = only_axes(fig)
    marks = vertical_marks(ax)
    assert len(ax.lines) == len(marks) == 3
    assert sorted(marks.values()) == [normal_summary.percentiles[p] for p in (10.0, 50.0, 90.0)]
    assert [label.split(" =")[0] for label in marks] == ["P10", "P50", "P90"]
    assert all(label.endswith(" tkr") for label in marks)
    assert ax.get_title() == "Cost"
    assert ax.get_xlabel() == "value (tkr)" and ax.get_ylabel() == "probability density"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(marks)


def test_histogram_from_the_sketch_matches_the_samples(normal_samples, normal_summary):
    """Each sketch interval holds 0.5 % of the samples, so a bin's mass is off by <= 1 %."""
    ax = only_axes(histogram_figure(normal_summary, "Cost"))
    (patch,) = [p for p in ax.patches if isinstance(p, StepPatch)]
    density, edges = patch.get_data().values, patch.get_data().edges
    masses = density * np.diff(edges)
    assert masses.sum() == pytest.approx(1.0, abs=1e-12)
    counts, _ = np.histogram(normal_samples, bins=edges)
    assert np.abs(masses - counts / normal_samples.size).max() <= 0.01


def test_histogram_from_samples_when_given(normal_samples, normal_summary):
    ax = only_axes(histogram_figure(normal_summary, "Cost", values=normal_samples, bins=40))
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 40
    heights = np.array([b.get_height() for b in bars])
    widths = np.array([b.get_width() for b in bars])
    assert (heights * widths).sum() == pytest.approx(1.0)
    assert len(vertical_marks(ax)) == 3


def test_histogram_of_a_constant_and_of_nothing():
    constant = only_axes(histogram_figure(summarise(np.full(100, 5.0), {}), "Fixed"))
    (patch,) = [p for p in constant.patches if isinstance(p, StepPatch)]
    data = patch.get_data()
    assert (data.values * np.diff(data.edges)).sum() == pytest.approx(1.0)
    assert set(vertical_marks(constant).values()) == {5.0}
    empty = only_axes(histogram_figure(summarise(np.array([np.nan]), {}), "Nothing"))
    assert not empty.lines
    assert [t.get_text() for t in empty.texts] == ["no finite samples"]


# ---------------------------------------------------------------------------- S-curve


def test_s_curve_marks_expected_and_risk_adjusted(normal_samples, normal_summary):
    ax = only_axes(s_curve_figure(normal_summary, "Cost", "tkr"))
    marks = vertical_marks(ax)
    assert len(ax.lines) == 3 and len(marks) == 2  # the curve and two marks
    expected, adjusted = marks.items()
    assert expected[0].startswith("expected = 100.0 tkr (P") and expected[1] == 100.0
    assert adjusted[0].startswith("risk-adjusted = 103.0 tkr (P") and adjusted[1] == 103.0
    # each mark's probability of not exceeding it, read off the sketch (within 0.5 %)
    for label, value in marks.items():
        shown = float(label.rsplit("(P", 1)[1].rstrip(")"))
        assert shown == pytest.approx(100 * np.mean(normal_samples <= value), abs=1.0)
    curve = ax.lines[0]
    assert list(curve.get_xdata()) == list(normal_summary.quantiles)
    assert curve.get_ydata()[0] == 0.0 and curve.get_ydata()[-1] == 1.0
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_ylabel() == "probability of not exceeding"


def test_s_curve_takes_a_given_risk_adjusted_value(normal_summary):
    ax = only_axes(s_curve_figure(normal_summary, "Cost", risk_adjusted=120.0))
    assert sorted(vertical_marks(ax).values()) == [100.0, 120.0]


def test_s_curve_of_a_key_figure_uses_its_risk_adjusted_value(case_run):
    npv = case_run.business_case["npv"]
    ax = only_axes(s_curve_figure(npv, npv.label))
    assert sorted(vertical_marks(ax).values()) == sorted([npv.expected, npv.risk_adjusted])


# ---------------------------------------------------------------------------- convergence


def test_convergence_runs_mean_band_and_percentiles(normal_samples):
    ax = only_axes(convergence_figure(normal_samples, "Cost"))
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "samples"
    mean, p10, p50, p90 = ax.lines
    assert [line.get_label() for line in ax.lines] == ["mean", "P10", "P50", "P90"]
    counts = np.asarray(mean.get_xdata())
    assert 50 <= counts.size <= 100 and counts[-1] == normal_samples.size
    assert np.all(np.diff(counts) > 0)
    # the last point is the whole run's figure
    assert mean.get_ydata()[-1] == pytest.approx(np.mean(normal_samples), rel=1e-12)
    for line, level in ((p10, 10), (p50, 50), (p90, 90)):
        assert line.get_ydata()[-1] == np.percentile(normal_samples, level)
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert band.get_label() == "mean ± 2 SE"
    # the band's half-width at the end is two standard errors of the mean
    se = np.std(normal_samples, ddof=1) / np.sqrt(normal_samples.size)
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.max() - ys.min() >= 4 * se * 0.99


def test_convergence_skips_non_finite_samples_and_needs_two():
    values = np.array([1.0, np.nan, 2.0, np.inf, 3.0])
    ax = only_axes(convergence_figure(values, "x"))
    assert ax.lines[0].get_ydata()[-1] == 2.0
    with pytest.raises(RunError, match="at least 2 finite samples"):
        convergence_figure(np.array([1.0, np.nan]), "x")


# ---------------------------------------------------------------- tornado and contribution


@dataclass(frozen=True)
class Bar:
    input: str
    label: str
    low: float | None
    high: float | None
    swing: float


@dataclass(frozen=True)
class Sensitivity:
    """A stand-in with the attributes of sensitivity.SensitivityResult the charts read."""

    output: str
    base: float
    tornado: tuple[Bar, ...]
    contribution_to_variance: dict[str, float] = field(default_factory=dict)
    samples: int = 1000
    rank_correlation: dict[str, float] = field(default_factory=dict)


def stand_in(inputs: int) -> Sensitivity:
    swings = np.linspace(100.0, 5.0, inputs)
    bars = tuple(
        Bar(f"x{k}", f"Input {k}", 1000.0 - s / 3, 1000.0 + 2 * s / 3, s)
        for k, s in enumerate(swings)
    )
    shares = swings**2 / np.sum(swings**2)
    return Sensitivity("npv", 1000.0, bars, {f"x{k}": float(v) for k, v in enumerate(shares)})


def test_tornado_shows_the_top_inputs_largest_on_top():
    sensitivity = stand_in(20)
    ax = only_axes(tornado_figure(sensitivity, unit="tkr"))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == TOP_INPUTS
    ticks = dict(zip(labels, ax.get_yticks(), strict=True))
    assert ticks["Input 0"] == max(ticks.values())  # the widest swing at the top
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 2 * TOP_INPUTS
    first = sensitivity.tornado[0]
    top = [b for b in bars if b.get_y() + b.get_height() / 2 == ticks["Input 0"]]
    assert [b.get_x() for b in top] == [sensitivity.base] * 2  # bars start at the base
    assert sorted(b.get_x() + b.get_width() for b in top) == pytest.approx([first.low, first.high])
    assert vertical_marks(ax) == {"base = 1,000.0 tkr": 1000.0}
    assert ax.get_title() == "Tornado: npv"
    assert ax.get_legend() is None  # below the axes, where it covers no bar
    (below,) = ax.figure.legends
    legend = [t.get_text() for t in below.get_texts()]
    assert sorted(legend) == ["base = 1,000.0 tkr", "input at its high", "input at its low"]


def test_tornado_leaves_out_an_undefined_end():
    bars = (Bar("a", "A", 5.0, None, float("nan")), Bar("b", "", 2.0, 8.0, 6.0))
    ax = only_axes(tornado_figure(Sensitivity("cost", 4.0, bars)))
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "b"]  # the id without a label


def test_contribution_shows_the_top_inputs_and_the_rest_as_one_bar():
    sensitivity = stand_in(20)
    ax = only_axes(contribution_figure(sensitivity))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["Input 0", "Input 1"] and labels[-1] == "5 other inputs"
    assert len(labels) == TOP_INPUTS + 1
    widths = [p.get_width() for p in ax.patches if isinstance(p, Rectangle)]
    assert sum(widths) == pytest.approx(1.0)
    rest = list(sensitivity.contribution_to_variance.values())[TOP_INPUTS:]
    assert widths[-1] == pytest.approx(sum(rest))
    texts = [t.get_text() for t in ax.texts]
    assert texts[0] == f"{100 * widths[0]:.1f} %"
    assert ax.get_title() == "Contribution to variance: npv"


def test_charts_of_no_inputs_say_so():
    empty = Sensitivity("npv", 0.0, ())
    for figure in (tornado_figure(empty), contribution_figure(empty)):
        assert "no uncertain inputs" in [t.get_text() for t in only_axes(figure).texts]


# ---------------------------------------------------------------------------- files


def test_svg_parses_and_png_has_its_magic(normal_summary):
    fig = histogram_figure(normal_summary, "Cost")
    root = ET.fromstring(figure_svg(fig))
    assert root.tag.endswith("svg")
    assert figure_png(fig, dpi=50).startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    "name, check",
    [
        ("chart.png", lambda data: data.startswith(PNG_MAGIC)),
        ("chart.svg", lambda data: ET.fromstring(data).tag.endswith("svg")),
        ("chart.PDF", lambda data: data.startswith(b"%PDF")),
    ],
)
def test_save_figure_by_extension(tmp_path, normal_summary, name, check):
    path = save_figure(s_curve_figure(normal_summary, "Cost"), tmp_path / name)
    assert path == tmp_path / name and check(path.read_bytes())
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left


def test_the_same_chart_gives_the_same_file(tmp_path, normal_summary):
    for fmt in ("svg", "pdf"):
        first = save_figure(histogram_figure(normal_summary, "Cost"), tmp_path / f"a.{fmt}")
        second = save_figure(histogram_figure(normal_summary, "Cost"), tmp_path / f"b.{fmt}")
        assert first.read_bytes() == second.read_bytes(), fmt


@pytest.mark.parametrize(
    "name, error",
    [("chart.gif", RenderError), ("chart", RenderError), ("missing/chart.png", OutputError)],
)
def test_save_figure_refuses_bad_paths_and_writes_nothing(tmp_path, normal_summary, name, error):
    with pytest.raises(error, match="cannot write"):
        save_figure(histogram_figure(normal_summary, "Cost"), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_importing_the_package_loads_no_matplotlib_and_charts_no_pyplot():
    code = (
        "import sys, numpy as np, assumption_graph as ag\n"
        "assert 'matplotlib' not in sys.modules\n"
        "from assumption_graph.plots import histogram_figure, figure_png\n"
        "from assumption_graph.results import summarise\n"
        "figure_png(histogram_figure(summarise(np.arange(100.0), {}), 't'))\n"
        "assert 'matplotlib' in sys.modules and 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ---------------------------------------------------------------------------- result.plot


@pytest.fixture(scope="module")
def case_run():
    return Simulator(load(EXAMPLE)).run(20_000, 3, keep_samples=True)


@pytest.fixture(scope="module")
def lean_run():
    return Simulator(load(EXAMPLE)).run(20_000, 3)


def test_result_plot_histogram_of_a_key_figure(lean_run):
    npv = lean_run.business_case["npv"]
    ax = only_axes(lean_run.plot.histogram("npv"))
    assert ax.get_title() == "Net present value"
    assert sorted(vertical_marks(ax).values()) == [npv.percentiles[p] for p in (10.0, 50.0, 90.0)]


def test_result_plot_s_curve_of_a_key_figure(lean_run):
    npv = lean_run.business_case["npv"]
    marks = vertical_marks(only_axes(lean_run.plot.s_curve("@npv")))
    assert sorted(marks.values()) == sorted([npv.expected, npv.risk_adjusted])


def test_result_plot_of_a_rate_is_in_percent(lean_run):
    ax = only_axes(lean_run.plot.histogram("irr"))
    assert ax.get_title() == "Internal rate of return"
    assert ax.get_xlabel() == "value (% a year)"
    assert all(label.endswith(" %") for label in vertical_marks(ax))


def test_result_plot_of_a_node(lean_run):
    ax = only_axes(lean_run.plot.histogram("case_work@without"))
    assert ax.get_title() == "case_work@without"  # no model: the id
    summary = lean_run["case_work@without"]
    assert sorted(vertical_marks(ax).values()) == [summary.percentiles[p] for p in (10, 50, 90)]


def test_plot_accessor_with_the_model_has_labels_and_units(lean_run):
    model = load(EXAMPLE)
    charts = PlotAccessor(lean_run, model)
    assert only_axes(charts.histogram("npv")).get_xlabel() == f"value ({model.money_unit})"
    ax = only_axes(charts.s_curve("case_work@without"))
    assert ax.get_title() == f"{model['case_work'].label} (without the project)"
    assert ax.get_xlabel() == f"value ({model['case_work'].unit or model.money_unit})"


def test_result_plot_convergence_needs_kept_samples(case_run, lean_run):
    ax = only_axes(case_run.plot.convergence("npv"))
    assert ax.get_title() == "Convergence: Net present value"
    assert ax.lines[0].get_ydata()[-1] == pytest.approx(case_run.business_case["npv"].mean)
    with pytest.raises(RunError, match="no samples of 'npv' were kept"):
        lean_run.plot.convergence("npv")


def test_result_plot_histogram_uses_kept_samples(case_run):
    ax = only_axes(case_run.plot.histogram("npv", bins=30))
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 30


def test_result_plot_names_an_unknown_node(lean_run):
    with pytest.raises(RunError, match="no output node or key figure named 'nvp'") as caught:
        lean_run.plot.histogram("nvp")
    assert "did you mean 'npv'?" in str(caught.value)


def test_result_plot_tornado_and_contribution(lean_run):
    sensitivity = stand_in(3)
    assert only_axes(lean_run.plot.tornado(sensitivity)).get_title() == "Tornado: Net present value"
    title = only_axes(lean_run.plot.contribution(sensitivity)).get_title()
    assert title == "Contribution to variance: Net present value"


# ---------------------------------------------------------------------------- run --plot


def test_chart_request_parses_kind_node_and_file(tmp_path):
    request = ChartRequest.parse(f"S-Curve:case_work@without={tmp_path}/a=b:c.svg")
    assert request == ChartRequest("s-curve", "case_work@without", tmp_path / "a=b:c.svg")


def test_run_writes_the_charts(tmp_path, capsys):
    files = {
        "histogram:npv": tmp_path / "npv.png",
        "s-curve:irr": tmp_path / "irr.svg",
        "convergence:project_cost": tmp_path / "cost.svg",
        "histogram:case_work": tmp_path / "case_work.pdf",
    }
    argv = ["run", str(EXAMPLE), "-n", "20000", "--seed", "1"]
    for spec, path in files.items():
        argv += ["--plot", f"{spec}={path}"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert files["histogram:npv"].read_bytes().startswith(PNG_MAGIC)
    for key in ("s-curve:irr", "convergence:project_cost"):
        root = ET.parse(files[key]).getroot()
        assert root.tag.endswith("svg")
    assert files["histogram:case_work"].read_bytes().startswith(b"%PDF")
    assert all(f"wrote {path}" in err for path in files.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files.values())


@pytest.mark.parametrize(
    "plot, message",
    [
        ("pie:npv={dir}/npv.png", "unknown chart 'pie'"),
        ("histogram:npv={dir}/npv.gif", "unknown extension '.gif'"),
        ("histogram:npv", "--plot takes KIND:NODE=FILE"),
        ("histogram:nvp={dir}/npv.png", "did you mean 'npv'?"),
        ("histogram:hours={dir}/h.png", "no output node or key figure named 'hours'"),
        ("histogram:npv={dir}/missing/npv.png", "does not exist"),
    ],
)
def test_run_with_a_bad_plot_fails_in_one_line_and_writes_nothing(tmp_path, capsys, plot, message):
    out = tmp_path / "out"
    out.mkdir()
    argv = ["run", str(EXAMPLE), "-n", "2000", "--json", str(out / "run.json")]
    code = main([*argv, "--plot", plot.format(dir=out)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "Traceback" not in err
    assert list(out.iterdir()) == []
