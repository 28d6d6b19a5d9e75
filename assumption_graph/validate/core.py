"""The result of a check and :func:`check` itself, which runs every registered rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import CheckFailed, Diagnostic
from ..model import Model
from .context import Context
from .registry import RULES

__all__ = ["CheckedModel", "check"]


@dataclass(frozen=True)
class CheckedModel:
    """A model with its evaluation order and every finding of :func:`check`.

    ``order`` is a topological order of the node ids (ties broken by id, so it does not
    depend on the order of the nodes in the file); it is ``()`` when the graph has a
    cycle. ``diagnostics`` are sorted by line, then code.
    """

    model: Model
    order: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The findings that stop the model from being compiled."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The findings that are advice only."""
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def raise_for_errors(self) -> CheckedModel:
        """Raise :class:`CheckFailed` with every diagnostic when there are errors.

        Returns ``self`` otherwise, so ``check(model).raise_for_errors().order`` reads
        as one step.
        """
        if not self.ok:
            raise CheckFailed(list(self.diagnostics))
        return self


def check(model: Model, extra: Iterable[Diagnostic] = ()) -> CheckedModel:
    """Check every diagram rule; ``extra`` holds diagnostics from loading, merged in.

    Runs each registered rule once. The diagnostics are sorted by line, code, node and
    message, so the order in which the rules run does not change the result.

    >>> m = Model("Consultancy")
    >>> m.add("hours", estimate=[1200, 1500, 2100], unit="h", source="offer")
    >>> m.add("rate", value=0.95, unit="tkr/h", source="price list")
    >>> m.add("cost", kind="main", formula="hours * rate", unit="tkr")
    >>> checked = check(m)
    >>> checked.ok, checked.order
    (True, ('hours', 'rate', 'cost'))
    >>> m.add("total", kind="main", formula="hours + cost")
    >>> for d in check(m).diagnostics:
    ...     print(d)  # doctest: +ELLIPSIS
    <model>: error unit-mismatch: 'total': hours (h) + cost (tkr): units differ; ...
    """
    context = Context(model)
    found: list[Diagnostic] = list(extra)
    for registered in RULES:
        found.extend(registered(context))
    found.sort(key=lambda d: (d.line or 0, d.code, d.node or "", d.message))
    return CheckedModel(model, context.order, tuple(found))
