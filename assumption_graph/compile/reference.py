"""The reference interpreter: the same graph evaluated with plain numpy.

It walks the formulas' expression trees (not the lowered program), so it is an
independent oracle for the compiled kernel: tests run both on the same inputs
and compare. It also computes the deterministic figures (expected, weighted,
best, worst), which need only a handful of evaluations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ..distributions import Distribution
from ..expr import Expr, Formula, visit
from ..functions import FormulaOp
from ..model import Value
from ..streams import stream_key
from ..validate import CheckedModel

__all__ = [
    "evaluate",
    "sample_inputs",
    "simulate",
    "input_distributions",
    "deterministic_figures",
    "best_ends",
    "input_shifts",
]


def input_distributions(
    checked: CheckedModel, overrides: Mapping[str, float] | None = None
) -> dict[str, Distribution]:
    """The probability model of every input that draws (not pinned), in evaluation order."""
    pinned = overrides or {}
    bodies = ((n, checked.model[n].body) for n in checked.order if n not in pinned)
    return {n: body for n, body in bodies if isinstance(body, Distribution)}


def evaluate(
    checked: CheckedModel,
    values: Mapping[str, np.ndarray | float],
    size: int,
    nodes: Iterable[str] | None = None,
) -> dict[str, np.ndarray]:
    """Evaluate the graph on ``size`` samples; returns every node's array.

    ``values`` pins nodes to given arrays (or numbers): every node with a
    probability model must be in it; constants and formulas are computed unless
    pinned. ``nodes`` limits the result to those ids, and the work to the nodes they
    need: the deterministic figures ask for a key figure's inputs without its IRRs.
    """
    model = checked.model
    env: dict[str, np.ndarray] = {}
    wanted = checked.order if nodes is None else tuple(nodes)
    order = checked.order if nodes is None else _needed(checked, values, wanted)
    with np.errstate(all="ignore"):
        for node_id in order:
            node = model[node_id]
            if node_id in values:
                env[node_id] = _as_samples(values[node_id], size)
            elif isinstance(node.body, Value):
                env[node_id] = np.full(size, node.body.value)
            elif isinstance(node.body, Formula):
                env[node_id] = _as_samples(_run(_steps(node.body), env), size)
            elif isinstance(node.body, Distribution) and not node.body.draws:
                env[node_id] = np.full(size, node.body.mid)
            else:
                raise KeyError(f"no values given for the input '{node_id}'")
    return {n: env[n] for n in wanted}


def _needed(checked: CheckedModel, values: Mapping[str, object], nodes: Iterable[str]) -> list[str]:
    """The nodes ``nodes`` need, in evaluation order: none upstream of a pinned one.

    Walking the order backwards meets every user of a node before the node itself.
    """
    needed = set(nodes)
    for node_id in reversed(checked.order):
        if node_id in needed and node_id not in values:
            needed.update(checked.model[node_id].inputs)
    return [node_id for node_id in checked.order if node_id in needed]


def _as_samples(value: np.ndarray | float, size: int) -> np.ndarray:
    """``value`` as an array of ``size`` samples; a number (or a constant formula) is spread."""
    array = np.asarray(value, dtype=float)
    return array if array.shape == (size,) else np.broadcast_to(array, (size,))


# A formula's steps: a node id to push, a number to push, or an operation with its
# number of operands to pop; its operations in the order a walk of the tree does them.
_Step = str | float | tuple[FormulaOp, int]
_STEPS: dict[int, tuple[Formula, list[_Step]]] = {}  # id(formula) -> (formula, its steps)
_STEPS_KEPT = 100_000


def _steps(formula: Formula) -> list[_Step]:
    """The formula's steps, worked out once per formula (a graph is evaluated many times)."""
    kept = _STEPS.get(id(formula))
    if kept is not None and kept[0] is formula:  # the formula is held, so its id is its own
        return kept[1]
    steps: list[_Step] = []

    def apply(op: FormulaOp, _expr: Expr, args: list[None]) -> None:
        steps.append((op, len(args)))

    visit(
        formula.expr,
        lambda num: steps.append(float(num.value)),
        lambda name: steps.append(name.id),
        apply,
    )
    if len(_STEPS) >= _STEPS_KEPT:
        _STEPS.clear()
    _STEPS[id(formula)] = (formula, steps)
    return steps


