"""Hypothesis strategies: random valid assumption diagrams and formulas."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from assumption_graph.functions import FormulaOp, Kind
from assumption_graph.model import Model

# The formula language's operations, from its table: a new function is drawn too.
BINARY = tuple(op.symbol for op in FormulaOp if op.kind is Kind.BINARY)
COMPARE = tuple(op.symbol for op in FormulaOp if op.kind is Kind.COMPARISON)
FUNCTIONS = tuple(op for op in FormulaOp if op.kind is Kind.FUNCTION)
MOST_ARGUMENTS = 4  # of a function of any number


def call(op: FormulaOp, inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Calls of the function ``op`` with as many arguments as it takes."""
    low, high = op.arity
    arguments = st.lists(inner, min_size=low, max_size=high or MOST_ARGUMENTS)
    return arguments.map(lambda args: f"{op.symbol}({', '.join(args)})")


@st.composite
def three_points(draw: st.DrawFn, positive: bool = False) -> list[float]:
    """An ordered (low, mid, high) estimate."""
    floor = 0.01 if positive else -100.0
    values = sorted(draw(st.lists(st.floats(floor, 100.0), min_size=3, max_size=3)))
    return values


@st.composite
def input_keys(draw: st.DrawFn) -> dict[str, Any]:
    """The file keys of one input node, for any probability model."""
    model = draw(
        st.sampled_from(
            [
                "triangle",
                "uniform",
                "discrete",
                "pert",
                "normal",
                "lognormal",
                "fixed",
                "value",
                "metalog",
                "risk_event",
                "trigen",
                "values",
            ]
        )
    )
    if model == "value":
        return {"value": draw(st.floats(-100, 100))}
    if model == "metalog":  # P50 well inside the feasible middle of P10..P90
        # a span of at least 0.01: on a span of a few subnormals, P50 rounds onto an end
        low, span = draw(st.floats(-100, 100)), draw(st.floats(0.01, 100))
        share = draw(st.floats(0.2, 0.8))
        return {"model": "metalog", "estimate": [low, low + share * span, low + span]}
    if model == "risk_event":
        return {
            "model": "risk_event",
            "probability": draw(st.floats(0, 1)),
            "estimate": draw(three_points()),
            "consequence_model": draw(st.sampled_from(["triangle", "uniform", "pert"])),
        }
    if model == "values":
        values = draw(st.lists(st.floats(-100, 100), min_size=1, max_size=6))
        if draw(st.booleans()):
            return {"model": "uniform", "values": values}
        weights = draw(st.lists(st.floats(0.01, 1), min_size=len(values), max_size=len(values)))
        return {"values": values, "probabilities": [w / sum(weights) for w in weights]}
    if model == "normal":
        return {"model": "normal", "mean": draw(st.floats(-50, 50)), "sd": draw(st.floats(0, 20))}
    if model == "lognormal":
        return {"model": "lognormal", "mu": draw(st.floats(-2, 3)), "sigma": draw(st.floats(0, 1))}
    keys: dict[str, Any] = {"estimate": draw(three_points()), "model": model}
    if model == "discrete":
        p_low = draw(st.floats(0, 1))
        p_mid = draw(st.floats(0, 1 - p_low))
        keys["probabilities"] = [p_low, p_mid, 1 - p_low - p_mid]
    return keys


def formulas(names: list[str]) -> st.SearchStrategy[str]:
    """Formula text over ``names`` using every construct of the formula language."""
    leaves = st.one_of(
        st.sampled_from(names),
        st.floats(0, 10, allow_nan=False).map(lambda x: repr(round(x, 3))),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINARY), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(inner, st.sampled_from(COMPARE), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda a: f"(-{a})"),
            st.sampled_from(FUNCTIONS).flatmap(lambda op: call(op, inner)),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        )

    # make sure at least one node is used, so the graph is connected enough
    return st.tuples(st.sampled_from(names), st.recursive(leaves, extend, max_leaves=6)).map(
        lambda t: f"{t[0]} + {t[1]}" if t[0] not in t[1] else t[1]
    )


@st.composite
def models(draw: st.DrawFn, max_inputs: int = 5, max_formulas: int = 6) -> Model:
    """A random valid diagram: inputs, then formulas over earlier nodes; sinks are main."""
    model = Model("random")
    n_inputs = draw(st.integers(1, max_inputs))
    names: list[str] = []
    for i in range(n_inputs):
        model.add(f"x{i}", **draw(input_keys()), unused=True)
        names.append(f"x{i}")
    n_formulas = draw(st.integers(1, max_formulas))
    for j in range(n_formulas):
        model.add(f"f{j}", formula=draw(formulas(names)), unused=True)
        names.append(f"f{j}")
    return model
