"""Monte Carlo runs: settings, methods, chunks, outputs and overrides.

A :class:`Simulator` is what ``model.compile()`` returns. Each ``run`` computes
samples ``0 .. n-1`` in chunks (so a progress bar can move; Ctrl-C stops the
kernel's threads within a chunk, and a later run gives the same numbers), keeps
only the requested outputs, and summarises them. With method ``mc`` the kernel
draws every input from the counter-based streams of ``seed``; with ``lhs`` or
``sobol`` the inputs' uniforms come chunk by chunk from
:class:`~.sampling.InputSampler` and the kernel applies each model's inverse CDF
to them (correlated inputs pass through the Gaussian copula in the kernel first).
Chunk size and thread count never change the numbers.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .business.expand import CaseGraph
from .business.figures import summarise_case
from .cluster import Cluster, Piece
from .compile import CompiledModel, Program, compile_model
from .compile.kernel import threads_for
from .compile.reference import input_distributions
from .distributions import Distribution
from .errors import RunError, did_you_mean, shown
from .model import Model
from .results import (
    NodeSummary,
    Ranking,
    RunResult,
    achieved_correlations,
    correlated_names,
    finite_ranks,
    in_threads,
    summarise,
    summarise_total,
)
from .sampling import METHODS, SOBOL_POINTS, InputSampler
from .settings import DEFAULT_SAMPLES, DEFAULT_SEED
from .validate import CheckedModel

if TYPE_CHECKING:  # sensitivity and scenarios build on this module; SIPs only when used
    from .scenarios import ScenarioResult
    from .sensitivity import SensitivityResult
    from .sipmath.library import LibraryInputs, SipLibrary

__all__ = [
    "Simulator",
    "simulate",
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "CHUNK",
    "METHODS",
    "FIRST_CHECK",
    "SUMMARY_ROWS",
    "summary_workers",
    "RANK_ROWS",
    "available_memory",
    "check_memory",
    "RunsTogether",
]

CHUNK = 1 << 18  # samples per kernel call: small enough for a lively progress bar
FIRST_CHECK = 10_000  # a run to a precision checks it after this many samples, then doubling
# Arrays of n samples alive besides the outputs (measured with tracemalloc, rounded up):
SUMMARY_ROWS = 2  # while one output is sorted and summarised
RANK_ROWS = 10  # while two outputs are ranked for a rank correlation (and one more per input
# whose ranks a run keeps while it works out the achieved correlations)
_THREADED_FROM = 1 << 16  # samples from which outputs are summarised (inputs ranked) on threads

Progress = Callable[[int], None]


class Simulator:
    """A compiled model that runs scenarios; compile once, run many times.

    >>> m = Model("demo")
    >>> m.add("hours", estimate=[10, 20, 40])
    >>> m.add("cost", kind="main", formula="hours * 2")
    >>> sim = Simulator(m)
    >>> result = sim.run(n=1000, seed=1)
    >>> result["cost"].expected
    40.0
    """

    def __init__(self, model: Model | CheckedModel | CompiledModel) -> None:
        self.compiled = model if isinstance(model, CompiledModel) else compile_model(model)
        self.model = self.compiled.model
        self.case = self.compiled.case

    @property
    def source(self) -> str:
        """What the kernel runs for the main nodes, one line per op."""
        return self.compiled.source

    def run(
        self,
        n: int = DEFAULT_SAMPLES,
        seed: int = DEFAULT_SEED,
        *,
        method: str = "mc",
        precision: float | None = None,
        overrides: Mapping[str, float] | None = None,
        outputs: Iterable[str] | str | None = None,
        keep_samples: bool = False,
        threads: int | None = None,
        progress: Progress | None = None,
        chunk: int = CHUNK,
        sip_library: SipLibrary | None = None,
        rank_correlations: bool = True,
        cluster: Cluster | None = None,
    ) -> RunResult:
        """Simulate ``n`` samples from ``seed`` and summarise the outputs.

        ``method``: ``"mc"`` (Monte Carlo), ``"lhs"`` (Latin hypercube) or
        ``"sobol"`` (scrambled Sobol points). ``precision`` (e.g. ``0.005``)
        stops early, at ``FIRST_CHECK``·2ᵏ samples, once every output's mean is
        known to that relative standard error; ``n`` is then the cap and the
        result's ``samples`` says how many it took (the same numbers as a run of
        that many samples). ``outputs``: node ids, ``"all"``, or ``None`` for the
        main nodes (a node that differs without and with the project also as
        ``id@without``; a business case's main node with ``years`` as its total
        over them). ``overrides`` pins nodes to values for this run (a situation
        node in both situations, unless named ``id@without``). ``progress`` is
        called with the number of samples done after each chunk. With a business
        case the run computes its key figures too (``result.business_case``).
        ``rank_correlations=False`` skips the achieved rank correlations of the
        correlated inputs (``result.correlations`` is then empty): a caller that never
        shows them (a portfolio) saves ranking every correlated input's samples.
        A run that needs more memory than the machine has available (8 bytes a
        sample per node kept, plus room to summarise) is a :class:`RunError`
        before it starts; a run to a precision is checked again as it grows.
        ``sip_library`` (:func:`~.sipmath.library.read_library`) gives the inputs
        named by its SIPs their trials (:meth:`library_inputs` lists them).
        ``cluster`` (:func:`assumption_graph.cluster.connect`) runs the chunks on
        its Dask workers instead of this machine's threads: the same numbers.
        """
        n = checked_whole(n, "n (the number of samples)", least=1)
        seed = checked_whole(seed, "seed")
        method = _checked_method(method, precision, n)
        threads, chunk = _checked_threads(threads), checked_whole(chunk, "chunk", least=1)
        keep_samples = checked_flag(keep_samples, "keep_samples")
        rank_correlations = checked_flag(rank_correlations, "rank_correlations")
        if progress is not None and not callable(progress):
            raise RunError(f"progress must be a function or None, got {shown(progress)}")
        overrides = self.checked_overrides(overrides)
        pins = self.case.pins(overrides)
        output_ids = self._output_ids(outputs)
        sampler = self._sampler(method, seed, n, pins, sip_library)
        pairs = sampler.correlations if rank_correlations else ()
        correlated = tuple(x for a, b, _ in pairs for x in (a, b))
        summarised = tuple(dict.fromkeys((*output_ids, *self.case.case_ids)))
        run_ids = tuple(dict.fromkeys((*summarised, *correlated)))  # summarised ones first
        checkpoints = _checkpoints(n, precision)
        rank_rows = len(set(correlated))  # the achieved correlations rank these inputs' samples
        _check_run_memory(len(run_ids), 0, checkpoints[0], precision, rank_rows)  # before compiling
        program = self.compiled.program(run_ids, pins, inputs=sampler.plan)
        out = np.empty((len(run_ids), 0))
        done = 0
        for target in checkpoints:
            if done:  # a run to a precision grows only as far as it must
                _check_run_memory(len(run_ids), done, target, precision, rank_rows)
            out = _grown(out, target)
            given = sampler.values if sampler.loaded else _nothing_given
            pieces = _pieces(done, target, chunk, given)
            self._execute(program, seed, pieces, out, threads, progress, cluster)
            done = target
            if precision is not None and _precise(out[: len(output_ids)], precision):
                break
        out = out[:, :done]
        figures = self.compiled.figures(summarised, pins)
        summaries, totals, ranked = self._summaries(
            out, run_ids, summarised, figures, correlated_names(pairs), threads
        )
        business_case = None
        if isinstance(self.case, CaseGraph):
            shifts = self.compiled.shifts(self.case.key_figures["net_gain"], pins)
            business_case = summarise_case(self.case, summaries, shifts)
        summaries.update(totals)  # a node with `years` reports its total
        arrays = {o: out[k] for k, o in enumerate(run_ids)}
        return RunResult(
            model=self.model.name,
            samples=done,
            seed=seed,
            method=method,
            summaries={o: summaries[o] for o in output_ids},
            arrays=arrays if keep_samples else {},
            overrides=overrides,
            business_case=business_case,
            correlations=achieved_correlations(pairs, arrays, ranked=ranked),
        )

    def _summaries(
        self,
        out: np.ndarray,
        run_ids: tuple[str, ...],
        summarised: tuple[str, ...],
        figures: Mapping[str, Mapping[str, float]],
        correlated: Sequence[str],
        threads: int | None,
    ) -> tuple[dict[str, NodeSummary], dict[str, NodeSummary], dict[str, Ranking]]:
        """The summaries of the ``summarised`` nodes' rows of ``out``, the totals of those
        with ``years`` (their rows scaled in place), and the ranks of the ``correlated``
        inputs' rows (a scaled one's after the scaling, as the run reports its values).

        One pool of threads does them all, so that no core waits for a ranking
        while the others summarise; a node's total reuses its sort.
        """
        rows = {node_id: out[k] for k, node_id in enumerate(run_ids)}
        scaled_ids = {x for x in summarised if x in self.case.totals}
        first = [x for x in correlated if x not in scaled_ids]
        # the rankings first: the longest tasks, so that no core ends the pool alone on one
        tasks: list[Callable[[], Any]] = [functools.partial(finite_ranks, rows[x]) for x in first]
        for node_id in summarised:
            row, own = rows[node_id], figures[node_id]
            factor = self.case.totals.get(node_id)
            if factor is None:
                tasks.append(functools.partial(summarise, row, own))
            else:
                total = {name: value * factor for name, value in own.items()}
                tasks.append(functools.partial(summarise_total, row, own, factor, total))
        working = RANK_ROWS if correlated else SUMMARY_ROWS
        done = in_threads(tasks, summary_workers(threads, out.shape[1], working))
        ranked = dict(zip(first, done, strict=False))
        summaries, totals = {}, {}
        for node_id, summary in zip(summarised, done[len(first) :], strict=True):
            if isinstance(summary, tuple):
                summaries[node_id], totals[node_id] = summary
            else:
                summaries[node_id] = summary
        ranked.update((x, finite_ranks(rows[x])) for x in correlated if x not in ranked)
        return summaries, totals, {x: ranked[x] for x in correlated}

    def evaluate(
        self,
        values: Mapping[str, np.ndarray | Sequence[float]],
        outputs: Iterable[str] | str | None = None,
        *,
        seed: int = DEFAULT_SEED,
        threads: int | None = None,
        cluster: Cluster | None = None,
    ) -> dict[str, np.ndarray]:
        """The outputs' samples with the named nodes given per sample by ``values``.

        Each array in ``values`` holds one value per sample (all the same
        length); the compiled kernel loads them in place of those nodes (and of
        everything upstream of them). Inputs not given are drawn from ``seed``'s
        streams as in a run. What sensitivity methods call as "the model".
        ``outputs`` and ``cluster`` as for :meth:`run`.

        >>> m = Model("demo")
        >>> m.add("hours", estimate=[10, 20, 40])
        >>> m.add("cost", kind="main", formula="hours * 2")
        >>> Simulator(m).evaluate({"hours": [10.0, 15.0]})["cost"].tolist()
        [20.0, 30.0]
        """
        values = checked_mapping(values, "values", "arrays of values")
        for node_id in values:
            self._known(node_id, "given value")
        given = [_numbers(values[x], x) for x in values]
        sizes = {array.size for array in given}
        if len(sizes) != 1 or 0 in sizes:
            raise RunError(
                "give at least one node, each with an array of values of one and the same length; "
                f"got lengths {sorted(sizes)}"
            )
        n = sizes.pop()
        output_ids = self._output_ids(outputs)
        check_memory(
            8 * n * (len(output_ids) + len(given)),
            f"evaluating {n:,} samples of {len(output_ids):,} output(s)",
            "evaluate fewer samples at a time",
        )
        program = self.compiled.program(output_ids, None, tuple(values))
        matrix, seed = np.stack(given), checked_whole(seed, "seed")
        threads = _checked_threads(threads)
        out = np.empty((len(output_ids), n))
        pieces = _pieces(0, n, CHUNK, lambda start, count: matrix[:, start : start + count])
        self._execute(program, seed, pieces, out, threads, None, cluster)
        for k, node_id in enumerate(output_ids):
            out[k] *= self.case.totals.get(node_id, 1.0)
        return {o: out[k] for k, o in enumerate(output_ids)}

    def _execute(
        self,
        program: Program,
        seed: int,
        pieces: Iterable[Piece],
        out: np.ndarray,
        threads: int | None,
        progress: Progress | None,
        cluster: Cluster | None,
    ) -> None:
        """Fill ``out[:, start:start+count]`` for each piece (its first sample, count and given
        matrix): here, on ``threads``, or on the ``cluster``'s workers; the same numbers."""
        if cluster is not None:
            cluster.fill(program, seed, pieces, out, progress)
            return
        for start, count, given in pieces:
            self.compiled.execute(program, seed, start, count, out, threads, given)
            if progress is not None:
                progress(count)

    def sensitivity(self, output: str, **options: object) -> SensitivityResult:
        """Which inputs drive ``output`` (a node id or a key figure such as ``"npv"``).

        Tornado, rank correlation, contribution to variance and Sobol indices;
        ``options`` as for :func:`assumption_graph.sensitivity.sensitivity`.
        """
        from .sensitivity import sensitivity  # builds on this module

        return sensitivity(self, output, **options)  # type: ignore[arg-type]

    def scenarios(
        self,
        scenarios: Mapping[str, Mapping[str, Any]],
        n: int = DEFAULT_SAMPLES,
        seed: int = DEFAULT_SEED,
        *,
        method: str = "mc",
        threads: int | None = None,
        cluster: Cluster | None = None,
    ) -> ScenarioResult:
        """Run the base and named scenarios with common random numbers; compare them.

        ``scenarios`` maps each name to its changes in the scenario file's
        vocabulary (``{"cheaper": {"set": {"rate": 0.85}}}``; also ``nodes`` and
        ``business_case``). Returns a
        :class:`~assumption_graph.scenarios.ScenarioResult`: ``.rows()`` is the
        table as plain dicts, ``.to_pandas()`` a DataFrame when pandas is
        installed. Warnings (a pin outside an input's range) are Python warnings.
        ``cluster`` as for :meth:`run`.
        """
        from .scenario_file import scenarios_from_data  # a plain run reads no scenarios
        from .scenarios import run_scenarios  # builds on this module

        read, found = scenarios_from_data(scenarios, self.model)
        for text in found:
            warnings.warn(text, UserWarning, stacklevel=2)
        return run_scenarios(self, read, n, seed, method=method, threads=threads, cluster=cluster)

    def library_inputs(
        self, library: SipLibrary, overrides: Mapping[str, float] | None = None
    ) -> tuple[str, ...]:
        """The random inputs whose id names a SIP of ``library``, but for those ``overrides``
        pins: a run with both takes these inputs' trials from the library."""
        pins = self.case.pins(self.checked_overrides(overrides)) if overrides else {}
        return tuple(x for x in self.random_inputs() if x in library.sips and x not in pins)

    def random_inputs(self) -> dict[str, Distribution]:
        """Every input that draws at random, with its probability model."""
        return {x: d for x, d in input_distributions(self.compiled.checked).items() if d.draws}

    def _sampler(
        self,
        method: str,
        seed: int,
        n: int,
        pins: Mapping[str, float],
        library: SipLibrary | None = None,
    ) -> InputSampler | LibraryInputs:
        """Where the run's loaded inputs come from; correlations of pinned inputs are dropped.

        A plain Monte Carlo run without correlations loads nothing: the kernel draws
        every input, and the graph's inputs need not even be listed. Sobol points
        span every random input, pinned or not, so a pin moves no other input's points.
        Inputs from a SIP ``library`` are loaded as values, their correlations in the
        model dropped (the library's copula holds theirs), unless they are pinned.
        """
        if library is None and method == "mc" and not self.model.correlations:
            return InputSampler(method, {}, [], seed, n)
        every = self.random_inputs()
        sipped = (
            ()
            if library is None
            else tuple(x for x in self.library_inputs(library) if x not in pins)
        )
        drawing = {x: d for x, d in every.items() if x not in pins and x not in sipped}
        pairs = [c.pair for c in self.model.correlations if c.a in drawing and c.b in drawing]
        sampler = InputSampler(method, drawing, pairs, seed, n, spans=every)
        if library is None:
            return sampler
        from .sipmath.library import LibraryInputs  # only a run with a SIP library needs it

        return LibraryInputs(sampler, library, sipped)

    def _output_ids(self, outputs: Iterable[str] | str | None) -> tuple[str, ...]:
        if outputs is None:
            return self.case.reported
        if outputs == "all":
            return self.case.visible
        if not isinstance(outputs, str | Iterable):
            raise RunError(f"outputs must be node ids, 'all' or None, got {shown(outputs)}")
        ids = (outputs,) if isinstance(outputs, str) else tuple(outputs)
        if not ids:
            raise RunError("outputs names no node: give node ids, 'all' or None (the main nodes)")
        for node_id in ids:
            self._known(node_id, "output")
        return tuple(dict.fromkeys(ids))

    def checked_overrides(self, overrides: Mapping[str, float] | None) -> dict[str, float]:
        """``overrides`` as floats, each a finite number pinning a node of the model."""
        checked: dict[str, float] = {}
        for node_id, value in checked_mapping(overrides, "overrides", "numbers").items():
            self._known(node_id, "override")
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise RunError(
                    f"override value must be a finite number, got {shown(value)}", node=node_id
                )
            checked[node_id] = float(value)
        return checked

    def _known(self, node_id: str, what: str) -> None:
        if node_id not in self.compiled.checked.model:
            hint = did_you_mean(
                node_id, self.case.visible, "see 'assumption-graph check' for the ids"
            )
            raise RunError(f"{what} names no node of the model", node=node_id, hint=hint)


