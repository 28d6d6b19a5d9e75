"""The summaries' compiled passes give numpy's numbers, bit for bit.

A large run's summaries take numpy's sum, the compiled std pass, and the order
statistics a summary reads from the samples of a few bins (``compile/tally.py``);
its rankings take one numpy sort of keys and a compiled pass. Each must give the
very numbers the plain numpy way gives (a full sort, ``np.std``, ``rankdata``):
the tests run both ways on the same samples and compare every figure. The size
from which a run takes the compiled way is lowered for the random arrays, so
that they exercise it at any length.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import assumption_graph as ag
from assumption_graph import results
from assumption_graph.compile import kernel, tally
from assumption_graph.run import Simulator
from assumption_graph.scenarios import paired_difference

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "business_case.yaml"


def _both_ways(compute, *, gather_at_most: float = 1.0):
    """``compute()`` the plain numpy way and the compiled way (from any size)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(results, "_TALLY_FROM", sys.maxsize)
        plain = compute()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(results, "_TALLY_FROM", 2)
        patch.setattr(results, "_GATHER_AT_MOST", gather_at_most)
        compiled = compute()
    return plain, compiled


def _figures(summary: results.NodeSummary) -> str:
    """Every figure of a summary, the sketch included, exactly (NaN and -0.0 told apart)."""
    return repr((summary.as_dict(), summary.quantiles))


# Samples as runs have them: continuous, with atoms (a risk event's zero), with ties,
# heavy tails, non-finite ones, and magnitudes near float64's ends.
def _samples(draw_kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    kinds = {
        "normal": lambda: rng.normal(5.0, 2.0, n),
        "triangle": lambda: rng.triangular(1.0, 2.0, 7.0, n),
        "lognormal": lambda: rng.lognormal(0.0, 1.5, n),
        "cauchy": lambda: rng.standard_cauchy(n),
        "atom": lambda: np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(size=n)),
        "discrete": lambda: rng.integers(0, 4, n).astype(float),
        "constant": lambda: np.full(n, -2.5),
        "rounded": lambda: np.round(rng.normal(size=n), 1),
        "signed zeros": lambda: np.where(rng.random(n) < 0.5, -0.0, rng.normal(size=n)),
        "non-finite": lambda: np.where(rng.random(n) < 0.05, np.inf, rng.normal(size=n)),
        "nan": lambda: np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n)),
        "huge": lambda: rng.normal(size=n) * 1e307,
        "tiny": lambda: rng.normal(size=n) * 1e-300,
    }
    return kinds[draw_kind]()


KINDS = (
    "normal", "triangle", "lognormal", "cauchy", "atom", "discrete", "constant",
    "rounded", "signed zeros", "non-finite", "nan", "huge", "tiny",
)  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    n=st.integers(1, 5000),
    seed=st.integers(0, 2**32 - 1),
    gather_at_most=st.sampled_from([0.0, 0.4, 1.0]),
)
def test_a_summary_by_the_compiled_passes_is_the_one_a_sort_gives(kind, n, seed, gather_at_most):
    samples = _samples(kind, np.random.default_rng(seed), n)
    plain, compiled = _both_ways(
        lambda: _figures(results.summarise(samples.copy(), {})), gather_at_most=gather_at_most
    )
    assert compiled == plain


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    n=st.integers(1, 3000),
    seed=st.integers(0, 2**32 - 1),
    factor=st.sampled_from([3.5, 0.1, 1e300, -2.0, 0.0]),
)
def test_a_total_by_the_compiled_passes_is_the_one_a_sort_gives(kind, n, seed, factor):
    samples = _samples(kind, np.random.default_rng(seed), n)

    def both():
        row = samples.copy()
        own, total = results.summarise_total(row, {"expected": 1.0}, factor, {"expected": factor})
        return _figures(own), _figures(total), row.tobytes()

    plain, compiled = _both_ways(both)
    assert compiled == plain


