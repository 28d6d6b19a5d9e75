"""Suite-wide guards."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import pytest

from assumption_graph.errors import Diagnostic
from assumption_graph.validate import CODES, core
from assumption_graph.validate.registry import Rule


def reporting_only_its_own_codes(rule: Rule) -> Rule:
    """``rule``, failing when it reports a code it is not registered with, or a code with
    another severity than the registered one."""

    def run(*args: object) -> Iterable[Diagnostic]:
        for diagnostic in rule.function(*args):
            assert diagnostic.code in rule.codes, (
                f"{rule.function.__name__} reports {diagnostic.code!r}, which it is not "
                f"registered with (only {rule.codes})"
            )
            assert diagnostic.severity == CODES[diagnostic.code].severity, diagnostic
            yield diagnostic

    return dataclasses.replace(rule, function=run)


@pytest.fixture(autouse=True, scope="session")
def rules_report_only_their_own_codes() -> Iterator[None]:
    """In every test, each check rule reports only its own codes, with their severity."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core, "RULES", [reporting_only_its_own_codes(r) for r in core.RULES])
        yield
