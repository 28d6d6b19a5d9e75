"""Monte Carlo runs: settings, chunks, outputs and overrides.

A :class:`Simulator` is what ``model.compile()`` returns. Each ``run`` draws
samples ``0 .. n-1`` of the counter-based streams of ``seed`` in chunks (so a
progress bar can move and Ctrl-C is honoured between chunks), keeps only the
requested outputs, and summarises them. Chunk size and thread count never
change the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from .case_summary import summarise_case
from .compile import CompiledModel, compile_model
from .errors import RunError, did_you_mean
from .model import Model
from .results import RunResult, summarise
from .validate import CheckedModel

__all__ = ["Simulator", "simulate", "DEFAULT_SAMPLES", "DEFAULT_SEED", "CHUNK"]

DEFAULT_SAMPLES = 100_000
DEFAULT_SEED = 0
CHUNK = 1 << 18  # samples per kernel call: small enough for a lively progress bar

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
        overrides: Mapping[str, float] | None = None,
        outputs: Iterable[str] | str | None = None,
        keep_samples: bool = False,
        threads: int | None = None,
        progress: Progress | None = None,
        chunk: int = CHUNK,
    ) -> RunResult:
        """Simulate ``n`` samples from ``seed`` and summarise the outputs.

        ``outputs``: node ids, ``"all"``, or ``None`` for the main nodes (a node
        that differs without and with the project also as ``id@without``; a
        business case's main node with ``years`` as its total over them).
        ``overrides`` pins nodes to values for this run (a situation node in
        both situations, unless named ``id@without``). ``progress`` is called
        with the number of samples done after each chunk. With a business case
        the run computes its key figures too (``result.business_case``).
        """
        n, seed = _checked_count(n), _checked_seed(seed)
        overrides = self._checked_overrides(overrides)
        pins = {t: v for node_id, v in overrides.items() for t in self.case.targets(node_id)}
        output_ids = self._output_ids(outputs)
        run_ids = tuple(dict.fromkeys((*output_ids, *self._case_ids())))
        program = self.compiled.program(run_ids, pins)
        out = np.empty((len(run_ids), n))
        for start in range(0, n, max(1, int(chunk))):
            count = min(chunk, n - start)
            self.compiled.execute(program, seed, start, count, out, threads)
            if progress is not None:
                progress(count)
        figures = self.compiled.figures(run_ids, pins)
        summaries = {o: summarise(out[k], figures[o]) for k, o in enumerate(run_ids)}
        business_case = None
        if self.case.case is not None:
            shifts = self.compiled.shifts(self.case.key_figures["net_gain"], pins)
            business_case = summarise_case(self.case, summaries, shifts)
        for k, node_id in enumerate(run_ids):  # a node with `years` reports its total
            factor = self.case.totals.get(node_id)
            if factor is not None:
                out[k] *= factor
                scaled = {name: value * factor for name, value in figures[node_id].items()}
                summaries[node_id] = summarise(out[k], scaled)
        return RunResult(
            model=self.model.name,
            samples=n,
            seed=seed,
            method="mc",
            summaries={o: summaries[o] for o in output_ids},
            arrays={o: out[k] for k, o in enumerate(run_ids)} if keep_samples else {},
            overrides=overrides,
            business_case=business_case,
        )

    def _case_ids(self) -> tuple[str, ...]:
        """The nodes a business case's figures are built from: main nodes and key figures."""
        return (*(item.node for item in self.case.items), *self.case.key_figures.values())

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