@given(values=hnp.arrays(np.float64, st.integers(1, 400), elements=st.floats(-1e300, 1e300)))
def test_the_std_pass_sums_the_squares_as_numpy_does(values):
    mean = float(np.mean(values))
    squares = np.empty(1)
    sizes = np.array([values.size, 0, 1, tally.MOMENTS])
    nothing = np.empty(0, dtype=np.int64)
    kernel.tally(values, sizes, np.array([0.0, 0.0, mean]), nothing, squares)
    with np.errstate(over="ignore"):
        expected = np.add.reduce(np.square(values - mean))
    assert squares[0] == expected or (math.isnan(squares[0]) and math.isnan(expected))


@pytest.mark.parametrize("n", [7, 8, 127, 128, 129, 1000, 65_537, 1_000_003])
def test_the_std_pass_follows_numpys_halving_at_every_length(n):
    values = np.random.default_rng(n).lognormal(size=n) * 1e3
    mean = float(np.mean(values))
    squares = np.empty(1)
    first = np.empty(tally.BINS + 3, dtype=np.int64)
    sizes = np.array([n, first.size, 1, tally.MOMENTS])
    kernel.tally(values, sizes, np.array([1.0, 4.0, mean]), first, squares)
    assert squares[0] == np.add.reduce(np.square(values - mean))
    # and each bin's first rank: the samples in the bins below it, counted once each
    bins = np.clip((values - 1.0) * 4.0 + 1.0, 0.0, tally.BINS + 1.0).astype(np.int64)
    below = np.cumsum(np.bincount(bins, minlength=tally.BINS + 2))
    assert first[0] == 0 and np.array_equal(first[1:], below) and first[-1] == n


@given(
    values=hnp.arrays(
        np.float64,
        st.integers(1, 2000),
        elements=st.floats(allow_nan=False, allow_infinity=True, width=64),
    ),
    low=st.floats(-1e6, 1e6),
    scale=st.floats(1e-6, 1e6),
)
def test_a_larger_value_never_has_a_lower_bin(values, low, scale):
    ordered = np.sort(values)
    bins = [tally.bin_of(float(v), low, scale) for v in ordered]
    assert bins == sorted(bins)
    assert all(0 <= b <= tally.BINS + 1 for b in bins)


@settings(max_examples=80, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 3000), seed=st.integers(0, 2**32 - 1))
def test_a_sample_variance_by_the_compiled_pass_is_numpys(kind, n, seed):
    values = _samples(kind, np.random.default_rng(seed), n)
    with np.errstate(all="ignore"):  # numpy's own way warns of the huge ones' overflow
        plain, compiled = _both_ways(lambda: results.sample_variance(values))
        expected = float(values.var(ddof=1)) if n > 1 else math.nan
    assert repr(compiled) == repr(plain) == repr(expected)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 3000), seed=st.integers(0, 2**32 - 1))
def test_a_scenarios_paired_difference_by_the_compiled_passes_is_numpys(kind, n, seed):
    rng = np.random.default_rng(seed)
    base, other = _samples(kind, rng, n), _samples(kind, rng, n)
    with np.errstate(all="ignore"):  # numpy's own way warns of the huge ones' overflow
        plain, compiled = _both_ways(lambda: paired_difference(base, other, True))
    assert repr(compiled) == repr(plain)


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(["normal", "lognormal", "cauchy", "rounded", "signed zeros", "huge"]),
    n=st.integers(3, 5000),
    seed=st.integers(0, 2**32 - 1),
)
def test_compiled_ranks_are_scipys_average_ranks(kind, n, seed):
    values = _samples(kind, np.random.default_rng(seed), n)
    plain, compiled = _both_ways(lambda: results.average_ranks(values))
    np.testing.assert_array_equal(compiled, scipy.stats.rankdata(values))
    np.testing.assert_array_equal(compiled, plain)


@settings(max_examples=80, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 5000), seed=st.integers(0, 2**32 - 1))
def test_an_inputs_centred_ranks_by_the_compiled_passes_are_numpys(kind, n, seed):
    values = _samples(kind, np.random.default_rng(seed), n)
    plain, compiled = _both_ways(lambda: results.finite_ranks(values))
    for field in ("ranks", "centred"):
        a, b = getattr(plain, field), getattr(compiled, field)
        assert (a is None and b is None) or np.array_equal(a, b), field
    assert repr(compiled.square) == repr(plain.square)


