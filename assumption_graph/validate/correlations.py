"""Rules on ``correlations:``: named drawing inputs, rho in [-1, 1], a matrix that can hold."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ..copula_matrix import not_positive_semidefinite
from ..errors import Diagnostic, did_you_mean
from ..model import Situation, draws
from .context import Context
from .registry import rule


@rule("correlation-node", "error", "a correlation names an id that is not a node")
@rule(
    "correlation-input",
    "error",
    "a correlation names a node that does not draw (a formula, a constant, a `fixed` model) "
    "or a `situation` node",
)
@rule("correlation-range", "error", "a rank correlation outside [-1, 1]")
@rule("correlation-pair", "error", "a node correlated with itself, or a pair listed twice")
@rule(
    "correlation-matrix",
    "error",
    "correlations no joint distribution can have together (the copula's matrix is not "
    "positive semi-definite); the message names the pairs",
)
def _correlations(ctx: Context) -> Iterator[Diagnostic]:
    """Each ``correlations:`` entry names two different drawing inputs and a rho in [-1, 1]."""
    seen: set[frozenset[str]] = set()
    valid: dict[tuple[str, str, float], int | None] = {}  # pair -> its line
    for c in ctx.model.correlations:
        found = [d for x in (c.a, c.b) for d in _correlated_node(ctx, x, c.line)]
        if not (math.isfinite(c.rho) and -1.0 <= c.rho <= 1.0):
            found.append(
                ctx.error(
                    "correlation-range",
                    f"the correlation of '{c.a}' and '{c.b}' is {c.rho!r}, outside [-1, 1]; "
                    "give a rank correlation between -1 and 1",
                    line=c.line,
                )
            )
        pair = frozenset((c.a, c.b))
        if c.a == c.b or pair in seen:
            what = "with itself" if c.a == c.b else "twice"
            found.append(
                ctx.error(
                    "correlation-pair",
                    f"'{c.a}' and '{c.b}' are correlated {what}; list each pair of two "
                    "different inputs once",
                    line=c.line,
                )
            )
        seen.add(pair)
        yield from found
        if not found:
            valid[c.pair] = c.line
    if not valid:
        return
    bad = not_positive_semidefinite(list(valid))
    if bad:
        listed = "; ".join(f"{a}~{b} {rho:g}" for a, b, rho in bad)
        yield ctx.error(
            "correlation-matrix",
            f"no joint distribution has these rank correlations together: {listed}; "
            "weaken some of them (e.g. if a~b and b~c are strong, a~c cannot be strongly "
            "negative)",
            line=valid[bad[0]],
        )


def _correlated_node(ctx: Context, node_id: str, line: int | None) -> Iterator[Diagnostic]:
    if node_id not in ctx.model:
        hint = did_you_mean(node_id, [n.id for n in ctx.model], "check the node ids")
        yield ctx.error(
            "correlation-node",
            f"a correlation names '{node_id}', which is not a node; {hint}",
            line=line,
        )
        return
    node = ctx.model[node_id]
    if isinstance(node.body, Situation) or not draws(node.body):
        what = "a situation node" if isinstance(node.body, Situation) else "not a drawing input"
        yield ctx.error(
            "correlation-input",
            f"a correlation names '{node_id}', which is {what}; correlate uncertain inputs "
            "with a probability model (not fixed), not formulas, constants or situations",
            node,
            line=line,
        )
