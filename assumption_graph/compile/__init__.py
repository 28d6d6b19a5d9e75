"""Compile a checked model into programs the numba kernel runs.

``compile_model`` checks the model (errors stop here), expands its business case
into a plain graph (:mod:`~assumption_graph.business.expand`), makes sure the
kernel is compiled (once per machine, then loaded from its cache on disk) and
returns a :class:`CompiledModel`, which lowers the graph to a program for each
set of outputs and overrides it is asked for, memoised, so running many
scenarios never recompiles anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property

import numpy as np

from ..business.expand import PlainGraph, expand
from ..model import Model
from ..sampling import InputPlan
from ..streams import seed_key
from ..validate import CheckedModel, check
from . import kernel
from .ir import Program, lower
from .reference import deterministic_figures, input_shifts

__all__ = ["CompiledModel", "compile_model", "Program"]


class CompiledModel:
    """A checked model ready to run: programs per output set, the kernel warm.

    ``model`` is the user's model; ``case`` its expansion, and ``checked`` the
    expanded graph that programs are lowered from.
    """

    def __init__(self, checked: CheckedModel) -> None:
        self.case: PlainGraph = expand(checked.raise_for_errors())
        self.checked = self.case.checked
        self.model = checked.model
        self._programs: dict[tuple[object, ...], Program] = {}
        self._figures: dict[_Scenario, dict[str, dict[str, float]]] = {}
        self._shifts: dict[_Scenario, dict[str, float]] = {}
        self.kernel_seconds = kernel.warm_up()

    def program(
        self,
        outputs: Iterable[str],
        overrides: Mapping[str, float] | None = None,
        given: Iterable[str] = (),
        inputs: InputPlan | None = None,
    ) -> Program:
        """The program computing ``outputs`` under ``overrides`` (memoised).

        ``given`` nodes are loaded per sample from the matrix passed to ``execute``;
        ``inputs`` lays that matrix out instead, for a run's sampled inputs.
        """
        given = tuple(given)
        key = (*_scenario(outputs, overrides), given, inputs)
        if key not in self._programs:
            self._programs[key] = lower(self.checked, key[0], dict(key[1]), given, inputs)
        return self._programs[key]

    def figures(
        self, outputs: Iterable[str], overrides: Mapping[str, float] | None = None
    ) -> dict[str, dict[str, float]]:
        """Expected, weighted, best and worst figures of ``outputs`` (memoised).

        They do not depend on the seed or the sample count, so a scenario run
        again computes them once.
        """
        key = _scenario(outputs, overrides)
        if key not in self._figures:
            self._figures[key] = deterministic_figures(
                self.checked, key[0], dict(key[1]), objective=self.case.objective
            )
        return self._figures[key]

    def shifts(self, target: str, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """How ``target`` moves when each input alone goes from mid to weighted (memoised).

        See :func:`~.reference.input_shifts`; like the figures, they depend only on
        the scenario, not on the seed or the sample count.
        """
        key = _scenario((target,), overrides)
        if key not in self._shifts:
            self._shifts[key] = input_shifts(self.checked, target, dict(key[1]))
        return self._shifts[key]

    @cached_property
    def source(self) -> str:
        """The program for the main nodes, one line per op: what the kernel runs."""
        return self.program(self.case.reported or self.checked.order).source

    def execute(
        self,
        program: Program,
        seed: int,
        start: int,
        count: int,
        out: np.ndarray,
        threads: int | None = None,
        given: np.ndarray | None = None,
    ) -> None:
        """Fill ``out[:, start:start+count]`` with samples of the program's outputs.

        ``given``: the values of ``program.given`` for these samples (rows x ``count``).
        """
        kernel.execute(program, seed_key(seed), start, count, out, threads, given)


_Scenario = tuple[tuple[str, ...], tuple[tuple[str, float], ...]]


def _scenario(outputs: Iterable[str], overrides: Mapping[str, float] | None) -> _Scenario:
    """A hashable key of what a run asks for: its outputs and its overrides."""
    return tuple(outputs), tuple(sorted((overrides or {}).items()))


def compile_model(model: Model | CheckedModel) -> CompiledModel:
    """Check ``model`` and compile it; raises ``CheckFailed`` when it has errors."""
    checked = model if isinstance(model, CheckedModel) else check(model)
    return CompiledModel(checked)
