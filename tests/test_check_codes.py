"""The registry of check codes: the README's tables come from it, and the order in which
the rules run does not change what ``check`` reports.

That each rule reports only its own codes, with their registered severity, is checked
in every test of the suite (``conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assumption_graph.io import UNREADABLE_CODES, loads
from assumption_graph.validate import CODES, check, code_table, core
from assumption_graph.validate.registry import declare, rule

README = Path(__file__).resolve().parent.parent / "README.md"
HEADER = "| code | severity | meaning |"


def readme_code_tables() -> list[str]:
    """Each table of the README whose header is the code table's, as text."""
    tables: list[list[str]] = []
    inside = False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line == HEADER:
            tables.append([])
            inside = True
        elif not line.startswith("|"):
            inside = False
        if inside:
            tables[-1].append(line)
    return ["\n".join(table) + "\n" for table in tables]


def test_the_readme_tables_of_codes_are_the_registry_s() -> None:
    generated = [code_table(business_case=False), code_table(business_case=True)]
    assert readme_code_tables() == generated, (
        "README.md's tables of check codes differ from the registry in "
        "assumption_graph/validate; regenerate them and paste each in place of its table "
        "(the plain one, then the business case's):\n"
        "  python -c 'from assumption_graph.validate import code_table; "
        "print(code_table()); print(code_table(business_case=True))'"
    )


def test_every_code_that_stops_the_command_line_is_declared() -> None:
    assert UNREADABLE_CODES <= CODES.keys()


def test_a_code_is_declared_once() -> None:
    with pytest.raises(ValueError, match="'cycle' is declared twice"):
        declare("cycle", "warning", "again")
    with pytest.raises(ValueError, match="needs a severity and a meaning"):
        rule("no-such-code")
    assert CODES["cycle"].severity == "error"


BROKEN = """\
business_case: {start_year: 2030, end_year: 2025, discount_rate: 50, purpose: speed}
nodes:
  a: {estimate: [3, 2, 1], unit: h}
  b: {formula: a + c + b + zz, unit: tkr, label: Same}
  c: {kind: uncertain, value: 1, category: staff, label: Same}
  m: {kind: main, formula: a * 2, unit: h, risk: [7], side: cost}
  n: {kind: main, formula: a * 2, year: 2040, risk: [7, 7, 8]}
correlations: [[a, zz, 2], [a, a, 0.5], [c, m, 0.1]]
"""


def test_the_order_of_the_rules_does_not_change_the_diagnostics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = loads(BROKEN, file="broken.yaml")
    found = check(model).diagnostics
    assert len({d.code for d in found}) > 15, found
    monkeypatch.setattr(core, "RULES", core.RULES[::-1])
    assert check(model).diagnostics == found