def _pieces(
    begin: int, end: int, chunk: int, given: Callable[[int, int], np.ndarray | None]
) -> Iterator[Piece]:
    """Samples ``begin .. end-1`` in chunks: each one's first sample, count and given
    matrix (``given(start, count)``, made only when the chunk is about to run)."""
    for start in range(begin, end, chunk):
        count = min(chunk, end - start)
        yield start, count, given(start, count)


def _nothing_given(start: int, count: int) -> None:
    """A run that loads no inputs: no given matrix for any chunk."""
    return None


def _checked_method(method: object, precision: float | None, n: int) -> str:
    if method not in METHODS:
        hint = did_you_mean(method, METHODS, f"use one of {', '.join(METHODS)}")
        raise RunError(f"unknown sampling method {shown(method)}", hint=hint)
    if method == "sobol" and n > SOBOL_POINTS:
        raise RunError(
            f"a Sobol sequence has {SOBOL_POINTS:,} points, fewer than the {n:,} samples asked "
            "for; use mc or lhs, or fewer samples"
        )
    if precision is not None:
        if (
            isinstance(precision, bool)
            or not isinstance(precision, int | float | np.integer | np.floating)
            or not (0.0 < precision < 1.0)
        ):
            raise RunError(
                f"the precision must be a relative standard error between 0 and 1 "
                f"(0.005 for 0.5 %), got {shown(precision)}"
            )
        if method == "lhs":
            raise RunError(
                "a run to a precision cannot use Latin hypercube sampling: its strata are "
                "set by the sample count, so it cannot stop early; use mc or sobol"
            )
    return str(method)


