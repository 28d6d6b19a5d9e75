"""Monte Carlo runs: settings, methods, chunks, outputs and overrides.

A :class:`Simulator` is what ``model.compile()`` returns. Each ``run`` computes
samples ``0 .. n-1`` in chunks (so a progress bar can move and Ctrl-C is
honoured between chunks), keeps only the requested outputs, and summarises
them. With method ``mc`` the kernel draws every input from the counter-based
streams of ``seed``; with ``lhs`` or ``sobol``, and for correlated inputs, the
inputs' values come chunk by chunk from :class:`~.sampling.InputSampler` and
the kernel loads them. Chunk size and thread count never change the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .case_summary import summarise_case
from .compile import CompiledModel, compile_model
from .compile.reference import input_distributions
from .errors import RunError, did_you_mean
from .model import Model
from .results import RunResult, spearman, summarise
from .sampling import METHODS, InputSampler
from .validate import CheckedModel

if TYPE_CHECKING:  # sensitivity builds on this module
    from .sensitivity import SensitivityResult

__all__ = [
    "Simulator",
    "simulate",
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "CHUNK",
    "METHODS",
    "FIRST_CHECK",
]

DEFAULT_SAMPLES = 100_000
DEFAULT_SEED = 0
CHUNK = 1 << 18  # samples per kernel call: small enough for a lively progress bar
FIRST_CHECK = 10_000  # a run to a precision checks it after this many samples, then doubling

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
        """
        n, seed = _checked_count(n), _checked_seed(seed)
        method = _checked_method(method, precision)
        overrides = self._checked_overrides(overrides)
        pins = self.case.pins(overrides)
        output_ids = self._output_ids(outputs)
        sampler = self._sampler(method, seed, n, pins)
        correlated = tuple(x for a, b, _ in sampler.correlations for x in (a, b))
        summarised = tuple(dict.fromkeys((*output_ids, *self._case_ids())))
        run_ids = tuple(dict.fromkeys((*summarised, *correlated)))  # summarised ones first
        program = self.compiled.program(run_ids, pins, sampler.loaded)
        out = np.empty((len(run_ids), 0))
        done = 0
        for target in _checkpoints(n, precision):
            out = _grown(out, target)
            for start in range(done, target, max(1, int(chunk))):
                count = min(chunk, target - start)
                given = sampler.values(start, count) if sampler.loaded else None
                self.compiled.execute(program, seed, start, count, out, threads, given)
                if progress is not None:
                    progress(count)
            done = target
            if precision is not None and _precise(out[: len(output_ids)], precision):
                break
        out = out[:, :done]
        figures = self.compiled.figures(summarised, pins)
        summaries = {o: summarise(out[k], figures[o]) for k, o in enumerate(summarised)}
        business_case = None
        if self.case.case is not None:
            shifts = self.compiled.shifts(self.case.key_figures["net_gain"], pins)
            business_case = summarise_case(self.case, summaries, shifts)
        for k, node_id in enumerate(summarised):  # a node with `years` reports its total
            factor = self.case.totals.get(node_id)
            if factor is not None:
                out[k] *= factor
                scaled = {name: value * factor for name, value in figures[node_id].items()}
                summaries[node_id] = summarise(out[k], scaled)
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
            correlations=tuple(_achieved(a, b, rho, arrays) for a, b, rho in sampler.correlations),
        )

    def evaluate(
        self,
        values: Mapping[str, np.ndarray | Sequence[float]],
        outputs: Iterable[str] | str | None = None,
        *,
        seed: int = DEFAULT_SEED,
        threads: int | None = None,
    ) -> dict[str, np.ndarray]:
        """The outputs' samples with the named nodes given per sample by ``values``.

        Each array in ``values`` holds one value per sample (all the same
        length); the compiled kernel loads them in place of those nodes (and of
        everything upstream of them). Inputs not given are drawn from ``seed``'s
        streams as in a run. What sensitivity methods call as "the model".
        ``outputs`` as for :meth:`run`.

        >>> m = Model("demo")
        >>> m.add("hours", estimate=[10, 20, 40])
        >>> m.add("cost", kind="main", formula="hours * 2")
        >>> Simulator(m).evaluate({"hours": [10.0, 15.0]})["cost"].tolist()
        [20.0, 30.0]
        """
        for node_id in values:
            self._known(node_id, "given value")
        given = [np.asarray(values[x], dtype=np.float64).ravel() for x in values]
        sizes = {array.size for array in given}
        if len(sizes) != 1 or 0 in sizes:
            raise RunError(
                "give at least one node, each with an array of values of one and the same length; "
                f"got lengths {sorted(sizes)}"
            )
        n = sizes.pop()
        output_ids = self._output_ids(outputs)
        program = self.compiled.program(output_ids, None, tuple(values))
        matrix, seed = np.stack(given), _checked_seed(seed)
        out = np.empty((len(output_ids), n))
        for start in range(0, n, CHUNK):
            count = min(CHUNK, n - start)
            chunk = matrix[:, start : start + count]
            self.compiled.execute(program, seed, start, count, out, threads, chunk)
        for k, node_id in enumerate(output_ids):
            out[k] *= self.case.totals.get(node_id, 1.0)
        return {o: out[k] for k, o in enumerate(output_ids)}

    def sensitivity(self, output: str, **options: object) -> SensitivityResult:
        """Which inputs drive ``output`` (a node id or a key figure such as ``"npv"``).

        Tornado, rank correlation, contribution to variance and Sobol indices;
        ``options`` as for :func:`assumption_graph.sensitivity.sensitivity`.
        """
        from .sensitivity import sensitivity  # builds on this module

        return sensitivity(self, output, **options)  # type: ignore[arg-type]

    def _sampler(self, method: str, seed: int, n: int, pins: Mapping[str, float]) -> InputSampler:
        """Where the run's loaded inputs come from; correlations of pinned inputs are dropped.

        A plain Monte Carlo run without correlations loads nothing: the kernel draws
        every input, and the graph's inputs need not even be listed.
        """
        if method == "mc" and not self.model.correlations:
            return InputSampler(method, {}, [], seed, n)
        drawing = {
            x: d
            for x, d in input_distributions(self.compiled.checked, pins).items()
            if d.name != "fixed"
        }
        pairs = [c.pair for c in self.model.correlations if c.a in drawing and c.b in drawing]
        return InputSampler(method, drawing, pairs, seed, n)

    def _case_ids(self) -> tuple[str, ...]:
        """The nodes a business case's figures are built from: main nodes, key figures and
        the IRR's indicator of several roots."""
        extra = () if self.case.irr_multiple is None else (self.case.irr_multiple,)
        return (*(item.node for item in self.case.items), *self.case.key_figures.values(), *extra)

    def _output_ids(self, outputs: Iterable[str] | str | None) -> tuple[str, ...]:
        if outputs is None:
            return self.case.reported
        if outputs == "all":
            return self.case.visible
        ids = (outputs,) if isinstance(outputs, str) else tuple(outputs)
        for node_id in ids:
            self._known(node_id, "output")
        return tuple(dict.fromkeys(ids))

    def _checked_overrides(self, overrides: Mapping[str, float] | None) -> dict[str, float]:
        checked: dict[str, float] = {}
        for node_id, value in (overrides or {}).items():
            self._known(node_id, "override")
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise RunError(
                    f"override value must be a finite number, got {value!r}", node=node_id
                )
            checked[node_id] = float(value)
        return checked

    def _known(self, node_id: str, what: str) -> None:
        if node_id not in self.compiled.checked.model:
            hint = did_you_mean(
                node_id, self.case.visible, "see 'assumption-graph check' for the ids"
            )
            raise RunError(f"{what} names no node of the model", node=node_id, hint=hint)