def _run(steps: list[_Step], env: Mapping[str, np.ndarray]) -> np.ndarray:
    """One formula over numpy arrays, with the kernel's semantics (operands left to right).

    Each operation is its numpy version from :class:`~assumption_graph.functions.FormulaOp`.
    """
    stack: list[np.ndarray] = []
    for step in steps:
        if isinstance(step, str):
            stack.append(env[step])
        elif isinstance(step, float):
            stack.append(np.asarray(step, dtype=float))
        else:
            op, count = step
            args = stack[len(stack) - count :]
            del stack[len(stack) - count :]
            stack.append(op.numpy(*args))
    return stack[0]


def sample_inputs(
    checked: CheckedModel,
    seed: int,
    start: int,
    count: int,
    overrides: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Draw samples ``start .. start+count-1`` of every uncertain input.

    Uses the same counter-based streams as the kernel, so the draws match.
    """
    samples = np.arange(start, start + count, dtype=np.uint64)
    return {
        node_id: dist.sample_array(stream_key(seed, node_id), samples)
        for node_id, dist in input_distributions(checked, overrides).items()
    }


def simulate(
    checked: CheckedModel,
    n: int,
    seed: int,
    outputs: Iterable[str],
    overrides: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """The numpy twin of a compiled run: output arrays for samples ``0 .. n-1``."""
    overrides = dict(overrides or {})
    values: dict[str, np.ndarray | float] = dict(sample_inputs(checked, seed, 0, n, overrides))
    values.update(overrides)
    return evaluate(checked, values, n, outputs)


_BATCH = 256  # inputs or outputs evaluated together when finding best and worst cases


def deterministic_figures(
    checked: CheckedModel,
    nodes: Iterable[str],
    overrides: Mapping[str, float] | None = None,
    objective: str | None = None,
) -> dict[str, dict[str, float]]:
    """Expected, weighted, best and worst figure of each of ``nodes``.

    Expected puts every input at mid; weighted at its probability-weighted
    value. A node's best case puts each uncertain input at the end (low or
    high) that lowers the node, or raises it for ``side: gain``. With an
    ``objective`` node (a business case's NPV) there is one best case for all:
    each input at the end that raises the objective. An input's ``favourable``
    end overrides either. The direction of each input is read off the graph by
    moving that input alone from low to high.
    """
    nodes = list(nodes)
    pinned = dict(overrides or {})
    dists = input_distributions(checked, pinned)
    figures: dict[str, dict[str, float]] = {n: {} for n in nodes}
    # One evaluation: every input at mid (expected) in column 0, at weighted in column 1.
    points = {n: np.array([d.mid, d.weighted]) for n, d in dists.items()}
    for node_id, array in evaluate(checked, {**points, **pinned}, 2, nodes).items():
        figures[node_id]["expected"], figures[node_id]["weighted"] = map(float, array)
    inputs, high_is_best = best_ends(checked, nodes, pinned, objective)
    for first in range(0, len(nodes), _BATCH):
        batch = nodes[first : first + _BATCH]
        choose_high = high_is_best[:, first : first + len(batch)]
        # Best cases, then worst; nodes sharing a case share its column (one with an objective).
        cases, case_of = np.unique(
            np.hstack((choose_high, ~choose_high)), axis=1, return_inverse=True
        )
        values = _at(dists, "mid", pinned)
        for row, node_id in enumerate(inputs):
            d = dists[node_id]
            values[node_id] = np.where(cases[row], d.high, d.low)
        result = evaluate(checked, values, cases.shape[1], batch)
        for column, node_id in enumerate(batch):
            best, worst = case_of[column], case_of[len(batch) + column]
            figures[node_id]["best"] = float(result[node_id][best])
            figures[node_id]["worst"] = float(result[node_id][worst])
    return figures


def best_ends(
    checked: CheckedModel,
    nodes: list[str],
    overrides: Mapping[str, float] | None = None,
    objective: str | None = None,
) -> tuple[list[str], np.ndarray]:
    """The uncertain inputs, and for each of them and each of ``nodes`` whether its high
    end makes the node's best case (inputs x nodes), as :func:`deterministic_figures`
    chooses the ends."""
    pinned = dict(overrides or {})
    dists = input_distributions(checked, pinned)
    inputs = [n for n in dists if checked.model[n].is_uncertain]
    if objective is None:
        raises_is_good = np.array([checked.model[n].side == "gain" for n in nodes])
        return inputs, _best_ends(checked, nodes, raises_is_good, inputs, dists, pinned)
    one = _best_ends(checked, [objective], np.ones(1, bool), inputs, dists, pinned)
    return inputs, np.repeat(one, len(nodes), axis=1)


def _at(
    dists: Mapping[str, Distribution], point: str, pinned: Mapping[str, float]
) -> dict[str, np.ndarray | float]:
    """Every input at one of its points ("mid", "weighted"), pinned nodes at their values."""
    values: dict[str, np.ndarray | float] = {n: getattr(d, point) for n, d in dists.items()}
    values.update(pinned)
    return values


def _best_ends(
    checked: CheckedModel,
    nodes: list[str],
    raises_is_good: np.ndarray,
    inputs: list[str],
    dists: Mapping[str, Distribution],
    pinned: Mapping[str, float],
) -> np.ndarray:
    """Boolean matrix inputs x nodes: True where the input's high end is best.

    ``raises_is_good`` says for each node whether a higher value is better.
    """
    model = checked.model
    high_is_best = np.zeros((len(inputs), len(nodes)), dtype=bool)
    for first in range(0, len(inputs), _BATCH):
        batch = inputs[first : first + _BATCH]
        size = 2 * len(batch)
        values = _at(dists, "mid", pinned)
        for k, node_id in enumerate(batch):
            moved = np.full(size, dists[node_id].mid)
            moved[2 * k], moved[2 * k + 1] = dists[node_id].low, dists[node_id].high
            values[node_id] = moved
        result = evaluate(checked, values, size, nodes)
        for column, node_id in enumerate(nodes):
            y = result[node_id]
            rises = y[1::2] > y[::2]  # moving the input from low to high raises the node
            high_is_best[first : first + len(batch), column] = rises == raises_is_good[column]
    for row, node_id in enumerate(inputs):
        favourable = model[node_id].favourable
        if favourable is not None:
            high_is_best[row, :] = favourable == "high"
    return high_is_best


def input_shifts(
    checked: CheckedModel, target: str, overrides: Mapping[str, float] | None = None
) -> dict[str, float]:
    """How much ``target`` changes when one uncertain input alone moves from mid to weighted.

    Every other input stays at mid. The shifts are each input's share of the
    difference between the weighted and the expected figure (they add up to it
    exactly when the graph is linear in its inputs).
    """
    pinned = dict(overrides or {})
    dists = input_distributions(checked, pinned)
    inputs = [n for n in dists if checked.model[n].is_uncertain]
    shifts: dict[str, float] = {}
    for first in range(0, len(inputs), _BATCH):
        batch = inputs[first : first + _BATCH]
        size = len(batch) + 1  # the last column has every input at mid
        values = _at(dists, "mid", pinned)
        for k, node_id in enumerate(batch):
            moved = np.full(size, dists[node_id].mid)
            moved[k] = dists[node_id].weighted
            values[node_id] = moved
        result = evaluate(checked, values, size, [target])[target]
        shifts.update((n, float(result[k] - result[-1])) for k, n in enumerate(batch))
    return shifts