def _numbers(values: object, node_id: str) -> np.ndarray:
    """A given node's values as a flat float array; a :class:`RunError` if they are not numbers."""
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise RunError("the given values must be numbers", node=node_id) from None


def _checkpoints(n: int, precision: float | None) -> list[int]:
    """Sample counts at which a run checks its precision: ``FIRST_CHECK``·2ᵏ, then ``n``."""
    if precision is None:
        return [n]
    points = []
    target = FIRST_CHECK
    while target < n:
        points.append(target)
        target *= 2
    return [*points, n]


def available_memory() -> int | None:
    """Bytes of memory the machine can give now without swapping; ``None`` when unknown.

    Linux's ``MemAvailable``, else the free physical pages (``os.sysconf``).
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(needed: int, what: str, hint: str) -> None:
    """Refuse work that needs more bytes than :func:`available_memory`, before it starts.

    ``what`` says what needs them ("a run of ... samples"), ``hint`` how to need less.
    """
    available = available_memory()
    if available is not None and needed > available:
        raise RunError(
            f"{what} needs about {_size(needed)} of memory, but {_size(available)} is available",
            hint=hint,
        )


def _check_run_memory(
    rows: int, held: int, target: int, precision: float | None, ranked: int
) -> None:
    """Room for ``rows`` outputs of ``target`` samples (``held`` of them copied from the last
    size), and for summarising them one at a time or rank-correlating ``ranked`` inputs."""
    working = RANK_ROWS + ranked if ranked else SUMMARY_ROWS
    needed = 8 * (rows * (held + target) + working * target)
    if precision is None:
        what = f"a run of {target:,} samples keeping {rows:,} node(s)"
        hint = (
            "use fewer samples (-n), fewer outputs (no --all), or --precision to stop"
            " once the means are precise enough"
        )
    else:
        what = (
            f"a run to a precision of {precision * 100:g} % that goes on to {target:,} samples"
            f" keeping {rows:,} node(s)"
        )
        hint = "ask for a looser --precision, fewer outputs (no --all) or fewer samples (-n)"
    check_memory(needed, what, hint)


def _size(count: int) -> str:
    """A number of bytes for people: ``1.0 MiB``, ``7.3 TiB``."""
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} PiB"


def _grown(out: np.ndarray, columns: int) -> np.ndarray:
    """``out`` with room for ``columns`` samples (a copy when it must grow)."""
    if out.shape[1] >= columns:
        return out
    grown = np.empty((out.shape[0], columns))
    grown[:, : out.shape[1]] = out
    return grown


def _precise(samples: np.ndarray, precision: float) -> bool:
    """True when every row's mean has a relative standard error of at most ``precision``.

    Over the finite samples; a row whose samples are all equal is known exactly,
    one without finite samples never gets more precise.
    """
    for row in samples:
        finite = row[np.isfinite(row)]
        if finite.size < 2:
            return False
        se = float(np.std(finite, ddof=1)) / math.sqrt(finite.size)
        if se > precision * abs(float(np.mean(finite))):
            return False
    return True


def summary_workers(threads: int | None, n: int, rows: int) -> int:
    """How many outputs of ``n`` samples to summarise or rank at once: the run's threads,
    as far as the memory available holds ``rows`` working arrays for each (one always).
    One below ``_THREADED_FROM`` samples, where a summary is mostly Python's work."""
    if n < _THREADED_FROM:
        return 1
    available = available_memory()
    room = threads_for(threads) if available is None else available // (8 * rows * max(n, 1))
    return max(1, min(threads_for(threads), room))