def _checked_method(method: object, precision: float | None) -> str:
    if method not in METHODS:
        hint = did_you_mean(method, METHODS, f"use one of {', '.join(METHODS)}")
        raise RunError(f"unknown sampling method {method!r}", hint=hint)
    if precision is not None:
        if (
            isinstance(precision, bool)
            or not isinstance(precision, int | float)
            or not (0.0 < precision < 1.0)
        ):
            raise RunError(
                f"the precision must be a relative standard error between 0 and 1 "
                f"(0.005 for 0.5 %), got {precision!r}"
            )
        if method == "lhs":
            raise RunError(
                "a run to a precision cannot use Latin hypercube sampling: its strata are "
                "set by the sample count, so it cannot stop early; use mc or sobol"
            )
    return str(method)


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


def _achieved(a: str, b: str, rho: float, arrays: Mapping[str, np.ndarray]) -> dict[str, object]:
    """A requested correlation with the Spearman correlation the run's samples have."""
    x, y = arrays[a], arrays[b]
    finite = np.isfinite(x) & np.isfinite(y)
    defined = finite.sum() > 2 and np.ptp(x[finite]) > 0 and np.ptp(y[finite]) > 0
    return {"a": a, "b": b, "requested": rho, "achieved": spearman(x, y) if defined else None}


def _checked_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise RunError(f"the number of samples must be a whole number of at least 1, got {n!r}")
    return int(n)


def _checked_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise RunError(f"the seed must be a whole number, got {seed!r}")
    return int(seed)


def simulate(
    model: Model, n: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED, **options: object
) -> RunResult:
    """Compile and run in one call (a script's shortcut for ``Simulator(model).run``)."""
    return Simulator(model).run(n, seed, **options)  # type: ignore[arg-type]
