"""The one list of check codes: each declared once with its severity and meaning.

A rule is a function of the shared :class:`~assumption_graph.validate.context.Context`
that yields diagnostics; :func:`rule` registers it with each code it reports, right
above it::

    @rule("self-reference", "error", "a node's formula uses the node itself")
    def self_references(ctx: Context) -> Iterator[Diagnostic]: ...

Several ``@rule`` lines above one function give it several codes (listed top to
bottom); a code a second rule also reports is named there without severity and
meaning. :func:`case_rule` does the same for a rule that runs only with a
``business_case:`` section and gets the case as a second argument. :func:`declare`
lists a code that no rule here reports: the distributions' own (``problems()``) and
the file reader's. :func:`code_table` writes the README's tables from this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from ..errors import Diagnostic
    from .context import Context

__all__ = [
    "CODES",
    "RULES",
    "Code",
    "Rule",
    "Severity",
    "case_rule",
    "code_table",
    "declare",
    "rule",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Code:
    """A diagnostic code: its severity, its one-line meaning (Markdown) and its table.

    ``business_case`` is true for the codes of rules that run only with a
    ``business_case:`` section; the README lists those in a table of their own.
    """

    code: str
    severity: Severity
    meaning: str
    business_case: bool = False


@dataclass(frozen=True)
class Rule:
    """A registered rule: its function and the codes it may report.

    Calling it runs the function on the context; a case rule runs only when the
    model has a business case, and gets it as its second argument.
    """

    function: Callable[..., Iterable[Diagnostic]]
    codes: tuple[str, ...]
    needs_case: bool = False

    def __call__(self, ctx: Context) -> Iterable[Diagnostic]:
        if not self.needs_case:
            return self.function(ctx)
        case = ctx.model.business_case
        return () if case is None else self.function(ctx, case)


CODES: dict[str, Code] = {}
"""Every code, in the order declared (the order of the README's tables)."""

RULES: list[Rule] = []
"""Every rule, in the order registered; :func:`~assumption_graph.validate.check` runs them."""

F = TypeVar("F", bound=Callable[..., Any])


def declare(code: str, severity: Severity, meaning: str, *, business_case: bool = False) -> None:
    """Register ``code`` once with its severity and meaning; a second declaration is a bug."""
    if code in CODES:
        raise ValueError(f"the check code {code!r} is declared twice")
    CODES[code] = Code(code, severity, meaning, business_case)


def rule(code: str, severity: Severity | None = None, meaning: str = "") -> Callable[[F], F]:
    """Register the decorated function as a rule reporting ``code``.

    With a severity the code is declared here; without, it is one declared above
    (by another rule that reports it too).
    """
    return _registrar(code, severity, meaning, needs_case=False)


def case_rule(code: str, severity: Severity | None = None, meaning: str = "") -> Callable[[F], F]:
    """Like :func:`rule`, for a rule ``f(ctx, case)`` that runs only with a business case."""
    return _registrar(code, severity, meaning, needs_case=True)


def _registrar(
    code: str, severity: Severity | None, meaning: str, *, needs_case: bool
) -> Callable[[F], F]:
    """Declare ``code`` now (decorators are evaluated top to bottom, so the table keeps
    the order they are written in) and return the decorator that adds it to its rule."""
    if severity is not None:
        declare(code, severity, meaning, business_case=needs_case)
    elif code not in CODES:
        raise ValueError(f"the check code {code!r} needs a severity and a meaning")

    def register(function: F) -> F:
        # Decorators apply bottom to top: the lowest one registers the rule, each
        # one above puts its code in front.
        for i, registered in enumerate(RULES):
            if registered.function is function:
                RULES[i] = Rule(function, (code, *registered.codes), needs_case)
                return function
        RULES.append(Rule(function, (code,), needs_case))
        return function

    return register


def code_table(business_case: bool = False) -> str:
    """The Markdown table of the codes (those of the business-case rules when asked).

    One row per code, in the order declared. The codes of a file that cannot be read
    as a model at all say so: the command line exits 2 on them.
    """
    from ..io import UNREADABLE_CODES  # the reader's own: only for writing the table

    rows = ["| code | severity | meaning |", "|---|---|---|"]
    for code in CODES.values():
        if code.business_case == business_case:
            severity = code.severity + (" (exit 2)" if code.code in UNREADABLE_CODES else "")
            rows.append(f"| `{code.code}` | {severity} | {code.meaning} |")
    return "\n".join(rows) + "\n"