def checked_whole(value: object, name: str, least: int | None = None) -> int:
    """``value`` as an ``int`` if it is a whole number (not a bool) of at least ``least``.

    Anything else is a :class:`RunError` naming the argument ``name``: a float,
    a string or a count of 0 never reaches the kernel.

    >>> checked_whole(0, "chunk", least=1)
    Traceback (most recent call last):
    ...
    assumption_graph.errors.RunError: chunk must be a whole number of at least 1, got 0
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or (least is not None and value < least)
    ):
        bound = "" if least is None else f" of at least {least}"
        raise RunError(f"{name} must be a whole number{bound}, got {shown(value)}")
    return int(value)


def checked_flag(value: object, name: str) -> bool:
    """``value`` if it is True or False; a :class:`RunError` naming ``name`` otherwise."""
    if not isinstance(value, bool | np.bool_):
        raise RunError(f"{name} must be True or False, got {shown(value)}")
    return bool(value)


def checked_mapping(value: object, name: str, what: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping (``None``: an empty one); a :class:`RunError` otherwise."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RunError(f"{name} must map node ids to {what}, got {shown(value)}")
    return value


def _checked_threads(threads: object) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise RunError(f"threads must be None (all) or a whole number >= 1, got {shown(threads)}")
    return int(threads)


def simulate(
    model: Model, n: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED, **options: object
) -> RunResult:
    """Compile and run in one call (a script's shortcut for ``Simulator(model).run``)."""
    return Simulator(model).run(n, seed, **options)  # type: ignore[arg-type]


class RunsTogether:
    """Runs side by side that stop together: the first to fail stops the others at their
    next chunk, and its error is the one reported (for scenarios and portfolios).

    ``progress`` (after each chunk) raises once they are stopping; ``failing()`` wraps
    a run so that its failure stops the others; ``reporting()`` surrounds the taking of
    their results.
    """

    def __init__(self, what: str, progress: Progress | None) -> None:
        self.stop = threading.Event()  # set when a run fails or they are interrupted
        self._what, self._then = what, progress
        self._first: list[BaseException] = []
        self._lock = threading.Lock()

    def progress(self, count: int) -> None:
        """After each chunk of a run: stop there if the runs are stopping."""
        if self.stop.is_set():
            raise RunError(f"the {self._what} stopped")
        if self._then is not None:
            self._then(count)

    def failing(self, run: Callable[..., Any]) -> Callable[..., Any]:
        """``run``, which on failing stops the others now, not when its result is taken."""

        def watched(*args: Any) -> Any:
            try:
                return run(*args)
            except BaseException as error:
                with self._lock:
                    if not self.stop.is_set():
                        self._first.append(error)
                        self.stop.set()
                raise

        return watched

    @contextlib.contextmanager
    def reporting(self) -> Iterator[None]:
        """Around taking the runs' results: any exception (Ctrl-C, a failed run) stops the
        others at their next chunk, and the failure that stopped them is raised in place
        of a run it stopped."""
        try:
            yield
        except BaseException as error:
            self.stop.set()
            if self._first and self._first[0] is not error:
                raise self._first[0] from None
            raise
