"""Rules on estimates: each distribution's own problems, and advice on the model chosen.

The distribution codes (``estimate-order`` ... ``nonfinite``) are the ones a
distribution reports through its ``problems()``; they are registered here, with the
rule that reports them, so the table of codes is complete.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..distributions import Distribution
from ..errors import Diagnostic
from ..model import Node
from .context import Context, own_inputs
from .registry import rule


def _named(node: Node, situation: str | None) -> str:
    """How a message names the node, or one situation of it: ``'x' (situation 'with')``."""
    return f"'{node.id}'" if situation is None else f"'{node.id}' (situation '{situation}')"


_PARAMETER_KEYS = ("estimate", "value", "mean", "sd", "mu", "sigma", "model")


@rule("estimate-order", "error", "an estimate is not ordered low <= mid <= high")
@rule("probability-range", "error", "a probability is outside [0, 1] (a risk event's too)")
@rule("probability-sum", "error", "probabilities do not sum to 1 (within 1e-6)")
@rule(
    "probabilities-count",
    "error",
    "not one probability for each of low, mid, high (or for each of the `values`)",
)
@rule(
    "metalog-infeasible",
    "error",
    "a metalog's P50 so close to P10 or P90 that its quantile function would turn back "
    "(a₃/a₂ outside ±1.66711); the message gives the range P50 must lie in",
)
@rule(
    "scale",
    "error",
    "a spread parameter (sd, sigma) is negative, or the model's draws, mean or variance pass "
    "the largest 64-bit float",
)
@rule("nonfinite", "error", "a distribution parameter is NaN or infinite")
def _distributions(ctx: Context) -> Iterator[Diagnostic]:
    """Invalid distribution parameters, with the distribution's own codes.

    A situation's two estimates are checked each, the message naming the situation.
    """
    for node in ctx.model:
        for situation, body in own_inputs(node):
            if not isinstance(body, Distribution):
                continue
            for code, message in body.problems():
                if situation is not None:
                    key = "situation"
                elif code.startswith("probabilit"):  # a risk event's own, else the list's
                    key = "probability" if "probability" in node.key_lines else "probabilities"
                else:
                    key = next((k for k in _PARAMETER_KEYS if k in node.key_lines), "estimate")
                yield ctx.error(code, f"{_named(node, situation)}: {message}", node, key)


@rule(
    "asymmetric-estimate",
    "warning",
    "a normal given by an estimate whose mid is not halfway between low and high (by more "
    "than 1 % of the range): its skew is lost",
)
def _advice(ctx: Context) -> Iterator[Diagnostic]:
    """Each valid model's own advice (:meth:`Distribution.advice`), as warnings."""
    for node in ctx.model:
        for situation, body in own_inputs(node):
            if not isinstance(body, Distribution):
                continue
            for code, message in body.advice():
                key = "estimate" if situation is None else "situation"
                yield ctx.warning(code, f"{_named(node, situation)} {message}", node, key)