def test_values_too_close_for_the_keys_are_ranked_the_other_way():
    values = 1.0 + np.random.default_rng(1).normal(size=50_000) * 1e-13  # high bits all agree
    assert results._compiled_ranks(values) is None
    np.testing.assert_array_equal(results.average_ranks(values), scipy.stats.rankdata(values))


@pytest.fixture(scope="module")
def large_run_both_ways():
    """The business case at 2**17 + 3 samples (correlated inputs ranked), both ways."""
    sim = Simulator(ag.load(EXAMPLE))

    def run():
        result = sim.run(2**17 + 3, 11, outputs="all")
        case = result.business_case
        assert case is not None
        return (
            {node: _figures(s) for node, s in result.summaries.items()},
            repr(case.key_figures),
            repr(result.correlations),
        )

    return _both_ways(run, gather_at_most=results._GATHER_AT_MOST)


def test_a_large_run_has_the_same_summaries_either_way(large_run_both_ways):
    plain, compiled = large_run_both_ways
    assert compiled[0] == plain[0]
    assert compiled[1] == plain[1]  # the key figures, percentiles and sketches included


def test_a_large_run_has_the_same_achieved_correlations_either_way(large_run_both_ways):
    plain, compiled = large_run_both_ways
    assert compiled[2] == plain[2]
    assert "'achieved': None" not in compiled[2]


NEW_PROCESS = """
import json, sys
import assumption_graph as ag
from assumption_graph.run import Simulator
from assumption_graph.scenarios import paired_difference
result = Simulator(ag.load(sys.argv[1])).run(200_000, 3)
npv = result.business_case.key_figures["npv"]
print(json.dumps({"numba": "numba" in sys.modules, "case": result["case_work"].as_dict(),
                  "percentiles": npv.percentiles, "sketch": npv.quantiles}))
"""


def test_a_new_process_summarises_by_the_cached_passes_without_numba():
    here = Simulator(ag.load(EXAMPLE)).run(200_000, 3)  # the passes are cached by now
    npv = here.business_case.key_figures["npv"]
    done = subprocess.run(
        [sys.executable, "-c", NEW_PROCESS, str(EXAMPLE)],
        capture_output=True, text=True, check=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    there = json.loads(done.stdout)
    assert there["numba"] is False
    assert there["case"] == json.loads(json.dumps(here["case_work"].as_dict()))
    assert there["percentiles"] == {str(p): v for p, v in npv.percentiles.items()}
    assert there["sketch"] == list(npv.quantiles)


DAMAGED = """
import json, sys
import assumption_graph as ag
result = ag.load(sys.argv[1]).compile().run(200_000, 3)
print(json.dumps(result["case_work"].as_dict()))
"""


def test_a_damaged_entry_of_the_passes_is_noticed_compiled_again_and_gives_the_same(tmp_path):
    """The passes' cache entry is checked like the kernel's: damage is reported in one
    line, compiled again in its place, and the figures do not change."""
    import os
    import shutil

    here = Simulator(ag.load(EXAMPLE)).run(200_000, 3)["case_work"].as_dict()
    kernel.warm_up(pieces=True)  # the whole cache, the passes' entry included
    root = tmp_path / "cache"
    shutil.copytree(kernel.cache_dir(), root / kernel.cache_dir().name)
    entry = root / kernel.cache_dir().name / "tally.bin"
    pristine = entry.read_bytes()
    entry.write_bytes(pristine[: len(pristine) // 2])
    done = subprocess.run(
        [sys.executable, "-c", DAMAGED, str(EXAMPLE)],
        capture_output=True, text=True, check=True, timeout=300, cwd=ROOT,
        env={**os.environ, "ASSUMPTION_GRAPH_CACHE": str(root)},
    )  # fmt: skip
    assert f"kernel cache damaged at {entry}: recompiling" in done.stderr
    assert json.loads(done.stdout) == json.loads(json.dumps(here))
    assert kernel._parse_entry(entry.read_bytes()) is not None  # replaced, whole
